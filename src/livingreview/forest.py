"""Forest plots of study proportions with exact intervals and pooled diamonds.

Consumes one group's study rows (``study, n, events``, optionally ``cni`` and ``new_in``;
the rows of :func:`livingreview.synthesis.remission_rows`) and that group's pooled rows
(``meta_analysis.tsv`` layout), and produces the same figure as SVG and PNG (matplotlib, no
pyplot state): one line per study with its remission proportion and exact Clopper-Pearson 95%
interval (square sized by sqrt(n)), and below them one diamond per pooled method (its 95% CI)
with the 95% prediction interval as a thin line.

The method the review reports as primary (config ``synthesis.primary_method``) comes first,
drawn dark and bold, with a dashed line at its estimate; the other methods follow, lighter,
as sensitivity analyses. A model that did not converge is listed as such, without a diamond.
A study added since the published review is marked "new <date>" (the update run that first
found it); in the plot of both CNIs a column says which CNI each study used ("both, summed"
for a study whose arms of the two CNIs are pooled as one unit).

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
from .extraction.tables import read_study_table
from .io import atomic_open, read_rows, write_tsv
from .meta.intervals import clopper_pearson
from .meta.results import METHODS
from .synthesis.labels import label_new_studies, new_study_names
from .synthesis.remission import (
    STUDY_PROPORTION_COLUMNS,
    remission_rows,
    study_proportions,
)

ROW_INCHES = 0.26
METHOD_LABELS = {
    "DL": "random effects (DL)",
    "REML": "random effects (REML)",
    "GLMM": "binomial-normal GLMM",
}
#: How a pooled row is labelled: the primary method, or one of the sensitivity analyses.
PRIMARY_LABEL, SENSITIVITY_LABEL = "Primary", "Sensitivity"
PRIMARY_COLOUR, SENSITIVITY_COLOUR = "#1f5f8b", "#9bb8cf"
#: Width of the figure, and x positions (inches) of the text columns and the plot panel...
WIDTH_INCHES = 10.0
STUDY_X, EVENTS_RIGHT, PANEL_LEFT, PANEL_RIGHT, RESULT_X = 0.15, 3.35, 3.5, 6.4, 6.55
#: ...to which the CNI column, when shown, adds its width after the study column.
CNI_X, CNI_COLUMN_INCHES = 2.75, 1.2
LABEL_CHARACTERS = 38
#: Inches between a pooled row's result and its detail (prediction interval, I², tau²).
DETAIL_OFFSET = 1.35
#: The group pooling both CNIs, one unit per study: its plot says which CNI each study used.
BOTH_CNIS = "both"
LEGEND_LINE_INCHES = 0.13


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
                "label": _study_label(str(row["study"]), str(row.get("new_in") or "")),
                "cni": cni_text(str(row.get("cni") or "")),
                "n": n,
                "events": events,
                "p": events / n,
                "low": low,
                "high": high,
            }
        )
    return lines


def _study_label(label: str, new_in: str) -> str:
    """The study's label, shortened to fit its column, with its "new" mark.

    >>> _study_label("Smith 2023", "2026-11-23")
    'Smith 2023 (new 2026-11-23)'
    """
    if len(label) > LABEL_CHARACTERS:
        label = label[: LABEL_CHARACTERS - 1] + "…"
    return f"{label} (new {new_in})" if new_in else label


def cni_text(cni: str) -> str:
    """What the CNI column says: the CNI, or "both, summed" for a study that used both.

    >>> cni_text("tacrolimus"), cni_text("cyclosporine; tacrolimus")
    ('tacrolimus', 'both, summed')
    """
    return "both, summed" if ";" in cni else cni


def primary_first(pooled: Sequence[Mapping[str, Any]], primary: str) -> list[Mapping[str, Any]]:
    """The pooled rows with the primary method first, the others in their order.

    >>> [r["method"] for r in primary_first([{"method": m} for m in ("DL", "REML", "GLMM")], "GLMM")]
    ['GLMM', 'DL', 'REML']
    """
    return sorted(pooled, key=lambda row: row.get("method") != primary)


@dataclass(frozen=True)
class _Canvas:
    """The figure, its plot panel, where each text column sits, and a text cell's style."""

    fig: Figure
    ax: Axes
    height: float
    columns: dict[str, float]
    text: dict[str, Any]

    def cell(self, column: str, y: float, value: str, **style: Any) -> None:
        """Write ``value`` in a text column at row ``y``."""
        self.ax.text(self.columns[column], y, value, **{**self.text, **style})


def _columns(with_cni: bool) -> tuple[float, dict[str, float]]:
    """The figure width and the x positions of the columns (figure fractions)."""
    shift = CNI_COLUMN_INCHES if with_cni else 0.0
    width = WIDTH_INCHES + shift
    inches = {
        "study": STUDY_X,
        "cni": CNI_X,
        "events": EVENTS_RIGHT + shift,
        "panel_left": PANEL_LEFT + shift,
        "panel_right": PANEL_RIGHT + shift,
        "result": RESULT_X + shift,
    }
    return width, {name: x / width for name, x in inches.items()}


def _canvas(n_rows: int, title: str, with_cni: bool, legend_lines: int) -> _Canvas:
    """A figure tall enough for ``n_rows`` rows and the legend, with the column headers."""
    legend = LEGEND_LINE_INCHES * (legend_lines - 1)
    height = 1.3 + legend + ROW_INCHES * (n_rows + 1)
    width, columns = _columns(with_cni)
    fig = Figure(figsize=(width, height))
    # Fixed margins in inches so that text columns do not move with the row count.
    fig.subplots_adjust(
        left=columns["panel_left"],
        right=columns["panel_right"],
        top=1 - 0.75 / height,
        bottom=(0.75 + legend) / height,
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
    fig.text(columns["study"], 1 - 0.3 / height, title, fontsize=11, fontweight="bold", va="center")
    text: dict[str, Any] = {
        "fontsize": 9,
        "va": "center",
        "clip_on": False,
        "transform": blended_transform_factory(fig.transFigure, ax.transData),
    }
    canvas = _Canvas(fig, ax, height, columns, text)
    canvas.cell("study", -1, "Study", fontweight="bold", ha="left")
    if with_cni:
        canvas.cell("cni", -1, "CNI", fontweight="bold", ha="left")
    canvas.cell("events", -1, "Events / n", fontweight="bold", ha="right")
    canvas.cell("result", -1, "Proportion [95% CI]", fontweight="bold", ha="left")
    return canvas


def _draw_studies(canvas: _Canvas, studies: Sequence[Mapping[str, Any]], with_cni: bool) -> None:
    """One row per study: exact interval, a square sized by sqrt(n), and the figures."""
    ax = canvas.ax
    biggest = max(s["n"] for s in studies)
    for y, study in enumerate(studies):
        ax.plot([study["low"], study["high"]], [y, y], color="0.25", linewidth=1.0)
        size = 3 + 7 * (study["n"] / biggest) ** 0.5
        ax.plot([study["p"]], [y], marker="s", markersize=size, color="0.15", linestyle="none")
        canvas.cell("study", y, study["label"], ha="left")
        if with_cni:
            canvas.cell("cni", y, study["cni"], ha="left")
        canvas.cell("events", y, f"{study['events']} / {study['n']}", ha="right")
        canvas.cell(
            "result", y, f"{study['p']:.2f} [{study['low']:.2f}, {study['high']:.2f}]", ha="left"
        )


def _draw_pooled_row(
    canvas: _Canvas, y: float, row: Mapping[str, Any], primary: bool
) -> float | None:
    """One pooled method: its diamond, prediction interval and figures, emphasised if it is
    the primary method; returns the estimate (``None`` for a model that did not converge,
    which is labelled, not drawn)."""
    method = str(row.get("method", ""))
    role = PRIMARY_LABEL if primary else SENSITIVITY_LABEL
    label = f"{role}: {METHOD_LABELS.get(method, method)}"
    weight, colour = ("bold", "black") if primary else ("normal", "0.2")
    estimate = _number(row.get("estimate"))
    low, high = _number(row.get("ci_low")), _number(row.get("ci_high"))
    if estimate is None or low is None or high is None:
        canvas.cell("study", y, label, ha="left", fontstyle="italic", fontweight=weight)
        canvas.cell("result", y, "did not converge", ha="left", fontstyle="italic")
        return None
    pi_low, pi_high = _number(row.get("pi_low")), _number(row.get("pi_high"))
    if pi_low is not None and pi_high is not None:
        canvas.ax.plot([pi_low, pi_high], [y, y], color="0.45", linewidth=1.0, linestyle="-")
    fill = PRIMARY_COLOUR if primary else SENSITIVITY_COLOUR
    half_height = 0.32 if primary else 0.24
    diamond = Polygon(
        [(low, y), (estimate, y - half_height), (high, y), (estimate, y + half_height)],
        closed=True,
        facecolor=fill,
        edgecolor=fill,
    )
    canvas.ax.add_patch(diamond)
    canvas.cell("study", y, label, ha="left", fontweight=weight, color=colour)
    n, events = row.get("n"), row.get("events")
    if n not in (None, ""):
        canvas.cell("events", y, f"{events} / {n}", ha="right", fontweight=weight, color=colour)
    canvas.cell(
        "result",
        y,
        f"{estimate:.2f} [{low:.2f}, {high:.2f}]",
        ha="left",
        fontweight=weight,
        color=colour,
    )
    detail = ""
    if pi_low is not None and pi_high is not None:
        detail += f"  PI {pi_low:.2f}-{pi_high:.2f}"
    tau2, i2 = _number(row.get("tau2")), _number(row.get("i2"))
    if i2 is not None and tau2 is not None:
        detail += f"  I² {i2:.0f}%  τ² {tau2:.2f}"
    canvas.ax.text(
        canvas.columns["result"] + DETAIL_OFFSET / canvas.fig.get_figwidth(),
        y,
        detail,
        ha="left",
        fontsize=8,
        va="center",
        clip_on=False,
        transform=canvas.text["transform"],
        color="0.3",
    )
    return estimate


def _draw_pooled(
    canvas: _Canvas, pooled: Sequence[Mapping[str, Any]], first_y: int, primary: str
) -> None:
    """The pooled rows below the studies, primary first, and a dashed line at the primary
    method's estimate (when it converged)."""
    for offset, row in enumerate(primary_first(pooled, primary)):
        is_primary = row.get("method") == primary
        estimate = _draw_pooled_row(canvas, first_y + offset, row, is_primary)
        if is_primary and estimate is not None:
            canvas.ax.axvline(
                estimate, color=PRIMARY_COLOUR, linewidth=0.8, linestyle="--", zorder=0
            )


def _legend_lines(primary: str, new_studies: bool, with_cni: bool) -> list[str]:
    """What the marks of the figure mean, one sentence a line."""
    lines = [
        "Squares: study proportion (size ~ √n) with exact Clopper-Pearson CI. Diamonds: pooled "
        "estimate with 95% CI; grey line: 95% prediction interval.",
        f"Primary analysis: {METHOD_LABELS.get(primary, primary)} (dark diamond, dashed line); "
        "sensitivity analyses: the other methods (lighter diamonds).",
    ]
    if new_studies:
        lines.append(
            "new <date>: study added since the published review, first found by the update "
            "search of that date."
        )
    if with_cni:
        lines.append(
            "CNI: the drug the study's patients received; both, summed: a study that used "
            "both CNIs counts once, its arms added together."
        )
    return lines


def _draw_legend(canvas: _Canvas, lines: Sequence[str]) -> None:
    for number, line in enumerate(reversed(lines)):
        canvas.fig.text(
            0.01,
            (0.15 + LEGEND_LINE_INCHES * number) / canvas.height,
            line,
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
    *,
    primary_method: str,
    show_cni: bool = False,
    level: float = 0.95,
    dpi: int = 150,
) -> None:
    """Draw one group's forest plot and write it as SVG and PNG (atomically).

    ``primary_method`` (one of :data:`livingreview.meta.METHODS`) is drawn first and
    emphasised; ``show_cni`` adds the CNI column (the plot of both CNIs).
    """
    if primary_method not in METHODS:
        raise ValueError(f"primary method {primary_method!r} is not one of {', '.join(METHODS)}")
    studies = _study_lines(study_rows, level)
    if not studies:
        raise ValidationError("<forest plot rows>", f"no studies to plot for '{title}'")
    pooled = list(pooled_rows)
    legend = _legend_lines(primary_method, any(row.get("new_in") for row in study_rows), show_cni)
    canvas = _canvas(len(studies) + len(pooled) + 1, title, show_cni, len(legend))
    _draw_studies(canvas, studies, show_cni)
    _draw_pooled(canvas, pooled, len(studies) + 1, primary_method)  # after a blank row
    _draw_legend(canvas, legend)
    _save(canvas.fig, svg_path, png_path, dpi)


def draw_forest_plots(
    studies_path: str | Path,
    meta_path: str | Path,
    included_reports_path: str | Path,
    publications_path: str | Path,
    titles: Mapping[str, str],
    figure_paths: Mapping[str, tuple[str | Path, str | Path]],
    proportions_path: str | Path,
    primary_method: str,
) -> int:
    """Every group's forest plot (``titles``: group -> title; ``figure_paths``: group ->
    SVG and PNG path) and ``study_proportions.tsv``, new studies named from their records.

    Returns the number of new studies shown.
    """
    arms = read_study_table(studies_path)
    names = new_study_names(arms, read_rows(included_reports_path), read_rows(publications_path))
    rows = remission_rows(label_new_studies(arms, names))
    write_tsv(proportions_path, study_proportions(rows), STUDY_PROPORTION_COLUMNS)
    pooled = read_rows(meta_path)
    for group, title in titles.items():
        svg_path, png_path = figure_paths[group]
        forest_plot(
            [
                {**row, "new_in": names[row["study_id"]].new_in if row["study_id"] in names else ""}
                for row in rows
                if row["subgroup"] == group
            ],
            [row for row in pooled if row["subgroup"] == group],
            title,
            svg_path,
            png_path,
            primary_method=primary_method,
            show_cni=group == BOTH_CNIS,
        )
    return len(names)
