"""The desk's pages and writes, driven in-process with Starlette's test client.

Synthetic publications only (tests/desk_support.py); the desk's clock is pinned to the run
date so decided_on and journal times are reproducible.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from desk_support import FT_HEADER, TA_HEADER, csrf_of, make_project, pid, pinned_clock
from starlette.testclient import TestClient

from livingreview.desk.app import create_app
from livingreview.desk.sessions import SignInThrottle
from livingreview.io import write_tsv
from livingreview.screening.agreement import AGREEMENT_COLUMNS, TwoByTwo

BASE = "http://127.0.0.1:8765"
#: What a browser says when the person pastes their link (no other site involved).
PASTED = {"sec-fetch-site": "none"}
CONFLICT = "reviewer-1=include; reviewer-2=exclude(not_aih)"


class Clock:
    """A monotonic clock the throttle tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def project(tmp_path) -> Path:
    root = make_project(
        tmp_path / "project",
        n=8,
        full_text=[6, 7],
        conflicts=[(4, "title_abstract", CONFLICT)],
        maybe_pairs=[(1, 2)],
        queued_for={8: ("reviewer-2",)},
        titles={3: "<script>alert('x')</script> <i>Ciclosporin</i> <mml:math>n</mml:math>"},
    )
    ta = root / "resources" / "screening" / "title_abstract"
    (ta / "reviewer-1.tsv").write_text(
        TA_HEADER + f"{pid(4)}\tinclude\t\tR1 thinks CNI second line\t2026-11-20\n"
    )
    (ta / "reviewer-2.tsv").write_text(
        TA_HEADER + f"{pid(4)}\texclude\tnot_aih\tSECRET-R2 overlap syndrome\t2026-11-21\n"
    )
    return root


@pytest.fixture
def throttle_clock() -> Clock:
    return Clock()


@pytest.fixture
def app(project, tmp_path, throttle_clock):
    return create_app(
        project,
        clock=pinned_clock,
        state_dir=tmp_path / "state",
        throttle=SignInThrottle(throttle_clock, free=3, base=10.0),
    )


def token(app, person: str) -> str:
    desk = app.state.desk
    return desk.tokens.ensure(desk.project.people)[person]


def signed_in(app, person: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url=BASE)
    response = client.get("/signin", params={"token": token(app, person)}, headers=PASTED)
    assert response.status_code == 200, response.text
    page = client.get("/")
    return client, csrf_of(page.text)


def sheet(project: Path, stage: str, name: str) -> str:
    path = project / "resources" / "screening" / stage / name
    return path.read_text() if path.exists() else ""


def journal(project: Path) -> list[dict]:
    path = project / "resources" / "screening" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --------------------------------------------------------------------------- signing in


def test_sign_in_sets_a_strict_httponly_cookie_and_lands_on_the_next_publication(app):
    client = TestClient(app, base_url=BASE)
    response = client.get(
        "/signin",
        params={"token": token(app, "reviewer-1")},
        headers=PASTED,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/welcome"  # the token is not kept in the URL
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    landed = client.get("/welcome")
    assert landed.status_code == 200
    page = client.get("/")
    assert str(page.url).endswith(f"/screen/title_abstract/record/{pid(1)}")
    assert "reviewer-1" in page.text


def test_an_adjudicator_lands_on_the_conflicts(app):
    client, _ = signed_in(app, "adjudicator-1")
    assert str(client.get("/").url).endswith("/adjudicate")


def test_the_conflicts_page_shows_the_last_runs_agreement(app, project):
    client, _ = signed_in(app, "adjudicator-1")
    assert "Not computed yet" in client.get("/adjudicate").text
    row = {
        "stage": "title_abstract",
        "publications_compared": 50,
        "both_include": 20,
        "r1_include_r2_exclude": 5,
        "r1_exclude_r2_include": 10,
        "both_exclude": 15,
        "proportionate_agreement": "0.700",
        "kappa": f"{float(TwoByTwo(20, 5, 10, 15).kappa() or 0):.3f}",
        "not_retrieved_left_out": 0,
    }
    write_tsv(project / "results" / "screening" / "agreement.tsv", [row], AGREEMENT_COLUMNS)
    page = client.get("/adjudicate").text
    assert 'id="agreement-title_abstract"' in page
    assert "<td>0.400</td>" in page


def test_every_page_needs_a_session(app, project):
    client = TestClient(app, base_url=BASE)
    for path in [
        "/",
        "/screen",
        "/screen/title_abstract",
        f"/screen/title_abstract/record/{pid(1)}",
        "/screen/title_abstract/decisions",
        "/adjudicate",
        f"/adjudicate/title_abstract/record/{pid(4)}",
    ]:
        assert client.get(path).status_code == 401, path
    for path, data in [
        (f"/screen/title_abstract/record/{pid(1)}", {"decision": "include"}),
        ("/screen/title_abstract/undo", {}),
        (f"/adjudicate/title_abstract/record/{pid(4)}", {"decision": "include"}),
        (f"/adjudicate/title_abstract/record/{pid(4)}/withdraw", {}),
        ("/signout", {}),
    ]:
        assert client.post(path, data=data).status_code == 401, path
    assert "include\t\t\t2026-11-23" not in sheet(project, "title_abstract", "reviewer-1.tsv")
    assert journal(project) == []


def test_wrong_forged_expired_and_rotated_sessions_are_refused(app):
    client = TestClient(app, base_url=BASE)
    assert client.get("/signin", params={"token": "not-a-token"}).status_code == 403
    client.cookies.set("desk_session", "eyJwIjoicmV2aWV3ZXItMSJ9.AAAA")
    assert client.get("/screen").status_code == 401
    client, _ = signed_in(app, "reviewer-1")
    assert client.get("/screen/title_abstract/decisions").status_code == 200
    desk = app.state.desk
    desk.tokens.rotate(["reviewer-1"], everyone=False)
    assert client.get("/screen/title_abstract/decisions").status_code == 401
    other, _ = signed_in(app, "reviewer-2")
    desk.clock = lambda: pinned_clock().replace(day=24, hour=12, minute=1)  # > 12 h later
    assert other.get("/screen/title_abstract/decisions").status_code == 401


def test_repeated_failed_sign_ins_are_slowed_down(app, throttle_clock):
    client = TestClient(app, base_url=BASE)
    good = token(app, "reviewer-1")
    for _ in range(3):
        assert client.get("/signin", params={"token": "guess"}).status_code == 403
    refused = client.get("/signin", params={"token": "guess"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) == 10
    signed = client.get("/signin", params={"token": good}, headers=PASTED, follow_redirects=False)
    assert signed.status_code == 303  # the right token is never held back
    throttle_clock.now += 10
    assert client.get("/signin", params={"token": "guess"}).status_code == 403
    assert int(client.get("/signin", params={"token": "guess"}).headers["retry-after"]) == 20
    throttle_clock.now += 20
    assert client.get("/signin", params={"token": "guess"}).status_code == 403


def test_sign_out_ends_the_session(app):
    client, csrf = signed_in(app, "reviewer-1")
    assert client.post("/signout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/screen").status_code == 401


# --------------------------------------------------------------------------- the screening page


def test_the_publication_page_shows_everything_a_reviewer_needs(app):
    client, _ = signed_in(app, "reviewer-1")
    page = client.get(f"/screen/title_abstract/record/{pid(1)}").text
    for expected in [
        "Author1 A; Second B",
        "Journal of Synthetic Hepatology",
        "2025",
        "https://pubmed.ncbi.nlm.nih.gov/100001/",
        "https://doi.org/10.1000/test.1",
        "tacrolimus +0.50",
        "Eligibility criteria",
        "Patients not adults",
        "<code>not_adult</code>",
        f"Possible duplicate of <code>{pid(2)}</code>",
        "0 of 4 decided",
        '<progress id="progress" value="0" max="4">',
        "<mark>Tacrolimus</mark>",
        "<mark>autoimmune hepatitis</mark>",
    ]:
        assert expected in page, expected


def test_record_text_is_escaped_never_markup(app):
    client, _ = signed_in(app, "reviewer-1")
    page = client.get(f"/screen/title_abstract/record/{pid(3)}").text
    assert "<script>alert" not in page and "<i>Ciclosporin" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;i&gt;<mark>Ciclosporin</mark>&lt;/i&gt;" in page
    assert "&lt;mml:math&gt;n&lt;/mml:math&gt;" in page


def test_security_headers_on_every_page(app):
    client, _ = signed_in(app, "reviewer-1")
    for response in [client.get("/screen/title_abstract/decisions"), client.get("/signin")]:
        headers = response.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "same-origin"
        assert "<script>" not in response.text  # no inline script (CSP forbids it)


def test_include_writes_the_documented_row_and_moves_on(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    response = client.post(
        f"/screen/title_abstract/record/{pid(1)}",
        data={"csrf": csrf, "decision": "include", "note": "adults, tacrolimus"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/screen/title_abstract/record/{pid(2)}?saved={pid(1)}"
    assert sheet(project, "title_abstract", "reviewer-1.tsv") == (
        TA_HEADER
        + f"{pid(4)}\tinclude\t\tR1 thinks CNI second line\t2026-11-20\n"
        + f"{pid(1)}\tinclude\t\tadults, tacrolimus\t2026-11-23\n"
    )
    [entry] = journal(project)
    assert entry["who"] == "reviewer-1" and entry["action"] == "decide"
    assert entry["at"] == "2026-11-23T12:00:00.000000Z"
    assert entry["stage"] == "title_abstract" and entry["record"] == pid(1)
    assert entry["sheet"] == "resources/screening/title_abstract/reviewer-1.tsv"
    assert entry["before"] is None and entry["after"]["decision"] == "include"
    page = client.get(f"/screen/title_abstract/record/{pid(1)}").text
    assert "Takes effect at the next run" in page and "1 of 4 decided" in page


def test_exclusions_with_and_without_reason_at_title_abstract(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    for i, reason in ((1, "not_adult"), (2, "")):
        client.post(
            f"/screen/title_abstract/record/{pid(i)}",
            data={"csrf": csrf, "decision": "exclude", "reason": reason},
        )
    text = sheet(project, "title_abstract", "reviewer-1.tsv")
    assert f"{pid(1)}\texclude\tnot_adult\t\t2026-11-23\n" in text
    assert f"{pid(2)}\texclude\t\t\t2026-11-23\n" in text


def test_a_reason_sent_with_include_is_dropped_not_written(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    client.post(
        f"/screen/title_abstract/record/{pid(1)}",
        data={"csrf": csrf, "decision": "include", "reason": "not_adult"},
    )
    assert f"{pid(1)}\tinclude\t\t\t2026-11-23\n" in sheet(
        project, "title_abstract", "reviewer-1.tsv"
    )


@pytest.mark.parametrize(
    "data, message",
    [
        ({"decision": "exclude"}, "a full-text exclusion needs a reason"),
        ({"decision": "include"}, "a full-text inclusion needs the study_id"),
        ({"decision": "include", "study_id": "Smith 2025"}, "study_id is malformed"),
        ({"decision": "exclude", "reason": "not_a_reason"}, "exclusion reason not listed"),
        ({"decision": "approve"}, "is not allowed at full_text"),
    ],
)
def test_rows_the_workflow_would_refuse_are_not_saved(app, project, data, message):
    client, csrf = signed_in(app, "reviewer-1")
    response = client.post(f"/screen/full_text/record/{pid(6)}", data={"csrf": csrf, **data})
    assert response.status_code == 422
    assert message in response.text
    if "line" in message or "full-text" in message:
        assert "resources/screening/full_text/reviewer-1.tsv, line 2" in response.text
    assert sheet(project, "full_text", "reviewer-1.tsv") == ""
    assert journal(project) == []


def test_full_text_include_with_a_study_and_not_retrieved(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    page = client.get(f"/screen/full_text/record/{pid(6)}").text
    assert '<option value="pape-2019">' in page and "author6-2025" in page
    client.post(
        f"/screen/full_text/record/{pid(6)}",
        data={"csrf": csrf, "decision": "include", "study_id": "author6-2025"},
    )
    client.post(
        f"/screen/full_text/record/{pid(7)}", data={"csrf": csrf, "decision": "not_retrieved"}
    )
    assert sheet(project, "full_text", "reviewer-1.tsv") == (
        FT_HEADER
        + f"{pid(6)}\tinclude\t\t\t2026-11-23\tauthor6-2025\n"
        + f"{pid(7)}\tnot_retrieved\t\t\t2026-11-23\t\n"
    )


def test_changing_and_undoing_are_journalled_and_restore_rows(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    url = f"/screen/title_abstract/record/{pid(1)}"
    client.post(url, data={"csrf": csrf, "decision": "include"})
    client.post(url, data={"csrf": csrf, "decision": "exclude", "reason": "not_aih"})
    assert f"{pid(1)}\texclude\tnot_aih\t\t2026-11-23\n" in sheet(
        project, "title_abstract", "reviewer-1.tsv"
    )
    assert sheet(project, "title_abstract", "reviewer-1.tsv").count(pid(1)) == 1
    undo = client.post("/screen/title_abstract/undo", data={"csrf": csrf}, follow_redirects=False)
    assert undo.headers["location"] == f"{url}?undone=1"
    assert f"{pid(1)}\tinclude\t\t\t2026-11-23\n" in sheet(
        project, "title_abstract", "reviewer-1.tsv"
    )
    client.post("/screen/title_abstract/undo", data={"csrf": csrf})
    assert pid(1) not in sheet(project, "title_abstract", "reviewer-1.tsv")
    assert client.post("/screen/title_abstract/undo", data={"csrf": csrf}).status_code == 404
    actions = [(e["action"], e["before"] and e["before"]["decision"]) for e in journal(project)]
    assert actions == [
        ("decide", None),
        ("change", "include"),
        ("undo", "exclude"),
        ("undo", "include"),
    ]
    assert journal(project)[2]["undoes"] == journal(project)[1]["id"]


def test_hand_edited_sheets_are_reread_and_kept_byte_for_byte(app, project):
    path = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    original = (
        "decided_on\trecord_id\tnote\tdecision\treason\r\n"
        f'2026-11-20\t{pid(4)}\t"typed ""by hand"""\tinclude\t\r\n'
        "\r\n"
        f"2026-11-22\t{pid(2)}\tkeep me\texclude\tnot_adult"
    )
    path.write_bytes(original.encode())
    client, csrf = signed_in(app, "reviewer-1")
    client.post(f"/screen/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "maybe"})
    assert path.read_bytes().decode() == original + f"\r\n2026-11-23\t{pid(1)}\t\tmaybe\t\r\n"
    client.post(
        f"/screen/title_abstract/record/{pid(2)}", data={"csrf": csrf, "decision": "include"}
    )
    assert path.read_bytes().decode() == (
        original.replace(f"2026-11-22\t{pid(2)}\tkeep me\texclude\tnot_adult", "")
        + f"2026-11-23\t{pid(2)}\t\tinclude\t\r\n"
        + f"2026-11-23\t{pid(1)}\t\tmaybe\t\r\n"
    )


def test_undo_refuses_when_the_row_was_edited_by_hand_since(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    client.post(
        f"/screen/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "include"}
    )
    path = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    path.write_text(path.read_text().replace("include\t\t\t2026-11-23", "maybe\t\t\t2026-11-23"))
    response = client.post("/screen/title_abstract/undo", data={"csrf": csrf})
    assert response.status_code == 409 and "changed since" in response.text
    assert f"{pid(1)}\tmaybe" in path.read_text()


def test_a_sheet_broken_by_hand_blocks_saving_with_the_workflows_message(app, project):
    path = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    path.write_text(TA_HEADER + f"{pid(4)}\tinclude\t\t\t23/11/2026\n")
    client, csrf = signed_in(app, "reviewer-1")
    page = client.get(f"/screen/title_abstract/record/{pid(1)}").text
    assert "decided_on is not an ISO date" in page
    response = client.post(
        f"/screen/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "include"}
    )
    assert response.status_code == 422
    assert (
        "resources/screening/title_abstract/reviewer-1.tsv, line 2, field &#39;decided_on&#39;"
        in response.text
    )
    assert path.read_text() == TA_HEADER + f"{pid(4)}\tinclude\t\t\t23/11/2026\n"


def test_a_hand_typed_date_in_the_future_blocks_saving(app, project):
    """The desk's clock is the clock_date of its validation: a row dated after today (typed by
    hand) is refused as the scheduled run would refuse it, not taken as a later decision."""
    path = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    path.write_text(TA_HEADER + f"{pid(4)}\tinclude\t\t\t2026-11-24\n")
    client, csrf = signed_in(app, "reviewer-1")
    response = client.post(
        f"/screen/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "include"}
    )
    assert response.status_code == 422
    assert "line 2, field &#39;decided_on&#39;" in response.text
    assert path.read_text() == TA_HEADER + f"{pid(4)}\tinclude\t\t\t2026-11-24\n"


def test_my_decisions_lists_only_my_rows_with_their_state(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    client.post(
        f"/screen/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "include"}
    )
    page = client.get("/screen/title_abstract/decisions").text
    assert pid(1) in page and "pending (next run)" in page
    # pid(4): both reviewers decided it (they disagree): locked, never "seen ... change"
    assert "R1 thinks CNI second line" in page and "locked: both reviewers have decided" in page
    assert "seen by the last run" not in page
    assert "SECRET-R2" not in page


def test_my_decisions_says_seen_by_the_last_run_while_only_i_decided(app, project):
    (project / "resources" / "screening" / "title_abstract" / "reviewer-2.tsv").write_text(
        TA_HEADER
    )
    client, _ = signed_in(app, "reviewer-1")
    page = client.get("/screen/title_abstract/decisions").text
    assert "seen by the last run" in page and "locked" not in page.split("<table")[1]


def test_a_decision_settled_by_the_last_run_cannot_be_changed(app, project):
    """Settled by a run without being locked (only reviewer-1's row is on disk now)."""
    (project / "resources" / "screening" / "title_abstract" / "reviewer-2.tsv").write_text(
        TA_HEADER
    )
    status = project / "results" / "screening" / "status.tsv"
    status.write_text(
        status.read_text().replace("awaiting_title_abstract", "excluded_title_abstract", 4)
    )
    client, csrf = signed_in(app, "reviewer-1")
    response = client.post(
        f"/screen/title_abstract/record/{pid(4)}", data={"csrf": csrf, "decision": "exclude"}
    )
    assert response.status_code == 403 and "settled by the last run" in response.text


def test_the_done_page_when_the_queue_is_decided(app):
    client, csrf = signed_in(app, "reviewer-1")
    for i in (6, 7):
        client.post(f"/screen/full_text/record/{pid(i)}", data={"csrf": csrf, "decision": "maybe"})
    page = client.get("/screen/full_text")
    assert "nothing left to decide" in page.text and "2 of 2 decided" in page.text


# --------------------------------------------------------------------------- adjudication


def test_the_adjudicator_sees_both_sides_and_settles(app, project):
    client, csrf = signed_in(app, "adjudicator-1")
    listing = client.get("/adjudicate").text
    assert pid(4) in listing and "reviewer-2: exclude(not_aih)" in listing
    page = client.get(f"/adjudicate/title_abstract/record/{pid(4)}").text
    assert "R1 thinks CNI second line" in page and "SECRET-R2 overlap syndrome" in page
    response = client.post(
        f"/adjudicate/title_abstract/record/{pid(4)}",
        data={"csrf": csrf, "decision": "exclude", "reason": "not_aih", "note": "overlap"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert sheet(project, "title_abstract", "adjudication.tsv") == (
        "record_id\tdecision\treason\tnote\tdecided_on\tadjudicator\n"
        f"{pid(4)}\texclude\tnot_aih\toverlap\t2026-11-23\tadjudicator-1\n"
    )
    assert "pending: takes effect at the next run" in client.get("/adjudicate").text
    client.post(
        f"/adjudicate/title_abstract/record/{pid(4)}", data={"csrf": csrf, "take": "reviewer-1"}
    )
    assert f"{pid(4)}\tinclude\t\t\t2026-11-23\tadjudicator-1\n" in sheet(
        project, "title_abstract", "adjudication.tsv"
    )
    client.post(f"/adjudicate/title_abstract/record/{pid(4)}/withdraw", data={"csrf": csrf})
    assert pid(4) not in sheet(project, "title_abstract", "adjudication.tsv")
    assert [e["action"] for e in journal(project)] == ["adjudicate", "adjudicate", "undo"]
    assert {e["who"] for e in journal(project)} == {"adjudicator-1"}


def test_an_adjudication_must_decide(app, project):
    client, csrf = signed_in(app, "adjudicator-1")
    response = client.post(
        f"/adjudicate/title_abstract/record/{pid(4)}", data={"csrf": csrf, "decision": "maybe"}
    )
    assert response.status_code == 422 and "an adjudication decides" in response.text
    missing = client.post(
        f"/adjudicate/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "include"}
    )
    assert missing.status_code == 404
    assert sheet(project, "title_abstract", "adjudication.tsv") == ""


def test_a_hand_edit_after_a_desk_write_is_validated_again(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    client.post(f"/screen/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "maybe"})
    path = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    path.write_text(path.read_text().replace(f"{pid(4)}\tinclude", f"{pid(4)}\tinclud"))
    response = client.post(
        f"/screen/title_abstract/record/{pid(2)}", data={"csrf": csrf, "decision": "include"}
    )
    assert response.status_code == 422
    assert "line 2, field &#39;decision&#39;: decision not allowed" in response.text
    assert pid(2) not in path.read_text()


def test_the_workflows_message_names_the_rows_real_line(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    client.post(f"/screen/full_text/record/{pid(6)}", data={"csrf": csrf, "decision": "maybe"})
    response = client.post(
        f"/screen/full_text/record/{pid(7)}", data={"csrf": csrf, "decision": "exclude"}
    )
    assert response.status_code == 422
    assert "full_text/reviewer-1.tsv, line 3, field &#39;reason&#39;" in response.text
    changed = client.post(
        f"/screen/full_text/record/{pid(6)}", data={"csrf": csrf, "decision": "exclude"}
    )
    assert "full_text/reviewer-1.tsv, line 2, field &#39;reason&#39;" in changed.text


def test_undo_after_a_refresh_emptied_the_queue_returns_to_the_queue_page(app, project):
    """A refresh after the decision took the publication out of the reviewer's queue: undo
    still restores the sheet, then says so on the queue page instead of a 'not found'."""
    client, csrf = signed_in(app, "reviewer-1")
    client.post(
        f"/screen/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "include"}
    )
    queue = project / "results" / "screening" / "queue" / "title_abstract" / "reviewer-1.tsv"
    lines = queue.read_text(encoding="utf-8").splitlines(keepends=True)
    queue.write_text("".join(line for line in lines if pid(1) not in line), encoding="utf-8")
    undo = client.post("/screen/title_abstract/undo", data={"csrf": csrf}, follow_redirects=False)
    assert undo.headers["location"] == f"/screen/title_abstract?undone={pid(1)}"
    assert pid(1) not in sheet(project, "title_abstract", "reviewer-1.tsv")
    page = client.get(undo.headers["location"]).text  # the next publication of the queue
    assert f"Your decision on <code>{pid(1)}</code> was undone" in page


def test_pages_keep_the_last_results_while_a_run_rewrites_them(app, project):
    """Snakemake removes a job's outputs before the job runs: a page read meanwhile shows what
    it read last, not 'run the workflow first'."""
    client, _ = signed_in(app, "adjudicator-1")
    first = client.get("/adjudicate")
    assert first.status_code == 200
    conflicts = project / "results" / "screening" / "conflicts.tsv"
    conflicts.rename(conflicts.with_suffix(".aside"))
    during = client.get("/adjudicate")
    assert during.status_code == 200 and "run the workflow" not in during.text


def test_the_footer_says_when_the_review_last_ran_and_who_started_it(app, project):
    client, _ = signed_in(app, "reviewer-1")
    runs = project / "results" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "latest.json").write_text(
        json.dumps(
            {
                "run_id": "20261208T010405Z-desk-962ad73a",
                "trigger": "desk",
                "run_date": "2026-11-23",
                "started": "2026-12-08T01:04:05Z",
                "finished": "2026-12-08T01:04:09Z",
                "status": "succeeded",
            }
        ),
        encoding="utf-8",
    )
    page = client.get("/screen/title_abstract/decisions").text
    assert "2026-12-08 01:04 UTC (a desk refresh; searches up to 2026-11-23)" in page


def test_a_note_longer_than_a_cell_is_refused_not_cut(app, project):
    """The pages' maxlength stops it in a browser; posted anyway, a note longer than 2,000
    characters is refused with what to do, and nothing is written (it used to be kept cut)."""
    client, csrf = signed_in(app, "reviewer-1")
    url = f"/screen/title_abstract/record/{pid(1)}"
    before = sheet(project, "title_abstract", "reviewer-1.tsv"), journal(project)
    data = {"csrf": csrf, "decision": "include", "note": "x" * 2001}
    response = client.post(url, data=data, follow_redirects=False)
    assert response.status_code == 422
    assert "2,001 characters long; at most 2,000 are allowed" in response.text
    assert (sheet(project, "title_abstract", "reviewer-1.tsv"), journal(project)) == before
    data["note"] = "x" * 2000
    assert client.post(url, data=data, follow_redirects=False).status_code == 303
    assert "x" * 2000 + "\t" in sheet(project, "title_abstract", "reviewer-1.tsv")


def test_every_page_links_an_icon_the_desk_serves(app):
    """Browsers ask for an icon on every page; without one each page logs a 404."""
    client, _ = signed_in(app, "reviewer-1")
    page = client.get("/decisions").text
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.text.startswith("<svg")
