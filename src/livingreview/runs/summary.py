"""``summary.md``: the run record's facts (``summary.json``) rendered for the people it is
mailed to: the to-do block first, then one section per stage, in the order the stages run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .todo import STAGE_LABELS, todo_lines

#: How many paths of one kind ``summary.md`` lists before pointing to manifest.json.
LISTED_FILES = 50

Section = Mapping[str, Any]


def _unavailable(section: Section) -> str:
    return "not produced by this run (missing: " + ", ".join(section.get("missing", [])) + ")"


def _fmt_estimate(value: object) -> str:
    return "-" if value in ("", None) else f"{float(str(value)):.3f}"


def search_lines(search: Section) -> list[str]:
    lines = ["## PubMed search"]
    if not search.get("available"):
        return lines + [f"- {_unavailable(search)}"]
    return lines + [
        f"- snapshot `{search['snapshot']}` ({search['kind']}, {search['mode']}): "
        f"{search['pmids_returned']} PMIDs returned, {search['pmids_new']} new, "
        f"{search['pmids_already_held']} already held"
    ]


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{STAGE_LABELS.get(k, k)} {v}" for k, v in counts.items() if k != "total")


def records_lines(records: Section) -> list[str]:
    lines = ["## Records"]
    if not records.get("available"):
        return lines + [f"- {_unavailable(records)}"]
    run, by_source = records["this_run"], records["this_run_by_source"]
    sources = ", ".join(f"{s} {c['records_identified']}" for s, c in by_source.items())
    lines.append(
        f"- new records found in this run: {run['records_identified']}"
        + (f" ({sources})" if sources else "")
        + f": {run['new_publications']} new publications, {run['duplicates_removed']} duplicates removed"
    )
    for source, counts in by_source.items():
        lines.append(
            f"  - {source}: {counts['records_identified']} records, "
            f"{counts['new_publications']} new publications, "
            f"{counts['duplicates_removed']} duplicates removed"
        )
    lines.append(
        f"- publications in total: {records['publications_total']}; distinct duplicate records "
        f"merged in total: {records['duplicate_records_total']} (results/records/duplicates.tsv; "
        "a record retrieved again by a later search counts once here, and again in that "
        "search's PRISMA duplicates)"
    )
    if "uncertain_pairs_awaiting_verdict" in records:
        pairs = records["uncertain_pairs_awaiting_verdict"]
        lines.append(f"- uncertain duplicate pairs awaiting a verdict: {pairs}")
    for export in records.get("exports_after_run_date", []):
        lines.append(f"- not part of this run: {deferred_export(export)}")
    return lines


def deferred_export(export: Section) -> str:
    """An export this run leaves out, and the run that takes it in.

    >>> deferred_export({"database": "wos", "search_date": "2026-11-01", "files": ["w.txt"],
    ...                  "entry_run": "2026-11-30"})
    'the wos export searched 2026-11-01 (`w.txt`): it enters the run of 2026-11-30 (its entry_run)'
    >>> deferred_export({"database": "wos", "search_date": "2026-12-01", "files": ["w.txt"]})
    'the wos export searched 2026-12-01 (`w.txt`): searched after this run; the first run dated on or after 2026-12-01 takes it in'
    """
    files = ", ".join(f"`{f}`" for f in export["files"])
    what = f"the {export['database']} export searched {export['search_date']} ({files})"
    if export.get("entry_run"):
        return f"{what}: it enters the run of {export['entry_run']} (its entry_run)"
    return (
        f"{what}: searched after this run; the first run dated on or after "
        f"{export['search_date']} takes it in"
    )


def _n(boxes: Mapping[str, int], box: str) -> int:
    return int(boxes.get(box, 0))


def _listed(items: list[Mapping[str, Any]], label: str, count: str) -> str:
    return ", ".join(f"{item[label]} {item[count]}" for item in items)


#: Boxes of identification by other methods (websites, organisations, citation searching),
#: listed only when one of them counts something.
OTHER_METHOD_LINES = (
    ("website_results", "records from websites"),
    ("organisation_results", "records from organisations"),
    ("citations_results", "records from citation searching"),
    ("other_sought_reports", "reports sought"),
    ("other_notretrieved_reports", "not retrieved"),
    ("other_assessed", "reports assessed"),
    ("other_excluded", "reports excluded"),
)


def prisma_lines(prisma: Section) -> list[str]:
    """This version's PRISMA 2020 box counts (the diagram's) and the full-text exclusion
    reasons with their counts."""
    lines = ["## PRISMA 2020 flow of this version (since the published review)"]
    if not prisma.get("available"):
        return lines + [f"- {_unavailable(prisma)}"]
    boxes = prisma["boxes"]
    after = prisma.get("searches_after")
    window = (
        f"after {after} up to {prisma['searches_until']}"
        if after
        else (f"up to {prisma['searches_until']}")
    )
    identified = _n(boxes, "database_results") + _n(boxes, "register_results")
    removed = sum(_n(boxes, b) for b in ("duplicates", "excluded_automatic", "excluded_other"))
    databases = _listed(prisma.get("records_by_database", []), "database", "records")
    registers = _listed(prisma.get("records_by_register", []), "register", "records")
    known = _n(boxes, "known_study_reports")
    lines += [
        f"Update searches {window}: the counts of `results/prisma/prisma.csv` and of the "
        f"update's diagram (flow `{prisma['flow']}` of `results/prisma/counts.tsv`).",
        "",
        f"- studies included in the previous version (the published review): "
        f"{_n(boxes, 'previous_studies')}; their reports: {_n(boxes, 'previous_reports')}",
        f"- records identified from databases: {_n(boxes, 'database_results')}"
        + (f" ({databases})" if databases else ""),
    ]
    if _n(boxes, "register_results") or registers:
        lines.append(
            f"- records identified from registers: {_n(boxes, 'register_results')}"
            + (f" ({registers})" if registers else "")
        )
    lines += [
        f"- records removed before screening: {removed} (duplicates {_n(boxes, 'duplicates')}, "
        f"marked ineligible by automation tools {_n(boxes, 'excluded_automatic')}, "
        f"removed for other reasons {_n(boxes, 'excluded_other')})",
        f"- records screened: {_n(boxes, 'records_screened')}; awaiting screening: "
        f"{_n(boxes, 'awaiting_title_abstract')} (identified {identified} - removed {removed} "
        f"= screened {_n(boxes, 'records_screened')} + awaiting "
        f"{_n(boxes, 'awaiting_title_abstract')})",
        f"- records excluded at title/abstract: {_n(boxes, 'records_excluded')}",
        f"- reports sought for retrieval: {_n(boxes, 'dbr_sought_reports')}; not retrieved: "
        f"{_n(boxes, 'dbr_notretrieved_reports')}",
        f"- reports assessed for eligibility: {_n(boxes, 'dbr_assessed')}; awaiting "
        f"assessment: {_n(boxes, 'awaiting_full_text')}",
        f"- reports excluded at full text: {_n(boxes, 'dbr_excluded')}",
        f"- new studies included: {_n(boxes, 'new_studies')}; reports included: "
        f"{_n(boxes, 'new_reports')}"
        + (
            f" ({_n(boxes, 'new_reports') - known} of new studies, {known} of studies "
            "already included)"
            if known
            else ""
        ),
        f"- total studies included in the review: {_n(boxes, 'total_studies')}; their "
        f"reports: {_n(boxes, 'total_reports')}",
    ]
    if any(_n(boxes, box) for box, _ in OTHER_METHOD_LINES):
        lines.append(
            "- other methods: "
            + ", ".join(f"{label} {_n(boxes, box)}" for box, label in OTHER_METHOD_LINES)
        )
    reasons = prisma.get("full_text_exclusion_reasons", [])
    lines += ["", "### Reports excluded at full text, by reason (this version)"]
    if not reasons:
        return lines + ["- none"]
    arms = {r["arm"] for r in reasons}
    return lines + [
        f"- {r['reason']}: {r['reports']}" + (f" ({r['arm']})" if len(arms) > 1 else "")
        for r in reasons
    ]


def screening_lines(screening: Section) -> list[str]:
    lines = ["## Screening"]
    if not screening.get("available"):
        return lines + [f"- {_unavailable(screening)}"]
    waiting = screening.get("awaiting_by_reviewer")
    if waiting is not None:
        for reviewer, counts in waiting.items():
            lines.append(
                f"- awaiting {reviewer}: {counts['total']} publications ({_counts(counts)})"
            )
        if not waiting:
            lines.append("- no publication awaits a reviewer")
    if "conflicts_awaiting_adjudication" in screening:
        lines.append(
            f"- conflicts awaiting adjudication: {screening['conflicts_awaiting_adjudication']}"
        )
    statuses = screening.get("status_counts", {})
    if statuses:
        scope = screening.get("status_counts_scope", "all time")
        lines += ["", f"### Status of every publication ({scope})"]
    for status, count in statuses.items():
        lines.append(f"- status {status or '(empty)'}: {count}")
    return lines


def agreement_section_lines(agreement: Section) -> list[str]:
    """One line per screening stage: κ, proportionate agreement and n, then the 2x2 counts
    and what was left out."""
    lines = ["## Agreement between reviewers (before adjudication)"]
    if not agreement.get("available"):
        return lines + [f"- {_unavailable(agreement)}"]
    lines += [
        "Over every publication two of the active reviewers decided (all time), from "
        "`results/screening/agreement.tsv`.",
        "",
    ]
    for stage in agreement["stages"]:
        line = f"- {stage['sentence']}"
        if stage["publications_compared"]:
            line += (
                f"; both include {stage['both_include']}, reviewer 1 include / reviewer 2 "
                f"exclude {stage['r1_include_r2_exclude']}, reviewer 1 exclude / reviewer 2 "
                f"include {stage['r1_exclude_r2_include']}, both exclude {stage['both_exclude']}"
            )
        apart = [
            f"{label} {stage[key]}"
            for key, label in (
                ("not_retrieved_left_out", "not retrieved, left out"),
                ("maybe_left_out", "maybe, left out"),
                ("awaiting_second_decision", "awaiting a second decision"),
            )
            if stage.get(key)
        ]
        lines.append(line + (f" ({', '.join(apart)})" if apart else ""))
    return lines


def extraction_lines(extraction: Section) -> list[str]:
    lines = ["## Studies"]
    if not extraction.get("available"):
        return lines + [f"- {_unavailable(extraction)}"]
    added = extraction["studies_added_this_run"]
    versions = ", ".join(
        f"{version} {n} studies ({extraction['arms_by_version'].get(version, 0)} arms)"
        for version, n in extraction["studies_by_version"].items()
    )
    lines += [
        f"- studies in the synthesis: {extraction['studies_total']} "
        f"({extraction['arms_total']} arms, {extraction['patients_total']} patients); "
        f"by version: {versions}",
        f"- studies added in this run: {len(added)}" + (f" ({', '.join(added)})" if added else ""),
    ]
    if "studies_awaiting_extraction" in extraction:
        lines.append(
            f"- studies awaiting extraction: {extraction['studies_awaiting_extraction']}; "
            f"with extraction discrepancies to settle: {extraction['studies_with_discrepancies']}"
        )
    return lines


def pooled_lines(pooled: Section) -> list[str]:
    lines = ["## Pooled estimates"]
    if pooled["changed"] is None:
        return lines + [f"- {pooled['note']}"]
    if "flagged" in pooled:  # first run record: compared with the previous version of the review
        if not pooled["changed"]:
            return lines + [f"- unchanged compared with {pooled['compared_with']}"]
        lines.append(f"- **changed** compared with {pooled['compared_with']}:")
        lines += [
            f"  - {d['subgroup']} {d['method']}: {_fmt_estimate(d['previous_estimate'])} -> "
            f"{_fmt_estimate(d['estimate'])} (k {d['previous_k'] or '-'} -> {d['k']})"
            for d in pooled["differences"]
        ]
        return lines + [f"  - **may change conclusions**: {f}" for f in pooled["flagged"]]
    if not pooled["changed"]:
        return lines + [f"- unchanged since the run of {pooled['compared_with']}"]
    lines.append(f"- **changed** since the run of {pooled['compared_with']}:")
    return lines + [f"  - {d}" for d in pooled["differences"]]


def file_change_lines(changes: Section) -> list[str]:
    if not changes.get("compared_with"):
        return []
    lines = [f"## Files changed since the run of {changes['compared_with']}"]
    for kind in ("inputs", "code", "outputs"):
        diff = changes[kind]
        lines.append(
            f"- {kind}: {len(diff['added'])} added, {len(diff['removed'])} removed, {len(diff['changed'])} changed"
        )
        for verb in ("added", "removed", "changed"):
            lines += [f"  - {verb}: `{p}`" for p in diff[verb][:LISTED_FILES]]
            if len(diff[verb]) > LISTED_FILES:
                more = len(diff[verb]) - LISTED_FILES
                lines.append(f"  - ... {more} more {verb} (see manifest.json)")
    return lines


def todo_section_lines(todo: Section) -> list[str]:
    return ["## To do", *todo_lines(todo, path=lambda p: f"`{p}`")]


#: Sections of summary.md after the heading, in order: (key in summary.json, renderer).
SECTIONS: tuple[tuple[str, Callable[[Section], list[str]]], ...] = (
    ("todo", todo_section_lines),
    ("search", search_lines),
    ("records", records_lines),
    ("prisma", prisma_lines),
    ("screening", screening_lines),
    ("agreement", agreement_section_lines),
    ("extraction", extraction_lines),
    ("pooled_estimates", pooled_lines),
    ("file_changes", file_change_lines),
)


def render_summary(summary: Mapping[str, Any]) -> str:
    """summary.md: the same facts as summary.json, for a person."""
    lines = [
        f"# Run {summary['run_date']}",
        "",
        f"Record generated {summary['generated_at']} (UTC).",
    ]
    for key, render in SECTIONS:
        if key not in summary:  # a record written before the section existed
            continue
        section = render(summary[key])
        if section:
            lines += ["", *section]
    counts = summary["counts"]
    lines += [
        "",
        f"Checksums of {counts['inputs']} input, {counts['code']} code and {counts['outputs']} "
        "output files: `manifest.json`.",
        "",
    ]
    return "\n".join(lines)
