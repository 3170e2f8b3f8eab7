"""End to end in a real browser: extraction forms, their adjudication and duplicate verdicts,
and the workflow reading what the desk wrote.

Headless Debian chromium driven by Playwright (tests/browser_support.py; skipped without
chromium, a failure in CI).  Everything below happens in a temporary copy of the project;
nothing is written to ``resources/``:

* a **hypothetical test scenario** (as in tests/test_update_scenario.py): both reviewers'
  sheets include the recorded update's PubMed record 37876996 at full text as the new study
  ``test-study-2023`` (not the review's decision);
* a small **synthetic test export** (``testdb``) with two records built on real publications
  of the published review: ``T0001``, a second record of Person 1993 (J Clin Gastroenterol 17:
  317-320) as another database might index it, the words of the title in another order and
  no pages; ``T0002``, a meeting abstract with the title and first authors of Roberts 2020
  (Scand J Gastroenterol 55:1309-1317), a year earlier on page A123 (a made-up abstract: a
  separate report, like the meeting abstract the published review's own verdicts keep apart).

The first run lists the study as awaiting extraction and both records as uncertain pairs. Then:

1. extractor-1 fills the study's form (two arms, each with indication subgroups), meets the
   workflow's message for a sum that does not add up while typing, corrects it and saves;
2. extractor-2 fills the same study and disagrees on one cell (tacrolimus discontinuations);
3. adjudicator-1 compares the sheets (one differing cell), takes extractor-2's value, saves;
4. data-manager-1 marks T0001 the same publication as Person 1993 and T0002 different from
   Roberts 2020;
5. the workflow runs: the study enters the synthesis (outcomes, pooled estimates and what's new
   change; PRISMA counts it), T0001 is merged into Person 1993, T0002 stays apart, and neither
   pair is uncertain any more (no queue hint).

``DESK_SCREENSHOTS=1`` also copies the screenshots of the extraction form, the extraction
adjudication and a duplicate pair to ``docs/`` (how the READMEs' pictures are made).
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
from browser_support import Browser, Server, chromium, table
from conftest import ROOT, copy_finished_run, run_snakemake
from desk_support import FT_HEADER, TA_HEADER, VERDICTS_HEADER, pinned_clock, sheet_text
from playwright.sync_api import expect, sync_playwright

from livingreview.desk.app import create_app

pytestmark = [pytest.mark.workflow, pytest.mark.browser]

STUDY = "test-study-2023"
INCLUDED = "pubmed:37876996"
EXCLUDED = "pubmed:36746473"
PERSON_1993 = "embase:h507caad762faa6b6"
ROBERTS_2020 = "embase:h55976b11d0b88ece"
SAME, DIFFERENT = "testdb:T0001", "testdb:T0002"
EXPORT = (
    "Accession Number\tTitle\tAuthor\tSource\tPublication Year\tPages\tDocument Type\n"
    "T0001\tA case of cyclosporine-sensitive, steroid-resistant chronic active autoimmune "
    "hepatitis\tPerson JL; McHutchison JG; Fong TL; Redeker AG\tJ Clin Gastroenterol\t1993\t\t"
    "Journal Article\n"
    "T0002\tEfficacy and safety profile of calcineurin inhibitor salvage therapy in autoimmune "
    "hepatitis\tRoberts SK; Strasser SI; Nicoll AJ\tJournal of Gastroenterology and "
    "Hepatology\t2019\tA123\tConference Abstract\n"
)
IMPORT = """
  # Synthetic test export added by tests/test_desk_browser_extraction.py (temporary copy only).
  - database: testdb
    search_date: "2026-11-23"
    format: tsv
    files: [resources/imports/testdb/2026-11-23.tsv]
    columns: {accession: "Accession Number", title: Title, authors: Author, journal: Source,
              year: "Publication Year", pages: Pages, publication_types: "Document Type"}
"""


def outcome(cni, kind, n, remission, response, failure, unknown, group=""):
    row = {"record_type": kind, "cni": cni, "n": n, "remission": remission}
    row.update(response=response, failure=failure, unknown=unknown)
    if group:
        row.update(grouping="indication", group=group)
    return row


REASONS = ("reason_insufficient_response", "reason_intolerance", "reason_not_specified")
# Hypothetical counts (test data, not a real study's).
ROWS = [
    {**outcome("cyclosporine", "arm", "4", "2", "1", "1", "0"), **dict(zip(REASONS, "310"))},
    outcome("cyclosporine", "subgroup", "3", "2", "0", "1", "0", "insufficient_response"),
    outcome("cyclosporine", "subgroup", "1", "0", "1", "0", "0", "intolerance"),
    {**outcome("tacrolimus", "arm", "6", "4", "1", "0", "1"), **dict(zip(REASONS, "420"))},
    outcome("tacrolimus", "subgroup", "4", "3", "1", "0", "0", "insufficient_response"),
    outcome("tacrolimus", "subgroup", "2", "1", "0", "0", "1", "intolerance"),
]
FIRST = [*ROWS[:3], {**ROWS[3], "discontinued_total": "1"}, *ROWS[4:]]
SECOND = [*ROWS[:3], {**ROWS[3], "discontinued_total": "2"}, *ROWS[4:]]


def csv_table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def project(default_run, tmp_path_factory) -> Path:
    """The project after a run that included the new study and met the two test records."""
    root = copy_finished_run(
        default_run, tmp_path_factory.mktemp("desk_browser_extraction") / "project"
    )
    export = root / "resources" / "imports" / "testdb" / "2026-11-23.tsv"
    export.parent.mkdir(parents=True)
    export.write_text(EXPORT)
    config = root / "config.yaml"
    anchor = "      - resources/imports/embase/2021-10-31-baseline-reconstructed.ris\n"
    config.write_text(config.read_text().replace(anchor, anchor + IMPORT, 1))
    screening = root / "resources" / "screening"
    for reviewer in ("reviewer-1", "reviewer-2"):
        (screening / "title_abstract" / f"{reviewer}.tsv").write_text(
            TA_HEADER
            + f"{INCLUDED}\tinclude\t\t\t2026-11-23\n"
            + f"{EXCLUDED}\texclude\tno_own_patients\t\t2026-11-23\n"
        )
        (screening / "full_text" / f"{reviewer}.tsv").write_text(
            FT_HEADER + f"{INCLUDED}\tinclude\t\t\t2026-11-23\t{STUDY}\n"
        )
    run_snakemake(root)
    return root


def queue_hints(project: Path) -> dict[str, str]:
    path = project / "results/screening/queue/title_abstract/reviewer-1.tsv"
    return {row["record_id"]: row["hints"] for row in table(path)}


def check_first_run(project: Path) -> None:
    [status] = table(project / "results/extraction/status.tsv")
    assert (status["study_id"], status["status"]) == (STUDY, "awaiting_extraction")
    pairs = {
        (r["record_id_a"], r["record_id_b"]) for r in table(project / "results/records/maybe.tsv")
    }
    assert pairs == {(PERSON_1993, SAME), (ROBERTS_2020, DIFFERENT)}
    hints = queue_hints(project)
    assert f"possible duplicate of {PERSON_1993}" in hints[SAME]
    assert f"possible duplicate of {ROBERTS_2020}" in hints[DIFFERENT]


def fill(page, rows: list[dict[str, str]]) -> None:
    for i, row in enumerate(rows):
        for column, value in row.items():
            if column in ("record_type", "cni", "grouping", "group"):
                continue
            page.fill(f'[name="r{i}.{column}"]', value)


def add_rows(page, rows: list[dict[str, str]]) -> None:
    """Add the rows' arms and subgroups with the form's buttons (each redraws the form)."""
    for row in rows:
        page.select_option("#new_cni", row["cni"])
        if row["record_type"] == "arm":
            page.click("#add-arm")
        else:
            page.select_option("#new_subgroup", f"{row['grouping']}:{row['group']}")
            page.click("#add-subgroup")
        page.wait_for_load_state("networkidle")


def show_row(page, index: int) -> None:
    """Scroll a row's heading just below the sticky toolbar (for the screenshots)."""
    box = page.locator(f"#row-{index} legend").bounding_box()
    assert box is not None
    page.mouse.wheel(0, box["y"] - 70)
    page.wait_for_timeout(300)


def accepted(page) -> None:
    """Wait for the live check to say the workflow accepts the sheet (no page script may be
    evaluated: the desk's Content-Security-Policy forbids it, so locators poll instead)."""
    expect(page.locator("#check-status")).to_have_text("The workflow accepts this sheet.")


def extract(browser: Browser, person: str, rows: list[dict[str, str]], shots: Path) -> None:
    """Steps 1 and 2: an extractor fills the study's form and saves it."""
    page = browser.page
    browser.sign_in(person)
    page.wait_for_url("**/extract")
    page.click(f"a[href='/extract/{STUDY}']")
    add_rows(page, rows)
    fill(page, rows)
    if person == "extractor-1":  # a slip, caught by the workflow's own check while typing
        page.fill('[name="r3.remission"]', "5")
        expect(page.locator("#problems-r3")).to_contain_text("outcomes add up to 7")
        message = page.locator("#problems-r3").inner_text()
        assert "extractor-1.tsv, line 5, field 'remission'" in message
        assert page.locator('[name="r3.remission"]').get_attribute("aria-invalid") == "true"
        show_row(page, 3)
        page.screenshot(path=str(shots / "desk-extraction.png"), full_page=False)
        page.fill('[name="r3.remission"]', "4")
    accepted(page)
    page.click("#save")
    page.wait_for_url(f"**/extract/{STUDY}?saved=1")


def adjudicate(browser: Browser, shots: Path) -> None:
    """Step 3: the adjudicator takes extractor-2's value of the one differing cell."""
    page = browser.page
    browser.sign_in("adjudicator-1")
    page.wait_for_url("**/adjudicate")
    assert "1 differing cell(s) to settle" in page.locator(f"#extraction-{STUDY}").inner_text()
    page.click(f"a[href='/adjudicate/extraction/{STUDY}']")
    assert page.locator("tr.differs").count() == 1
    page.check('input[name="pick.r3.discontinued_total"][value="1"]')
    assert page.input_value('[name="r3.discontinued_total"]') == "2"
    accepted(page)
    show_row(page, 3)
    page.screenshot(path=str(shots / "desk-extraction-adjudication.png"), full_page=False)
    page.click("#save")
    page.wait_for_url("**/adjudicate*")
    assert "adjudicated" in page.locator(f"#extraction-{STUDY}").inner_text()


def decide_pairs(browser: Browser, shots: Path) -> None:
    """Step 4: one pair is the same publication, the other two publications."""
    page = browser.page
    browser.sign_in("data-manager-1")
    page.wait_for_url("**/duplicates")
    for record, other, button in (
        (SAME, PERSON_1993, "#same"),
        (DIFFERENT, ROBERTS_2020, "#different"),
    ):
        page.click(f"a[href='/duplicates/pair?{urlencode({'a': other, 'b': record})}']")
        page.wait_for_url("**/duplicates/pair?*")
        if record == DIFFERENT:
            for field in ("year", "journal", "pages"):
                assert "differs" in page.locator(f"#field-{field}").inner_text()
            page.screenshot(path=str(shots / "desk-duplicates.png"), full_page=False)
        page.click(button)
        page.wait_for_url("**/duplicates*")
    assert "0 of 2 without a verdict" in page.locator("main").inner_text()


def check_second_run(project: Path, first_meta: dict) -> None:
    """Step 5: what the workflow made of the desk's sheets."""
    [status] = table(project / "results/extraction/status.tsv")
    assert (status["status"], status["detail"]) == ("accepted", "adjudicated sheet")
    outcomes = {
        (r["grouping"], r["group"]): r for r in table(project / "results/synthesis/outcomes.tsv")
    }
    assert outcomes[("cni", "cyclosporine")]["n"] == "63"  # 59 published + 4
    assert outcomes[("cni", "tacrolimus")]["n"] == "225"  # 219 published + 6
    assert outcomes[("indication", "insufficient_response")]["n"] == "207"  # 200 + 3 + 4
    assert outcomes[("indication", "intolerance")]["n"] == "63"  # 60 + 1 + 2
    meta = {
        (r["subgroup"], r["method"]): r
        for r in table(project / "results/synthesis/meta_analysis.tsv")
    }
    for cni in ("cyclosporine", "tacrolimus", "both"):
        assert meta[(cni, "DL")]["estimate"] != first_meta[(cni, "DL")]["estimate"], cni
        assert int(meta[(cni, "DL")]["k"]) == int(first_meta[(cni, "DL")]["k"]) + 1, cni
    assert f"Studies entered: {STUDY}." in (project / "results/synthesis/whats_new.md").read_text()
    prisma = {r["data"]: r["n"] for r in csv_table(project / "results/prisma/prisma.csv")}
    assert (prisma["new_studies"], prisma["total_studies"]) == ("1", "22")
    merged = {r["record_id"]: r for r in table(project / "results/records/duplicates.tsv")}
    assert (merged[SAME]["duplicate_of"], merged[SAME]["rule"]) == (PERSON_1993, "verdict")
    assert DIFFERENT not in merged
    unique = {r["publication_id"] for r in table(project / "results/records/unique.tsv")}
    assert DIFFERENT in unique and SAME not in unique
    assert table(project / "results/records/maybe.tsv") == []
    hints = queue_hints(project)
    assert SAME not in hints and "possible duplicate" not in hints[DIFFERENT]


def test_extraction_adjudication_and_verdicts_in_a_real_browser(project, tmp_path):
    executable = chromium()

    check_first_run(project)
    first_meta = {
        (r["subgroup"], r["method"]): r
        for r in table(project / "results/synthesis/meta_analysis.tsv")
    }
    app = create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")
    desk = app.state.desk
    links = desk.tokens.ensure(desk.project.people)
    shots = tmp_path / "shots"
    shots.mkdir()
    with Server(app) as base, sync_playwright() as playwright:
        profile = Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path))
        browser = Browser(playwright, executable, profile, base, links)
        extract(browser, "extractor-1", FIRST, shots)
        extract(browser, "extractor-2", SECOND, shots)
        adjudicate(browser, shots)
        decide_pairs(browser, shots)
        browser.context.close()
    folder = project / "resources" / "extraction" / STUDY
    # The sheets equal what typing them by hand would give.
    assert (folder / "extractor-1.tsv").read_text() == sheet_text(FIRST)
    assert (folder / "extractor-2.tsv").read_text() == sheet_text(SECOND)
    assert (folder / "adjudicated.tsv").read_text() == sheet_text(SECOND)
    verdicts = (project / "resources/dedup/verdicts.tsv").read_text()
    original = (ROOT / "resources/dedup/verdicts.tsv").read_text()
    assert verdicts.startswith(VERDICTS_HEADER) and verdicts == original + (
        f"{PERSON_1993}\t{SAME}\tsame\tdata-manager-1\t2026-11-23\t\n"
        f"{ROBERTS_2020}\t{DIFFERENT}\tdifferent\tdata-manager-1\t2026-11-23\t\n"
    )
    run_snakemake(project)
    check_second_run(project, first_meta)
    journal = (project / "resources/extraction/journal.jsonl").read_text().splitlines()
    assert len(journal) == 3  # two extractions, one adjudication
    assert len((project / "resources/dedup/journal.jsonl").read_text().splitlines()) == 2
    if os.environ.get("DESK_SCREENSHOTS"):
        for name in (
            "desk-extraction.png",
            "desk-extraction-adjudication.png",
            "desk-duplicates.png",
        ):
            shutil.copy2(shots / name, ROOT / "docs" / name)
