"""Windows, date slicing, snapshots (immutability, completeness, faults) and replay."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from test_entrez_loopback import FakeEutils

from livingreview.errors import ConfigError, NetworkError, ValidationError
from livingreview.io import read_tsv
from livingreview.records import RECORD_COLUMNS
from livingreview.search.entrez import EntrezClient, RateLimiter
from livingreview.search.replay import ReplayTransport
from livingreview.search.snapshot import (
    keep_existing_snapshot,
    take_snapshot,
    verify_snapshot,
)
from livingreview.search.windows import Window, discover_snapshots, run_window, snapshot_dates

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
QUERY = {"cni_aih": "fake query"}
# Test data for the loopback server: PMIDs of the replay recordings with made-up creation
# dates (only the server's date filter uses them; nothing here is a claim about PubMed).
OLD = {
    "4088113": dt.date(1985, 11, 1),
    "7699225": dt.date(1994, 12, 1),
    "9934764": dt.date(1999, 2, 1),
    "11414311": dt.date(2001, 6, 20),
    "15365410": dt.date(2004, 9, 14),
}
NEW = {"36746473": dt.date(2023, 2, 6), "37876996": dt.date(2023, 10, 25)}


def client_for(server: FakeEutils, **kw) -> EntrezClient:
    options = dict(
        email="r@example.org",
        tool="lr-test",
        base_url=server.base_url,
        timeout=0.5,
        max_tries=3,
        backoff=0.01,
        limiter=RateLimiter(100.0),
        api_key_env="LR_TEST_NO_KEY",
    )
    options.update(kw)
    return EntrezClient(**options)


def snap(root: Path, run_date: str, client: EntrezClient, **kw):
    options = dict(
        root=root,
        run_date=run_date,
        baseline_until="2021-10-31",
        baseline_from="1800-01-01",
        datetype="crdt",
        queries=QUERY,
        client=client,
        mode="live",
        batch_size=2,
    )
    options.update(kw)
    return take_snapshot(**options)


# ---------------------------------------------------------------- pure date logic


def test_windows():
    assert run_window("2021-10-31", "2021-10-31", "1800-01-01", "crdt") == (
        "baseline",
        Window(dt.date(1800, 1, 1), dt.date(2021, 10, 31), "crdt"),
    )
    kind, window = run_window("2026-11-23", "2021-10-31", "1800-01-01", "crdt")
    assert kind == "update" and (window.start, window.end) == (
        dt.date(2021, 10, 31),
        dt.date(2026, 11, 23),
    )
    with pytest.raises(ConfigError, match="run_date"):
        run_window("2020-01-01", "2021-10-31", "1800-01-01", "crdt")
    with pytest.raises(ConfigError, match="run_date"):
        run_window("2021-13-01", "2021-10-31", "1800-01-01", "crdt")


def test_split_covers_the_window_exactly():
    window = Window(dt.date(2000, 1, 1), dt.date(2000, 3, 1), "crdt")
    first, second = window.split()
    assert first.start == window.start and second.end == window.end
    assert second.start - first.end == dt.timedelta(days=1)
    with pytest.raises(ValueError):
        Window(dt.date(2000, 1, 1), dt.date(2000, 1, 1), "crdt").split()


def test_snapshot_dates_include_disk_and_config_but_not_the_future():
    dates = snapshot_dates(
        "2024-01-01", "2021-10-31", ["2022-01-01", "2025-01-01"], ["2023-03-03", "junk"]
    )
    assert dates == ["2021-10-31", "2022-01-01", "2023-03-03", "2024-01-01"]
    assert snapshot_dates("2021-10-31", "2021-10-31") == ["2021-10-31"]


# ---------------------------------------------------------------- live mode on loopback


def test_baseline_then_update_fetches_only_new_pmids(tmp_path):
    with FakeEutils({**OLD, **NEW}) as server:
        base, created = snap(tmp_path, "2021-10-31", client_for(server))
        assert created
        baseline_fetches = server.count("efetch.fcgi")
        update, _ = snap(tmp_path, "2024-01-31", client_for(server))
    rows = read_tsv(base / "records.tsv", required=RECORD_COLUMNS)
    assert sorted(r["pmid"] for r in rows) == sorted(OLD)
    assert baseline_fetches == 3  # 5 PMIDs in batches of 2
    provenance = json.loads((update / "provenance.json").read_text())
    assert provenance["kind"] == "update" and provenance["earlier_snapshots"] == ["2021-10-31"]
    assert provenance["window"] == {
        "mindate": "2021-10-31",
        "maxdate": "2024-01-31",
        "datetype": "crdt",
    }
    assert sorted(provenance["pmids_new"]) == sorted(NEW)
    assert [r["pmid"] for r in read_tsv(update / "records.tsv")] == sorted(NEW, key=int)
    assert provenance["queries"]["cni_aih"]["query_translation"] == "fake[All Fields]"
    assert provenance["request_count"] == 2  # one esearch, one efetch of the 2 new PMIDs
    assert provenance["software"]["biopython"]
    verify_snapshot(base)
    verify_snapshot(update)


def test_update_with_no_new_pmids_costs_one_esearch_and_no_efetch(tmp_path):
    with FakeEutils(dict(OLD)) as server:
        snap(tmp_path, "2021-10-31", client_for(server))
        server.log.clear()
        folder, _ = snap(tmp_path, "2024-01-31", client_for(server))
        assert server.count("esearch.fcgi") == 1 and server.count("efetch.fcgi") == 0
    assert read_tsv(folder / "records.tsv") == []


def test_more_hits_than_the_cap_split_the_window_by_date(tmp_path):
    with FakeEutils({**OLD, **NEW}) as server:
        folder, _ = snap(tmp_path, "2021-10-31", client_for(server), max_ids=2)
    provenance = json.loads((folder / "provenance.json").read_text())
    slices = provenance["queries"]["cni_aih"]["slices"]
    assert all(s["count"] <= 2 for s in slices) and len(slices) >= 3
    assert sum(s["count"] for s in slices) == len(OLD)
    assert slices[0]["mindate"] == "1800-01-01" and slices[-1]["maxdate"] == "2021-10-31"
    assert sorted(provenance["pmids_returned"]) == sorted(OLD)


@pytest.mark.parametrize(
    "faults",
    [["500"] * 3, [None, "drop", "drop", "drop"], [None, "truncate", "truncate", "truncate"]],
)
def test_failed_run_leaves_no_snapshot_and_a_rerun_completes(tmp_path, faults):
    with FakeEutils(dict(OLD)) as server:
        server.faults = list(faults)
        (tmp_path / "2021-10-31").mkdir()  # Snakemake pre-creates the output folder
        with pytest.raises(NetworkError):
            snap(tmp_path, "2021-10-31", client_for(server))
        assert list(tmp_path.iterdir()) == []
        server.faults = []
        folder, created = snap(tmp_path, "2021-10-31", client_for(server))
    assert created and discover_snapshots(tmp_path) == ["2021-10-31"]


def test_snapshot_is_never_rewritten(tmp_path):
    with FakeEutils(dict(OLD)) as server:
        folder, _ = snap(tmp_path, "2021-10-31", client_for(server))
        before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        inode = (folder / "records.tsv").stat().st_ino
        server.log.clear()
        (folder / "records.tsv").unlink()  # what Snakemake does before rerunning the job
        again, created = snap(tmp_path, "2021-10-31", client_for(server))
        assert not created and server.log == []
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert (folder / "records.tsv").stat().st_ino == inode
    (folder / "raw" / "efetch_001.xml").write_bytes(b"tampered")
    with pytest.raises(ValidationError, match="checksum"):
        snap(tmp_path, "2021-10-31", client_for(server))


def test_existing_snapshot_is_kept_without_network_and_a_changed_query_is_reported(
    tmp_path, caplog
):
    with FakeEutils(dict(OLD)) as server:
        folder, _ = snap(tmp_path, "2021-10-31", client_for(server))
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    (folder / "records.tsv").unlink()
    assert keep_existing_snapshot(tmp_path, "2021-10-31", {"cni_aih": "another query"})
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert "taken with other queries" in caplog.text
    caplog.clear()
    assert keep_existing_snapshot(tmp_path, "2021-10-31", QUERY)
    assert "taken with other queries" not in caplog.text
    assert not keep_existing_snapshot(tmp_path, "2099-01-01", QUERY)


def test_update_without_baseline_is_refused(tmp_path):
    with FakeEutils(dict(OLD)) as server:
        with pytest.raises(ConfigError, match="baseline"):
            snap(tmp_path, "2024-01-31", client_for(server))
    assert not (tmp_path / "2024-01-31").exists()


# ---------------------------------------------------------------- replay of the recordings


def replay_snapshot(root: Path, run_date: str):
    search = CONFIG["search"]
    client = EntrezClient(transport=ReplayTransport(ROOT / search["replay_dir"]))
    return take_snapshot(
        root=root,
        run_date=run_date,
        baseline_until=search["baseline_until"],
        baseline_from=search["baseline_from"],
        datetype=search["date_type"],
        queries=search["queries"],
        client=client,
        mode="replay",
    )


def test_default_config_replays_baseline_and_an_update(tmp_path):
    base, _ = replay_snapshot(tmp_path, CONFIG["search"]["baseline_until"])
    update, _ = replay_snapshot(tmp_path, CONFIG["run_date"])
    base_rows = read_tsv(base / "records.tsv", required=RECORD_COLUMNS)
    new_rows = read_tsv(update / "records.tsv", required=RECORD_COLUMNS)
    assert len(base_rows) >= 20 and len(new_rows) >= 1
    pmids = {r["pmid"] for r in base_rows}
    assert {"31658173", "26458216", "32860579", "33068296"} <= pmids  # included studies
    assert not pmids & {r["pmid"] for r in new_rows}
    assert all(r["run"] == CONFIG["run_date"] for r in new_rows)
    provenance = json.loads((update / "provenance.json").read_text())
    assert provenance["mode"] == "replay" and provenance["base_url"] is None


def test_replay_of_an_unrecorded_window_suggests_live_mode(tmp_path):
    replay_snapshot(tmp_path, CONFIG["search"]["baseline_until"])
    with pytest.raises(ConfigError, match="search.mode: live"):
        replay_snapshot(tmp_path, "2030-01-01")
    assert discover_snapshots(tmp_path) == [CONFIG["search"]["baseline_until"]]
    assert not (tmp_path / "2030-01-01").exists()
