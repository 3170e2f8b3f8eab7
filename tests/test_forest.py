"""Forest plots: both formats written, legible for many studies, stable bytes, honest labels."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from livingreview import forest
from livingreview.baseline import load_baseline
from livingreview.errors import ValidationError
from livingreview.extraction.tables import STUDY_TABLE_COLUMNS, baseline_study_rows
from livingreview.io import write_tsv
from livingreview.meta.pool import pool
from livingreview.meta.results import COLUMNS, METHODS
from livingreview.synthesis.remission import remission_rows

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
    pooled = pool(studies, analysis="forest")
    svg, png = tmp_path / "tac.svg", tmp_path / "tac.png"
    forest.forest_plot(studies, pooled, "Tacrolimus", svg, png, primary_method="REML")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "</svg>" in text
    # Text is kept as text in the SVG comments matplotlib writes for each string.
    for label in ("Efe 2017", "65 / 87", "Primary: random effects (REML)", "130 / 219"):
        assert label in text
    # Exact interval of Rubin 2016 (0/1) is [0.00, 0.97]
    assert "0.00 [0.00, 0.97]" in text
    assert not list(tmp_path.glob(".*.tmp"))


def test_output_is_byte_stable(tmp_path):
    studies = study_rows(TACROLIMUS[:4])
    pooled = pool(studies)
    forest.forest_plot(
        studies, pooled, "t", tmp_path / "a.svg", tmp_path / "a.png", primary_method="GLMM"
    )
    forest.forest_plot(
        studies, pooled, "t", tmp_path / "b.svg", tmp_path / "b.png", primary_method="GLMM"
    )
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def _svg_height_pt(path):
    return float(re.search(r'height="([0-9.]+)pt"', path.read_text(encoding="utf-8")).group(1))


def test_forty_studies_get_a_taller_figure_with_constant_row_spacing(tmp_path):
    few = study_rows([(f"Study {i:02d}", 10 + i, i % 11) for i in range(5)])
    many = study_rows([(f"Study {i:02d}", 10 + i, i % 11) for i in range(40)])
    for rows, name in ((few, "f"), (many, "m")):
        forest.forest_plot(
            rows,
            pool(rows),
            name,
            tmp_path / f"{name}.svg",
            tmp_path / f"{name}.png",
            primary_method="GLMM",
        )
    extra_rows = 35
    grown = _svg_height_pt(tmp_path / "m.svg") - _svg_height_pt(tmp_path / "f.svg")
    assert grown == pytest.approx(extra_rows * forest.ROW_INCHES * 72, rel=1e-6)
    assert "Study 39" in (tmp_path / "m.svg").read_text(encoding="utf-8")


def test_non_converged_glmm_is_labelled_not_drawn(tmp_path):
    studies = study_rows([("A", 5, 0), ("B", 7, 0), ("C", 3, 0)])
    pooled = pool(studies)
    assert pooled[-1]["estimate"] is None
    forest.forest_plot(
        studies, pooled, "none", tmp_path / "z.svg", tmp_path / "z.png", primary_method="GLMM"
    )
    assert "did not converge" in (tmp_path / "z.svg").read_text(encoding="utf-8")


def test_bad_study_row_is_an_error(tmp_path):
    with pytest.raises(ValidationError, match="line 2"):
        forest.forest_plot(
            [{"study": "A", "n": 3, "events": 1}, {"study": "B", "n": 3, "events": 4}],
            [],
            "bad",
            tmp_path / "x.svg",
            tmp_path / "x.png",
            primary_method="GLMM",
        )
    assert not (tmp_path / "x.svg").exists()


# --- Primary method, new studies, CNI column ------------------------------------------------


def _comments(svg_path):
    """The strings matplotlib drew, in drawing order (it writes each as an SVG comment)."""
    return re.findall(r"<!-- (.*?) -->", svg_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("primary", METHODS)
def test_primary_method_is_drawn_first_and_emphasised(tmp_path, primary):
    studies = study_rows(TACROLIMUS)
    pooled = pool(studies)
    svg = tmp_path / "p.svg"
    forest.forest_plot(studies, pooled, "t", svg, tmp_path / "p.png", primary_method=primary)
    drawn = [c for c in _comments(svg) if c.startswith(("Primary:", "Sensitivity:"))]
    assert drawn[0] == f"Primary: {forest.METHOD_LABELS[primary]}"
    assert len(drawn) == 3 and sum(c.startswith("Primary:") for c in drawn) == 1
    text = svg.read_text(encoding="utf-8")
    assert forest.PRIMARY_COLOUR in text and forest.SENSITIVITY_COLOUR in text
    assert f"Primary analysis: {forest.METHOD_LABELS[primary]}" in text


def test_unknown_primary_method_is_refused(tmp_path):
    studies = study_rows(TACROLIMUS[:3])
    with pytest.raises(ValueError, match="'FE' is not one of DL, REML, GLMM"):
        forest.forest_plot(
            studies, [], "t", tmp_path / "x.svg", tmp_path / "x.png", primary_method="FE"
        )
    assert not (tmp_path / "x.svg").exists()


def _write(path, columns, rows):
    path.write_text(
        "\t".join(columns)
        + "\n"
        + "".join("\t".join(str(r.get(c, "")) for c in columns) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


def test_new_study_is_named_from_its_records_and_marked_new(tmp_path):
    """A hypothetical new study (made-up counts and record, never in resources/)."""
    arms = baseline_study_rows(load_baseline(ROOT / "resources" / "baseline"))
    new_arm = {**arms[-1], "study_id": "smith-2023", "label": "smith-2023", "version": "update"}
    new_arm.update(cni="tacrolimus", n=10, remission=6, response=2, failure=1, unknown=1)
    studies = _write(tmp_path / "studies.tsv", STUDY_TABLE_COLUMNS, [*arms, new_arm])
    meta_path = tmp_path / "meta.tsv"
    write_tsv(meta_path, pool(remission_rows([*arms, new_arm])), COLUMNS)
    included = _write(
        tmp_path / "included.tsv",
        ("publication_id", "study_id"),
        [{"publication_id": "pubmed:2", "study_id": "smith-2023"}],
    )
    publications = _write(
        tmp_path / "unique.tsv",
        ("publication_id", "first_author", "authors", "year", "first_run"),
        [
            {"publication_id": "pubmed:1", "first_author": "Other", "year": "2020"},
            {
                "publication_id": "pubmed:2",
                "first_author": "Smith",
                "authors": "Smith AB; Jones C",
                "year": "2023",
                "first_run": "2026-11-23",
            },
        ],
    )
    groups = ("cyclosporine", "tacrolimus", "both")
    new = forest.draw_forest_plots(
        studies,
        meta_path,
        included,
        publications,
        {group: group for group in groups},
        {group: (tmp_path / f"{group}.svg", tmp_path / f"{group}.png") for group in groups},
        tmp_path / "proportions.tsv",
        primary_method="GLMM",
    )
    assert new == 1
    tacrolimus = _comments(tmp_path / "tacrolimus.svg")
    assert "Smith 2023 (new 2026-11-23)" in tacrolimus and "CNI" not in tacrolimus
    both = _comments(tmp_path / "both.svg")
    assert "Smith 2023 (new 2026-11-23)" in both
    row = both.index("Pape 2019")  # a study that treated patients with each CNI
    assert both[row + 1] == "both, summed"
    assert both[both.index("Efe 2017") + 1] == "tacrolimus"
    assert both[both.index("Sherman 1994") + 1] == "cyclosporine"
    assert "CNI" in both
    assert "Smith 2023 (new 2026-11-23)" not in _comments(tmp_path / "cyclosporine.svg")
    proportions = (tmp_path / "proportions.tsv").read_text(encoding="utf-8")
    assert "\tSmith 2023\tsmith-2023\ttacrolimus\t10\t6\t" in proportions
