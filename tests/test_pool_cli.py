"""bin/pool as users run it: a TSV in, a meta_analysis.tsv-layout TSV out, errors with lines.

The error cases, the empty subgroup and ``--help`` call the command's entry point in this
process (what ``bin/pool`` execs, through ``python -m livingreview.meta``): the wrapper's exit
codes (0, 2, 3) and output are covered by the three tests that run ``bin/pool`` itself, and
each extra process costs a second of imports.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from livingreview.meta.cli import main
from livingreview.meta.pool import pool, read_studies
from livingreview.meta.results import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
POOL = ROOT / "bin" / "pool"


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(POOL), *map(str, args)], capture_output=True, text=True, timeout=120)


def run_in_process(capsys, *args: str | Path) -> tuple[int, str]:
    """Exit status and standard error of the command's entry point."""
    status = main([str(arg) for arg in args])
    return status, capsys.readouterr().err


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_pools_each_subgroup_with_file_stem_as_analysis(tmp_path):
    studies = write(
        tmp_path / "cni_remission.tsv",
        "study\tsubgroup\tn\tevents\tnote\n"
        "Aqel 2004\ttacrolimus\t11\t9\tx\nChatur 2005\ttacrolimus\t5\t1\t\nLarsen 2007\ttacrolimus\t9\t3\t\n"
        "Sherman 1994\tcyclosporine\t4\t2\t\nRoberts 2020\tcyclosporine\t17\t10\t\n",
    )
    out = tmp_path / "out" / "pooled.tsv"
    result = run(studies, out)
    assert result.returncode == 0, result.stderr
    with open(out, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    assert [(r["analysis"], r["subgroup"], r["method"]) for r in rows] == [
        ("cni_remission", g, m)
        for g in ("tacrolimus", "cyclosporine")
        for m in ("DL", "REML", "GLMM")
    ]
    expected = pool(read_studies(studies), analysis="cni_remission")
    for row, want in zip(rows, expected):
        for column in ("estimate", "ci_low", "pi_high", "tau2", "q_p"):
            assert float(row[column]) == pytest.approx(want[column], rel=1e-12)
        assert row["k"] == str(want["k"])


def test_empty_subgroup_is_one_group(tmp_path, capsys):
    studies = write(tmp_path / "s.tsv", "study\tsubgroup\tn\tevents\nA\t\t10\t4\nB\t\t17\t10\n")
    status, stderr = run_in_process(capsys, studies, tmp_path / "o.tsv")
    assert status == 0, stderr
    lines = (tmp_path / "o.tsv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and lines[1].startswith("s\t\tDL\t2\t27\t14\t")


@pytest.mark.parametrize(
    "body, where",
    [
        ("A\tg\t5\t6\nB\tg\t4\t2\n", "line 2, field 'events'"),
        ("A\tg\t5\t1\nB\tg\t4\t-2\n", "line 3, field 'events'"),
        ("A\tg\t5\t1\nB\tg\t4.5\t2\n", "line 3, field 'n'"),
        ("A\tg\t5\t1\nB\tg\t4\t2\nC\th\t9\t3\n", "line 4, field 'subgroup'"),
    ],
)
def test_bad_rows_exit_non_zero_naming_the_line(tmp_path, capsys, body, where):
    studies = write(tmp_path / "bad.tsv", "study\tsubgroup\tn\tevents\n" + body)
    out = tmp_path / "o.tsv"
    status, stderr = run_in_process(capsys, studies, out)
    assert status == 3
    assert where in stderr and "bad.tsv" in stderr
    assert not out.exists()


def test_missing_column_and_missing_file(tmp_path, capsys):
    studies = write(tmp_path / "s.tsv", "study\tn\tevents\nA\t5\t1\n")
    status, stderr = run_in_process(capsys, studies, tmp_path / "o.tsv")
    assert status == 3 and "missing column(s) subgroup" in stderr
    status, stderr = run_in_process(capsys, tmp_path / "nope.tsv", tmp_path / "o.tsv")
    assert status == 3 and "file not found" in stderr


def test_a_bad_table_through_bin_pool_exits_3_naming_the_file(tmp_path):
    studies = write(tmp_path / "bad.tsv", "study\tsubgroup\tn\tevents\nA\tg\t5\t6\n")
    result = run(studies, tmp_path / "o.tsv")
    assert result.returncode == 3 and "bad.tsv" in result.stderr


def test_usage(tmp_path, capsys):
    result = run()
    assert result.returncode == 2 and "usage: bin/pool" in result.stderr
    assert main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: bin/pool")
