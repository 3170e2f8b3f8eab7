"""The PRISMA 2020 flow diagram, drawn from the counts the ledger produced.

Consumes the per-flow counts and labelled breakdowns of the ledger (read
back from ``results/prisma/counts.tsv``, so the diagram shows exactly what the ledger
counts) and produces a standalone diagram in the layout of the PRISMA 2020 flow diagram
for updated systematic reviews (Page et al., BMJ 2021;372:n71, Fig. 1 "updated reviews"
variant): previous studies on the left, new studies via databases and registers in the
middle, via other methods on the right; exclusion reasons listed; records still awaiting a
decision drawn as dashed boxes so that nothing disappears from the count.

The page is A4 landscape and no text is smaller than 6.5 pt, so the printed diagram stays
readable. SVG, PDF and PNG are written with fixed metadata so that the same counts give
the same bytes (no rerun noise in the audit trail).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from ..io import atomic_open  # noqa: E402
from .counts import read_counts  # noqa: E402
from .ledger import BASELINE_FLOW  # noqa: E402

#: Labelled counts of the multi-valued boxes: box -> [(label, n)].
Breakdowns = Mapping[str, Sequence[tuple[str, int]]]

A4_LANDSCAPE_INCHES = (11.69, 8.27)
MIN_FONT_PT = 6.5
BASE_FONT_PT = 9.0

# Column x-extents (fraction of the page width).
_COLUMNS = {
    "phase": (0.008, 0.030),
    "prev": (0.040, 0.200),
    "main": (0.215, 0.425),
    "side": (0.440, 0.640),
    "oth": (0.655, 0.815),
    "othside": (0.828, 0.992),
}
_COLOURS = {
    "title_grey": "#d9d9d9",
    "title_yellow": "#ffc000",
    "phase": "#9dc3e6",
    "box": "#ffffff",
}


def fmt(n: int) -> str:
    """Thousands with commas, as in the PRISMA template.

    >>> fmt(42249)
    '42,249'
    """
    return f"{n:,}"


NBSP = "\u00a0"


def _n(text: str) -> str:
    """Keep ``(n = 12)`` on one line when a box's text is wrapped.

    >>> _n("Records (n = 12)") == "Records (n" + NBSP + "=" + NBSP + "12)"
    True
    """
    return text.replace("(n = ", f"(n{NBSP}={NBSP}")


@dataclass
class _Box:
    """One box of the diagram: its column(s), text and style."""

    key: str
    column: str
    text: str
    fill: str = _COLOURS["box"]
    dashed: bool = False
    bold: bool = False
    span_to: str | None = None  # last column of a spanning box


def _lines(text: str, width_chars: int) -> list[str]:
    """Wrap a box's text to ``width_chars``, keeping each paragraph's indent."""
    out: list[str] = []
    for paragraph in _n(text).split("\n"):
        indent = len(paragraph) - len(paragraph.lstrip(" "))
        wrapped = textwrap.wrap(
            paragraph.strip(),
            width=max(width_chars - indent, 10),
            subsequent_indent=" " * (indent + 2),
        ) or [""]
        out += [" " * indent + line for line in wrapped]
    return out


def _breakdown_text(items: Sequence[tuple[str, int]], indent: str = "  ") -> str:
    """One indented ``Label (n = 12)`` line per item."""
    return "\n".join(f"{indent}{label} (n = {fmt(n)})" for label, n in items)


def _identification_text(
    counts: Mapping[str, int], breakdowns: Breakdowns, searches: Mapping[str, str] | None = None
) -> str:
    """The identification box; under each database's line, how and when it was searched
    (PRISMA-S, from ``searches``: label -> note) where known."""
    c = _counter(counts)
    text = "Records identified from:\n"
    text += f"Databases (n = {c('database_results')})"
    for label, n in breakdowns.get("database_specific_results", ()):
        text += f"\n  {label} (n = {fmt(n)})"
        if searches and label in searches:
            text += f"\n    {searches[label]}"
    text += f"\nRegisters (n = {c('register_results')})"
    if breakdowns.get("register_specific_results"):
        text += "\n" + _breakdown_text(breakdowns["register_specific_results"])
    return text


def _excluded_text(counts: Mapping[str, int], breakdowns: Breakdowns, box: str) -> str:
    text = f"Reports excluded (n = {_counter(counts)(box)})"
    if breakdowns.get(box):
        text += ":\n" + _breakdown_text(breakdowns[box])
    return text


def _counter(counts: Mapping[str, int]) -> Callable[[str], str]:
    """A box's count as printed (0 when the box is absent)."""
    return lambda key: fmt(counts.get(key, 0))


def _title_row(show_previous: bool) -> list[_Box]:
    header = [
        _Box(
            "newstud",
            "main",
            "Identification of new studies via databases and registers",
            fill=_COLOURS["title_yellow"],
            bold=True,
            span_to="side",
        ),
        _Box(
            "othstud",
            "oth",
            "Identification of new studies via other methods",
            fill=_COLOURS["title_grey"],
            bold=True,
            span_to="othside",
        ),
    ]
    if show_previous:
        header.insert(
            0, _Box("prevstud", "prev", "Previous studies", fill=_COLOURS["title_grey"], bold=True)
        )
    return header


def _identification_row(
    counts: Mapping[str, int],
    breakdowns: Breakdowns,
    show_previous: bool,
    searches: Mapping[str, str] | None = None,
) -> list[_Box]:
    c = _counter(counts)
    first = [
        _Box("identified", "main", _identification_text(counts, breakdowns, searches)),
        _Box(
            "removed",
            "side",
            "Records removed before screening:\n"
            f"  Duplicate records (n = {c('duplicates')})\n"
            f"  Records marked as ineligible by automation tools (n = {c('excluded_automatic')})\n"
            f"  Records removed for other reasons (n = {c('excluded_other')})",
        ),
        _Box(
            "other_identified",
            "oth",
            "Records identified from:\n"
            f"  Websites (n = {c('website_results')})\n"
            f"  Organisations (n = {c('organisation_results')})\n"
            f"  Citation searching (n = {c('citations_results')})",
        ),
    ]
    if show_previous:
        first.insert(
            0,
            _Box(
                "previous",
                "prev",
                f"Studies included in previous version of review (n = {c('previous_studies')})\n\n"
                f"Reports of studies included in previous version of review (n = {c('previous_reports')})",
            ),
        )
    return first


def _screening_rows(counts: Mapping[str, int], breakdowns: Breakdowns) -> list[list[_Box]]:
    c = _counter(counts)
    return [
        [
            _Box(
                "awaiting_ta",
                "side",
                f"Records awaiting screening (n = {c('awaiting_title_abstract')})",
                dashed=True,
            ),
        ],
        [
            _Box("screened", "main", f"Records screened (n = {c('records_screened')})"),
            _Box("excluded", "side", f"Records excluded (n = {c('records_excluded')})"),
        ],
        [
            _Box("sought", "main", f"Reports sought for retrieval (n = {c('dbr_sought_reports')})"),
            _Box(
                "notretrieved",
                "side",
                f"Reports not retrieved (n = {c('dbr_notretrieved_reports')})",
            ),
            _Box(
                "other_sought",
                "oth",
                f"Reports sought for retrieval (n = {c('other_sought_reports')})",
            ),
            _Box(
                "other_notretrieved",
                "othside",
                f"Reports not retrieved (n = {c('other_notretrieved_reports')})",
            ),
        ],
        [
            _Box(
                "awaiting_ft",
                "side",
                f"Reports awaiting assessment (n = {c('awaiting_full_text')})",
                dashed=True,
            ),
        ],
        [
            _Box("assessed", "main", f"Reports assessed for eligibility (n = {c('dbr_assessed')})"),
            _Box("dbr_excluded", "side", _excluded_text(counts, breakdowns, "dbr_excluded")),
            _Box(
                "other_assessed",
                "oth",
                f"Reports assessed for eligibility (n = {c('other_assessed')})",
            ),
            _Box("other_excluded", "othside", _excluded_text(counts, breakdowns, "other_excluded")),
        ],
    ]


def new_reports_text(counts: Mapping[str, int]) -> str:
    """The new reports' line: "Reports of new included studies" only when that is true.

    A further report of a study already included is included in the update but is not a
    report of a new study, so the line then says how many reports are of which.

    >>> new_reports_text({"new_reports": 2, "known_study_reports": 0})
    'Reports of new included studies (n = 2)'
    >>> new_reports_text({"new_reports": 1, "known_study_reports": 1})
    'Reports included (n = 1): 0 of new studies, 1 of studies already included'
    """
    c = _counter(counts)
    known = counts.get("known_study_reports", 0)
    if not known:
        return f"Reports of new included studies (n = {c('new_reports')})"
    return (
        f"Reports included (n = {c('new_reports')}): "
        f"{fmt(counts.get('new_reports', 0) - known)} of new studies, "
        f"{fmt(known)} of studies already included"
    )


def _included_rows(counts: Mapping[str, int], show_previous: bool) -> list[list[_Box]]:
    c = _counter(counts)
    rows = [
        [
            _Box(
                "new",
                "main",
                f"New studies included in review (n = {c('new_studies')})\n"
                + new_reports_text(counts),
            )
        ]
    ]
    if show_previous:
        rows.append(
            [
                _Box(
                    "total",
                    "main",
                    f"Total studies included in review (n = {c('total_studies')})\n"
                    f"Reports of total included studies (n = {c('total_reports')})",
                )
            ]
        )
    return rows


def _rows(
    counts: Mapping[str, int],
    breakdowns: Breakdowns,
    show_previous: bool,
    searches: Mapping[str, str] | None = None,
) -> list[tuple[str, list[_Box]]]:
    """The diagram's rows (phase name, boxes), top to bottom."""
    return [
        ("", _title_row(show_previous)),
        ("Identification", _identification_row(counts, breakdowns, show_previous, searches)),
        *(("Screening", row) for row in _screening_rows(counts, breakdowns)),
        *(("Included", row) for row in _included_rows(counts, show_previous)),
    ]


#: A box's extent on the page: x0, x1, y0, y1 (fractions of the page).
Position = tuple[float, float, float, float]

# (from, to, how): "down" / "right" between neighbouring boxes; "branch" from the main
# column's vertical connector to a dashed box; "elbow" down from the source, then across.
_ARROWS = (
    ("identified", "removed", "right"),
    ("identified", "screened", "down"),
    ("identified", "awaiting_ta", "branch"),
    ("screened", "excluded", "right"),
    ("screened", "sought", "down"),
    ("sought", "notretrieved", "right"),
    ("sought", "awaiting_ft", "branch"),
    ("sought", "assessed", "down"),
    ("assessed", "dbr_excluded", "right"),
    ("assessed", "new", "down"),
    ("other_identified", "other_sought", "down"),
    ("other_sought", "other_notretrieved", "right"),
    ("other_sought", "other_assessed", "down"),
    ("other_assessed", "other_excluded", "right"),
    ("other_assessed", "new", "elbow"),
    ("new", "total", "down"),
    ("previous", "total", "elbow"),
)


def _arrow(ax: Axes, points: Sequence[tuple[float, float]]) -> None:
    """A polyline with an arrowhead at its last point."""
    if len(points) > 2:
        xs, ys = zip(*points[:-1], strict=True)
        ax.plot(xs, ys, color="black", linewidth=0.8, solid_capstyle="butt")
    ax.add_patch(
        FancyArrowPatch(
            points[-2],
            points[-1],
            arrowstyle="-|>",
            mutation_scale=9,
            linewidth=0.8,
            color="black",
            shrinkA=0,
            shrinkB=0,
        )
    )


def _connect(ax: Axes, how: str, start: Position, end: Position) -> None:
    """Draw one arrow of :data:`_ARROWS` between two box extents."""
    sx0, sx1, sy0, sy1 = start
    ex0, ex1, ey0, ey1 = end
    if how == "right":
        low, high = max(sy0, ey0), min(sy1, ey1)
        y = (low + high) / 2 if high > low else (ey0 + ey1) / 2
        _arrow(ax, [(sx1, y), (ex0, y)])
    elif how == "down":
        x = (max(sx0, ex0) + min(sx1, ex1)) / 2
        _arrow(ax, [(x, sy0), (x, ey1)])
    elif how == "branch":
        y = (ey0 + ey1) / 2
        _arrow(ax, [((sx0 + sx1) / 2, y), (ex0, y)])
    else:  # elbow
        x, y = (sx0 + sx1) / 2, (ey0 + ey1) / 2
        _arrow(ax, [(x, sy0), (x, y), (ex1 if ex1 <= sx0 else ex0, y)])


_PAGE_W_PT, _PAGE_H_PT = A4_LANDSCAPE_INCHES[0] * 72, A4_LANDSCAPE_INCHES[1] * 72
_TOP = 0.90
_GAP = 0.012


@dataclass
class _Layout:
    """Rows with their wrapped text and heights, at the font size that fits the page."""

    font: float
    line_h: float
    pad: float
    rows: list[tuple[str, list[tuple[_Box, float, float, list[str]]], float]]


def _fit_layout(rows: Sequence[tuple[str, list[_Box]]], bottom: float) -> _Layout:
    """Wrap every box's text, shrinking the font (not below MIN_FONT_PT) until all rows fit
    between the title and the footnote."""
    font = BASE_FONT_PT
    while True:
        line_h = font * 1.28 / _PAGE_H_PT
        char_w = font * 0.50 / _PAGE_W_PT
        pad = 0.5 * line_h
        layout = []
        for phase, boxes in rows:
            laid = []
            for box in boxes:
                x0 = _COLUMNS[box.column][0]
                x1 = _COLUMNS[box.span_to or box.column][1]
                lines = _lines(
                    box.text, int((x1 - x0 - 2 * pad * _PAGE_H_PT / _PAGE_W_PT) / char_w)
                )
                laid.append((box, x0, x1, lines))
            height = max(len(lines) for *_, lines in laid) * line_h + 2 * pad
            layout.append((phase, laid, height))
        total = sum(h for *_, h in layout) + _GAP * (len(layout) - 1)
        if total <= _TOP - bottom or font <= MIN_FONT_PT:
            return _Layout(font, line_h, pad, layout)
        font = max(MIN_FONT_PT, font - 0.25)


def _draw_boxes(ax: Axes, layout: _Layout) -> tuple[dict[str, Position], dict[str, list[float]]]:
    """Draw the boxes row by row; return each box's extent and each phase's top and bottom."""
    pad, line_h = layout.pad, layout.line_h
    positions: dict[str, Position] = {}
    phases: dict[str, list[float]] = {}
    y = _TOP
    for phase, laid, height in layout.rows:
        for box, x0, x1, lines in laid:
            h = height if not box.dashed else len(lines) * line_h + 2 * pad
            ax.add_patch(
                FancyBboxPatch(
                    (x0, y - h),
                    x1 - x0,
                    h,
                    boxstyle="square,pad=0",
                    facecolor=box.fill,
                    edgecolor="black",
                    linewidth=0.8,
                    linestyle="--" if box.dashed else "-",
                )
            )
            centred = box.bold
            ax.text(
                (x0 + x1) / 2 if centred else x0 + pad * _PAGE_H_PT / _PAGE_W_PT,
                y - pad,
                "\n".join(lines),
                ha="center" if centred else "left",
                va="top",
                fontsize=layout.font,
                linespacing=1.15,
                weight="bold" if box.bold else "normal",
                family="DejaVu Sans",
            )
            positions[box.key] = (x0, x1, y - h, y)
        if phase:
            phases.setdefault(phase, [y, y - height])[1] = y - height
        y -= height + _GAP
    return positions, phases


def _draw_phases(ax: Axes, phases: Mapping[str, list[float]], font: float) -> None:
    """The blue phase bars on the left (Identification, Screening, Included)."""
    for phase, (p_top, p_bottom) in phases.items():
        x0, x1 = _COLUMNS["phase"]
        ax.add_patch(
            FancyBboxPatch(
                (x0, p_bottom),
                x1 - x0,
                p_top - p_bottom,
                boxstyle="round,pad=0,rounding_size=0.006",
                facecolor=_COLOURS["phase"],
                edgecolor="black",
                linewidth=0.6,
            )
        )
        fits = (
            (p_top - p_bottom) * _PAGE_H_PT / (0.68 * len(phase))
        )  # bold text is ~0.68 em per character
        ax.text(
            (x0 + x1) / 2,
            (p_top + p_bottom) / 2,
            phase,
            rotation=90,
            ha="center",
            va="center",
            fontsize=min(font + 1, max(fits, MIN_FONT_PT)),
            weight="bold",
        )


def draw_flow(
    counts: Mapping[str, int],
    breakdowns: Breakdowns,
    title: str,
    show_previous: bool = True,
    footnote: str = "",
    searches: Mapping[str, str] | None = None,
) -> Figure:
    """A matplotlib figure of the PRISMA 2020 diagram (A4 landscape); ``searches`` adds how
    and when each database was searched under its line (PRISMA-S)."""
    footnote = "\n".join(
        line for paragraph in footnote.split("\n") for line in textwrap.wrap(paragraph, 230)
    )
    bottom = 0.02 + 0.016 * (footnote.count("\n") + 1) if footnote else 0.02
    layout = _fit_layout(_rows(counts, breakdowns, show_previous, searches), bottom)
    fig = plt.figure(figsize=A4_LANDSCAPE_INCHES)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    fig.text(
        0.5,
        0.985,
        "\n".join(textwrap.wrap(title, 120)),
        ha="center",
        va="top",
        fontsize=layout.font + 2,
        weight="bold",
        linespacing=1.2,
    )
    positions, phases = _draw_boxes(ax, layout)
    _draw_phases(ax, phases, layout.font)
    for start, end, how in _ARROWS:
        if start in positions and end in positions:
            _connect(ax, how, positions[start], positions[end])
    if footnote:
        fig.text(
            0.01,
            0.012,
            footnote,
            ha="left",
            va="bottom",
            fontsize=MIN_FONT_PT,
            style="italic",
        )
    fig.font_size_used = layout.font  # type: ignore[attr-defined]  # read by the tests
    return fig


def save_flow(fig: Figure, paths: Sequence[str | Path]) -> None:
    """Write the figure to each path (format from the suffix), atomically, reproducibly."""
    with matplotlib.rc_context({"svg.hashsalt": "prisma-flow", "svg.fonttype": "path"}):
        for path in paths:
            suffix = Path(path).suffix.lstrip(".").lower()
            metadata = {
                "svg": {"Date": None},
                "pdf": {"CreationDate": None, "ModDate": None},
                "png": {"Software": None},
            }.get(suffix, {})
            buffer = io.BytesIO()
            fig.savefig(
                buffer, format=suffix, metadata=metadata, dpi=200 if suffix == "png" else None
            )
            with atomic_open(path, "wb") as handle:
                handle.write(buffer.getvalue())
    plt.close(fig)


def draw_flows(
    counts_path: str | Path,
    outputs: Mapping[str, Sequence[str | Path]],
    titles: Mapping[str, str],
    footnote: str = "",
    searches: Mapping[str, tuple[Mapping[str, str], Sequence[str]]] | None = None,
) -> None:
    """Draw one diagram per flow named in ``outputs`` (flow -> files) from ``counts.tsv``;
    ``searches`` (flow -> database notes and PRISMA-S gap lines, as
    :func:`livingreview.search.prisma_s.diagram_searches` gives them) adds the searches'
    platforms and dates to the database lines and the gaps to the footnote."""
    counts, breakdowns, _ = read_counts(counts_path)
    for flow, paths in outputs.items():
        notes, gaps = (searches or {}).get(flow, ({}, []))
        note = footnote
        if gaps:
            note += "\nPRISMA-S gaps: " + ". ".join(gaps) + "."
        fig = draw_flow(
            counts[flow],
            breakdowns.get(flow, {}),
            titles.get(flow, flow),
            show_previous=flow != BASELINE_FLOW,
            footnote=note,
            searches=notes,
        )
        save_flow(fig, paths)
