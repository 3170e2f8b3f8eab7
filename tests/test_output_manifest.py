"""The default run writes exactly the recorded outputs (tests/fixtures/default_run/results.sha256).

A refactoring must leave every output byte-identical; an intended change of outputs re-records
the manifest in the same commit (``tests/output_manifest.py record``), so that it is visible and
reviewed. Run records and the moments of a search are left out (see tests/output_manifest.py).
"""

from __future__ import annotations

import pytest
from conftest import ROOT
from output_manifest import differences, manifest, read_manifest

pytestmark = pytest.mark.workflow

RECORDED = ROOT / "tests" / "fixtures" / "default_run" / "results.sha256"


def test_default_run_outputs_equal_the_recorded_manifest(default_run):
    problems = differences(read_manifest(RECORDED), manifest(default_run / "results"))
    assert problems == [], (
        "outputs differ from the recorded manifest; if intended, re-record it with "
        "`.venv/bin/python tests/output_manifest.py record RESULTS > "
        "tests/fixtures/default_run/results.sha256`:\n" + "\n".join(problems)
    )
