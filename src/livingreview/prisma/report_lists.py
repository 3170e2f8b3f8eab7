"""The reports behind the diagram's boxes, cited: excluded at full text, and included per study.

Consumes the record-level ledger (``results/prisma/ledger.tsv``) and the dedup stage's
``unique.tsv`` (the bibliographic fields of each publication); produces two tables for the
report (``results/prisma/``):

* ``excluded_reports.tsv``: every report excluded at full text, with its citation and the
  reason recorded (PRISMA 2020 item 16b: studies that might appear to meet the inclusion
  criteria but were excluded, and why), in the flow it entered (the published review or an
  update run);
* ``included_reports_by_study.tsv``: every included study with each of its reports, cited,
  the flow each report entered and whether it brought a new study or a further report of a
  study already included.

Both are read from the ledger's rows, so they list exactly the reports the diagrams count:
the rows of ``excluded_reports.tsv`` of one flow are its boxes ``dbr_excluded`` and
``other_excluded``; those of ``included_reports_by_study.tsv`` are its ``new_reports``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..io import iter_rows, write_tsv
from .ledger import CUMULATIVE_FLOW

EXCLUDED_COLUMNS: tuple[str, ...] = (
    "flow",
    "publication_id",
    "citation",
    "reason",
    "other_reasons",
    "pmid",
    "doi",
)
INCLUDED_COLUMNS: tuple[str, ...] = (
    "study_id",
    "publication_id",
    "flow",
    "report_of",
    "citation",
    "pmid",
    "doi",
)
#: ``report_of`` values of ``included_reports_by_study.tsv``.
NEW_STUDY = "new study"
KNOWN_STUDY = "study already included"
#: Authors listed before "et al." (the ICMJE / Vancouver convention).
MAX_AUTHORS = 6


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def citation(publication: Mapping[str, str]) -> str:
    """A reference in the Vancouver style from the fields of ``unique.tsv``.

    >>> citation({"authors": "Hegade V; Tirou K; Davies M", "title": "Tacrolimus in AIH",
    ...           "journal_abbrev": "Gut", "year": "2011", "volume": "60", "issue": "Suppl 1",
    ...           "pages": "A233"})
    'Hegade V, Tirou K, Davies M. Tacrolimus in AIH. Gut. 2011;60(Suppl 1):A233.'
    >>> citation({"authors": "; ".join("ABCDEFG"), "title": "T?", "journal": "J", "year": "2020"})
    'A, B, C, D, E, F, et al. T? J. 2020.'
    >>> citation({"authors": "Jackson LD", "title": "Cyclosporin", "journal": "Gut",
    ...           "volume": "36", "issue": "3", "pages": "459"})  # no year recorded
    'Jackson LD. Cyclosporin. Gut. 36(3):459.'
    >>> citation({"title": "Untitled record"})
    'Untitled record.'
    """
    authors = [a.strip() for a in publication.get("authors", "").split(";") if a.strip()]
    if len(authors) > MAX_AUTHORS:
        authors = [*authors[:MAX_AUTHORS], "et al"]
    parts = [_sentence(", ".join(authors)), _sentence(publication.get("title", ""))]
    journal = publication.get("journal_abbrev", "") or publication.get("journal", "")
    parts.append(_sentence(journal))
    source = publication.get("year", "").strip()
    volume, issue = publication.get("volume", "").strip(), publication.get("issue", "").strip()
    pages = publication.get("pages", "").strip()
    if volume or issue:
        source += (";" if source else "") + volume + (f"({issue})" if issue else "")
    if pages:
        source += f":{pages}"
    parts.append(_sentence(source))
    return " ".join(part for part in parts if part)


def _flow_order(ledger: Sequence[Mapping[str, str]]) -> list[str]:
    """The flows a report can enter (the published review, then each update run)."""
    return _reporting(dict.fromkeys(row["flow"] for row in ledger))


def _reporting(flows: Iterable[str]) -> list[str]:
    return [flow for flow in flows if flow != CUMULATIVE_FLOW]


def excluded_reports(
    ledger: Sequence[Mapping[str, str]],
    publications: Mapping[str, Mapping[str, str]],
    flows: Sequence[str] | None = None,
) -> list[dict[str, str]]:
    """One row per report excluded at full text (both arms), in flow and ledger order
    (``flows``: the ledger's flows in order, when ``ledger`` holds only some of its rows)."""
    rows = []
    for flow in _flow_order(ledger) if flows is None else _reporting(flows):
        for row in ledger:
            if row["flow"] != flow or row["box"] not in ("dbr_excluded", "other_excluded"):
                continue
            publication = publications.get(row["id"], {})
            rows.append(
                {
                    "flow": flow,
                    "publication_id": row["id"],
                    "citation": citation(publication) if publication else row["id"],
                    "reason": row["detail"],
                    "other_reasons": row["note"].removeprefix("also: "),
                    "pmid": publication.get("pmid", ""),
                    "doi": publication.get("doi", ""),
                }
            )
    return rows


def included_reports_by_study(
    ledger: Sequence[Mapping[str, str]],
    publications: Mapping[str, Mapping[str, str]],
    flows: Sequence[str] | None = None,
) -> list[dict[str, str]]:
    """One row per included report, grouped by study (then by the flow it entered)."""
    flows = _flow_order(ledger) if flows is None else _reporting(flows)
    known = {(row["flow"], row["id"]) for row in ledger if row["box"] == "known_study_reports"}
    rows = []
    for row in ledger:
        if row["flow"] == CUMULATIVE_FLOW or row["box"] != "new_reports":
            continue
        publication = publications.get(row["id"], {})
        rows.append(
            {
                "study_id": row["study_id"],
                "publication_id": row["id"],
                "flow": row["flow"],
                "report_of": KNOWN_STUDY if (row["flow"], row["id"]) in known else NEW_STUDY,
                "citation": citation(publication) if publication else row["detail"] or row["id"],
                "pmid": publication.get("pmid", ""),
                "doi": publication.get("doi", ""),
            }
        )
    rows.sort(key=lambda r: (r["study_id"], flows.index(r["flow"]), r["publication_id"]))
    return rows


def write_report_lists(
    ledger_path: str | Path,
    unique: str | Path,
    *,
    excluded_path: str | Path,
    included_path: str | Path,
) -> tuple[int, int]:
    """Read the ledger and ``unique.tsv``, write both tables; return their numbers of rows.

    Both tables are streamed: only the ledger's rows of the boxes listed here (and the order
    of its flows) and the publications they name are kept, so memory follows the number of
    full-text reports, not of records."""
    flows: dict[str, None] = {}
    ledger: list[dict[str, str]] = []
    for row in iter_rows(ledger_path):
        flows.setdefault(row["flow"], None)
        if row["box"] in _LISTED_BOXES:
            ledger.append(row)
    named = {row["id"] for row in ledger}
    publications = {
        row["publication_id"]: row for row in iter_rows(unique) if row["publication_id"] in named
    }
    excluded = excluded_reports(ledger, publications, list(flows))
    included = included_reports_by_study(ledger, publications, list(flows))
    write_tsv(excluded_path, excluded, EXCLUDED_COLUMNS)
    write_tsv(included_path, included, INCLUDED_COLUMNS)
    return len(excluded), len(included)


#: The ledger boxes the two lists are made of.
_LISTED_BOXES = frozenset({"dbr_excluded", "other_excluded", "known_study_reports", "new_reports"})
