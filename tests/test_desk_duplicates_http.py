"""Duplicate verdicts on the desk, driven in-process with Starlette's test client.

Synthetic publications only (tests/desk_support.py).  The last run listed three uncertain
pairs; the verdicts sheet holds one verdict of the published review (read-only here).
Refusals are compared with what the dedup stage's own check says about the same sheet.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from desk_support import (
    BASELINE_VERDICT,
    VERDICTS_HEADER,
    make_project,
    pid,
    pinned_clock,
    sign_in,
)
from markupsafe import escape

from livingreview.dedup.tables import check_verdicts
from livingreview.desk.app import create_app
from livingreview.errors import ReviewError

PAIR = {"a": pid(1), "b": pid(2)}


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project", n=8, maybe_pairs=[(1, 2), (5, 7), (6, 7)])


@pytest.fixture
def app(project, tmp_path):
    return create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")


def verdicts(project: Path) -> str:
    return (project / "resources" / "dedup" / "verdicts.tsv").read_text()


def journal(project: Path) -> list[dict]:
    path = project / "resources" / "dedup" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def decide(client, csrf, verdict, pair=PAIR, note=""):
    data = {"csrf": csrf, **pair, "verdict": verdict, "note": note}
    return client.post("/duplicates/pair", data=data, follow_redirects=False)


def test_duplicate_pages_need_a_session_and_the_role(app):
    anonymous, _ = sign_in(app, "reviewer-1")
    anonymous.cookies.clear()
    assert anonymous.get("/duplicates").status_code == 401
    assert anonymous.get("/duplicates/pair", params=PAIR).status_code == 401
    assert anonymous.post("/duplicates/pair", data={**PAIR, "verdict": "same"}).status_code == 401
    for person in ("reviewer-1", "adjudicator-1", "extractor-1"):
        client, csrf = sign_in(app, person)
        assert client.get("/duplicates").status_code == 403, person
        assert decide(client, csrf, "same").status_code == 403, person


def test_a_data_manager_lands_on_the_pairs_side_by_side(app):
    client, _ = sign_in(app, "data-manager-1")
    listing = client.get("/")
    assert str(listing.url).endswith("/duplicates")
    assert "3 of 3 without a verdict" in listing.text
    assert "synthetic case series 1" in listing.text and "synthetic case series 2" in listing.text
    page = client.get("/duplicates/pair", params=PAIR).text
    assert "flagged by rule <code>title</code> (score 80)" in page
    for field in ("title", "authors", "doi", "pmid"):
        assert f'<tr class="differs" id="field-{field}">' in page, field
    for field in ("journal", "year"):
        assert f'<tr class="" id="field-{field}">' in page, field
    assert "<mark>Author1</mark>" in page and "<mark>Author2</mark>" in page
    assert "https://pubmed.ncbi.nlm.nih.gov/100001/" in page


def test_a_verdict_writes_the_documented_row_with_who_and_when(app, project):
    client, csrf = sign_in(app, "data-manager-1")
    response = decide(client, csrf, "same", note="one trial, two records")
    assert response.status_code == 303
    assert response.headers["location"] == "/duplicates#pair-pubmed-100001-pubmed-100002"
    assert verdicts(project) == (
        VERDICTS_HEADER
        + BASELINE_VERDICT
        + f"{pid(1)}\t{pid(2)}\tsame\tdata-manager-1\t2026-11-23\tone trial, two records\n"
    )
    [entry] = journal(project)
    assert (entry["who"], entry["role"], entry["action"]) == (
        "data-manager-1",
        "data_manager",
        "decide",
    )
    assert entry["sheet"] == "resources/dedup/verdicts.tsv" and entry["pair"] == [pid(1), pid(2)]
    assert entry["before"] is None and entry["after"]["verdict"] == "same"
    listing = client.get("/duplicates").text
    assert "2 of 3 without a verdict" in listing
    assert "<strong>same</strong> by data-manager-1, 2026-11-23 (pending" in listing


def test_a_verdict_is_changed_in_place_and_withdrawn(app, project):
    client, csrf = sign_in(app, "data-manager-1")
    decide(client, csrf, "same")
    flipped = {"a": pid(2), "b": pid(1)}  # either order names the pair
    assert decide(client, csrf, "different", pair=flipped).status_code == 303
    text = verdicts(project)
    assert text.count(pid(2)) == 1
    assert f"{pid(1)}\t{pid(2)}\tdifferent\tdata-manager-1\t2026-11-23\t\n" in text
    change = journal(project)[-1]
    assert change["action"] == "change"
    assert (change["before"]["verdict"], change["after"]["verdict"]) == ("same", "different")
    withdrawn = client.post("/duplicates/withdraw", data={"csrf": csrf, **PAIR})
    assert withdrawn.status_code == 200
    assert verdicts(project) == VERDICTS_HEADER + BASELINE_VERDICT
    undo = journal(project)[-1]
    assert undo["action"] == "undo" and undo["after"] is None
    missing = client.post("/duplicates/withdraw", data={"csrf": csrf, **PAIR})
    assert missing.status_code == 404


def test_hand_typed_lines_stay_byte_for_byte(app, project):
    sheet = project / "resources" / "dedup" / "verdicts.tsv"
    by_hand = (
        VERDICTS_HEADER.replace("\n", "\r\n")
        + BASELINE_VERDICT.replace("\n", "\r\n")
        + f'{pid(3)}\t{pid(4)}\tdifferent\tab\t2026-11-20\t"typed, ""by hand"""\r\n'
    )
    sheet.write_bytes(by_hand.encode())
    client, csrf = sign_in(app, "data-manager-1")
    decide(client, csrf, "different")
    assert (
        sheet.read_bytes()
        == (by_hand + f"{pid(1)}\t{pid(2)}\tdifferent\tdata-manager-1\t2026-11-23\t\r\n").encode()
    )


def test_the_published_reviews_verdicts_are_read_only(app, project):
    client, csrf = sign_in(app, "data-manager-1")
    listing = client.get("/duplicates").text
    assert "the published review's (baven-pronk-2022)" in listing
    pair = {"a": pid(5), "b": pid(6)}
    page = client.get("/duplicates/pair", params=pair).text
    assert "not in the last run's maybe.tsv" in page and 'id="verdict"' not in page
    response = decide(client, csrf, "same", pair=pair)
    assert response.status_code == 403 and "change it by hand" in response.text
    assert client.post("/duplicates/withdraw", data={"csrf": csrf, **pair}).status_code == 403
    assert verdicts(project) == VERDICTS_HEADER + BASELINE_VERDICT


def test_unknown_pairs_bad_verdicts_and_missing_csrf_are_refused(app, project):
    client, csrf = sign_in(app, "data-manager-1")
    for pair in ({"a": pid(1), "b": pid(3)}, {"a": "../../etc/passwd", "b": pid(1)}, {}):
        assert client.get("/duplicates/pair", params=pair).status_code == 404, pair
        assert decide(client, csrf, "same", pair=pair).status_code == 404, pair
    assert decide(client, csrf, "maybe").status_code == 422
    assert decide(client, "", "same").status_code == 403
    assert verdicts(project) == VERDICTS_HEADER + BASELINE_VERDICT and journal(project) == []


def test_a_verdict_the_dedup_stage_refuses_is_not_saved(app, project, tmp_path, monkeypatch):
    client, csrf = sign_in(app, "data-manager-1")
    assert decide(client, csrf, "same", pair={"a": pid(5), "b": pid(7)}).status_code == 303
    before = verdicts(project)
    response = decide(client, csrf, "same", pair={"a": pid(6), "b": pid(7)})
    assert response.status_code == 422
    # The same sheet typed by hand, read by the dedup stage's check rule (paths relative to
    # the project, as the rule names them):
    would_be = tmp_path / "workflow" / "resources" / "dedup" / "verdicts.tsv"
    would_be.parent.mkdir(parents=True)
    would_be.write_text(before + f"{pid(6)}\t{pid(7)}\tsame\tdata-manager-1\t2026-11-23\t\n")
    monkeypatch.chdir(tmp_path / "workflow")
    tables = app.state.desk.project.record_tables()
    settings = app.state.desk.project.match_settings
    with pytest.raises(ReviewError) as raised:
        check_verdicts(tables, Path("resources/dedup/verdicts.tsv"), settings, "2026-11-23")
    assert "joins records that another verdict marks 'different'" in str(raised.value)
    assert f"Not saved: {escape(str(raised.value))}" in response.text
    assert verdicts(project) == before


def test_a_hand_edited_sheet_the_workflow_refuses_is_named_and_kept(app, project):
    sheet = project / "resources" / "dedup" / "verdicts.tsv"
    broken = VERDICTS_HEADER + f"{pid(1)}\tpubmed:999\tsame\tab\t2026-11-20\t\n"
    sheet.write_text(broken)
    client, csrf = sign_in(app, "data-manager-1")
    listing = client.get("/duplicates").text
    assert "record_id is not in any record table of this run" in listing
    response = decide(client, csrf, "different", pair={"a": pid(5), "b": pid(7)})
    assert response.status_code == 422 and "line 2, field &#39;record_id_b&#39;" in response.text
    assert sheet.read_text() == broken


def test_a_note_longer_than_a_cell_is_refused_not_cut(app, project):
    client, csrf = sign_in(app, "data-manager-1")
    before = verdicts(project)
    response = decide(client, csrf, "same", note="n" * 2001)
    assert response.status_code == 422 and "at most 2,000 are allowed" in response.text
    assert verdicts(project) == before and journal(project) == []
