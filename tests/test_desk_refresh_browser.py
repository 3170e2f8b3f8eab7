"""The whole loop in a real browser: what people save on the desk counts, with no terminal.

A private copy of a finished default run, served by the desk with refreshing on (as
``bin/desk`` serves it) and the real workflow behind it.  Each person has their own browser
session, left open on their page; nobody runs a command or edits a date between the first
save and the last check, and every decision is dated today by the desk's real clock:

1. reviewer-1 includes and reviewer-2 excludes the first publication of their title/abstract
   queues; the conflict appears on the adjudicator's open page (and in
   ``results/screening/conflicts.tsv``) without anyone reloading it;
2. the adjudicator settles it as include; it appears on both reviewers' open full-text pages;
3. both include it at full text as the new study ``test-study-2023`` (a **hypothetical test
   scenario**, not the review's decision); the study appears on both extractors' open pages;
4. the extractors enter the same hypothetical counts as test_desk_browser_extraction.py, with
   one discrepancy; the adjudicator, whose page shows it by itself, settles it;
5. the report's pooled estimates and PRISMA counts change.

The waits are generous (a refresh takes 15-20 s on a busy machine); nothing is timed.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from browser_support import FLAGS, Server, chromium, table
from conftest import ROOT, copy_finished_run
from playwright.sync_api import expect, sync_playwright
from test_desk_browser_extraction import FIRST, SECOND, accepted, add_rows, fill

from livingreview.desk.app import create_app
from livingreview.desk.refresh import IDLE

pytestmark = [pytest.mark.workflow, pytest.mark.browser]

STUDY = "test-study-2023"
SAVED = re.compile(r"[?&]saved=")
#: How long one step may take to show up (several refreshes on a busy machine).
STEP_MS = 240_000
#: The quiet period the copy's config sets (short, so the test does not wait long).
QUIET_SETTING = 1
QUIET = "\n# Added by tests/test_desk_refresh_browser.py (temporary copy only).\n" + (
    f"desk:\n  refresh_quiet_seconds: {QUIET_SETTING}\n"
)


@pytest.fixture
def project(default_run, tmp_path) -> Path:
    root = copy_finished_run(default_run, tmp_path / "project")
    with open(root / "config.yaml", "a", encoding="utf-8") as config:
        config.write(QUIET)
    return root


def wait_for(condition: Callable[[], object], what: str, timeout: float = STEP_MS / 1000) -> None:
    """Poll ``condition`` (a generous bound for a busy machine; nothing is timed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def steady(desk, page) -> None:
    """Wait until no refresh runs or waits and ``page`` shows the results as they now are
    (a person clicks at a page that stopped changing; a test would otherwise click at a
    page that is just reloading).  A page where a person decides never reloads by itself
    (it offers "Show the new state"): for it, only the refreshes are waited for."""

    def idle() -> bool:
        state = desk.refresher.state()
        return state.phase == IDLE and not state.queued

    wait_for(idle, "the refreshes to end")
    body = page.locator("body")
    if body.get_attribute("data-live") != "reload":
        return
    expect(body).to_have_attribute("data-results-version", desk.results_version(), timeout=STEP_MS)


def prisma_counts(project: Path) -> dict[str, str]:
    with open(project / "results/prisma/prisma.csv", newline="", encoding="utf-8") as handle:
        return {row["data"]: row["n"] for row in csv.DictReader(handle)}


def pooled(project: Path) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (r["subgroup"], r["method"]): r
        for r in table(project / "results/synthesis/meta_analysis.tsv")
    }


def test_the_desk_refreshes_the_review_through_the_whole_cycle(project, tmp_path):
    executable = chromium()
    first = table(project / "results/screening/queue/title_abstract/reviewer-1.tsv")[0]
    record = first["record_id"]
    before_pooled = pooled(project)
    before_prisma = prisma_counts(project)
    app = create_app(
        project,
        state_dir=tmp_path / "state",
        refresh=True,
        snakemake_program=str(ROOT / ".venv" / "bin" / "snakemake"),
    )
    desk = app.state.desk
    # the desk took the copy's config setting (not a timing: nothing here is timed)
    assert desk.refresher is not None
    assert desk.refresher.settings.quiet_seconds == QUIET_SETTING
    links = desk.tokens.ensure(desk.project.people)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with Server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=FLAGS
        )
        pages = {}
        for person in ("reviewer-1", "reviewer-2", "adjudicator-1", "extractor-1", "extractor-2"):
            context = browser.new_context(viewport={"width": 1360, "height": 900})
            page = context.new_page()
            page.goto(f"{base}/signin?token={links[person]}")
            page.wait_for_load_state("networkidle")
            pages[person] = page
        adjudicator = pages["adjudicator-1"]
        adjudicator.goto(f"{base}/adjudicate")
        for extractor in ("extractor-1", "extractor-2"):
            pages[extractor].goto(f"{base}/extract")

        # 1. Two reviewers disagree on the first queued publication.
        for reviewer, keys in (("reviewer-1", ["i"]), ("reviewer-2", ["x", "1"])):
            page = pages[reviewer]
            page.goto(f"{base}/screen/title_abstract/record/{record}")
            for key in keys:
                page.keyboard.press(key)
            page.wait_for_url(SAVED)
            page.goto(f"{base}/screen/full_text")  # nothing there yet: the page waits
        adjudicator.bring_to_front()  # the adjudicator looks at their screen
        conflict = adjudicator.locator(f"[id='title_abstract-{record}']")
        expect(conflict).to_be_visible(timeout=STEP_MS)  # the page followed by itself
        steady(desk, adjudicator)
        rows = table(project / "results/screening/conflicts.tsv")
        assert [(r["publication_id"], r["state"]) for r in rows] == [(record, "open")]

        # 2. The adjudicator settles it: include.
        adjudicator.click(f"a[href='/adjudicate/title_abstract/record/{record}']")
        adjudicator.click("#side-reviewer-1 button.take")
        adjudicator.wait_for_url("**/adjudicate*")

        # 3. Both reviewers include it at full text, as a new study.
        for reviewer in ("reviewer-1", "reviewer-2"):
            page = pages[reviewer]
            page.bring_to_front()
            expect(page.locator("#decide")).to_be_visible(timeout=STEP_MS)
            steady(desk, page)
            assert record in page.url or record in page.locator("main").inner_text()
            page.fill("#study_id", STUDY)
            page.click("button[data-key='i']")
            page.wait_for_url(SAVED)

        # 4. Two extractors, one discrepancy; the adjudicator settles it.
        for extractor, rows_ in (("extractor-1", FIRST), ("extractor-2", SECOND)):
            page = pages[extractor]
            page.bring_to_front()
            link = page.locator(f"a[href='/extract/{STUDY}']")
            expect(link).to_be_visible(timeout=STEP_MS)
            steady(desk, page)
            link.click()
            add_rows(page, rows_)
            fill(page, rows_)
            accepted(page)
            page.click("#save")
            page.wait_for_url(f"**/extract/{STUDY}?saved=1")
        adjudicator.bring_to_front()  # still on the conflicts page it was sent back to
        study = adjudicator.locator(f"#extraction-{STUDY}")
        expect(study).to_contain_text("1 differing cell(s) to settle", timeout=STEP_MS)
        steady(desk, adjudicator)
        adjudicator.click(f"a[href='/adjudicate/extraction/{STUDY}']")
        adjudicator.check('input[name="pick.r3.discontinued_total"][value="1"]')
        accepted(adjudicator)
        adjudicator.click("#save")
        adjudicator.wait_for_url("**/adjudicate*")

        # 5. The refreshes bring the adjudicated study into the report.
        def settled() -> bool:
            state = desk.refresher.state()
            path = project / "results/extraction/status.tsv"
            if not path.is_file():  # a run is rewriting it
                return False
            rows = table(path)
            done = [(r["study_id"], r["status"]) for r in rows] == [(STUDY, "accepted")]
            return done and state.phase == IDLE and not state.queued and state.last_ok

        wait_for(settled, "the adjudicated study to be accepted by a refresh")
        browser.close()
    sheet = project / "resources/screening/title_abstract/reviewer-1.tsv"
    assert f"{record}\tinclude\t\t\t{today}" in sheet.read_text()
    [status] = table(project / "results/extraction/status.tsv")
    assert (status["study_id"], status["status"]) == (STUDY, "accepted")
    after_pooled = pooled(project)
    for cni in ("cyclosporine", "tacrolimus", "both"):
        assert after_pooled[(cni, "DL")]["estimate"] != before_pooled[(cni, "DL")]["estimate"]
        assert int(after_pooled[(cni, "DL")]["k"]) == int(before_pooled[(cni, "DL")]["k"]) + 1
    after_prisma = prisma_counts(project)
    assert after_prisma != before_prisma
    assert int(after_prisma["new_studies"]) == int(before_prisma.get("new_studies") or 0) + 1
    logs = sorted((project / "logs" / "desk").glob("*-desk-*.log"))
    assert logs, "each refresh keeps its log"
    for log in logs:
        assert all(token not in log.read_text() for token in links.values())
    # After a whole cycle of desk refreshes no token reached any file the runs or the desk
    # wrote: results, run records, logs, Snakemake's metadata, the sheets and journals.
    secrets = [token.encode() for token in links.values()]
    scanned = 0
    for folder in ("results", "logs", ".snakemake", "resources"):
        for path in (project / folder).rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                scanned += 1
                assert not any(secret in data for secret in secrets), path
    assert scanned > 100, "the runs wrote their records, logs and metadata"
