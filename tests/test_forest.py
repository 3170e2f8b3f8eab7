"""Forest plots: both formats written, legible for many studies, stable bytes, honest labels."""

from __future__ import annotations

import re

import pytest

from livingreview import forest, meta
from livingreview.errors import ValidationError

TACROLIMUS = [  # Baven-Pronk et al. 2022, Table 5: n and remissions
    ("Aqel 2004", 11, 9),
    ("Chatur 2005", 5, 1),
    ("Larsen 2007", 9, 3),
    ("Tannous 2011", 13, 11),
    ("Than 2015", 17, 5),
    ("Rubin 2016", 1, 0),
    ("Al Taii 2017", 23, 6),
    ("Efe 2017", 87, 65),
    ("Pape 2019", 6, 5),
    ("Ferre-Aracil 2020", 23, 18),
    ("Roberts 2020", 16, 6),
    ("Dutch cohort", 8, 1),
]


def study_rows(triples):
    return [{"study": s, "subgroup": "tacrolimus", "n": n, "events": e} for s, n, e in triples]


def test_writes_svg_and_png_with_study_labels_and_pooled_rows(tmp_path):
    studies = study_rows(TACROLIMUS)
    pooled = meta.pool(studies, analysis="forest")
    svg, png = tmp_path / "tac.svg", tmp_path / "tac.png"
    forest.forest_plot(studies, pooled, "Tacrolimus", svg, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "</svg>" in text
    # Text is kept as text in the SVG comments matplotlib writes for each string.
    for label in ("Efe 2017", "65 / 87", "Pooled, random effects (REML)", "130 / 219"):
        assert label in text
    # Exact interval of Rubin 2016 (0/1) is [0.00, 0.97]
    assert "0.00 [0.00, 0.97]" in text
    assert not list(tmp_path.glob(".*.tmp"))


def test_output_is_byte_stable(tmp_path):
    studies = study_rows(TACROLIMUS[:4])
    pooled = meta.pool(studies)
    forest.forest_plot(studies, pooled, "t", tmp_path / "a.svg", tmp_path / "a.png")
    forest.forest_plot(studies, pooled, "t", tmp_path / "b.svg", tmp_path / "b.png")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def _svg_height_pt(path):
    return float(re.search(r'height="([0-9.]+)pt"', path.read_text(encoding="utf-8")).group(1))


def test_forty_studies_get_a_taller_figure_with_constant_row_spacing(tmp_path):
    few = study_rows([(f"Study {i:02d}", 10 + i, i % 11) for i in range(5)])
    many = study_rows([(f"Study {i:02d}", 10 + i, i % 11) for i in range(40)])
    forest.forest_plot(few, meta.pool(few), "few", tmp_path / "f.svg", tmp_path / "f.png")
    forest.forest_plot(many, meta.pool(many), "many", tmp_path / "m.svg", tmp_path / "m.png")
    extra_rows = 35
    grown = _svg_height_pt(tmp_path / "m.svg") - _svg_height_pt(tmp_path / "f.svg")
    assert grown == pytest.approx(extra_rows * forest.ROW_INCHES * 72, rel=1e-6)
    assert "Study 39" in (tmp_path / "m.svg").read_text(encoding="utf-8")


def test_non_converged_glmm_is_labelled_not_drawn(tmp_path):
    studies = study_rows([("A", 5, 0), ("B", 7, 0), ("C", 3, 0)])
    pooled = meta.pool(studies)
    assert pooled[-1]["estimate"] is None
    forest.forest_plot(studies, pooled, "none", tmp_path / "z.svg", tmp_path / "z.png")
    assert "did not converge" in (tmp_path / "z.svg").read_text(encoding="utf-8")


def test_bad_study_row_is_an_error(tmp_path):
    with pytest.raises(ValidationError, match="line 2"):
        forest.forest_plot(
            [{"study": "A", "n": 3, "events": 1}, {"study": "B", "n": 3, "events": 4}],
            [],
            "bad",
            tmp_path / "x.svg",
            tmp_path / "x.png",
        )
    assert not (tmp_path / "x.svg").exists()
