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
        f"- publications in total: {records['publications_total']}; duplicate records merged "
        f"in total: {records['duplicate_records_total']}"
    )
    if "uncertain_pairs_awaiting_verdict" in records:
        pairs = records["uncertain_pairs_awaiting_verdict"]
        lines.append(f"- uncertain duplicate pairs awaiting a verdict: {pairs}")
    for export in records.get("exports_after_run_date", []):
        files = ", ".join(f"`{f}`" for f in export["files"])
        lines.append(
            f"- not part of this run: the {export['database']} export searched "
            f"{export['search_date']} ({files}), dated after the run date; the first run dated "
            "on or after its search date takes it in"
        )
    return lines


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
    for status, count in screening.get("status_counts", {}).items():
        lines.append(f"- status {status or '(empty)'}: {count}")
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
    ("screening", screening_lines),
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
