"""The searches as PRISMA-S asks them to be reported (``results/search/prisma_s.tsv``).

One row per search this run uses: every PubMed snapshot (from its provenance receipt) and
every imported export (from its ``prisma_s:`` entry in the import config and its import
summary). Each row gives the database and platform (PRISMA-S item 1), the full strategy
(item 8), the limits (item 9), the search date (item 13) and the records it returned
(item 15). What the config does not give is written "not reported" and listed in ``gaps``,
so a reader sees which items of the published review's searches are unknown rather than
missing silently.

The published review also searched databases whose records this project does not have (its
Methods: Medline, Embase, Web of Science and the Cochrane database; only MEDLINE, through
PubMed, and Embase are reconstructed). Each is declared in ``search.baseline_other_databases``
with only what the review says, and gets a row of its own dated as the published search, its
records "not available to this project (not reconstructed)" and listed as a gap, so that the
table accounts for every database the review reports rather than the ones reconstructed.

PubMed's own translation of each query (``QueryTranslation``) is shown as PubMed returned it;
recorded answers replayed offline do not hold it, and the table says "not available (replay)"
instead of an empty cell.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

NOT_REPORTED = "not reported"
NOT_AVAILABLE_REPLAY = "not available (replay)"
NOT_RETURNED = "not returned by PubMed"

#: The PRISMA-S items a row can lack: config field -> how the gap is named.
GAP_ITEMS = {
    "platform": "platform (PRISMA-S item 1)",
    "strategy": "full search strategy (item 8)",
    "limits": "limits and restrictions (item 9)",
}

#: The records column and gap of a database the published review searched whose records the
#: project does not have.
NOT_RECONSTRUCTED = "not available to this project (not reconstructed)"
RECORDS_GAP = f"records {NOT_RECONSTRUCTED}"

#: The PubMed search's platform, as the search stage queries it.
PUBMED_PLATFORM = "PubMed, through NCBI E-utilities (esearch, efetch)"

PRISMA_S_COLUMNS: tuple[str, ...] = (
    "database",
    "platform",
    "search_date",
    "search_date_as_reported",
    "strategy",
    "query_translation",
    "limits",
    "records",
    "how",
    "gaps",
    "notes",
)


def _text(value: object) -> str:
    text = " ".join(str(value or "").split())
    return text or NOT_REPORTED


def gaps_of(fields: Mapping[str, str]) -> str:
    """The PRISMA-S items a row leaves "not reported", joined by "; " (empty: none).

    >>> gaps_of({"platform": "Ovid", "strategy": "not reported", "limits": "none"})
    'full search strategy (item 8)'
    """
    return "; ".join(label for key, label in GAP_ITEMS.items() if fields.get(key) == NOT_REPORTED)


def query_translation(translation: str, mode: str) -> str:
    """PubMed's translation of a query, or why there is none.

    >>> query_translation("", "replay")
    'not available (replay)'
    >>> query_translation('"x"[All Fields]', "live")
    '"x"[All Fields]'
    """
    if translation.strip():
        return translation.strip()
    return NOT_AVAILABLE_REPLAY if mode == "replay" else NOT_RETURNED


def pubmed_row(receipt: Mapping[str, Any]) -> dict[str, object]:
    """A PubMed snapshot's row, from its provenance receipt."""
    queries: Mapping[str, Mapping[str, Any]] = receipt.get("queries") or {}
    mode = str(receipt.get("mode", ""))
    window = receipt.get("window") or {}
    named = len(queries) > 1
    strategy = " OR ".join(
        f"({q['query']})" if named else str(q["query"]) for q in queries.values()
    )
    translations = [
        query_translation(str(q.get("query_translation", "")), mode) for q in queries.values()
    ]
    translation = translations[0] if len(set(translations)) == 1 else " | ".join(translations)
    limits = (
        f"{window.get('datetype', receipt.get('date_type', ''))} "
        f"{window.get('mindate', '')} to {window.get('maxdate', '')} "
        "(PubMed date window of this run); no filter beyond those in the strategy"
    )
    notes = (
        f"queries: {', '.join(queries)} (config search.queries), their hits united"
        if named
        else f"query {', '.join(queries)} (config search.queries)"
    )
    if receipt.get("kind") == "baseline":
        notes += (
            "; the project's translation of the published review's terms, standing for its "
            "Medline search, whose exact strategy is not reported in the review's text"
        )
    fields = {"platform": PUBMED_PLATFORM, "strategy": strategy, "limits": limits}
    return {
        "database": "pubmed",
        **fields,
        "search_date": receipt.get("run_date", ""),
        "search_date_as_reported": receipt.get("run_date", ""),
        "query_translation": translation,
        "records": len(receipt.get("pmids_returned") or []),
        "how": f"Entrez search ({mode})",
        "gaps": gaps_of(fields),
        "notes": notes,
    }


def export_row(spec: Mapping[str, Any], summary: Mapping[str, Any]) -> dict[str, object]:
    """An imported export's row, from its import config entry and its import summary."""
    reported: Mapping[str, Any] = spec.get("prisma_s") or {}
    fields = {key: _text(reported.get(key)) for key in GAP_ITEMS}
    files = summary.get("files") or []
    return {
        "database": spec["database"],
        **fields,
        "search_date": spec["search_date"],
        "search_date_as_reported": _text(reported.get("search_date_as_reported"))
        if reported.get("search_date_as_reported")
        else spec["search_date"],
        "query_translation": "",
        "records": summary.get("records", ""),
        "how": f"export imported ({spec.get('format', '')}, {len(files)} file(s))",
        "gaps": gaps_of(fields),
        "notes": " ".join(str(reported.get("notes") or "").split()),
    }


def unreconstructed_row(declared: Mapping[str, Any], baseline_until: str) -> dict[str, object]:
    """A database the published review searched whose records the project does not have
    (an entry of ``search.baseline_other_databases``): what the review says of it, dated as
    the published search (``search.baseline_until``), its records listed as a gap.

    >>> row = unreconstructed_row({"database": "wos",
    ...     "search_date_as_reported": "October 2021"}, "2021-10-31")
    >>> row["records"], row["search_date"], row["search_date_as_reported"]
    ('not available to this project (not reconstructed)', '2021-10-31', 'October 2021')
    >>> row["gaps"].split("; ")[0], row["strategy"]
    ('records not available to this project (not reconstructed)', 'not reported')
    """
    fields = {key: _text(declared.get(key)) for key in GAP_ITEMS}
    gaps = gaps_of(fields)
    return {
        "database": declared["database"],
        **fields,
        "search_date": baseline_until,
        "search_date_as_reported": _text(declared.get("search_date_as_reported"))
        if declared.get("search_date_as_reported")
        else baseline_until,
        "query_translation": "",
        "records": NOT_RECONSTRUCTED,
        "how": "declared in config (search.baseline_other_databases); the published review's "
        "search, not rerun or reconstructed here",
        "gaps": "; ".join(part for part in (RECORDS_GAP, gaps) if part),
        "notes": " ".join(str(declared.get("notes") or "").split()),
    }


def prisma_s_rows(
    receipts: Iterable[Mapping[str, Any]],
    exports: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    unreconstructed: Iterable[Mapping[str, Any]] = (),
    baseline_until: str = "",
) -> list[dict[str, object]]:
    """Every search's row, by search date then database (PubMed first on a date): the PubMed
    snapshots, the imported exports and the published review's databases the project does
    not have (``unreconstructed``, dated ``baseline_until``)."""
    rows = (
        [pubmed_row(r) for r in receipts]
        + [export_row(s, m) for s, m in exports]
        + [unreconstructed_row(d, baseline_until) for d in unreconstructed]
    )
    return sorted(
        rows, key=lambda r: (str(r["search_date"]), r["database"] != "pubmed", r["database"])
    )


#: How a database is named on the diagram's lines.
DATABASE_NAMES = {
    "pubmed": "PubMed",
    "embase": "Embase",
    "wos": "Web of Science",
    "cochrane": "Cochrane database",
}


def database_line(row: Mapping[str, object]) -> str:
    """A search as a PRISMA diagram's database line: name, platform, date searched, records.

    >>> database_line({"database": "embase", "platform": "not reported",
    ...     "search_date_as_reported": "October 2021 (the last search of all databases)",
    ...     "records": 39})
    'Embase (platform not reported; searched October 2021) (n = 39)'
    >>> database_line({"database": "pubmed", "platform": PUBMED_PLATFORM,
    ...     "search_date_as_reported": "2026-11-23", "records": 2})
    'PubMed (NCBI E-utilities; searched 2026-11-23) (n = 2)'
    """
    database = str(row.get("database", ""))
    name = DATABASE_NAMES.get(database, database)
    return f"{name} ({search_note(row)}) (n = {row.get('records', '')})"


def search_note(row: Mapping[str, object]) -> str:
    """How and when a search was done, as a diagram's database line says it.

    >>> search_note({"platform": "not reported", "search_date": "2021-10-31",
    ...     "search_date_as_reported": "October 2021 (the last search of all databases)"})
    'platform not reported; searched October 2021'
    """
    platform = str(row.get("platform") or NOT_REPORTED)
    if platform == NOT_REPORTED:
        platform = "platform not reported"
    elif platform == PUBMED_PLATFORM:
        platform = "NCBI E-utilities"
    date = str(row.get("search_date_as_reported") or row.get("search_date") or NOT_REPORTED)
    return f"{platform}; searched {date.split(' (', 1)[0]}"


def diagram_searches(
    rows: Sequence[Mapping[str, str]], labels: Mapping[str, str], baseline_until: str
) -> dict[str, tuple[dict[str, str], list[str]]]:
    """What the PRISMA diagrams print about the searches, per flow (``baseline``: searches
    up to ``baseline_until``; ``cumulative``: the update's, after it): for each database's
    line (keyed by its label in the diagram, ``prisma.source_labels``) how and when it was
    searched, and the PRISMA-S gaps, one line per database that has any.

    >>> rows = [
    ...     {"database": "pubmed", "platform": PUBMED_PLATFORM, "search_date": "2021-10-31",
    ...      "search_date_as_reported": "2021-10-31", "gaps": ""},
    ...     {"database": "wos", "platform": "not reported", "search_date": "2021-10-31",
    ...      "search_date_as_reported": "October 2021", "gaps": RECORDS_GAP},
    ...     {"database": "pubmed", "platform": PUBMED_PLATFORM, "search_date": "2026-11-16",
    ...      "search_date_as_reported": "2026-11-16", "gaps": ""},
    ...     {"database": "pubmed", "platform": PUBMED_PLATFORM, "search_date": "2026-11-23",
    ...      "search_date_as_reported": "2026-11-23", "gaps": ""}]
    >>> flows = diagram_searches(rows, {"pubmed": "MEDLINE (PubMed)"}, "2021-10-31")
    >>> flows["cumulative"]
    ({'MEDLINE (PubMed)': 'NCBI E-utilities; searched 2026-11-16, 2026-11-23'}, [])
    >>> flows["baseline"][1]
    ['Web of Science (platform not reported; searched October 2021): records not available to this project (not reconstructed)']
    """
    flows: dict[str, tuple[dict[str, str], list[str]]] = {}
    for flow in ("baseline", "cumulative"):
        notes: dict[str, list[str]] = {}
        gaps: list[str] = []
        for row in rows:
            in_baseline = str(row.get("search_date", "")) <= baseline_until
            if in_baseline != (flow == "baseline"):
                continue
            database = str(row.get("database", ""))
            label = labels.get(database, DATABASE_NAMES.get(database, database))
            note = search_note(row)
            platform, searched = note.split("; searched ", 1)
            if label in notes and notes[label][0] == platform:
                notes[label].append(searched)
            else:
                notes[label] = [platform, searched]
            if row.get("gaps"):
                gaps.append(f"{label} ({note}): {row['gaps']}")
        flows[flow] = (
            {
                label: f"{parts[0]}; searched {', '.join(parts[1:])}"
                for label, parts in notes.items()
            },
            gaps,
        )
    return flows


def _json(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def prisma_s_table(
    receipt_paths: Sequence[str | Path],
    specs: Sequence[Mapping[str, Any]],
    summary_paths: Sequence[str | Path],
    unreconstructed: Sequence[Mapping[str, Any]] = (),
    baseline_until: str = "",
) -> list[dict[str, object]]:
    """Read the receipts and import summaries (``summary_paths[i]`` is ``specs[i]``'s); add
    the published review's databases the project does not have."""
    if len(specs) != len(summary_paths):
        raise ValueError("one import summary per export spec is needed")
    return prisma_s_rows(
        (_json(p) for p in receipt_paths),
        ((spec, _json(p)) for spec, p in zip(specs, summary_paths, strict=True)),
        unreconstructed,
        baseline_until,
    )
