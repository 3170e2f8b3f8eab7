"""The default run writes exactly the recorded outputs (tests/fixtures/default_run/results.sha256).

A refactoring must leave every output byte-identical; an intended change of outputs re-records
the manifest in the same commit (``tests/output_manifest.py record``), so that it is visible and
reviewed. Run records and the moments of a search are left out (see tests/output_manifest.py).
"""

from __future__ import annotations

import pytest
from conftest import ROOT
from output_manifest import differences, manifest, numeric_differences, read_manifest

pytestmark = pytest.mark.workflow

RECORDED = ROOT / "tests" / "fixtures" / "default_run" / "results.sha256"


def test_default_run_outputs_equal_the_recorded_manifest(default_run):
    results = default_run / "results"
    problems = differences(
        read_manifest(RECORDED), manifest(results), RECORDED.parent / "numeric", results
    )
    assert problems == [], (
        "outputs differ from the recorded manifest; if intended, re-record it with "
        "`.venv/bin/python tests/output_manifest.py record RESULTS "
        "tests/fixtures/default_run/results.sha256`:\n" + "\n".join(problems)
    )


def test_numeric_tables_agree_within_the_tolerance_only(tmp_path):
    """The last digits of an iterative fit may differ between processors; anything larger
    is a change."""
    recorded = tmp_path / "recorded.tsv"
    recorded.write_text("method\testimate\tk\nGLMM\t0.6024323370548447\t12\n")
    noise = tmp_path / "noise.tsv"
    noise.write_text("method\testimate\tk\nGLMM\t0.6024323414326145\t12\n")
    moved = tmp_path / "moved.tsv"
    moved.write_text("method\testimate\tk\nGLMM\t0.6031\t12\n")
    recounted = tmp_path / "recounted.tsv"
    recounted.write_text("method\testimate\tk\nGLMM\t0.6024323370548447\t13\n")
    assert numeric_differences(recorded, noise) == []
    assert numeric_differences(recorded, moved) == [
        "line 2, column estimate: 0.6024323370548447 -> 0.6031"
    ]
    assert numeric_differences(recorded, recounted) == ["line 2, column k: 12 -> 13"]
