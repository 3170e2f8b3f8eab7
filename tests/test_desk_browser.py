"""End to end in a real browser: screening by keyboard, adjudication, and the workflow reading it.

Headless Debian chromium (``/usr/bin/chromium``) driven by Playwright (tests/browser_support.py);
Playwright never downloads a browser here.  Without chromium these tests skip, except in CI
(``CI`` set), where a missing browser fails them.

In a temporary copy of the project, after the default run (whose 2026-11-23 update queued
two new PubMed records) plus one **synthetic test record** imported from a small TSV export
(written only into the temporary copy, never into ``resources/``):

1. reviewer-1 includes one publication (``i``), excludes one with reason 7 (``x 7``), marks
   the third maybe (``m``), undoes that (``u``) and includes it instead (``i``);
2. reviewer-2 agrees on two and excludes the third as not adult (``x 1``);
3. the workflow runs: one publication passes to full text, one is excluded, one is a conflict;
4. adjudicator-1 settles the conflict as reviewer-2 decided;
5. the workflow runs again: the conflict is adjudicated and the publication excluded.

Queues, conflicts, status and PRISMA counts move as expected, and the sheets equal what typing
the same decisions by hand would give.  ``DESK_SCREENSHOTS=1`` also copies the screenshots of
the screening and adjudication pages to ``docs/`` (how the README's pictures are made).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from browser_support import Browser, Server, chromium, table
from conftest import ROOT, copy_finished_run, run_snakemake
from desk_support import TA_HEADER, pinned_clock

from livingreview.desk.app import create_app

pytestmark = [pytest.mark.workflow, pytest.mark.browser]

DONE = re.compile(r".*/screen/title_abstract(\?.*)?$")
SYNTHETIC_EXPORT = (
    "Accession Number\tTitle\tAuthor\tSource\tPublication Year\tAbstract\n"
    "T0001\tTacrolimus as second-line therapy in adult autoimmune hepatitis: a synthetic "
    "test cohort\tTest A; Example B\tSynthetic Test Journal\t2026\tSynthetic test abstract "
    "(not a real study): adults with autoimmune hepatitis and insufficient response received "
    "tacrolimus; children were not included.\n"
)
SYNTHETIC_IMPORT = """
  # Synthetic test export added by tests/test_desk_browser.py (temporary copy only).
  - database: testdb
    search_date: "2026-11-23"
    format: tsv
    files: [resources/imports/testdb/2026-11-23.tsv]
    columns: {accession: "Accession Number", title: Title, authors: Author, journal: Source,
              year: "Publication Year", abstract: Abstract}
"""


def counts(project: Path) -> dict[str, str]:
    rows = table(project / "results" / "prisma" / "counts.tsv")
    return {r["box"]: r["2026-11-23"] for r in rows if not r["label"]}


@pytest.fixture(scope="module")
def project(default_run, tmp_path_factory) -> Path:
    root = copy_finished_run(default_run, tmp_path_factory.mktemp("desk_browser") / "project")
    export = root / "resources" / "imports" / "testdb" / "2026-11-23.tsv"
    export.parent.mkdir(parents=True)
    export.write_text(SYNTHETIC_EXPORT)
    config = root / "config.yaml"
    text = config.read_text()
    anchor = "      - resources/imports/embase/2021-10-31-baseline-reconstructed.ris\n"
    config.write_text(text.replace(anchor, anchor + SYNTHETIC_IMPORT, 1))
    run_snakemake(root)
    return root


def screen_by_keyboard(browser: Browser, queue: list[str], shots: Path) -> None:
    """Steps 1 and 2: both reviewers screen the three publications by keyboard only."""
    a, b, c = queue
    page = browser.page
    browser.sign_in("reviewer-1")
    browser.on(a)
    assert page.locator("#progress-text").inner_text() == "0 of 3 decided"
    page.screenshot(path=str(shots / "desk-screening.png"), full_page=False)
    browser.keys("i")
    browser.on(b)
    browser.keys("x", "7")
    browser.on(c)
    browser.keys("m")
    page.wait_for_url(DONE)  # nothing left: the done page
    assert "3 of 3 decided" in page.locator("#progress-text").inner_text()
    browser.keys("u")
    browser.on(c)
    assert "undone" in page.locator(".flash").inner_text()
    browser.keys("i")
    page.wait_for_url(DONE)
    browser.sign_in("reviewer-2")
    browser.on(a)
    browser.keys("i")
    browser.on(b)
    browser.keys("x", "7")
    browser.on(c)
    browser.keys("x", "1")
    page.wait_for_url(DONE)


def adjudicate(browser: Browser, record: str, shots: Path) -> None:
    """Step 4: the adjudicator settles the conflict as reviewer-2 decided."""
    page = browser.page
    browser.sign_in("adjudicator-1")
    page.wait_for_url("**/adjudicate")
    page.click(f"a[href='/adjudicate/title_abstract/record/{record}']")
    page.wait_for_url(f"**/adjudicate/title_abstract/record/{record}")
    assert "not_adult" in page.locator("#side-reviewer-2").inner_text()
    page.screenshot(path=str(shots / "desk-adjudication.png"), full_page=False)
    page.click("#side-reviewer-2 button.take")
    page.wait_for_url("**/adjudicate*")
    assert "pending" in page.locator(f"tr[id='title_abstract-{record}']").inner_text()


def check_after_screening(project: Path, queue: list[str]) -> None:
    """Step 3: one publication at full text, one excluded, one in conflict."""
    a, _, c = queue
    for reviewer in ("reviewer-1", "reviewer-2"):
        ta = project / f"results/screening/queue/title_abstract/{reviewer}.tsv"
        assert table(ta) == []
        ft = project / f"results/screening/queue/full_text/{reviewer}.tsv"
        assert [r["record_id"] for r in table(ft)] == [a]
    [conflict] = table(project / "results/screening/conflicts.tsv")
    assert (conflict["publication_id"], conflict["state"]) == (c, "open")
    middle = counts(project)
    assert middle["awaiting_title_abstract"] == "1"
    assert middle["records_excluded"] == "1"
    assert middle["awaiting_full_text"] == "1"


def check_after_adjudication(project: Path, queue: list[str]) -> None:
    """Step 5: the conflict is adjudicated and the publication excluded."""
    a, b, c = queue
    [conflict] = table(project / "results/screening/conflicts.tsv")
    assert conflict["state"] == "adjudicated"
    status = {r["publication_id"]: r for r in table(project / "results/screening/status.tsv")}
    assert status[a]["status"] == "awaiting_full_text"
    assert (status[b]["status"], status[b]["exclusion_reason"]) == (
        "excluded_title_abstract",
        "no_own_patients",
    )
    assert (status[c]["status"], status[c]["exclusion_reason"]) == (
        "excluded_title_abstract",
        "not_adult",
    )
    after = counts(project)
    assert after["awaiting_title_abstract"] == "0"
    assert after["records_excluded"] == "2"
    assert after["awaiting_full_text"] == "1"


def test_screening_and_adjudication_in_a_real_browser(project, tmp_path):
    executable = chromium()
    from playwright.sync_api import sync_playwright

    queue_path = project / "results/screening/queue/title_abstract/reviewer-1.tsv"
    queue = [r["record_id"] for r in table(queue_path)]
    assert len(queue) == 3 and "testdb:T0001" in queue
    a, b, c = queue
    assert counts(project)["awaiting_title_abstract"] == "3"
    app = create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")
    desk = app.state.desk
    links = desk.tokens.ensure(desk.project.people)
    shots = tmp_path / "shots"
    ta = project / "resources" / "screening" / "title_abstract"
    # What typing the same decisions by hand gives.
    expected_r1 = (
        TA_HEADER
        + f"{a}\tinclude\t\t\t2026-11-23\n"
        + f"{b}\texclude\tno_own_patients\t\t2026-11-23\n"
        + f"{c}\tinclude\t\t\t2026-11-23\n"
    )
    expected_r2 = (
        TA_HEADER
        + f"{a}\tinclude\t\t\t2026-11-23\n"
        + f"{b}\texclude\tno_own_patients\t\t2026-11-23\n"
        + f"{c}\texclude\tnot_adult\t\t2026-11-23\n"
    )
    expected_adjudication = (
        "record_id\tdecision\treason\tnote\tdecided_on\tadjudicator\n"
        f"{c}\texclude\tnot_adult\t\t2026-11-23\tadjudicator-1\n"
    )
    with Server(app) as base, sync_playwright() as playwright:
        profile = Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path))
        browser = Browser(playwright, executable, profile, base, links)
        screen_by_keyboard(browser, queue, shots)
        assert (ta / "reviewer-1.tsv").read_text() == expected_r1
        assert (ta / "reviewer-2.tsv").read_text() == expected_r2
        run_snakemake(project)
        check_after_screening(project, queue)
        adjudicate(browser, c, shots)
        browser.context.close()
    assert (ta / "adjudication.tsv").read_text() == expected_adjudication
    run_snakemake(project)
    check_after_adjudication(project, queue)
    # The sheets still equal what typing them by hand would give; the journal tells the story.
    assert (ta / "reviewer-1.tsv").read_text() == expected_r1
    assert (ta / "reviewer-2.tsv").read_text() == expected_r2
    journal = (project / "resources/screening/journal.jsonl").read_text().splitlines()
    assert len(journal) == 9  # 4 + 1 undo for reviewer-1, 3 for reviewer-2, 1 adjudication
    if os.environ.get("DESK_SCREENSHOTS"):
        for name in ("desk-screening.png", "desk-adjudication.png"):
            shutil.copy2(shots / name, ROOT / "docs" / name)
