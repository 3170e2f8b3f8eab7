"""Forest plots of study proportions with exact intervals and pooled diamonds.

Consumes one group's study rows (``study, n, events``; e.g. the cyclosporine rows of
``results/extraction/studies.tsv``) and that group's pooled rows from
:func:`livingreview.meta.pool` (``meta_analysis.tsv`` layout), and produces the same figure
as SVG and PNG (matplotlib, no pyplot state): one line per study with its remission
proportion and exact Clopper-Pearson 95% interval (square sized by sqrt(n)), and below them
one diamond per pooled method (its 95% CI) with the 95% prediction interval as a thin line.
A GLMM row that did not converge is listed as such, without a diamond.

The height grows with the number of rows, so ~40 studies stay legible (9 pt text, one row
per 0.26 inch). Output is byte-stable across runs (fixed SVG hash salt, no dates in the
metadata) and written atomically through :mod:`livingreview.io`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.transforms import blended_transform_factory

from .errors import ValidationError
from .io import atomic_open
from .meta import clopper_pearson

ROW_INCHES = 0.26
METHOD_LABELS = {
    "DL": "Pooled, random effects (DL)",
    "REML": "Pooled, random effects (REML)",
    "GLMM": "Pooled, binomial-normal GLMM",
}
# Figure-fraction x positions of the text columns and the plot panel.
X_STUDY, X_EVENTS, PANEL_LEFT, PANEL_RIGHT, X_RESULT = 0.015, 0.335, 0.35, 0.64, 0.655


def _number(value: object) -> float | None:
    if value is None or value == "":
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number


def _study_lines(study_rows: Iterable[Mapping[str, Any]], level: float) -> list[dict[str, Any]]:
    lines = []
    for position, row in enumerate(study_rows, start=1):
        try:
            n = int(row["n"])
            events = int(row["events"])
        except (KeyError, TypeError, ValueError):
            raise ValidationError(
                "<forest plot rows>",
                "study row needs integer n and events",
                line=position,
                value={k: row.get(k) for k in ("study", "n", "events")},
            ) from None
        if n < 1 or not 0 <= events <= n:
            raise ValidationError(
                "<forest plot rows>",
                "events must lie in 0..n with n >= 1",
                line=position,
                field="events",
                value=events,
                allowed=f"0..{n}",
            )
        low, high = clopper_pearson(events, n, level)
        lines.append(
            {
                "label": str(row["study"]),
                "n": n,
                "events": events,
                "p": events / n,
                "low": low,
                "high": high,
            }
        )
    return lines


def forest_plot(
    study_rows: Sequence[Mapping[str, Any]],
    pooled_rows: Sequence[Mapping[str, Any]],
    title: str,
    svg_path: str | Path,
    png_path: str | Path,
    level: float = 0.95,
    dpi: int = 150,
) -> None:
    """Draw one group's forest plot and write it as SVG and PNG (atomically)."""
    studies = _study_lines(study_rows, level)
    if not studies:
        raise ValidationError("<forest plot rows>", f"no studies to plot for '{title}'")
    pooled = list(pooled_rows)
    n_rows = len(studies) + len(pooled) + 1  # one blank row between studies and pooled
    height = 1.3 + ROW_INCHES * (n_rows + 1)
    fig = Figure(figsize=(10.0, height))
    # Fixed margins in inches so that text columns do not move with the row count.
    fig.subplots_adjust(
        left=PANEL_LEFT, right=PANEL_RIGHT, top=1 - 0.75 / height, bottom=0.75 / height
    )
    ax = fig.add_subplot()
    ax.set_xlim(0, 1)
    ax.set_ylim(n_rows + 0.5, -0.5)
    ax.set_yticks([])
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_xlabel("Proportion in remission (95% CI)", fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    fig.text(X_STUDY, 1 - 0.3 / height, title, fontsize=11, fontweight="bold", va="center")

    text = {
        "fontsize": 9,
        "va": "center",
        "clip_on": False,
        "transform": blended_transform_factory(fig.transFigure, ax.transData),
    }
    ax.text(X_STUDY, -1, "Study", fontweight="bold", ha="left", **text)
    ax.text(X_EVENTS, -1, "Events / n", fontweight="bold", ha="right", **text)
    ax.text(X_RESULT, -1, "Proportion [95% CI]", fontweight="bold", ha="left", **text)

    biggest = max(s["n"] for s in studies)
    for y, study in enumerate(studies):
        ax.plot([study["low"], study["high"]], [y, y], color="0.25", linewidth=1.0)
        size = 3 + 7 * (study["n"] / biggest) ** 0.5
        ax.plot([study["p"]], [y], marker="s", markersize=size, color="0.15", linestyle="none")
        label = study["label"] if len(study["label"]) <= 38 else study["label"][:37] + "…"
        ax.text(X_STUDY, y, label, ha="left", **text)
        ax.text(X_EVENTS, y, f"{study['events']} / {study['n']}", ha="right", **text)
        ax.text(
            X_RESULT,
            y,
            f"{study['p']:.2f} [{study['low']:.2f}, {study['high']:.2f}]",
            ha="left",
            **text,
        )

    reference = None
    for offset, row in enumerate(pooled):
        y = len(studies) + 1 + offset
        method = str(row.get("method", ""))
        label = METHOD_LABELS.get(method, method)
        estimate = _number(row.get("estimate"))
        low, high = _number(row.get("ci_low")), _number(row.get("ci_high"))
        if estimate is None or low is None or high is None:
            ax.text(X_STUDY, y, label, ha="left", fontstyle="italic", **text)
            ax.text(X_RESULT, y, "did not converge", ha="left", fontstyle="italic", **text)
            continue
        pi_low, pi_high = _number(row.get("pi_low")), _number(row.get("pi_high"))
        if pi_low is not None and pi_high is not None:
            ax.plot([pi_low, pi_high], [y, y], color="0.45", linewidth=1.0, linestyle="-")
        diamond = Polygon(
            [(low, y), (estimate, y - 0.32), (high, y), (estimate, y + 0.32)],
            closed=True,
            facecolor="#1f5f8b",
            edgecolor="#1f5f8b",
        )
        ax.add_patch(diamond)
        ax.text(X_STUDY, y, label, ha="left", fontweight="bold", **text)
        n, events = row.get("n"), row.get("events")
        if n not in (None, ""):
            ax.text(X_EVENTS, y, f"{events} / {n}", ha="right", fontweight="bold", **text)
        result = f"{estimate:.2f} [{low:.2f}, {high:.2f}]"
        tau2, i2 = _number(row.get("tau2")), _number(row.get("i2"))
        detail = ""
        if pi_low is not None and pi_high is not None:
            detail += f"  PI {pi_low:.2f}-{pi_high:.2f}"
        if i2 is not None and tau2 is not None:
            detail += f"  I² {i2:.0f}%  τ² {tau2:.2f}"
        ax.text(X_RESULT, y, result, ha="left", fontweight="bold", **text)
        ax.text(
            X_RESULT + 0.115,
            y,
            detail,
            ha="left",
            fontsize=8,
            va="center",
            clip_on=False,
            transform=text["transform"],
            color="0.3",
        )
        if method == "REML" or reference is None:
            reference = estimate
    if reference is not None:
        ax.axvline(reference, color="#1f5f8b", linewidth=0.8, linestyle="--", zorder=0)
    fig.text(
        0.01,
        0.15 / height,
        "Squares: study proportion (size ~ √n) with exact Clopper-Pearson CI. Diamonds: pooled "
        "estimate with 95% CI; grey line: 95% prediction interval.",
        fontsize=7,
        color="0.3",
    )

    with matplotlib.rc_context({"svg.hashsalt": "livingreview", "svg.fonttype": "path"}):
        with atomic_open(svg_path, "wb") as handle:
            fig.savefig(handle, format="svg", metadata={"Date": None})
        with atomic_open(png_path, "wb") as handle:
            fig.savefig(handle, format="png", dpi=dpi, metadata={"Software": None})
