"""The search stage through Snakemake, in temporary copies of the project."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
import yaml
from conftest import copy_project, run_snakemake
from test_entrez_loopback import FakeEutils

pytestmark = pytest.mark.workflow

FAKE_KEY = "FAKEKEY-0123456789abcdef"
RECORDS = {
    "4088113": dt.date(1985, 11, 1),
    "7699225": dt.date(1994, 12, 1),
    "36746473": dt.date(2023, 2, 6),
}


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_default_replay_builds_baseline_and_update_and_forcerun_rewrites_nothing(tmp_path):
    work = copy_project(tmp_path / "project")
    config = yaml.safe_load((work / "config.yaml").read_text())
    base = f"results/search/pubmed/{config['search']['baseline_until']}"
    update = f"results/search/pubmed/{config['run_date']}"
    table = f"results/search/tables/pubmed-{config['run_date']}.tsv"
    run_snakemake(work, table)
    assert (work / table).read_bytes() == (work / update / "records.tsv").read_bytes()
    assert (work / base / "provenance.json").is_file() and (
        work / update / "provenance.json"
    ).is_file()
    before = digests(work / "results" / "search")
    snapshots = digests(work / "results" / "search" / "pubmed")
    # Snakemake deletes the job's declared outputs first: they are copies outside the snapshot.
    run_snakemake(work, table, "--forcerun", "search_pubmed")
    assert digests(work / "results" / "search" / "pubmed") == snapshots
    assert digests(work / "results" / "search") == before
    log = (work / "logs" / "search" / f"pubmed-{config['run_date']}.log").read_text()
    assert "checksums verified" in log


def test_live_mode_against_loopback_never_writes_the_api_key(tmp_path):
    work = copy_project(tmp_path / "project")
    with FakeEutils(RECORDS) as server:
        overrides = {
            "run_date": "2024-01-31",
            "search": {"mode": "live", "batch_size": 2},
            "entrez": {
                "email": "review@example.org",
                "base_url": server.base_url,
                "api_key_env": "LR_FAKE_NCBI_KEY",
                "backoff_seconds": 0.01,
            },
        }
        (work / "live.yaml").write_text(yaml.safe_dump(overrides))
        env_key = os.environ.get("LR_FAKE_NCBI_KEY")
        os.environ["LR_FAKE_NCBI_KEY"] = FAKE_KEY
        try:
            server.faults = ["429"]
            run_snakemake(
                work, "results/search/tables/pubmed-2024-01-31.tsv", "--configfile", "live.yaml"
            )
        finally:
            if env_key is None:
                del os.environ["LR_FAKE_NCBI_KEY"]
            else:
                os.environ["LR_FAKE_NCBI_KEY"] = env_key
        assert all(params.get("api_key") == FAKE_KEY for _, _, params in server.log)
    update = work / "results" / "search" / "pubmed" / "2024-01-31"
    assert (update / "records.tsv").read_text().count("pubmed:36746473") == 1
    leaked = [
        str(p)
        for folder in ("results", "logs", ".snakemake")
        for p in (work / folder).rglob("*")
        if p.is_file() and FAKE_KEY.encode() in p.read_bytes()
    ]
    assert leaked == []
