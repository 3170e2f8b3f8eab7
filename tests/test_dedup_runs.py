"""Across runs and sources: stable publication ids, explained merges, PRISMA counts, verdicts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_dedup_rules import cni_records, embase_style, pubmed

from livingreview.dedup import (
    DUPLICATE_COLUMNS,
    RUN_COLUMNS,
    RUN_COUNT_COLUMNS,
    UNIQUE_COLUMNS,
    VERDICT_COLUMNS,
    check_verdicts,
    deduplicate_files,
    load_verdicts,
)
from livingreview.errors import InputFileError, ValidationError
from livingreview.io import write_tsv
from livingreview.records import RECORD_COLUMNS
from livingreview.todo import TODO_COLUMNS, WAITING_FOR_RECORDS

SETTINGS = {"source_priority": ["pubmed", "embase"]}


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def table(path: Path, rows: list[dict[str, str]], run: str) -> Path:
    write_tsv(path, [dict(r, run=run) for r in rows], RECORD_COLUMNS)
    return path


def verdicts(path: Path, rows: list[dict[str, str]] = ()) -> Path:
    write_tsv(path, rows, VERDICT_COLUMNS)
    return path


def run(tmp: Path, tables: list[Path], verdict_path: Path) -> dict[str, list[dict[str, str]]]:
    out = tmp / "out"
    deduplicate_files(
        tables,
        verdict_path,
        SETTINGS,
        unique=out / "unique.tsv",
        duplicates=out / "duplicates.tsv",
        maybe=out / "maybe.tsv",
        runs=out / "runs.tsv",
    )
    return {name: read(out / f"{name}.tsv") for name in ("unique", "duplicates", "maybe", "runs")}


@pytest.fixture
def baseline(tmp_path):
    """PubMed baseline (records 0-5) and an Embase export overlapping it (records 3-9)."""
    facts = cni_records()
    snapshot = table(tmp_path / "pubmed-2021.tsv", [pubmed(f) for f in facts[:6]], "2021-10-31")
    embase = table(
        tmp_path / "embase-2021.tsv",
        [embase_style(f, i) for i, f in enumerate(facts) if i >= 3],
        "2021-10-31",
    )
    return facts, snapshot, embase


def test_baseline_collapses_each_publication_once(tmp_path, baseline):
    facts, snapshot, embase = baseline
    out = run(tmp_path, [snapshot, embase], verdicts(tmp_path / "v.tsv"))
    assert list(out["unique"][0]) == list(UNIQUE_COLUMNS)
    assert list(out["duplicates"][0]) == list(DUPLICATE_COLUMNS)
    assert len(out["unique"]) == len(facts) == 10
    merged = {r["publication_id"]: r for r in out["unique"] if r["n_records"] == "2"}
    assert set(merged) == {f"pubmed:{f['pmid']}" for f in facts[3:6]}
    for row in merged.values():
        # PubMed is canonical and first; the Embase record is a member.
        assert row["canonical_record_id"] == row["publication_id"] == row["record_id"]
        assert row["sources"] == "pubmed; embase"
    assert {(d["rule"], d["duplicate_of"]) for d in out["duplicates"]} == {
        ("doi", f"pubmed:{f['pmid']}") for f in facts[3:6]
    }
    runs = {r["source"]: r for r in out["runs"]}
    assert runs["pubmed"]["records_identified"] == "6" and runs["pubmed"]["new_publications"] == "6"
    assert runs["embase"]["records_identified"] == "7"
    assert (
        runs["embase"]["duplicates_within_run"] == "3" and runs["embase"]["new_publications"] == "4"
    )
    assert runs["all"]["duplicates_removed"] == "3" and runs["all"]["new_publications"] == "10"
    assert list(out["runs"][0]) == list(RUN_COLUMNS)
    assert list(out["maybe"][0]) if out["maybe"] else True


def test_new_snapshot_duplicates_join_earlier_publications_and_are_not_new(tmp_path, baseline):
    facts, snapshot, embase = baseline
    before = run(tmp_path, [snapshot, embase], verdicts(tmp_path / "v.tsv"))
    # The 2026 snapshot re-retrieves the baseline records and now also finds records 6-9,
    # which the Embase export already brought in 2021.
    update = table(tmp_path / "pubmed-2026.tsv", [pubmed(f) for f in facts], "2026-11-23")
    after = run(tmp_path, [snapshot, update, embase], verdicts(tmp_path / "v.tsv"))
    ids_before = {r["publication_id"] for r in before["unique"]}
    assert {r["publication_id"] for r in after["unique"]} == ids_before
    embase_ids = {
        r["publication_id"]: r for r in after["unique"] if r["publication_id"].startswith("embase:")
    }
    assert len(embase_ids) == 4
    for row in embase_ids.values():
        # Stable id from 2021, but the PubMed record is now shown to screeners.
        assert row["first_run"] == "2021-10-31"
        assert row["canonical_record_id"].startswith("pubmed:")
    new_run = {r["source"]: r for r in after["runs"] if r["run"] == "2026-11-23"}["all"]
    assert new_run["records_identified"] == "10"
    assert new_run["previously_retrieved"] == "6"
    assert new_run["duplicates_of_earlier_runs"] == "4"
    assert new_run["new_publications"] == "0" and new_run["duplicates_removed"] == "10"
    late = [d for d in after["duplicates"] if d["run"] == "2026-11-23"]
    assert len(late) == 4 and all(d["duplicate_of"].startswith("embase:") for d in late)


def test_reimported_export_changes_nothing(tmp_path, baseline):
    facts, snapshot, embase = baseline
    before = run(tmp_path, [snapshot, embase], verdicts(tmp_path / "v.tsv"))
    again = table(
        tmp_path / "embase-2023.tsv",
        [embase_style(f, i) for i, f in enumerate(facts) if i >= 3],
        "2023-05-01",
    )
    after = run(tmp_path, [snapshot, embase, again], verdicts(tmp_path / "v.tsv"))
    for name in ("unique", "duplicates", "maybe"):
        assert after[name] == before[name], name
    row = {(r["run"], r["source"]): r for r in after["runs"]}[("2023-05-01", "embase")]
    assert (row["records_identified"], row["previously_retrieved"], row["new_publications"]) == (
        "7",
        "7",
        "0",
    )


def test_a_new_record_never_fuses_two_earlier_publications(tmp_path):
    # a and b are too far apart to merge in 2021 (b also lacks volume and pages); the 2026
    # record c sits between them and matches both. c may join one, never fuse the two.
    fact = cni_records()[7]
    extra = " with a review of the literature and registry data"
    a = dict(
        pubmed(fact),
        doi="",
        pmid="",
        record_id="embase:a",
        source="embase",
        title=fact["title"] + extra,
    )
    b = dict(pubmed(fact), doi="", pmid="", record_id="wos:b", source="wos", volume="", pages="")
    c = dict(pubmed(fact), doi="", title=fact["title"] + extra[:25])
    t1 = table(tmp_path / "a.tsv", [a, b], "2021-10-31")
    first = run(tmp_path, [t1], verdicts(tmp_path / "v.tsv"))
    assert len(first["unique"]) == 2
    assert [(m["record_id_a"], m["record_id_b"]) for m in first["maybe"]] == [("embase:a", "wos:b")]
    t2 = table(tmp_path / "c.tsv", [c], "2026-11-23")
    second = run(tmp_path, [t1, t2], verdicts(tmp_path / "v.tsv"))
    assert {r["publication_id"] for r in second["unique"]} == {"embase:a", "wos:b"}
    joined = [d for d in second["duplicates"] if d["record_id"] == c["record_id"]]
    assert len(joined) == 1
    bridge = [m for m in second["maybe"] if "would_fuse_earlier_publications" in m["rule"]]
    assert len(bridge) == 1 and c["record_id"] in (
        bridge[0]["record_id_a"],
        bridge[0]["record_id_b"],
    )
    # Without the run order (all records in one run) the three records are one publication.
    t3 = table(tmp_path / "all.tsv", [a, b, c], "2021-10-31")
    together = run(tmp_path, [t3], verdicts(tmp_path / "v.tsv"))
    assert len(together["unique"]) == 1


def test_human_verdicts_are_honoured_on_every_run(tmp_path, baseline):
    facts, snapshot, embase = baseline
    pair = {
        "record_id_a": f"pubmed:{facts[3]['pmid']}",
        "record_id_b": "embase:3",
        "verdict": "different",
        "reviewer": "JB",
        "decided_on": "2026-11-20",
        "note": "test",
    }
    out = run(tmp_path, [snapshot, embase], verdicts(tmp_path / "v.tsv", [pair]))
    assert len(out["unique"]) == 11
    assert "embase:3" not in {d["record_id"] for d in out["duplicates"]}
    # And a "same" verdict joins records no rule would join.
    same = dict(pair, record_id_b="embase:9", verdict="same")
    out = run(tmp_path, [snapshot, embase], verdicts(tmp_path / "v2.tsv", [same]))
    joined = [d for d in out["duplicates"] if d["record_id"] == "embase:9"]
    assert joined and joined[0]["rule"] == "verdict"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"verdict": "maybe"},
            r"line 2, field 'verdict': unknown verdict \(found 'maybe'\); allowed: same, different",
        ),
        (
            {"record_id_b": "embase:999"},
            r"line 2, field 'record_id_b': record_id is not in any record table",
        ),
        (
            {"record_id_b": "pubmed:17589903"},
            r"line 2, field 'record_id_b': a record is paired with itself",
        ),
        (
            {"decided_on": "20/11/2026"},
            r"line 2, field 'decided_on': decided_on is not an ISO date",
        ),
        ({"reviewer": ""}, r"line 2, field 'reviewer': empty reviewer"),
    ],
)
def test_bad_verdicts_stop_the_run_naming_line_and_field(tmp_path, baseline, change, message):
    facts, snapshot, embase = baseline
    row = {
        "record_id_a": "pubmed:17589903",
        "record_id_b": "embase:3",
        "verdict": "same",
        "reviewer": "JB",
        "decided_on": "2026-11-20",
        "note": "",
    }
    row.update(change)
    with pytest.raises(ValidationError, match=message):
        run(tmp_path, [snapshot, embase], verdicts(tmp_path / "v.tsv", [row]))
    assert not (tmp_path / "out").exists(), "nothing may be written when an input is invalid"


def test_contradicting_verdicts_are_rejected(tmp_path, baseline):
    facts, snapshot, embase = baseline
    row = {
        "record_id_a": "pubmed:17589903",
        "record_id_b": "embase:3",
        "verdict": "same",
        "reviewer": "JB",
        "decided_on": "2026-11-20",
        "note": "",
    }
    flipped = dict(row, record_id_a="embase:3", record_id_b="pubmed:17589903", verdict="different")
    with pytest.raises(ValidationError, match="line 3.*contradicts line 2"):
        run(tmp_path, [snapshot, embase], verdicts(tmp_path / "v.tsv", [row, flipped]))


def test_verdicts_sheet_with_wrong_columns_is_rejected(tmp_path, baseline):
    facts, snapshot, embase = baseline
    bad = tmp_path / "v.tsv"
    bad.write_text("record_a\trecord_b\tverdict\n")
    with pytest.raises(InputFileError, match="line 1: missing column"):
        run(tmp_path, [snapshot, embase], bad)


def test_record_table_errors_name_file_line_and_field(tmp_path, baseline):
    facts, snapshot, embase = baseline
    broken = tmp_path / "broken.tsv"
    write_tsv(broken, [dict(pubmed(facts[0]), run="31/10/2021")], RECORD_COLUMNS)
    with pytest.raises(ValidationError, match=r"broken.tsv, line 2, field 'run'"):
        run(tmp_path, [broken], verdicts(tmp_path / "v.tsv"))
    twice = table(tmp_path / "twice.tsv", [pubmed(facts[0]), pubmed(facts[0])], "2021-10-31")
    with pytest.raises(ValidationError, match=r"twice.tsv, line 3, field 'record_id'"):
        run(tmp_path, [twice], verdicts(tmp_path / "v.tsv"))


def test_the_shipped_verdicts_sheet_is_valid():
    # The shipped verdicts name records of the default run (the reconstructed Embase export
    # and the PubMed snapshot); the full-pipeline tests run them for real. Here: well-formed.
    shipped = Path(__file__).resolve().parents[1] / "resources" / "dedup" / "verdicts.tsv"
    ids = {line.split("\t")[i] for line in shipped.read_text().splitlines()[1:] for i in (0, 1)}
    verdicts = load_verdicts(shipped, ids)
    assert {v.verdict for v in verdicts} <= {"same", "different"}


def test_every_problem_of_the_verdicts_sheet_is_logged_and_the_first_raised(
    tmp_path, baseline, caplog
):
    facts, snapshot, embase = baseline
    good = {
        "record_id_a": "pubmed:17589903",
        "record_id_b": "embase:3",
        "verdict": "same",
        "reviewer": "JB",
        "decided_on": "2026-11-20",
        "note": "",
    }
    rows = [dict(good, verdict="maybe"), dict(good, record_id_b="embase:999", reviewer="")]
    with pytest.raises(ValidationError, match=r"line 2, field 'verdict'.*first of 3 problems"):
        run(tmp_path, [snapshot, embase], verdicts(tmp_path / "v.tsv", rows))
    logged = caplog.text
    assert "line 3, field 'record_id_b'" in logged and "line 3, field 'reviewer'" in logged
    assert not (tmp_path / "out").exists()


def test_verdicts_sheet_saved_by_a_spreadsheet_is_read(tmp_path, baseline):
    """Excel's "Unicode Text" (UTF-16 with BOM, CRLF) and a UTF-8 BOM: same verdicts."""
    facts, snapshot, embase = baseline
    plain = verdicts(
        tmp_path / "v.tsv",
        [
            {
                "record_id_a": "pubmed:17589903",
                "record_id_b": "embase:3",
                "verdict": "different",
                "reviewer": "JB",
                "decided_on": "2026-11-20",
                "note": "café",
            }
        ],
    )
    text = plain.read_text(encoding="utf-8")
    utf16 = tmp_path / "v16.tsv"
    utf16.write_bytes(text.replace("\n", "\r\n").encode("utf-16"))
    bom = tmp_path / "vbom.tsv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    ids = ["pubmed:17589903", "embase:3"]
    expected = load_verdicts(plain, ids)
    assert [v.verdict for v in expected] == ["different"]
    assert load_verdicts(utf16, ids) == expected
    assert load_verdicts(bom, ids) == expected


def test_the_tables_columns_are_the_typed_rows_fields():
    assert RUN_COLUMNS == (
        "run",
        "source",
        "records_identified",
        "previously_retrieved",
        "duplicates_of_earlier_runs",
        "duplicates_within_run",
        "new_publications",
        "duplicates_removed",
    )
    assert RUN_COUNT_COLUMNS == RUN_COLUMNS[2:]
    assert DUPLICATE_COLUMNS[:3] == ("record_id", "duplicate_of", "matched_record_id")
    assert UNIQUE_COLUMNS[:6] == (
        "publication_id",
        "canonical_record_id",
        "member_record_ids",
        "sources",
        "first_run",
        "n_records",
    )
    assert UNIQUE_COLUMNS[6:] == RECORD_COLUMNS


def test_todo_counts_the_uncertain_pairs_awaiting_a_verdict(tmp_path):
    """results/records/todo.tsv: one data-manager row while maybe.tsv holds undecided pairs,
    pointing at maybe.tsv and the verdicts sheet; nothing to do once they are decided."""
    fact = cni_records()[7]
    extra = " with a review of the literature and registry data"
    a = dict(pubmed(fact), doi="", pmid="", record_id="embase:a", source="embase")
    a["title"] = fact["title"] + extra
    b = dict(pubmed(fact), doi="", pmid="", record_id="wos:b", source="wos", volume="", pages="")
    tables = [table(tmp_path / "a.tsv", [a, b], "2021-10-31")]
    sheet = verdicts(tmp_path / "v.tsv")
    out = tmp_path / "out"
    paths = {name: out / f"{name}.tsv" for name in ("unique", "duplicates", "maybe", "runs")}

    deduplicate_files(tables, sheet, SETTINGS, **paths, todo=out / "todo.tsv")
    assert len(read(paths["maybe"])) == 1
    assert read(out / "todo.tsv") == [
        {
            "role": "data_manager",
            "person": "",
            "stage": "dedup",
            "task": "decide uncertain duplicate pairs",
            "count": "1",
            "items_in": str(paths["maybe"]),
            "act_in": str(sheet),
        }
    ]

    decided = {
        "record_id_a": "embase:a",
        "record_id_b": "wos:b",
        "verdict": "different",
        "reviewer": "JB",
        "decided_on": "2026-11-20",
        "note": "",
    }
    deduplicate_files(tables, verdicts(sheet, [decided]), SETTINGS, **paths, todo=out / "todo.tsv")
    assert read(paths["maybe"]) == []
    assert (out / "todo.tsv").read_text().splitlines() == ["\t".join(TODO_COLUMNS)]


def test_every_verdict_counts_and_one_on_records_of_a_later_search_waits_for_them(
    tmp_path, baseline
):
    """A verdict counts whatever its date; one on records this run does not hold (an export
    searched after its run_date) waits for them and is listed in the to-do; a verdict dated
    after today is an error (the check job reads the clock)."""
    facts, snapshot, embase = baseline
    split = {
        "record_id_a": f"pubmed:{facts[3]['pmid']}",
        "record_id_b": "embase:3",
        "verdict": "different",
        "reviewer": "JB",
        "decided_on": "2026-11-24",
        "note": "",
    }
    of_a_later_export = dict(split, record_id_a="wos:1", record_id_b="wos:2", verdict="same")
    sheet = verdicts(tmp_path / "v.tsv", [split, of_a_later_export])
    out = tmp_path / "out"
    paths = {name: out / f"{name}.tsv" for name in ("unique", "duplicates", "maybe", "runs")}

    deduplicate_files(
        [snapshot, embase], sheet, SETTINGS, **paths, todo=out / "todo.tsv", run_date="2026-11-23"
    )
    assert "embase:3" not in {d["record_id"] for d in read(paths["duplicates"])}  # applied
    todo = {row["task"]: row["count"] for row in read(out / "todo.tsv")}
    assert todo == {WAITING_FOR_RECORDS: "1"}

    # a verdict dated on or before the run date must name records of this run (a typo check)
    with pytest.raises(ValidationError, match=r"line 3, field 'record_id_a'.*not in any record"):
        deduplicate_files([snapshot, embase], sheet, SETTINGS, **paths, run_date="2026-11-24")
    # dated after today: a typo, refused by the check
    with pytest.raises(ValidationError, match=r"line 2, field 'decided_on'.*after today's date"):
        check_verdicts([snapshot, embase], sheet, SETTINGS, "2026-11-23", today="2026-11-23")
    check_verdicts([snapshot, embase], sheet, SETTINGS, "2026-11-23", today="2026-11-24")
