"""What an update changes: studies entered and how each pooled estimate moved.

Consumes the current pooled estimates (``meta_analysis.tsv``) and study table, and the
previous version's: the newest entry of an earlier ``run_date`` archived under
``results/synthesis/history/`` (:mod:`.history`),
or, before any update has been archived, the published review itself (the baseline arms
pooled the same way). Produces ``whats_new.tsv`` (one row per group and method) and
``whats_new.md``, flagging a change as "may change conclusions" when it crosses the
thresholds in config (living-review practice: say when an update matters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .extraction import read_study_table
from .history import history_run_date, latest_history
from .io import read_rows, write_text, write_tsv
from .meta import pool
from .synthesis import remission_rows

WHATS_NEW_COLUMNS: tuple[str, ...] = (
    "subgroup",
    "method",
    "previous_version",
    "previous_k",
    "k",
    "previous_estimate",
    "estimate",
    "change",
    "previous_ci_low",
    "previous_ci_high",
    "ci_low",
    "ci_high",
    "flag",
    "why",
)
FLAG = "may change conclusions"


def _float(value: object) -> float | None:
    """A statistic from a pooled row (a float, or its text in a table read back); empty = None.

    >>> _float(""), _float("0.25"), _float(0.5)
    (None, 0.25, 0.5)
    """
    if value is None or value == "":
        return None
    return float(value) if isinstance(value, int | float) else float(str(value))


def compare_pooled(
    previous: Sequence[Mapping[str, object]],
    current: Sequence[Mapping[str, object]],
    previous_version: str,
    estimate_change: float,
    flag_previous_outside_ci: bool,
) -> list[dict[str, object]]:
    """One row per (subgroup, method) present now, with the movement since ``previous``."""
    before = {(str(r["subgroup"]), str(r["method"])): r for r in previous}
    rows: list[dict[str, object]] = []
    for row in current:
        key = (str(row["subgroup"]), str(row["method"]))
        old = before.get(key, {})
        estimate, old_estimate = _float(row.get("estimate")), _float(old.get("estimate"))
        ci_low, ci_high = _float(row.get("ci_low")), _float(row.get("ci_high"))
        change = None if estimate is None or old_estimate is None else estimate - old_estimate
        reasons = []
        if change is not None and abs(change) >= estimate_change:
            reasons.append(f"estimate moved by {change:+.3f} (threshold {estimate_change:.3f})")
        if (
            flag_previous_outside_ci
            and old_estimate is not None
            and ci_low is not None
            and ci_high is not None
            and not ci_low <= old_estimate <= ci_high
        ):
            reasons.append("previous estimate lies outside the new 95% CI")
        rows.append(
            {
                "subgroup": key[0],
                "method": key[1],
                "previous_version": previous_version,
                "previous_k": old.get("k", ""),
                "k": row.get("k", ""),
                "previous_estimate": old_estimate,
                "estimate": estimate,
                "change": change,
                "previous_ci_low": _float(old.get("ci_low")),
                "previous_ci_high": _float(old.get("ci_high")),
                "ci_low": ci_low,
                "ci_high": ci_high,
                "flag": FLAG if reasons else "",
                "why": "; ".join(reasons),
            }
        )
    return rows


def _fmt(value: object) -> str:
    number = _float(value)
    return "–" if number is None else f"{number:.3f}"


def whats_new_markdown(
    comparison: Sequence[Mapping[str, object]],
    entered: Sequence[str],
    left: Sequence[str],
    previous_version: str,
    run_date: str,
) -> str:
    """Readable account of the update for the team and the report."""
    flagged = [r for r in comparison if r["flag"]]
    lines = [
        f"# What's new in the run of {run_date}",
        "",
        f"Compared with: **{previous_version}**.",
        "",
        f"Studies entered: {', '.join(entered) if entered else 'none'}.",
    ]
    if left:
        lines.append(f"Studies no longer in the synthesis: {', '.join(left)}.")
    lines += [
        "",
        (
            "**An estimate changed enough that it may change conclusions:** "
            + "; ".join(f"{r['subgroup']} ({r['method']}): {r['why']}" for r in flagged)
        )
        if flagged
        else "No pooled estimate crossed the thresholds: conclusions stand.",
        "",
        "| Group | Method | k before → now | Remission before | Remission now | Change | 95% CI now | Flag |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for r in comparison:
        lines.append(
            f"| {r['subgroup']} | {r['method']} | {r['previous_k'] or '–'} → {r['k']} | "
            f"{_fmt(r['previous_estimate'])} | {_fmt(r['estimate'])} | {_fmt(r['change'])} | "
            f"{_fmt(r['ci_low'])}–{_fmt(r['ci_high'])} | {r['flag']} |"
        )
    return "\n".join(lines) + "\n"


def report_update(
    meta_path: str | Path,
    studies_path: str | Path,
    run_date: str,
    history_dir: str | Path,
    estimate_change: float,
    flag_previous_outside_ci: bool,
    tsv_path: str | Path,
    markdown_path: str | Path,
) -> str:
    """Write whats_new.tsv/.md against the previous version (the newest archived entry of an
    earlier ``run_date``; the run's registration archives this run's version, see
    :mod:`livingreview.history`).

    Returns a one-line summary for the log.
    """
    current = read_rows(meta_path)
    studies = read_study_table(studies_path)
    current_ids = sorted({str(s["study_id"]) for s in studies})
    previous_dir = latest_history(history_dir, run_date)
    previous: Sequence[Mapping[str, object]]
    if previous_dir is not None:
        previous = read_rows(previous_dir / "meta_analysis.tsv")
        previous_ids = sorted({row["study_id"] for row in read_rows(previous_dir / "studies.tsv")})
        version = f"the run of {history_run_date(previous_dir)}"
    else:
        baseline_arms = [s for s in studies if s["version"] == "baseline"]
        previous = pool(remission_rows(baseline_arms), analysis="remission")
        previous_ids = sorted({str(s["study_id"]) for s in baseline_arms})
        version = "the published review (Baven-Pronk et al. 2022, search to October 2021)"
    comparison = compare_pooled(
        previous, current, version, estimate_change, flag_previous_outside_ci
    )
    entered = [s for s in current_ids if s not in previous_ids]
    left = [s for s in previous_ids if s not in current_ids]
    write_tsv(tsv_path, comparison, WHATS_NEW_COLUMNS)
    write_text(markdown_path, whats_new_markdown(comparison, entered, left, version, run_date))
    flagged = sum(1 for r in comparison if r["flag"])
    return f"compared with {version}: {len(entered)} studies entered, {flagged} estimates flagged"
