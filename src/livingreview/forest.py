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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
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
    number = float(value) if isinstance(value, int | float) else float(str(value))
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


@dataclass(frozen=True)
class _Canvas:
    """The figure, its plot panel, and the keyword arguments of a text cell in a row."""

    fig: Figure
    ax: Axes
    height: float
    text: dict[str, Any]


def _canvas(n_rows: int, title: str) -> _Canvas:
    """A figure tall enough for ``n_rows`` rows, with the panel and the column headers."""
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
    text: dict[str, Any] = {
        "fontsize": 9,
        "va": "center",
        "clip_on": False,
        "transform": blended_transform_factory(fig.transFigure, ax.transData),
    }
    ax.text(X_STUDY, -1, "Study", fontweight="bold", ha="left", **text)
    ax.text(X_EVENTS, -1, "Events / n", fontweight="bold", ha="right", **text)
    ax.text(X_RESULT, -1, "Proportion [95% CI]", fontweight="bold", ha="left", **text)
    return _Canvas(fig, ax, height, text)


def _draw_studies(canvas: _Canvas, studies: Sequence[Mapping[str, Any]]) -> None:
    """One row per study: exact interval, a square sized by sqrt(n), and the figures."""
    ax, text = canvas.ax, canvas.text
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


def _draw_pooled_row(canvas: _Canvas, y: float, row: Mapping[str, Any]) -> float | None:
    """One pooled method: its diamond, prediction interval and figures; returns the estimate
    (``None`` for a model that did not converge, which is labelled, not drawn)."""
    ax, text = canvas.ax, canvas.text
    method = str(row.get("method", ""))
    label = METHOD_LABELS.get(method, method)
    estimate = _number(row.get("estimate"))
    low, high = _number(row.get("ci_low")), _number(row.get("ci_high"))
    if estimate is None or low is None or high is None:
        ax.text(X_STUDY, y, label, ha="left", fontstyle="italic", **text)
        ax.text(X_RESULT, y, "did not converge", ha="left", fontstyle="italic", **text)
        return None
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
    return estimate


def _draw_pooled(canvas: _Canvas, pooled: Sequence[Mapping[str, Any]], first_y: int) -> None:
    """The pooled rows below the studies, and a dashed line at the reference estimate
    (REML's, else the first that converged)."""
    reference = None
    for offset, row in enumerate(pooled):
        estimate = _draw_pooled_row(canvas, first_y + offset, row)
        if estimate is not None and (row.get("method") == "REML" or reference is None):
            reference = estimate
    if reference is not None:
        canvas.ax.axvline(reference, color="#1f5f8b", linewidth=0.8, linestyle="--", zorder=0)


def _draw_legend(canvas: _Canvas) -> None:
    canvas.fig.text(
        0.01,
        0.15 / canvas.height,
        "Squares: study proportion (size ~ √n) with exact Clopper-Pearson CI. Diamonds: pooled "
        "estimate with 95% CI; grey line: 95% prediction interval.",
        fontsize=7,
        color="0.3",
    )


def _save(fig: Figure, svg_path: str | Path, png_path: str | Path, dpi: int) -> None:
    """Write SVG and PNG atomically, byte-stable (fixed hash salt, no dates or versions)."""
    with matplotlib.rc_context({"svg.hashsalt": "livingreview", "svg.fonttype": "path"}):
        with atomic_open(svg_path, "wb") as handle:
            fig.savefig(handle, format="svg", metadata={"Date": None})
        with atomic_open(png_path, "wb") as handle:
            fig.savefig(handle, format="png", dpi=dpi, metadata={"Software": None})


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
    canvas = _canvas(len(studies) + len(pooled) + 1, title)  # a blank row before the pooled
    _draw_studies(canvas, studies)
    _draw_pooled(canvas, pooled, len(studies) + 1)
    _draw_legend(canvas)
    _save(canvas.fig, svg_path, png_path, dpi)
