"""Server-rendered SVG charts for the agreement dashboard and the report.

No chart library and no CDN: a heatmap, a line and an interval are a few
rectangles and paths (docs/design.md has the comparison with Vega-Altair and
matplotlib). Colours are presentation attributes, not inline styles, so a
strict Content-Security-Policy allows them, and WeasyPrint draws the same
markup in the PDF. Every label is escaped, and none is cut: the layout gives
each the room its estimated width needs (chart_text.py) and wraps the long ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from annotations.agreement.chart_text import text_width, time_ticks, widest_piece, wrap

INK = "#1d232b"
MUTED = "#5f6b78"
LINE = "#c5ccd6"

CELL = 56
LABEL_SIZE = 11
LINE_HEIGHT = 13
# Room between two labels, and around a label in its column.
GAP = 10
# A column label up to this wide stays on one line; a longer one wraps.
ONE_LINE = 64
# Row labels wrap past this width, so a long name leaves room for the cells.
ROW_LABEL = 180


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _agreement_colour(value: float | None) -> str:
    """Red for disagreement, through yellow, to green for agreement (-1..1 clamped to 0..1)."""
    if value is None:
        return "#eef1f5"
    t = max(0.0, min(1.0, value))
    if t < 0.5:
        r, g = 220, int(90 + 2 * t * 130)
    else:
        r, g = int(220 - (t - 0.5) * 2 * 170), 200
    return f"#{r:02x}{g:02x}70"


def _count_colour(value: float, top: float) -> str:
    share = 0 if top <= 0 else value / top
    level = int(245 - share * 160)
    return f"#{level:02x}{min(255, level + 10):02x}ff"


def _ink_on(fill: str) -> str:
    """Dark text on a light fill, white on a dark one."""
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return INK if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


def _lines(
    lines: Sequence[str],
    x: float,
    y: float,
    *,
    anchor: str,
    size: int = LABEL_SIZE,
    leading: int = LINE_HEIGHT,
) -> str:
    """One <text> of several lines, each a <tspan>, the first line's baseline at y.

    A line that ended at a space keeps it (at the end, where it shows nothing), so
    the text reads "Mostly false" when copied, found or read aloud.
    """
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else leading}">{escape(line)}'
        f"{' ' if i < len(lines) - 1 and not line.endswith('-') else ''}</tspan>"
        for i, line in enumerate(lines)
    )
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{INK}">{spans}</text>'
    )


def _svg(width: float, height: float, title: str, body: list[str]) -> SafeString:
    # Whole units, rounded up: the last label keeps its last half unit.
    width, height = math.ceil(width), math.ceil(height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - labels escaped above


def heatmap(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    counts: bool = False,
) -> SafeString:
    """A matrix of coloured cells with their values written in them.

    Columns are as wide as their longest word needs and long labels wrap, so
    "Missing context" or "Nomvula Dlamini-Hartmann" is written in full, apart
    from its neighbours.
    """
    column_width = max(
        [CELL]
        + [widest_piece(name, LABEL_SIZE) + GAP for name in columns]
        + [min(text_width(name, LABEL_SIZE), ONE_LINE) + GAP for name in columns]
    )
    column_lines = [wrap(name, column_width - GAP, LABEL_SIZE) for name in columns]
    row_width = max(
        [widest_piece(name, LABEL_SIZE) for name in rows]
        + [min(text_width(name, LABEL_SIZE), ROW_LABEL) for name in rows],
        default=0.0,
    )
    row_lines = [wrap(name, row_width, LABEL_SIZE) for name in rows]
    row_height = max([CELL] + [len(lines) * LINE_HEIGHT + GAP for lines in row_lines])
    header = max((len(lines) for lines in column_lines), default=1) * LINE_HEIGHT + 8
    left = 4 + row_width + 8
    width = left + column_width * len(columns) + 4
    height = header + row_height * len(rows) + 4
    top = max((v for row in values for v in row if v is not None), default=0.0)

    body = []
    for j, lines in enumerate(column_lines):
        x = left + j * column_width + (column_width - 2) / 2
        # The last line of each label sits just above the cells.
        y = header - 6 - (len(lines) - 1) * LINE_HEIGHT
        body.append(_lines(lines, x, y, anchor="middle"))
    for i, name in enumerate(rows):
        y = header + i * row_height
        lines = row_lines[i]
        first = y + row_height / 2 + 4 - (len(lines) - 1) * LINE_HEIGHT / 2
        body.append(_lines(lines, left - 8, first, anchor="end"))
        for j, value in enumerate(values[i]):
            x, w, h = left + j * column_width, column_width - 2, row_height - 2
            fill = _count_colour(value or 0, top) if counts else _agreement_colour(value)
            text = str(int(value)) if counts and value is not None else _fmt(value)
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{h}" rx="4" fill="{fill}">'
                f"<title>{escape(name)} × {escape(columns[j])}: {text}</title></rect>"
                f'<text x="{x + w / 2:.1f}" y="{y + h / 2 + 4:.1f}" text-anchor="middle" '
                f'font-size="12" fill="{_ink_on(fill)}">{text}</text>'
            )
    return _svg(width, height, title, body)


def interval(title: str, value: float | None, low: float | None, high: float | None) -> SafeString:
    """Alpha on a -1..1 scale, its confidence interval as a bar, 0.667 and 0.8 marked."""
    width, height, pad, axis = 320, 56, 16, 30

    def x(v: float) -> float:
        return pad + (max(-1.0, min(1.0, v)) + 1) / 2 * (width - 2 * pad)

    body = [
        f'<line x1="{pad}" y1="{axis}" x2="{width - pad}" y2="{axis}" stroke="{LINE}" '
        f'stroke-width="2"/>'
    ]
    # Krippendorff's rule of thumb: 0.8 to rely on data, 0.667 for tentative
    # conclusions. The two marks are close: their labels go above the line,
    # each on the far side of its mark, the scale's below.
    for mark, anchor, nudge in ((0.667, "end", -3), (0.8, "start", 3)):
        body.append(
            f'<line x1="{x(mark):.1f}" y1="14" x2="{x(mark):.1f}" y2="{axis + 10}" '
            f'stroke="#9aa5b1" stroke-dasharray="2,2"/><text x="{x(mark) + nudge:.1f}" y="12" '
            f'text-anchor="{anchor}" font-size="9" fill="{MUTED}">{mark:g}</text>'
        )
    for mark in (-1, 0, 1):
        body.append(
            f'<text x="{x(mark):.1f}" y="{height - 4}" text-anchor="middle" font-size="9" '
            f'fill="{MUTED}">{mark}</text>'
        )
    if low is not None and high is not None:
        body.append(
            f'<rect x="{x(low):.1f}" y="{axis - 6}" width="{max(2.0, x(high) - x(low)):.1f}" '
            f'height="12" rx="3" fill="#1f5fbf" fill-opacity="0.25">'
            f"<title>95% interval {low:.3f} to {high:.3f}</title></rect>"
        )
    if value is not None:
        body.append(
            f'<circle cx="{x(value):.1f}" cy="{axis}" r="6" fill="{_agreement_colour(value)}" '
            f'stroke="{INK}"><title>α = {value:.3f}</title></circle>'
        )
    return _svg(width, height, title, body)


def timeline(title: str, points: Sequence[tuple[datetime, float | None]]) -> SafeString:
    """Alpha over time, one point per finished run, on a 0..1 scale."""
    width, height, left, right, bottom, size = 420, 140, 30, 14, 30, 9
    plot = width - left - right
    # In the newsroom's time zone, as the rest of the page writes times.
    zone = timezone.get_current_timezone()
    known = [
        (when.astimezone(zone) if timezone.is_aware(when) else when, v)
        for when, v in points
        if v is not None
    ]
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
        f'stroke="{LINE}"/>',
        f'<line x1="{left}" y1="10" x2="{left}" y2="{height - bottom}" stroke="{LINE}"/>',
    ]
    for mark in (0.0, 0.5, 1.0):
        y = height - bottom - mark * (height - bottom - 10)
        body.append(
            f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end" font-size="{size}" '
            f'fill="{MUTED}">{mark:g}</text>'
        )
    if not known:
        body.append(
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" font-size="12" '
            f'fill="{MUTED}">No finished runs yet</text>'
        )
        return _svg(width, height, title, body)
    start, end = known[0][0], known[-1][0]
    span = (end - start).total_seconds()

    def px(when: datetime) -> float:
        return left + plot * ((when - start).total_seconds() / span if span > 0 else 0.5)

    coords = [
        (
            px(when),
            height - bottom - max(0.0, min(1.0, value)) * (height - bottom - 10),
            when,
            value,
        )
        for when, value in known
    ]
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _, _) in enumerate(coords)
    )
    body.append(f'<path d="{path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    for x, y, when, value in coords:
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1f5fbf">'
            f"<title>{when:%d %b %Y %H:%M}: α = {value:.3f}</title></circle>"
        )
    # A label may reach past the axis to 2 units from the chart's edges.
    for tick in time_ticks(start, end, length=plot, size=size, room=(left - 2, right - 2)):
        x = px(tick.when)
        body.append(
            f'<line x1="{x:.1f}" y1="{height - bottom}" x2="{x:.1f}" y2="{height - bottom + 4}" '
            f'stroke="{LINE}"/><text x="{left + tick.centre:.1f}" y="{height - 10}" '
            f'text-anchor="middle" font-size="{size}" fill="{MUTED}">{escape(tick.label)}</text>'
        )
    return _svg(width, height, title, body)


def bars(title: str, rows: Sequence[tuple[str, int, str]]) -> SafeString:
    """Counts as horizontal bars, each (name, count, #rrggbb colour), the count written beside it.

    The name column is as wide as the longest name, up to a point; a longer
    name wraps onto a taller row.
    """
    size, bar, gap = 13, 250, 10
    label = max(
        [widest_piece(name, size) for name, _, _ in rows]
        + [min(text_width(name, size), 200) for name, _, _ in rows],
        default=0.0,
    )
    width = 4 + label + gap + bar + 50
    top = max((count for _, count, _ in rows), default=0)
    body, y = [], 4.0
    for name, count, colour in rows:
        lines = wrap(name, label, size)
        row = max(26, len(lines) * 16 + 8)
        length = bar * count / top if top else 0
        x0 = 4 + label + gap
        middle = y + (row - 6) / 2
        first = middle + 5 - (len(lines) - 1) * 8
        body.append(
            _lines(lines, x0 - gap, first, anchor="end", size=size, leading=16)
            + f'<rect x="{x0:.1f}" y="{middle - 10:.1f}" width="{bar}" height="20" rx="3" '
            f'fill="#eef1f5"/><rect x="{x0:.1f}" y="{middle - 10:.1f}" width="{length:.1f}" '
            f'height="20" rx="3" fill="{escape(colour)}"/><text x="{x0 + length + 6:.1f}" '
            f'y="{middle + 5:.1f}" font-size="{size}" fill="{INK}">{count}</text>'
        )
        y += row
    if not rows:
        body.append(
            f'<text x="{width / 2:.1f}" y="20" text-anchor="middle" font-size="12" '
            f'fill="{MUTED}">No claims</text>'
        )
        y = 32
    return _svg(width, y + 2, title, body)


def pair_matrix(results: dict[str, Any], key: str) -> tuple[list[str], list[list[float | None]]]:
    """A reviewer × reviewer matrix of one pairwise figure (kappa, span F1) of a report."""
    reviewers: list[str] = results["reviewers"]
    where = {name: i for i, name in enumerate(reviewers)}
    matrix: list[list[float | None]] = [[None] * len(reviewers) for _ in reviewers]
    # A figure from too few claims is left blank, as the tables say "too few to say".
    spans_warning = (results.get("spans") or {}).get("warning")
    for pair in results["pairs"]:
        i, j = where.get(pair["a"]), where.get(pair["b"])
        too_few = pair.get("warning") if key == "kappa" else spans_warning
        if i is not None and j is not None:
            matrix[i][j] = matrix[j][i] = None if too_few else pair[key]
    for i in range(len(reviewers)):
        matrix[i][i] = 1.0
    return reviewers, matrix


def figures_charts(
    results: dict[str, Any], history: Sequence[tuple[datetime | None, float | None]] | None = None
) -> dict[str, SafeString]:
    """The charts of a report's figures, as the dashboard and the HTML/PDF report show them.

    `history`, the verdict alpha of earlier runs, adds the timeline.
    """
    reviewers, kappas = pair_matrix(results, "kappa")
    _, f1s = pair_matrix(results, "span_f1")
    verdict, rating = results["verdict"], results["rating"]
    charts = {
        "verdict_chart": interval(
            "Verdict alpha with its 95% interval",
            verdict["alpha"],
            *(verdict["ci"] or (None, None)),
        ),
        "rating_chart": interval(
            "Rating alpha with its 95% interval", rating["alpha"], *(rating["ci"] or (None, None))
        ),
        "kappa_heatmap": heatmap("Cohen's kappa per pair", reviewers, reviewers, kappas),
        "f1_heatmap": heatmap("Span F1 per pair", reviewers, reviewers, f1s),
        "confusion_heatmap": heatmap(
            "Verdict confusion matrix (pooled over pairs)",
            results["confusion"]["labels"],
            results["confusion"]["labels"],
            results["confusion"]["matrix"],
            counts=True,
        ),
    }
    if history is not None:
        charts["timeline"] = timeline(
            "Verdict alpha over time", [(when, alpha) for when, alpha in history if when]
        )
    return charts
