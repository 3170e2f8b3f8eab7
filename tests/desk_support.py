"""A small synthetic project for the desk's tests and benchmark (no workflow run needed).

It holds the project's real config and schema, and a ``results/`` folder written in the
workflow's formats with made-up publications ``pubmed:100001``... .  These records are
**synthetic test data**: they exist only in temporary folders and never enter ``resources/``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from conftest import ROOT
from starlette.testclient import TestClient

from livingreview.extraction.sheets import SHEET_COLUMNS, SHEET_REQUIRED_COLUMNS
from livingreview.extraction.tables import STATUS_COLUMNS as EXTRACTION_STATUS_COLUMNS
from livingreview.records import RECORD_COLUMNS, UNIQUE_COLUMNS
from livingreview.screening.queues import QUEUE_COLUMNS
from livingreview.screening.tables import CONFLICT_COLUMNS, STATUS_COLUMNS

RUN_DATE = "2026-11-23"
CLOCK = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
TA_HEADER = "record_id\tdecision\treason\tnote\tdecided_on\n"
FT_HEADER = "record_id\tdecision\treason\tnote\tdecided_on\tstudy_id\n"
VERDICTS_HEADER = "record_id_a\trecord_id_b\tverdict\treviewer\tdecided_on\tnote\n"
#: A verdict standing for the published review's (read-only on the desk).
BASELINE_VERDICT = (
    "pubmed:100005\tpubmed:100006\tdifferent\tbaven-pronk-2022\t2021-11-29\tbaseline\n"
)


def pinned_clock() -> dt.datetime:
    return CLOCK


def write_table(path: Path, columns: Iterable[str], rows: Iterable[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        columns = list(columns)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([str(row.get(c, "")) for c in columns])


def publication(i: int, title: str | None = None, abstract: str | None = None) -> dict[str, str]:
    pid = f"pubmed:{100000 + i}"
    return {
        "publication_id": pid,
        "canonical_record_id": pid,
        "member_record_ids": pid,
        "sources": "pubmed",
        "first_run": RUN_DATE,
        "n_records": "1",
        "record_id": pid,
        "source": "pubmed",
        "run": RUN_DATE,
        "pmid": str(100000 + i),
        "doi": f"10.1000/test.{i}",
        "title": title or f"Tacrolimus in autoimmune hepatitis: synthetic case series {i}",
        "abstract": abstract
        or (
            f"Synthetic abstract {i}. Adults with autoimmune hepatitis received tacrolimus or "
            "cyclosporine after insufficient response to standard therapy; remission was assessed."
        ),
        "authors": f"Author{i} A; Second B",
        "first_author": f"Author{i}",
        "journal": "Journal of Synthetic Hepatology",
        "year": "2025",
        "publication_types": "Journal Article",
        "language": "eng",
    }


def make_project(
    folder: Path,
    n: int = 6,
    reviewers: tuple[str, ...] = ("reviewer-1", "reviewer-2"),
    full_text: Iterable[int] = (),
    conflicts: Iterable[tuple[int, str, str]] = (),
    titles: dict[int, str] | None = None,
    maybe_pairs: Iterable[tuple[int, int]] = (),
    queued_for: dict[int, tuple[str, ...]] | None = None,
    new_studies: dict[str, tuple[int, ...]] | None = None,
    study_status: dict[str, str] | None = None,
) -> Path:
    """A project at ``folder`` whose last run queued ``n`` publications for every reviewer.

    ``full_text``: publications past title/abstract and queued at full text instead;
    ``conflicts``: (i, stage, decisions text) open at the last run; ``queued_for``: i ->
    the only reviewers whose queue holds it; ``new_studies``: study id -> publications
    included at full text as its reports (listed in the extraction stage's status.tsv, as
    ``study_status`` says, default awaiting extraction).  The publications are also written
    as the record table of the run's PubMed snapshot (the dedup stage's input).
    """
    queued_for = queued_for or {}
    (folder / "workflow" / "schemas").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "config.yaml", folder / "config.yaml")
    shutil.copy2(
        ROOT / "workflow" / "schemas" / "config.schema.yaml",
        folder / "workflow" / "schemas" / "config.schema.yaml",
    )
    (folder / "resources" / "baseline").mkdir(parents=True, exist_ok=True)
    shutil.copy2(
        ROOT / "resources" / "baseline" / "studies.tsv",
        folder / "resources" / "baseline" / "studies.tsv",
    )
    for stage in ("title_abstract", "full_text"):
        (folder / "resources" / "screening" / stage).mkdir(parents=True, exist_ok=True)
    (folder / "resources" / "dedup").mkdir(parents=True, exist_ok=True)
    (folder / "resources" / "dedup" / "verdicts.tsv").write_text(VERDICTS_HEADER + BASELINE_VERDICT)
    titles = titles or {}
    full_text = set(full_text)
    conflicts = list(conflicts)
    in_conflict = {(i, stage) for i, stage, _ in conflicts}
    pubs = [publication(i, titles.get(i)) for i in range(1, n + 1)]
    results = folder / "results"
    write_table(results / "records" / "unique.tsv", UNIQUE_COLUMNS, pubs)
    write_table(
        results / "records" / "maybe.tsv",
        ["record_id_a", "record_id_b", "publication_id_a", "publication_id_b", "rule", "score"],
        [
            {
                "record_id_a": f"pubmed:{100000 + a}",
                "record_id_b": f"pubmed:{100000 + b}",
                "publication_id_a": f"pubmed:{100000 + a}",
                "publication_id_b": f"pubmed:{100000 + b}",
                "rule": "title",
                "score": "80",
            }
            for a, b in maybe_pairs
        ],
    )
    status_rows, queues = [], {}
    for i, pub in enumerate(pubs, start=1):
        stage = "full_text" if i in full_text else "title_abstract"
        status = "awaiting_full_text" if stage == "full_text" else "awaiting_title_abstract"
        status_rows.append(
            {
                "publication_id": pub["publication_id"],
                "status": status,
                "open_conflict": stage if (i, stage) in in_conflict else "",
                "title": pub["title"],
            }
        )
        if (i, stage) in in_conflict:
            continue
        for reviewer in queued_for.get(i, reviewers):
            queues.setdefault((stage, reviewer), []).append(
                {
                    **pub,
                    "record_id": pub["publication_id"],
                    "rank": len(queues.get((stage, reviewer), [])) + 1,
                    "score": "1.00",
                    "score_terms": "tacrolimus +0.50; autoimmune +0.20",
                    "hints": "",
                    "pubmed_url": f"https://pubmed.ncbi.nlm.nih.gov/{pub['pmid']}/",
                    "doi_url": f"https://doi.org/{pub['doi']}",
                }
            )
    for stage in ("title_abstract", "full_text"):
        for reviewer in reviewers:
            write_table(
                results / "screening" / "queue" / stage / f"{reviewer}.tsv",
                QUEUE_COLUMNS,
                queues.get((stage, reviewer), []),
            )
    write_table(results / "screening" / "status.tsv", STATUS_COLUMNS, status_rows)
    write_table(
        results / "screening" / "conflicts.tsv",
        CONFLICT_COLUMNS,
        [
            {
                "publication_id": f"pubmed:{100000 + i}",
                "stage": stage,
                "kind": "decision",
                "state": "open",
                "decisions": decisions,
                "title": pubs[i - 1]["title"],
            }
            for i, stage, decisions in conflicts
        ],
    )
    new_studies = new_studies or {}
    study_status = study_status or {}
    write_table(
        results / "screening" / "included_reports.tsv",
        ["publication_id", "study_id"],
        [
            {"publication_id": pid(i), "study_id": s}
            for s, pubs in new_studies.items()
            for i in pubs
        ],
    )
    write_table(
        results / "extraction" / "status.tsv",
        EXTRACTION_STATUS_COLUMNS,
        [
            {"study_id": s, "status": study_status.get(s, "awaiting_extraction"), "sheets": ""}
            for s in new_studies
        ],
    )
    tables = results / "search" / "tables"
    write_table(tables / "pubmed-2021-10-31.tsv", RECORD_COLUMNS, [])
    write_table(tables / f"pubmed-{RUN_DATE}.tsv", RECORD_COLUMNS, pubs)
    write_table(results / "imports" / "embase" / "2021-10-31" / "records.tsv", RECORD_COLUMNS, [])
    (results / "screening" / "summary.txt").write_text(
        f"screening {RUN_DATE}: {n} new publication(s) this run\n"
    )
    return folder


def pid(i: int) -> str:
    return f"pubmed:{100000 + i}"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


BASE = "http://127.0.0.1:8765"


def sign_in(app, person: str) -> tuple[TestClient, str]:
    """A test client signed in as ``person``, and the session's CSRF token."""
    desk = app.state.desk
    client = TestClient(app, base_url=BASE)
    token = desk.tokens.ensure(desk.project.people)[person]
    # As a browser sends it when the person pastes their link (no other site involved).
    pasted = {"sec-fetch-site": "none"}
    assert client.get("/signin", params={"token": token}, headers=pasted).status_code == 200
    return client, csrf_of(client.get("/").text)


def sheet_text(rows: list[dict[str, str]]) -> str:
    """An extraction sheet as a person would type it: the required columns and every optional
    column a row fills, in the template's order, one tab-separated line per row."""
    columns = [
        c for c in SHEET_COLUMNS if c in SHEET_REQUIRED_COLUMNS or any(r.get(c) for r in rows)
    ]
    lines = ["\t".join(columns), *("\t".join(r.get(c, "") for c in columns) for r in rows)]
    return "\n".join(lines) + "\n"


def form_cells(rows: list[dict[str, str]]) -> dict[str, str]:
    """The extraction form's cells (``r<i>.<column>``) for ``rows``."""
    return {f"r{i}.{column}": value for i, row in enumerate(rows) for column, value in row.items()}
