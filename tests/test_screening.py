"""Screening without Snakemake: sheet validation, resolution, conflicts, queues, ranking."""

from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pytest

import livingreview.screening as screening
from livingreview.errors import ConfigError, InputFileError, ProblemCollector, ValidationError
from livingreview.screening import (
    FULL_TEXT,
    TITLE_ABSTRACT,
    TODO_COLUMNS,
    RankingSettings,
    ScreeningSettings,
    assigned_reviewers,
    eligibility_hints,
    evaluate_ranking,
    learn_weights,
    load_publications,
    queue_columns,
    read_sheet,
    score_terms,
    screen,
    sheet_paths,
    train_ranking,
)
from livingreview.screening.resolve import passed_title_abstract, resolve_publications
from livingreview.screening.sheets import read_sheets
from livingreview.screening.stage import final_labels, waiting_for
from livingreview.screening.tables import publication_state

FIXTURES = Path(__file__).parent / "fixtures" / "screening"
RUN1 = FIXTURES / "unique_run1.tsv"
RUN2 = FIXTURES / "unique_run2.tsv"
STUDIES = FIXTURES / "studies.tsv"
REASONS = [
    {"id": "not_adult", "label": "Not adults"},
    {"id": "not_aih", "label": "Not AIH"},
    {"id": "no_own_patients", "label": "Review without own patients"},
    {"id": "transplant_setting", "label": "Transplant setting"},
    {"id": "meeting_abstract", "label": "Meeting abstract"},
    {"id": "no_cni_outcomes", "label": "No CNI outcomes"},
]
HEADER = "record_id\tdecision\treason\tnote\tdecided_on"
FT_HEADER = HEADER + "\tstudy_id"
PAPE, THAN, LARSEN = "pubmed:31658173", "pubmed:26458216", "pubmed:17589903"
PAPE_EMBASE = "embase:h0bdb429da9eac50f"
THAN_EMBASE = "embase:h1221c7524e2c1b93"
PAEDIATRIC = "embase:h722e854db432e4d6"
NEW = ["embase:hbc409507e023303b", "embase:hed33daa9e9a5908b", "pubmed:37876996", "pubmed:36746473"]


def settings(run_date: str = "2026-11-23", clock_date: str = "", **overrides) -> ScreeningSettings:
    params = {
        "reviewers": ["ann", "bob"],
        "dual": True,
        "blinded": True,
        "baseline_reviewer": "baven-pronk-2022",
        "exclusion_reasons": REASONS,
        "ranking": {},
    }
    params.update(overrides)
    return ScreeningSettings.from_params(params, run_date, clock_date)


@pytest.fixture
def sheets(tmp_path) -> Path:
    """A decisions folder holding the fixture's baseline sheets."""
    root = tmp_path / "screening"
    shutil.copytree(FIXTURES / "sheets", root)
    return root


def write(root: Path, stage: str, name: str, *rows: str, header: str | None = None) -> Path:
    path = root / stage / f"{name}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    head = header or (FT_HEADER if stage == FULL_TEXT else HEADER)
    if name == "adjudication" and header is None:
        head += "\tadjudicator"
    path.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    return path


def run(root: Path, unique: Path = RUN2, **overrides):
    return screen(unique, sheet_paths(root), settings(**overrides), STUDIES)


def status_of(result) -> dict[str, dict]:
    return {row["publication_id"]: row for row in result.status}


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"reviewers": ["ann"], "dual": True}, "screening.dual"),
        ({"reviewers": ["ann", "baven-pronk-2022"]}, "screening.baseline_reviewer"),
        ({"reviewers": ["ann", "ann"]}, "screening.reviewers"),
        ({"reviewers": ["ann", "adjudication"]}, "screening.reviewers"),
        ({"exclusion_reasons": REASONS + REASONS[:1]}, "screening.exclusion_reasons"),
    ],
)
def test_settings_refuse_what_the_schema_cannot_check(overrides, key):
    with pytest.raises(ConfigError, match=key):
        settings(**overrides)


# --------------------------------------------------------------------------- validation


def expect_error(
    root: Path, path: Path, line: int | None, field: str | None, fragment: str, unique: Path = RUN2
):
    with pytest.raises(InputFileError) as info:
        run(root, unique)
    error = info.value
    assert error.path == str(path)
    assert error.line == line
    assert error.field == field
    assert fragment in str(error)
    return error


def test_unknown_record_id_is_named(sheets):
    path = write(sheets, TITLE_ABSTRACT, "ann", "pubmed:99999999\tinclude\t\t\t2026-11-20")
    expect_error(sheets, path, 2, "record_id", "unknown record_id")


def test_malformed_record_id_is_named(sheets):
    path = write(sheets, TITLE_ABSTRACT, "ann", "37876996\tinclude\t\t\t2026-11-20")
    expect_error(sheets, path, 2, "record_id", "<source>:<id>")


def test_decision_not_allowed(sheets):
    path = write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tyes\t\t\t2026-11-20")
    error = expect_error(sheets, path, 2, "decision", "decision not allowed")
    assert "include, exclude, maybe" in str(error)


def test_not_retrieved_only_at_full_text(sheets):
    path = write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tnot_retrieved\t\t\t2026-11-20")
    expect_error(sheets, path, 2, "decision", "decision not allowed")


def test_reason_not_allowed(sheets):
    path = write(
        sheets,
        TITLE_ABSTRACT,
        "ann",
        f"{NEW[0]}\tinclude\t\t\t2026-11-20",
        f"{NEW[1]}\texclude\tboring\t\t2026-11-20",
    )
    error = expect_error(sheets, path, 3, "reason", "not listed in config")
    assert "'boring'" in str(error) and "not_adult" in str(error)


def test_reason_on_an_inclusion_is_refused(sheets):
    path = write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\tnot_adult\t\t2026-11-20")
    expect_error(sheets, path, 2, "reason", "only for exclusions")


def test_full_text_exclusion_needs_a_reason(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-20")
    write(sheets, TITLE_ABSTRACT, "bob", f"{NEW[0]}\tmaybe\t\t\t2026-11-20")
    path = write(sheets, FULL_TEXT, "ann", f"{NEW[0]}\texclude\t\t\t2026-11-21\t")
    expect_error(sheets, path, 2, "reason", "needs a reason")


def test_full_text_inclusion_needs_a_study_id(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-20")
    write(sheets, TITLE_ABSTRACT, "bob", f"{NEW[0]}\tinclude\t\t\t2026-11-20")
    path = write(sheets, FULL_TEXT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-21\t")
    expect_error(sheets, path, 2, "study_id", "needs the study_id")
    path.write_text(f"{FT_HEADER}\n{NEW[0]}\tinclude\t\t\t2026-11-21\tSmith 2024\n")
    expect_error(sheets, path, 2, "study_id", "malformed")


def test_duplicate_rows_for_one_record_and_reviewer(sheets):
    path = write(
        sheets,
        TITLE_ABSTRACT,
        "ann",
        f"{NEW[0]}\tinclude\t\t\t2026-11-20",
        f"{NEW[1]}\tinclude\t\t\t2026-11-20",
        f"{NEW[0]}\texclude\t\t\t2026-11-21",
    )
    error = expect_error(sheets, path, 4, "record_id", "second decision")
    assert "line 2" in str(error)


def test_two_member_records_of_one_publication_decided_differently(sheets):
    path = sheets / TITLE_ABSTRACT / "baven-pronk-2022.tsv"
    with open(path, "a", encoding="utf-8") as handle:  # a copy in tmp, never the fixture
        handle.write(f"{PAPE_EMBASE}\texclude\tnot_adult\t\t2021-11-29\n")
    expect_error(sheets, path, 12, "record_id", f"second decision on publication {PAPE}")


def test_the_same_record_twice_is_refused_even_when_decided_alike(sheets):
    path = write(
        sheets,
        TITLE_ABSTRACT,
        "ann",
        f"{NEW[0]}\tinclude\t\t\t2026-11-20",
        f"{NEW[0]}\tinclude\t\t\t2026-11-20",
    )
    expect_error(sheets, path, 3, "record_id", "second decision")


def test_member_records_merged_later_and_decided_alike_are_tolerated(sheets, caplog):
    path = sheets / TITLE_ABSTRACT / "baven-pronk-2022.tsv"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{PAPE_EMBASE}\tinclude\t\t\t2021-11-29\n")
        handle.write(f"{THAN_EMBASE}\texclude\tnot_adult\t\t2021-11-29\n")
    expect_error(sheets, path, 13, "record_id", f"second decision on publication {THAN}")
    path.write_text(
        path.read_text().replace(f"{THAN_EMBASE}\texclude\tnot_adult\t\t2021-11-29\n", "")
    )
    assert status_of(run(sheets))[PAPE]["status"] == "included"
    assert any("decided alike" in r.getMessage() for r in caplog.records)


def test_full_text_decision_on_a_record_not_included_at_title_abstract(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\texclude\t\t\t2026-11-20")
    write(
        sheets,
        TITLE_ABSTRACT,
        "bob",
        f"{NEW[0]}\texclude\t\t\t2026-11-20",
        f"{NEW[1]}\tinclude\t\t\t2026-11-20",
    )
    path = write(
        sheets,
        FULL_TEXT,
        "ann",
        f"{NEW[1]}\tinclude\t\t\t2026-11-21\tnew-2024",
        f"{NEW[0]}\tinclude\t\t\t2026-11-21\tnew-2024",
    )
    with pytest.raises(ValidationError) as info:
        run(sheets)
    assert info.value.path == str(path) and info.value.field == "record_id"
    # both rows are wrong: NEW[1] awaits bob, NEW[0] is excluded
    assert info.value.line in (2, 3)
    assert "not included at title/abstract" in str(info.value)
    assert "first of 2 problems" in str(info.value)


@pytest.mark.parametrize(
    "date, fragment",
    [
        ("20/11/2026", "not an ISO date"),
        ("2026-02-30", "not a calendar date"),
        ("1989-12-31", "before 1990"),
        ("", "not an ISO date"),
    ],
)
def test_bad_dates(sheets, date, fragment):
    path = write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t{date}")
    expect_error(sheets, path, 2, "decided_on", fragment)


@pytest.mark.parametrize(
    "header, fragment",
    [
        ("record_id\tdecision\treason\tdecided_on", "missing column(s) note"),
        (HEADER + "\treviewer", "unknown column(s) reviewer"),
        ("record_id,decision,reason,note,decided_on", "missing column(s)"),
    ],
)
def test_wrong_columns(sheets, header, fragment):
    path = write(sheets, TITLE_ABSTRACT, "ann", header=header)
    expect_error(sheets, path, 1, None, fragment)


def test_title_abstract_sheet_with_a_study_id_column_is_refused(sheets):
    path = write(sheets, TITLE_ABSTRACT, "ann", header=FT_HEADER)
    expect_error(sheets, path, 1, None, "unknown column(s) study_id")


def test_damaged_utf8_is_refused_with_the_line_and_the_save_options(sheets):
    path = sheets / TITLE_ABSTRACT / "ann.tsv"
    good = f"{HEADER}\n{NEW[0]}\tinclude\t\tp\u00e4diatrisch\t2026-11-20\n".encode()
    path.write_bytes(good + f"{NEW[1]}\texclude\tnot_adult\t\t2026-11-20\n".encode() + b"\xe9\n")
    error = expect_error(sheets, path, 4, None, "not UTF-8 text")
    assert "Unicode Text" in str(error)


def test_windows_1252_sheet_is_read(sheets):
    path = sheets / TITLE_ABSTRACT / "ann.tsv"
    path.write_bytes(
        f"{HEADER}\r\n{NEW[0]}\texclude\tnot_adult\tp\u00e4diatrisch\t2026-11-20\r\n".encode(
            "cp1252"
        )
    )
    row = status_of(run(sheets))[NEW[0]]
    assert row["awaiting_reviewers"] == "bob"


def test_utf16_sheet_without_its_byte_order_mark_is_refused(sheets):
    path = sheets / TITLE_ABSTRACT / "ann.tsv"
    path.write_bytes(f"{HEADER}\n".encode("utf-16-le"))
    with pytest.raises(InputFileError, match="is not text"):
        run(sheets)


def test_sheet_of_an_unknown_reviewer(sheets):
    path = write(sheets, TITLE_ABSTRACT, "carol")
    error = expect_error(sheets, path, None, None, "unknown reviewer 'carol'")
    assert "ann, bob" in str(error)


def test_adjudication_must_settle(sheets):
    path = write(sheets, TITLE_ABSTRACT, "adjudication", f"{NEW[0]}\tmaybe\t\t\t2026-11-20\tcarol")
    expect_error(sheets, path, 2, "decision", "decision not allowed")
    path.write_text(f"{HEADER}\tadjudicator\n{NEW[0]}\tinclude\t\t\t2026-11-20\t\n")
    expect_error(sheets, path, 2, "adjudicator", "adjudicator")


def test_every_problem_is_logged_and_the_first_raised(sheets, caplog):
    write(
        sheets,
        TITLE_ABSTRACT,
        "ann",
        f"{NEW[0]}\tyes\t\t\t2026-11-20",
        "pubmed:1\tinclude\t\t\t2026-11-20",
    )
    write(sheets, TITLE_ABSTRACT, "bob", f"{NEW[0]}\tinclude\t\t\t2020-13-01")
    with pytest.raises(ValidationError, match="first of 3 problems"):
        run(sheets)
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(logged) == 3
    assert any("bob.tsv, line 2, field 'decided_on'" in m for m in logged)


def test_sheets_are_only_read(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tInclude \t\t\t2026-11-20")
    before = {p: p.read_bytes() for p in sheets.rglob("*.tsv")}
    run(sheets)
    assert {p: p.read_bytes() for p in sheets.rglob("*.tsv")} == before


def test_unique_table_with_a_record_in_two_publications(tmp_path):
    text = RUN1.read_text().replace(
        "pubmed:17589903\tpubmed:17589903\tpubmed:17589903\t",
        "pubmed:17589903\tpubmed:17589903\tpubmed:17589903; pubmed:26458216\t",
    )
    bad = tmp_path / "unique.tsv"
    bad.write_text(text)
    with pytest.raises(InputFileError, match="belongs to two publications"):
        load_publications(bad)


# --------------------------------------------------------------------------- resolution


def test_baseline_sheets_resolve_every_baseline_publication(sheets):
    result = run(sheets, RUN1, run_date="2021-11-29")
    status = status_of(result)
    assert status[PAPE]["status"] == "included" and status[PAPE]["study_id"] == "pape-2019"
    assert (
        status[PAPE]["decided_by"] == "baven-pronk-2022"
        and status[PAPE]["decided_on"] == "2021-11-29"
    )
    assert status[PAEDIATRIC]["status"] == "excluded_full_text"
    assert status[PAEDIATRIC]["exclusion_reason"] == "not_adult"
    assert status[PAEDIATRIC]["exclusion_reason_label"] == "Not adults"
    assert status["pubmed:7532912"]["status"] == "excluded_title_abstract"
    assert status["pubmed:7532912"]["exclusion_reason"] == "not_aih"
    assert all(
        row["status"] not in ("awaiting_title_abstract", "awaiting_full_text")
        for row in result.status
    )
    assert [(r["publication_id"], r["study_id"], r["new_study"]) for r in result.included] == [
        (LARSEN, "larsen-2007", "no"),
        (PAPE, "pape-2019", "no"),
        (THAN, "than-2016", "no"),
    ]
    assert result.included[1]["record_ids"] == f"{PAPE}; {PAPE_EMBASE}"
    assert all(rows == [] for rows in result.queues.values())


def test_update_run_queues_exactly_the_new_publications_for_both_reviewers(sheets):
    result = run(sheets)
    for reviewer in ("ann", "bob"):
        assert sorted(r["record_id"] for r in result.queues[(TITLE_ABSTRACT, reviewer)]) == sorted(
            NEW
        )
        assert result.queues[(FULL_TEXT, reviewer)] == []
    status = status_of(result)
    # Than 2016's new Embase record joined a decided publication: inherited, never queued
    assert status[THAN]["status"] == "included" and THAN_EMBASE in status[THAN]["member_record_ids"]
    assert {p for p, r in status.items() if r["status"] == "awaiting_title_abstract"} == set(NEW)
    assert status[NEW[0]]["awaiting_reviewers"] == "ann; bob"
    assert (
        "4 new publication(s) this run; waiting for ann 4, bob 4 "
        "(title/abstract: ann 4, bob 4; full text: ann 0, bob 0)" in result.summary
    )


def test_dual_agreement_moves_on_and_maybe_passes_title_abstract(sheets):
    write(
        sheets,
        TITLE_ABSTRACT,
        "ann",
        f"{NEW[0]}\tinclude\t\t\t2026-11-20",
        f"{NEW[1]}\texclude\tno_own_patients\t\t2026-11-20",
    )
    write(
        sheets,
        TITLE_ABSTRACT,
        "bob",
        f"{NEW[0]}\tmaybe\t\t\t2026-11-21",
        f"{NEW[1]}\texclude\t\t\t2026-11-19",
    )
    status = status_of(run(sheets))
    assert status[NEW[0]]["status"] == "awaiting_full_text"
    assert status[NEW[0]]["title_abstract_decided_by"] == "ann; bob"
    assert status[NEW[0]]["title_abstract_decided_on"] == "2026-11-21"
    assert status[NEW[1]]["status"] == "excluded_title_abstract"
    assert status[NEW[1]]["exclusion_reason"] == "no_own_patients"


def test_one_decision_of_two_keeps_the_record_waiting_for_the_other(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\texclude\t\t\t2026-11-20")
    result = run(sheets)
    assert NEW[0] not in [r["record_id"] for r in result.queues[(TITLE_ABSTRACT, "ann")]]
    assert NEW[0] in [r["record_id"] for r in result.queues[(TITLE_ABSTRACT, "bob")]]
    row = status_of(result)[NEW[0]]
    assert row["status"] == "awaiting_title_abstract" and row["awaiting_reviewers"] == "bob"
    assert row["decided_by"] == "" and row["title_abstract_decision"] == ""  # blinded


def test_single_screening_needs_one_decision(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\texclude\t\t\t2026-11-20")
    result = run(sheets, dual=False)
    assert status_of(result)[NEW[0]]["status"] == "excluded_title_abstract"
    queued = [
        r["record_id"]
        for q in (result.queues[(TITLE_ABSTRACT, "ann")], result.queues[(TITLE_ABSTRACT, "bob")])
        for r in q
    ]
    assert sorted(queued) == sorted(NEW[1:])  # each remaining record to exactly one reviewer


def test_title_abstract_conflict_and_its_adjudication(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-20")
    write(sheets, TITLE_ABSTRACT, "bob", f"{NEW[0]}\texclude\tno_own_patients\t\t2026-11-20")
    result = run(sheets)
    [conflict] = result.conflicts
    assert conflict["publication_id"] == NEW[0] and conflict["stage"] == TITLE_ABSTRACT
    assert conflict["kind"] == "decision" and conflict["state"] == "open"
    assert conflict["decisions"] == "ann=include; bob=exclude(no_own_patients)"
    row = status_of(result)[NEW[0]]
    assert row["status"] == "awaiting_title_abstract" and row["open_conflict"] == TITLE_ABSTRACT
    assert all(NEW[0] not in [r["record_id"] for r in q] for q in result.queues.values())
    assert "1 open conflict(s)" in result.summary

    write(
        sheets,
        TITLE_ABSTRACT,
        "adjudication",
        f"{NEW[0]}\texclude\tno_own_patients\tnarrative review\t2026-11-22\tcarol",
    )
    result = run(sheets)
    [conflict] = result.conflicts
    assert conflict["state"] == "adjudicated"
    assert conflict["adjudication"] == "carol=exclude(no_own_patients) on 2026-11-22"
    row = status_of(result)[NEW[0]]
    assert row["status"] == "excluded_title_abstract" and row["decided_by"] == "carol"
    assert row["open_conflict"] == ""


def full_text_ready(sheets: Path, pid: str) -> None:
    write(sheets, TITLE_ABSTRACT, "ann", f"{pid}\tinclude\t\t\t2026-11-20")
    write(sheets, TITLE_ABSTRACT, "bob", f"{pid}\tinclude\t\t\t2026-11-20")


@pytest.mark.parametrize(
    "ann, bob, kind",
    [
        ("include\t\t\t2026-11-21\tnew-2024", "exclude\tnot_adult\t\t2026-11-21\t", "decision"),
        ("exclude\tnot_adult\t\t2026-11-21\t", "exclude\tnot_aih\t\t2026-11-21\t", "reason"),
        ("include\t\t\t2026-11-21\tnew-2024", "include\t\t\t2026-11-21\tpape-2019", "study_id"),
        ("include\t\t\t2026-11-21\tnew-2024", "maybe\t\t\t2026-11-21\t", "maybe"),
    ],
)
def test_full_text_conflicts(sheets, ann, bob, kind):
    full_text_ready(sheets, NEW[0])
    write(sheets, FULL_TEXT, "ann", f"{NEW[0]}\t{ann}")
    write(sheets, FULL_TEXT, "bob", f"{NEW[0]}\t{bob}")
    result = run(sheets)
    [conflict] = result.conflicts
    assert (conflict["stage"], conflict["kind"], conflict["state"]) == (FULL_TEXT, kind, "open")
    assert status_of(result)[NEW[0]]["status"] == "awaiting_full_text"
    assert result.included == [r for r in result.included if r["publication_id"] != NEW[0]]


def test_full_text_inclusion_links_a_new_study_and_adjudication_settles_a_maybe(sheets):
    full_text_ready(sheets, NEW[0])
    full_text_ready_rows = [
        f"{NEW[0]}\tinclude\t\t\t2026-11-20",
        f"{NEW[1]}\tinclude\t\t\t2026-11-20",
    ]
    write(sheets, TITLE_ABSTRACT, "ann", *full_text_ready_rows)
    write(sheets, TITLE_ABSTRACT, "bob", *full_text_ready_rows)
    write(
        sheets,
        FULL_TEXT,
        "ann",
        f"{NEW[0]}\tinclude\t\t\t2026-11-21\tnew-2024",
        f"{NEW[1]}\tmaybe\t\t\t2026-11-21\t",
    )
    write(
        sheets,
        FULL_TEXT,
        "bob",
        f"{NEW[0]}\tinclude\t\t\t2026-11-22\tnew-2024",
        f"{NEW[1]}\tnot_retrieved\t\t\t2026-11-21\t",
    )
    write(
        sheets,
        FULL_TEXT,
        "adjudication",
        f"{NEW[1]}\tnot_retrieved\t\tlibrary has no access\t2026-11-23\t\tcarol",
    )
    result = run(sheets)
    status = status_of(result)
    assert status[NEW[0]]["status"] == "included" and status[NEW[0]]["study_id"] == "new-2024"
    assert (
        status[NEW[1]]["status"] == "full_text_not_retrieved"
        and status[NEW[1]]["decided_by"] == "carol"
    )
    new = [r for r in result.included if r["publication_id"] == NEW[0]]
    assert (
        new[0]["new_study"] == "yes"
        and new[0]["decided_by"] == "ann; bob"
        and new[0]["decided_on"] == "2026-11-22"
    )
    assert [c["kind"] for c in result.conflicts] == ["maybe"]


def test_several_reports_of_one_study(sheets):
    full_text_ready(sheets, NEW[2])
    write(sheets, FULL_TEXT, "ann", f"{NEW[2]}\tinclude\t\tfollow-up report\t2026-11-21\tthan-2016")
    write(sheets, FULL_TEXT, "bob", f"{NEW[2]}\tinclude\t\t\t2026-11-21\tthan-2016")
    included = run(sheets).included
    assert [r["publication_id"] for r in included if r["study_id"] == "than-2016"] == [THAN, NEW[2]]


def test_blinded_queue_hides_and_unblinded_queue_shows_other_decisions(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\texclude\tnot_adult\t\t2026-11-20")
    blinded = run(sheets)
    assert "other_decisions" not in blinded.queue_columns
    assert all(
        "not_adult" not in str(v)
        for row in blinded.queues[(TITLE_ABSTRACT, "bob")]
        for v in row.values()
    )
    open_ = run(sheets, blinded=False)
    [row] = [r for r in open_.queues[(TITLE_ABSTRACT, "bob")] if r["record_id"] == NEW[0]]
    assert row["other_decisions"] == "ann=exclude(not_adult)"


def test_assignment_with_three_reviewers_is_stable_and_dual():
    s = settings(reviewers=["ann", "bob", "cy"])
    ids = [f"pubmed:{n}" for n in range(200)]
    first = {p: assigned_reviewers(p, [], s) for p in ids}
    assert all(len(set(v)) == 2 for v in first.values())
    assert first == {p: assigned_reviewers(p, [], s) for p in ids}
    loads = {r: sum(r in v for v in first.values()) for r in ("ann", "bob", "cy")}
    assert min(loads.values()) > 100  # roughly 2/3 of 200 each
    # someone who decided already keeps the place
    assert "cy" in assigned_reviewers(ids[0], ["cy"], s)


def test_queue_rows_carry_links_and_hints(sheets):
    result = run(sheets)
    rows = {r["record_id"]: r for r in result.queues[(TITLE_ABSTRACT, "ann")]}
    assert rows["pubmed:37876996"]["pubmed_url"] == "https://pubmed.ncbi.nlm.nih.gov/37876996/"
    assert rows[NEW[0]]["doi_url"] == "https://doi.org/10.37349/edd.2024.00042"
    assert "publication type: review" in rows[NEW[0]]["hints"]
    assert "transplant wording" in rows[NEW[1]]["hints"]
    assert [r["rank"] for r in result.queues[(TITLE_ABSTRACT, "ann")]] == [1, 2, 3, 4]


# --------------------------------------------------------------------------- hints and ranking


@pytest.mark.parametrize(
    "record, hint",
    [
        ({"title": "Ciclosporine bei Kindern", "language": "ger"}, "paediatric"),
        ({"title": "Tacrolimus in AIH", "language": "chi"}, "language chi"),
        ({"title": "Tacrolimus in AIH", "publication_types": "Editorial"}, "editorial"),
        ({"title": "Tacrolimus in AIH", "publication_types": "Practice Guideline"}, "guideline"),
        (
            {"title": "Recurrent autoimmune hepatitis after liver transplantation"},
            "transplant wording",
        ),
        ({"title": "Tacrolimus for PBC-AIH overlap syndrome"}, "PBC/PSC/overlap wording"),
        ({"title": "Prednisolone in autoimmune hepatitis"}, "no CNI term"),
        ({"title": "Tacrolimus in murine hepatitis"}, "animal wording"),
    ],
)
def test_eligibility_hints(record, hint):
    assert any(hint in h for h in eligibility_hints(record))


def test_hints_never_decide(sheets):
    result = run(sheets)
    hinted = [r for r in result.queues[(TITLE_ABSTRACT, "ann")] if r["hints"]]
    assert hinted and all(
        status_of(result)[r["record_id"]]["status"] == "awaiting_title_abstract" for r in hinted
    )


def test_weights_favour_terms_of_included_publications():
    positives = [
        {"tacrolimus", "refractory", "aih"},
        {"tacrolimus", "cyclosporine", "aih"},
        {"tacrolimus", "aih"},
    ]
    negatives = [
        {"review", "aih"},
        {"transplant", "aih"},
        {"review", "guideline"},
        {"children", "tacrolimus"},
    ]
    weights = learn_weights(
        positives, negatives, RankingSettings(shrinkage=2, min_document_frequency=2)
    )
    assert weights["tacrolimus"].weight > 0 > weights["review"].weight
    assert "refractory" not in weights  # seen once: no weight
    assert (weights["tacrolimus"].n_included, weights["tacrolimus"].n_excluded) == (3, 1)
    assert score_terms({"tacrolimus", "aih"}, weights) > score_terms({"review", "aih"}, weights)
    assert learn_weights(positives, [], RankingSettings()) == {}


def test_evaluation_separates_a_clear_signal_and_refuses_too_few_labels():
    positives = [{"tacrolimus", "aih", f"p{i}"} for i in range(6)]
    negatives = [{"review", "aih", f"n{i}"} for i in range(30)]
    metrics = {
        m["metric"]: m["value"] for m in evaluate_ranking(positives, negatives, RankingSettings())
    }
    assert metrics["roc_auc"] == "1.000" and metrics["screened_to_find_all"] == "6/36"
    one = evaluate_ranking(positives[:1], negatives, RankingSettings())
    assert "too few" in one[0]["meaning"]


def test_queue_puts_likely_inclusions_first(sheets):
    # teach the score with the baseline decisions, then check the order of the update queue
    result = run(sheets)
    weights = {w["term"]: float(w["weight"]) for w in result.weights}
    assert weights["hint:publication type: review"] < 0
    scores = [float(r["score"]) for r in result.queues[(TITLE_ABSTRACT, "ann")]]
    assert scores == sorted(scores, reverse=True)
    assert result.queues[(TITLE_ABSTRACT, "ann")][0]["score_terms"]


def test_sheet_schema_documents_the_columns_and_decisions_the_code_checks():
    import yaml

    schema = yaml.safe_load(
        (
            Path(__file__).parents[1] / "workflow" / "schemas" / "screening_decisions.schema.yaml"
        ).read_text()
    )
    assert tuple(schema["required"]) == screening.DECISION_COLUMNS
    assert set(schema["properties"]) == set(screening.sheet_columns(FULL_TEXT, adjudication=True))
    assert set(schema["properties"]["decision"]["enum"]) == {
        d for ds in screening.DECISIONS.values() for d in ds
    }


def test_possible_duplicates_from_dedup_are_hinted_on_both_publications(tmp_path):
    from livingreview.screening import possible_duplicate_hints

    maybe = tmp_path / "maybe.tsv"
    maybe.write_text(
        "record_id_a\trecord_id_b\tpublication_id_a\tpublication_id_b\trule\tscore\n"
        "cinahl:h1\tpubmed:36746473\tcinahl:h1\tpubmed:36746473\tyear_missing\t100\n"
    )
    hints = possible_duplicate_hints(maybe)
    assert hints["cinahl:h1"] == [
        "possible duplicate of pubmed:36746473 (results/records/maybe.tsv)"
    ]
    assert hints["pubmed:36746473"] == [
        "possible duplicate of cinahl:h1 (results/records/maybe.tsv)"
    ]
    assert possible_duplicate_hints(None) == {}


# --------------------------------------------------------------------------- the steps of screen


def test_one_row_with_several_problems_names_each_in_column_order(sheets):
    path = write(sheets, FULL_TEXT, "adjudication", "pubmed:1\tyes\tboring\t\t2026-13-01\tbad\t")
    problems = ProblemCollector()
    index = load_publications(RUN2)
    assert read_sheet(path, settings(), index, problems) == []
    assert [(e.line, e.field) for e in problems.errors] == [
        (2, "record_id"),
        (2, "decision"),
        (2, "study_id"),
        (2, "decided_on"),
        (2, "adjudicator"),
    ]


def test_read_sheets_collects_whole_file_and_cell_problems_of_every_sheet(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", header="record_id\tdecision")
    write(sheets, TITLE_ABSTRACT, "bob", f"{NEW[0]}\tyes\t\t\t2026-11-20")
    problems = ProblemCollector()
    decisions = read_sheets(sheet_paths(sheets), settings(), load_publications(RUN2), problems)
    assert [(Path(e.path).name, e.line) for e in problems.errors] == [
        ("ann.tsv", 1),
        ("bob.tsv", 2),
    ]
    # the valid sheets were still read: the baseline decisions are there
    assert decisions.of(TITLE_ABSTRACT, PAPE)[0][0].reviewer == "baven-pronk-2022"
    assert decisions.of(TITLE_ABSTRACT, NEW[0]) == ([], None)


def read_and_resolve(sheets: Path, s: ScreeningSettings):
    index = load_publications(RUN2)
    problems = ProblemCollector()
    decisions = read_sheets(sheet_paths(sheets), s, index, problems)
    return index, resolve_publications(index, decisions, s, problems)


def test_resolution_has_full_text_outcomes_only_for_what_passed_title_abstract(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-20")
    write(sheets, TITLE_ABSTRACT, "bob", f"{NEW[0]}\tmaybe\t\t\t2026-11-20")
    index, resolution = read_and_resolve(sheets, settings())
    assert set(resolution.title_abstract) == set(index.rows)
    passed = {p for p, o in resolution.title_abstract.items() if passed_title_abstract(o)}
    assert set(resolution.full_text) == passed and NEW[0] in passed and NEW[1] not in passed
    assert resolution.full_text[NEW[0]].state == "pending"


def test_publication_state_says_who_it_waits_for_or_that_it_is_in_conflict(sheets):
    s = settings()
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-20")
    write(
        sheets,
        TITLE_ABSTRACT,
        "bob",
        f"{NEW[0]}\texclude\t\t\t2026-11-20",
        f"{NEW[1]}\texclude\t\t\t2026-11-20",
    )
    _, resolution = read_and_resolve(sheets, s)
    conflict = publication_state(NEW[0], resolution, s)
    assert (conflict.status, conflict.open_conflict, conflict.awaiting) == (
        "awaiting_title_abstract",
        TITLE_ABSTRACT,
        (),
    )
    half = publication_state(NEW[1], resolution, s)
    assert (half.waiting_stage, half.open_conflict, half.awaiting) == (TITLE_ABSTRACT, "", ("ann",))
    done = publication_state(PAPE, resolution, s)
    assert (done.status, done.waiting_stage, done.final.study_id) == ("included", "", "pape-2019")


def test_waiting_lists_and_ranking_labels_come_from_the_states(sheets):
    s = settings()
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\texclude\t\t\t2026-11-20")
    index, resolution = read_and_resolve(sheets, s)
    states = {pid: publication_state(pid, resolution, s) for pid in index.rows}
    waiting = waiting_for(states, s)
    assert set(waiting) == {(st, r) for st in (TITLE_ABSTRACT, FULL_TEXT) for r in ("ann", "bob")}
    assert sorted(waiting[(TITLE_ABSTRACT, "bob")]) == sorted(NEW)
    assert sorted(waiting[(TITLE_ABSTRACT, "ann")]) == sorted(NEW[1:])
    labels = final_labels(states)
    assert labels[PAPE] is True and labels[PAEDIATRIC] is False and NEW[0] not in labels


def test_ranking_switched_off_learns_nothing_and_keeps_the_terms():
    records = {"p1": {"title": "Tacrolimus in AIH"}, "p2": {"title": "A review"}}
    off = train_ranking(records, {"p1": True, "p2": False}, RankingSettings(enabled=False))
    assert off.weights == {} and off.evaluation == [] and off.score("p1") == 0
    assert "tacrolimus" in off.terms["p1"]


def test_queue_columns_show_other_decisions_only_when_not_blinded():
    assert "other_decisions" not in queue_columns(blinded=True)
    columns = queue_columns(blinded=False)
    assert columns[columns.index("hints") + 1] == "other_decisions"


# --------------------------------------------------------------------------- dates of decisions


def todo_of(result, task: str) -> list[tuple[str, str, str, int, str, str]]:
    return [
        (r["role"], r["person"], r["stage"], r["count"], r["items_in"], r["act_in"])
        for r in result.todo
        if r["task"] == task
    ]


def test_a_decision_dated_after_the_run_date_counts(sheets):
    """run_date chooses the searches; every decision saved counts, whatever its date."""
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\texclude\tnot_adult\t\t2026-11-25")
    result = run(sheets, run_date="2026-11-23")
    row = status_of(result)[NEW[0]]
    assert row["awaiting_reviewers"] == "bob" and "later_dated_decisions" not in row
    assert NEW[0] not in [r["record_id"] for r in result.queues[(TITLE_ABSTRACT, "ann")]]
    assert "dated after" not in result.summary


def test_an_adjudication_dated_after_the_run_date_settles_the_conflict(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-20")
    write(sheets, TITLE_ABSTRACT, "bob", f"{NEW[0]}\texclude\t\t\t2026-11-20")
    write(sheets, TITLE_ABSTRACT, "adjudication", f"{NEW[0]}\texclude\t\t\t2026-11-24\tcarol")
    result = run(sheets, run_date="2026-11-23")
    assert [c["state"] for c in result.conflicts] == ["adjudicated"]
    assert status_of(result)[NEW[0]]["status"] == "excluded_title_abstract"


def test_a_full_text_row_before_its_title_abstract_inclusion_is_an_error_whatever_the_dates(
    sheets,
):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-20")
    path = write(sheets, FULL_TEXT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-22\tnew-2024")
    expect_error(sheets, path, 2, "record_id", "not included at title/abstract")
    write(sheets, TITLE_ABSTRACT, "bob", f"{NEW[0]}\tinclude\t\t\t2026-11-25")
    result = run(sheets, run_date="2026-11-23")
    row = status_of(result)[NEW[0]]
    assert row["status"] == "awaiting_full_text" and row["awaiting_reviewers"] == "bob"


def test_a_decision_dated_after_the_clock_is_an_error_only_with_a_clock(sheets):
    path = write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-25")
    with pytest.raises(ValidationError) as info:
        run(sheets, run_date="2026-11-23", clock_date="2026-11-24")
    error = info.value
    assert (error.path, error.line, error.field) == (str(path), 2, "decided_on")
    assert "after today's date 2026-11-24" in str(error) and "not after 2026-11-24" in str(error)
    assert status_of(run(sheets, run_date="2026-11-23", clock_date="2026-11-25"))[NEW[0]]
    assert status_of(run(sheets, run_date="2026-11-23"))[NEW[0]]  # no clock: no such check


def test_the_baseline_reviewers_later_dates_count_in_the_baseline_run(sheets):
    result = run(sheets, RUN1, run_date="2021-10-31")  # decided 2021-11-29, after the search
    assert {r["status"] for r in result.status} == {
        "included",
        "excluded_title_abstract",
        "excluded_full_text",
    }


def test_clock_date_must_be_a_date():
    with pytest.raises(ConfigError, match="clock_date"):
        settings(clock_date="today")


# --------------------------------------------------------------------------- who has what to do


def test_summary_and_todo_count_the_queues_that_are_written(sheets):
    write(sheets, TITLE_ABSTRACT, "ann", f"{NEW[0]}\tinclude\t\t\t2026-11-20")
    write(
        sheets,
        TITLE_ABSTRACT,
        "bob",
        f"{NEW[0]}\tinclude\t\t\t2026-11-20",
        f"{NEW[1]}\texclude\t\t\t2026-11-20",
    )
    # a later run: none of the waiting publications is new any more
    result = run(sheets, run_date="2026-12-01")
    queued = {key: len(rows) for key, rows in result.queues.items()}
    assert queued == {
        (TITLE_ABSTRACT, "ann"): 3,
        (TITLE_ABSTRACT, "bob"): 2,
        (FULL_TEXT, "ann"): 1,
        (FULL_TEXT, "bob"): 1,
    }
    assert todo_of(result, "screen publications") == [
        (
            "reviewer",
            reviewer,
            stage,
            queued[(stage, reviewer)],
            f"results/screening/queue/{stage}/{reviewer}.tsv",
            f"resources/screening/{stage}/{reviewer}.tsv",
        )
        for stage in (TITLE_ABSTRACT, FULL_TEXT)
        for reviewer in ("ann", "bob")
    ]
    assert (
        "0 new publication(s) this run; waiting for ann 4, bob 3 "
        "(title/abstract: ann 3, bob 2; full text: ann 1, bob 1)" in result.summary
    )


def test_only_open_conflicts_wait_for_an_adjudicator(sheets):
    for reviewer, decision in (("ann", "include\t"), ("bob", "exclude\tnot_adult")):
        write(
            sheets,
            TITLE_ABSTRACT,
            reviewer,
            f"{NEW[0]}\t{decision}\t\t2026-11-20",
            f"{NEW[1]}\t{decision}\t\t2026-11-20",
        )
    result = run(sheets)
    assert todo_of(result, "settle conflicts") == [
        (
            "adjudicator",
            "",
            TITLE_ABSTRACT,
            2,
            "results/screening/conflicts.tsv",
            "resources/screening/title_abstract/adjudication.tsv",
        )
    ]
    assert "; 2 open conflict(s); " in result.summary
    write(
        sheets,
        TITLE_ABSTRACT,
        "adjudication",
        f"{NEW[0]}\tinclude\t\t\t2026-11-21\tcarol",
        f"{NEW[1]}\texclude\tnot_adult\t\t2026-11-21\tcarol",
    )
    result = run(sheets)
    assert [c["state"] for c in result.conflicts] == ["adjudicated", "adjudicated"]
    assert todo_of(result, "settle conflicts") == []
    assert "; 0 open conflict(s); " in result.summary


def test_todo_rows_follow_the_shared_contract(sheets):
    write(sheets, TITLE_ABSTRACT, "bob", f"{NEW[0]}\tinclude\t\t\t2026-11-30")  # counts too
    result = run(sheets)
    assert all(tuple(row) == TODO_COLUMNS for row in result.todo)
    assert all(isinstance(row["count"], int) and row["count"] > 0 for row in result.todo)
    assert [(r["stage"], r["role"], r["person"], r["task"]) for r in result.todo] == [
        (TITLE_ABSTRACT, "reviewer", "ann", "screen publications"),
        (TITLE_ABSTRACT, "reviewer", "bob", "screen publications"),
    ]


# --------------------------------------------------------------------------- sheets as saved


def test_sheets_saved_by_spreadsheet_programs_are_screened_like_plain_ones(sheets):
    rows = [
        f"{NEW[0]}\tinclude\t\tcaf\u00e9 \u2013 vu\t2026-11-20",
        f"{NEW[1]}\texclude\ttransplant_setting\t\t2026-11-20",
    ]
    write(sheets, TITLE_ABSTRACT, "ann", *rows)
    write(sheets, TITLE_ABSTRACT, "bob", *rows)
    plain = run(sheets)
    saved = {
        "ann": "utf-16",  # Excel "Unicode Text": UTF-16 LE with byte-order mark
        "bob": "utf-8-sig",  # UTF-8 with byte-order mark
    }
    for reviewer, encoding in saved.items():
        path = sheets / TITLE_ABSTRACT / f"{reviewer}.tsv"
        text = path.read_text(encoding="utf-8")
        path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    as_saved = run(sheets)
    assert as_saved.status == plain.status and as_saved.queues == plain.queues
    assert status_of(as_saved)[NEW[1]]["status"] == "excluded_title_abstract"
    assert status_of(as_saved)[NEW[0]]["status"] == "awaiting_full_text"


@pytest.mark.parametrize(
    "row_type, columns",
    [
        (screening.StatusRow, screening.STATUS_COLUMNS),
        (screening.ConflictRow, screening.CONFLICT_COLUMNS),
        (screening.IncludedReportRow, screening.INCLUDED_COLUMNS),
        (screening.TodoRow, screening.TODO_COLUMNS),
        (screening.QueueRow, screening.queue_columns(blinded=False)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_typed_rows_have_exactly_the_columns_written(row_type, columns):
    assert set(typing.get_type_hints(row_type)) == set(columns)
