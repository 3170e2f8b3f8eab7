"""The desk's blinding policy (docs/security.md, "Blinding"), one test per state, over HTTP.

Blinded dual screening, both stages.  A reviewer sees no trace of the other's decision, nor
whether the other has decided, before both have; once both have decided (judged from the
sheets on disk under the sheets' lock, not from the last run), each decision is locked, the
same way whether the two agree or not, before and after a run: a change or an undo is refused
(403) with a message naming the adjudicator, and nothing is written.

Synthetic publications only (tests/desk_support.py); "a run" is simulated by writing the
results a run writes (queues, status.tsv, conflicts.tsv) with ``make_project`` again.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from pathlib import Path

import pytest
import yaml
from desk_support import TA_HEADER, make_project, pid, pinned_clock, sign_in

from livingreview.desk.app import create_app
from livingreview.desk.decisions import DecisionLocked, Verdict

TA, FT = "title_abstract", "full_text"
#: Title/abstract publications 1-5, full-text publications 6-10 (queued for both reviewers).
FULL_TEXT = (6, 7, 8, 9, 10)
#: For each stage: a decision, one that agrees with it, one that disagrees.
CHOICES = {
    TA: (
        {"decision": "include"},
        {"decision": "maybe"},  # include and maybe both pass title/abstract: agreement
        {"decision": "exclude", "reason": "not_aih"},
    ),
    FT: (
        {"decision": "include", "study_id": "author8-2025"},
        {"decision": "include", "study_id": "author8-2025"},
        {"decision": "exclude", "reason": "not_aih"},
    ),
}
#: One publication of each stage that the tests decide.
SUBJECT = {TA: 1, FT: 8}
LOCKED_LABEL = "locked: both reviewers have decided"


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project", n=10, full_text=FULL_TEXT)


@pytest.fixture
def app(project, tmp_path):
    return create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")


class Reviewer:
    """A signed-in reviewer's browser, with the few requests the tests make."""

    def __init__(self, app, person: str):
        self.person = person
        self.client, self.csrf = sign_in(app, person)

    def decide(self, stage: str, i: int, choice: dict[str, str]):
        return self.client.post(
            f"/screen/{stage}/record/{pid(i)}",
            data={"csrf": self.csrf, **choice},
            follow_redirects=False,
        )

    def undo(self, stage: str):
        return self.client.post(
            f"/screen/{stage}/undo", data={"csrf": self.csrf}, follow_redirects=False
        )

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.text

    def record(self, stage: str, i: int) -> str:
        return self.page(f"/screen/{stage}/record/{pid(i)}")

    def decisions(self, stage: str) -> str:
        return self.page(f"/screen/{stage}/decisions")

    def everything(self, stage: str, i: int) -> list[str]:
        """Every page and JSON answer a reviewer's browser reads about publication ``i``."""
        return [
            self.record(stage, i),
            self.decisions(stage),
            self.page(f"/screen/{stage}"),  # follows to the next publication of the queue
            self.page("/screen"),
            self.page("/"),
            self.page("/refresh/status"),
        ]


def screening_files(project: Path) -> dict[str, bytes]:
    """Every file under resources/screening (sheets and journal), as bytes."""
    folder = project / "resources" / "screening"
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".desk.lock"
    }


def journal(project: Path) -> list[dict]:
    path = project / "resources" / "screening" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def state_cell(page: str, i: int) -> str:
    """The "state" cell of publication ``i`` in a "my decisions" page, its id made neutral."""
    row = re.search(
        rf"<tr class=\"state-\w+\">\s*<td><code>{re.escape(pid(i))}</code>.*?</tr>", page, re.S
    )
    assert row, f"{pid(i)} is not listed"
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    state = re.search(r'class="(state-\w+)"', row.group(0))
    assert state
    return state.group(1) + " " + " ".join(cells[-1].split()).replace(pid(i), "PID")


def neutral(text: str, i: int) -> str:
    """``text`` with publication ids made neutral (the two compared publications differ only
    in them; the undo button names the reviewer's last decision, the same on both pages)."""
    return re.sub(r"pubmed:\d+", "PID", text)


def panel(page: str, i: int) -> str:
    """The decision panel of a publication page (the reviewer's own decision, the form or the
    lock, undo), ids made neutral."""
    found = re.search(r'<aside class="panel">.*?</aside>', page, re.S)
    assert found
    return neutral(found.group(0), i)


def assert_refused(response, project: Path, before: dict[str, bytes], action: str) -> None:
    """403, a message naming the adjudicator, nothing written (sheets and journal)."""
    assert response.status_code == 403, response.text
    text = " ".join(response.text.split())
    assert f"cannot be {action} here: both reviewers have decided" in text
    assert "settled only by adjudication" in text and "the adjudicator (adjudicator-1)" in text
    assert "Nothing was saved" in text
    assert screening_files(project) == before


def run_happened(
    project: Path,
    stage: str = TA,
    settled: dict[int, str] | None = None,
    conflicts: tuple[int, ...] = (),
) -> None:
    """Write what the next run writes.  ``settled``: publication -> its new status (passed
    title/abstract: on to both full-text queues; otherwise in no queue); ``conflicts``: open
    conflicts at ``stage``, in no one's queue."""
    settled = settled or {}
    passed = tuple(i for i, status in settled.items() if status == "awaiting_full_text")
    make_project(
        project,
        n=10,
        full_text=(*FULL_TEXT, *passed),
        conflicts=[
            (i, stage, "reviewer-1=include; reviewer-2=exclude(not_aih)") for i in conflicts
        ],
        queued_for={i: () for i, status in settled.items() if status != "awaiting_full_text"},
        new_studies={"author8-2025": tuple(i for i, s in settled.items() if s == "included")},
    )
    path = project / "results" / "screening" / "status.tsv"
    lines = path.read_text().splitlines(keepends=True)
    for i, status in settled.items():
        lines = [
            re.sub(r"\t\w+\t", f"\t{status}\t", line, count=1)
            if line.startswith(pid(i) + "\t")
            else line
            for line in lines
        ]
    path.write_text("".join(lines))


# --------------------------------------------------------------------------- neither decided


@pytest.mark.parametrize("stage", [TA, FT])
def test_neither_decided_the_publication_shows_no_decision_and_anyone_may_decide(
    app, project, stage
):
    i, choice = SUBJECT[stage], CHOICES[stage][0]
    r1 = Reviewer(app, "reviewer-1")
    page = r1.record(stage, i)
    assert "Your decision" not in page and 'id="decide"' in page and "Locked" not in page
    assert "reviewer-2" not in page
    saved = r1.decide(stage, i, choice)
    assert saved.status_code == 303
    assert "Press <kbd>u</kbd> to undo it" in r1.page(saved.headers["location"])
    assert pid(i) in screening_files(project)[f"{stage}/reviewer-1.tsv"].decode()


# --------------------------------------------------------------------------- one decided


@pytest.mark.parametrize("stage", [TA, FT])
def test_one_decided_the_other_reviewer_sees_no_trace_of_it(app, project, stage):
    """Every page and JSON answer reviewer-2 reads is byte for byte the same before and after
    reviewer-1 decides, changes and undoes: not even whether reviewer-1 has decided."""
    i = SUBJECT[stage]
    r1, r2 = Reviewer(app, "reviewer-1"), Reviewer(app, "reviewer-2")
    before = r2.everything(stage, i)
    assert r1.decide(stage, i, CHOICES[stage][0]).status_code == 303
    assert r2.everything(stage, i) == before
    assert r1.decide(stage, i, CHOICES[stage][2]).status_code == 303
    assert r2.everything(stage, i) == before


@pytest.mark.parametrize("stage", [TA, FT])
def test_one_decided_the_decider_may_still_change_and_undo(app, project, stage):
    i = SUBJECT[stage]
    r1 = Reviewer(app, "reviewer-1")
    r1.decide(stage, i, CHOICES[stage][0])
    assert "pending (next run) &middot; <a" in state_cell(r1.decisions(stage), i)
    assert 'id="decide"' in r1.record(stage, i)
    assert r1.decide(stage, i, CHOICES[stage][2]).status_code == 303
    assert r1.undo(stage).status_code == 303
    assert r1.undo(stage).status_code == 303
    assert pid(i) not in screening_files(project)[f"{stage}/reviewer-1.tsv"].decode()
    assert [e["action"] for e in journal(project)] == ["decide", "change", "undo", "undo"]


@pytest.mark.parametrize("stage", [TA, FT])
def test_one_decided_and_seen_by_a_run_it_may_still_be_changed(app, project, stage):
    """A run that saw only one decision leaves the stage open: "seen by the last run"."""
    i = SUBJECT[stage]
    r1 = Reviewer(app, "reviewer-1")
    r1.decide(stage, i, CHOICES[stage][0])
    queue = project / "results" / "screening" / "queue" / stage / "reviewer-1.tsv"
    lines = queue.read_text().splitlines(keepends=True)
    queue.write_text("".join(line for line in lines if pid(i) not in line))
    assert "seen by the last run &middot; <a" in state_cell(r1.decisions(stage), i)
    assert r1.decide(stage, i, CHOICES[stage][2]).status_code == 303


# ------------------------------------------------ both decided, second save, no run since


@pytest.mark.parametrize("agree", [True, False], ids=["agree", "disagree"])
@pytest.mark.parametrize("stage", [TA, FT])
def test_second_save_no_run_since_locks_both_decisions(app, project, stage, agree):
    """The moment the second decision is saved both are locked, judged from the sheets (the
    last run still has the publication in both queues): change and undo refused, 403, the
    adjudicator named, nothing written."""
    i = SUBJECT[stage]
    first, agreeing, disagreeing = CHOICES[stage]
    r1, r2 = Reviewer(app, "reviewer-1"), Reviewer(app, "reviewer-2")
    assert r1.decide(stage, i, first).status_code == 303
    saved = r2.decide(stage, i, agreeing if agree else disagreeing)
    assert saved.status_code == 303
    flash = " ".join(r2.page(saved.headers["location"]).split())
    assert "Both reviewers have now decided it, so it is locked" in flash
    assert "the adjudicator (adjudicator-1) settles any disagreement" in flash
    files = screening_files(project)
    for reviewer in (r1, r2):
        assert_refused(reviewer.decide(stage, i, disagreeing), project, files, "changed")
        assert_refused(reviewer.decide(stage, i, first), project, files, "changed")
        assert_refused(reviewer.undo(stage), project, files, "undone")
        assert LOCKED_LABEL in state_cell(reviewer.decisions(stage), i)
        page = reviewer.record(stage, i)
        assert "Locked: both reviewers have decided" in page and 'id="decide"' not in page
        assert re.search(r'<button type="submit" disabled>Undo my last decision', page)


# ------------------------------------------------------- the reproduction: agree = disagree


@pytest.mark.parametrize("stage", [TA, FT])
def test_reviewer_two_cannot_tell_agreement_from_disagreement_nor_switch(app, project, stage):
    """The reported exploit: on reviewer-2's own pages an agreement read "settled by the last
    run" and a disagreement "seen by the last run · change", and the disagreeing decision
    could be changed.  Now both read the same, before and after a run, and neither changes."""
    first, agreeing, disagreeing = CHOICES[stage]
    agreed, disputed = (1, 2) if stage == TA else (8, 9)
    study = {"study_id": "author8-2025"} if stage == FT else {}
    r1, r2 = Reviewer(app, "reviewer-1"), Reviewer(app, "reviewer-2")
    r1.decide(stage, agreed, first)
    r1.decide(stage, disputed, disagreeing)
    # reviewer-2 makes the same decision on both
    undo_refusals = []
    for i in (agreed, disputed):
        r2.decide(stage, i, {**agreeing, **study})
        undo_refusals.append(neutral(r2.undo(stage).text, i))
    assert undo_refusals[0] == undo_refusals[1] and "cannot be undone" in undo_refusals[0]

    def seen_by_reviewer_two() -> list[list[str]]:
        listing = r2.decisions(stage)
        return [
            [
                state_cell(listing, i),
                panel(r2.record(stage, i), i),
                neutral(r2.decide(stage, i, disagreeing).text, i),
                neutral(r2.decide(stage, i, first).text, i),
            ]
            for i in (agreed, disputed)
        ]

    files = screening_files(project)
    window = seen_by_reviewer_two()
    assert window[0] == window[1]
    assert LOCKED_LABEL in window[0][0] and "change" not in window[0][0]
    # the run: the agreement moves on (full text; included), the disagreement is a conflict
    moved_on = "awaiting_full_text" if stage == TA else "included"
    run_happened(project, stage, settled={agreed: moved_on}, conflicts=(disputed,))
    after_run = seen_by_reviewer_two()
    assert after_run[0] == after_run[1]
    assert after_run[0][0] == window[0][0]
    assert "settled by the last run" not in r2.decisions(stage)
    assert "seen by the last run" not in r2.decisions(stage)
    assert screening_files(project) == files


# ------------------------------------------------------------------------ after a run


@pytest.mark.parametrize("agree", [True, False], ids=["agree", "disagree"])
def test_after_a_run_both_decisions_stay_locked_and_read_the_same(app, project, agree):
    """After the run that saw both decisions (agreement: on to full text; disagreement: an
    open conflict), each reviewer's own decision is still locked and reads as before."""
    r1, r2 = Reviewer(app, "reviewer-1"), Reviewer(app, "reviewer-2")
    r1.decide(TA, 3, {"decision": "include"})
    r2.decide(TA, 3, {"decision": "include"} if agree else {"decision": "exclude"})
    labels = [state_cell(r.decisions(TA), 3) for r in (r1, r2)]
    run_happened(
        project, settled={3: "awaiting_full_text"} if agree else {}, conflicts=() if agree else (3,)
    )
    files = screening_files(project)
    for reviewer, label in zip((r1, r2), labels, strict=True):
        assert state_cell(reviewer.decisions(TA), 3) == label
        assert "Locked: both reviewers have decided" in reviewer.record(TA, 3)
        assert_refused(reviewer.decide(TA, 3, {"decision": "maybe"}), project, files, "changed")
        assert_refused(reviewer.undo(TA), project, files, "undone")


# --------------------------------------------------------------------------- adjudicated


def test_adjudicated_the_reviewers_decisions_stay_locked_and_the_verdict_is_not_shown(app, project):
    """The adjudicator sees both decisions and settles; the reviewers' pages do not change
    (the verdict, pending or taken in by a run, is not on them) and stay locked."""
    r1, r2 = Reviewer(app, "reviewer-1"), Reviewer(app, "reviewer-2")
    r1.decide(TA, 2, {"decision": "include", "note": "R1-NOTE"})
    r2.decide(TA, 2, {"decision": "exclude", "reason": "not_aih", "note": "R2-NOTE"})
    run_happened(project, conflicts=(2,))
    before = [(r, r.record(TA, 2), r.decisions(TA)) for r in (r1, r2)]
    adjudicator, csrf = sign_in(app, "adjudicator-1")
    page = adjudicator.get(f"/adjudicate/{TA}/record/{pid(2)}").text
    assert "R1-NOTE" in page and "R2-NOTE" in page
    response = adjudicator.post(
        f"/adjudicate/{TA}/record/{pid(2)}",
        data={"csrf": csrf, "decision": "exclude", "reason": "not_aih", "note": "VERDICT"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    for reviewer, record, listing in before:
        assert reviewer.record(TA, 2) == record and reviewer.decisions(TA) == listing
        assert "VERDICT" not in record
    run_happened(project, settled={2: "excluded_title_abstract"})  # the adjudication taken in
    files = screening_files(project)
    for reviewer, _, listing in before:
        assert state_cell(reviewer.decisions(TA), 2) == state_cell(listing, 2)
        assert "VERDICT" not in reviewer.record(TA, 2)
        assert_refused(reviewer.decide(TA, 2, {"decision": "include"}), project, files, "changed")


# ------------------------------------------------------------------------ roles


def test_the_data_manager_sees_no_decision_and_the_other_reviewer_none_of_the_notes(app, project):
    r1, r2 = Reviewer(app, "reviewer-1"), Reviewer(app, "reviewer-2")
    r1.decide(TA, 2, {"decision": "include", "note": "R1-NOTE"})
    r2.decide(TA, 2, {"decision": "exclude", "reason": "not_aih", "note": "R2-NOTE"})
    run_happened(project, conflicts=(2,))
    manager, _ = sign_in(app, "data-manager-1")
    for path in [
        "/screen/title_abstract/decisions",
        f"/screen/{TA}/record/{pid(2)}",
        "/adjudicate",
    ]:
        assert manager.get(path).status_code == 403
    for path in ["/", "/duplicates", "/refresh/status"]:
        assert "R1-NOTE" not in manager.get(path).text
    for me, other_note in ((r1, "R2-NOTE"), (r2, "R1-NOTE")):
        for page in me.everything(TA, 2):
            assert other_note not in page
        assert me.client.get("/adjudicate").status_code == 403


# ------------------------------------------------------------- judged under the lock


def test_the_lock_is_judged_from_the_sheets_under_the_sheets_lock(app, project):
    """reviewer-1's change waits for the sheets' lock; while it waits, reviewer-2's decision
    lands on disk (typed by hand, the last run knows nothing of it): the change is refused."""
    desk = app.state.desk
    screening = desk.screening
    Reviewer(app, "reviewer-1").decide(TA, 1, {"decision": "include"})
    store = screening.store
    original = store.locked
    waiting = threading.Event()

    @contextlib.contextmanager
    def signalling_lock():
        waiting.set()
        with original():
            yield

    outcome: list[BaseException | None] = []

    def change() -> None:
        try:
            screening.decide(TA, "reviewer-1", pid(1), Verdict("exclude"))
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            outcome.append(error)

    with original():
        store.locked = signalling_lock
        worker = threading.Thread(target=change)
        worker.start()
        assert waiting.wait(30), "the change never asked for the lock"
        sheet = project / "resources" / "screening" / TA / "reviewer-2.tsv"
        sheet.write_text(TA_HEADER + f"{pid(1)}\texclude\t\t\t2026-11-22\n")
    worker.join(30)
    del store.locked
    assert len(outcome) == 1 and isinstance(outcome[0], DecisionLocked), outcome
    assert "adjudicator-1" in str(outcome[0])
    assert f"{pid(1)}\tinclude" in (sheet.parent / "reviewer-1.tsv").read_text()


def test_the_other_sheet_broken_by_hand_shows_nothing_of_it(app, project):
    """The lock reads the other reviewer's sheet; when that sheet cannot be read (not UTF-8),
    nothing of it reaches this reviewer's pages or refusals (its owner sees the problem)."""
    r1 = Reviewer(app, "reviewer-1")
    r1.decide(TA, 1, {"decision": "include"})
    other = project / "resources" / "screening" / TA / "reviewer-2.tsv"
    other.write_bytes(
        TA_HEADER.encode() + f"{pid(1)}\texclude\t\tna\xefve\t2026-11-22\n".encode("latin-1")
    )
    for page in r1.everything(TA, 1):
        assert "reviewer-2" not in page and "UTF-8" not in page
    assert r1.decide(TA, 1, {"decision": "maybe"}).status_code == 303
    r2 = Reviewer(app, "reviewer-2")
    assert "not valid UTF-8" in r2.client.get(f"/screen/{TA}/decisions").text


# -------------------------------------------------- where the lock does not apply


@pytest.mark.parametrize("setting", [{"blinded": False}, {"dual": False}])
def test_without_blinded_dual_screening_decisions_stay_changeable_until_a_run(
    project, tmp_path, setting
):
    config_path = project / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["screening"].update(setting)
    config_path.write_text(yaml.safe_dump(config))
    app = create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")
    r1, r2 = Reviewer(app, "reviewer-1"), Reviewer(app, "reviewer-2")
    r1.decide(TA, 1, {"decision": "include"})
    r2.decide(TA, 1, {"decision": "exclude"})
    assert "pending (next run) &middot; <a" in state_cell(r1.decisions(TA), 1)
    assert r1.decide(TA, 1, {"decision": "exclude"}).status_code == 303
    assert r2.undo(TA).status_code == 303
    assert LOCKED_LABEL not in r1.decisions(TA)


# ------------------------------------------------------- the "updating" state (known limit)


def test_the_refresh_state_after_a_save_is_the_same_for_every_reviewer(project, tmp_path):
    """The one thing another reviewer can notice: the review is updating after someone saved.
    The JSON the pages' script reads is the same for the one who saved and for the other
    reviewer (no id, publication or decision in it); the refresher is not started here, the
    save is noted as its loop notes a changed journal."""
    app = create_app(project, clock=pinned_clock, state_dir=tmp_path / "state", refresh=True)
    r1, r2 = Reviewer(app, "reviewer-1"), Reviewer(app, "reviewer-2")
    r1.decide(TA, 1, {"decision": "include", "note": "R1-NOTE"})
    app.state.desk.refresher.note_save()
    seen = [json.loads(r.page("/refresh/status")) for r in (r1, r2)]
    assert seen[0] == seen[1] and seen[0]["phase"] == "pending"
    assert not re.search(r"reviewer-1|pubmed:|R1-NOTE|include", json.dumps(seen[1]))


# ------------------------------------------------------------------ the written policy


def test_the_written_policy_names_each_of_these_tests_and_only_tests_that_exist():
    """docs/security.md, "Blinding": every state has its test here, and every test it names
    exists (a promise without a drill is a bug)."""
    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Blinding", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(?:tests/(test_\w+)\.py::)?(test_\w+)(?:\[[^\]]*\])?`", section))
    here = {n for n in globals() if n.startswith("test_")} - {
        "test_the_written_policy_names_each_of_these_tests_and_only_tests_that_exist"
    }
    assert here <= {name for _, name in named}, "tests of this file missing from the policy"
    for module, name in named:
        source = (root / "tests" / f"{module or 'test_desk_blinding'}.py").read_text()
        assert f"def {name}(" in source, (module, name)
