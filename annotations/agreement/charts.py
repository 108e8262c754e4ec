"""Server-rendered SVG charts for the agreement dashboard.

No chart library and no CDN: a heatmap, a line and an interval are a few
rectangles and paths. Colours are presentation attributes, not inline styles,
so a strict Content-Security-Policy allows them. Every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

CELL = 56

LABEL = 120


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


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
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
    """A matrix of coloured cells with their values written in them."""
    width = LABEL + CELL * len(columns) + 10
    height = LABEL // 2 + CELL * len(rows) + 10
    top = max((v for row in values for v in row if v is not None), default=0.0)
    body = []
    for j, name in enumerate(columns):
        x = LABEL + j * CELL + CELL // 2
        body.append(
            f'<text x="{x}" y="{LABEL // 2 - 8}" text-anchor="middle" font-size="11" '
            f'fill="#1d232b">{escape(name[:10])}</text>'
        )
    for i, name in enumerate(rows):
        y = LABEL // 2 + i * CELL
        body.append(
            f'<text x="{LABEL - 8}" y="{y + CELL // 2 + 4}" text-anchor="end" font-size="11" '
            f'fill="#1d232b">{escape(name[:18])}</text>'
        )
        for j, value in enumerate(values[i]):
            x = LABEL + j * CELL
            fill = _count_colour(value or 0, top) if counts else _agreement_colour(value)
            text = str(int(value)) if counts and value is not None else _fmt(value)
            body.append(
                f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" rx="4" '
                f'fill="{fill}"><title>{escape(name)} × {escape(columns[j])}: {text}</title></rect>'
                f'<text x="{x + CELL // 2 - 1}" y="{y + CELL // 2 + 4}" text-anchor="middle" '
                f'font-size="12" fill="#1d232b">{text}</text>'
            )
    return _svg(width, height, title, body)


def interval(title: str, value: float | None, low: float | None, high: float | None) -> SafeString:
    """Alpha on a -1..1 scale, its confidence interval as a bar, 0.667 and 0.8 marked."""
    width, height, pad = 320, 46, 16

    def x(v: float) -> float:
        return pad + (max(-1.0, min(1.0, v)) + 1) / 2 * (width - 2 * pad)

    body = [
        f'<line x1="{pad}" y1="24" x2="{width - pad}" y2="24" stroke="#c5ccd6" stroke-width="2"/>'
    ]
    # Krippendorff's rule of thumb: 0.8 to rely on data, 0.667 for tentative conclusions.
    for mark, name in ((0.667, "0.667"), (0.8, "0.8")):
        body.append(
            f'<line x1="{x(mark):.1f}" y1="14" x2="{x(mark):.1f}" y2="34" stroke="#9aa5b1" '
            f'stroke-dasharray="2,2"/><text x="{x(mark):.1f}" y="44" text-anchor="middle" '
            f'font-size="9" fill="#5f6b78">{name}</text>'
        )
    for mark in (-1, 0, 1):
        body.append(
            f'<text x="{x(mark):.1f}" y="44" text-anchor="middle" font-size="9" '
            f'fill="#5f6b78">{mark}</text>'
        )
    if low is not None and high is not None:
        body.append(
            f'<rect x="{x(low):.1f}" y="18" width="{max(2.0, x(high) - x(low)):.1f}" height="12" '
            f'rx="3" fill="#1f5fbf" fill-opacity="0.25"/>'
        )
    if value is not None:
        body.append(
            f'<circle cx="{x(value):.1f}" cy="24" r="6" fill="{_agreement_colour(value)}" '
            f'stroke="#1d232b"/>'
        )
    return _svg(width, height, title, body)


def timeline(title: str, points: Sequence[tuple[datetime, float | None]]) -> SafeString:
    """Alpha over time, one point per finished run, on a 0..1 scale."""
    width, height, pad = 420, 140, 30
    known = [(when, v) for when, v in points if v is not None]
    body = [
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - 10}" y2="{height - pad}" '
        f'stroke="#c5ccd6"/>',
        f'<line x1="{pad}" y1="10" x2="{pad}" y2="{height - pad}" stroke="#c5ccd6"/>',
    ]
    for mark in (0.0, 0.5, 1.0):
        y = height - pad - mark * (height - pad - 10)
        body.append(
            f'<text x="{pad - 6}" y="{y + 3:.1f}" text-anchor="end" font-size="9" '
            f'fill="#5f6b78">{mark:g}</text>'
        )
    if not known:
        body.append(
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" font-size="12" '
            f'fill="#5f6b78">No finished runs yet</text>'
        )
        return _svg(width, height, title, body)
    start, end = known[0][0], known[-1][0]
    span = max((end - start).total_seconds(), 1.0)
    coords = []
    for when, value in known:
        px = (
            pad + ((when - start).total_seconds() / span) * (width - pad - 20)
            if len(known) > 1
            else width / 2
        )
        py = height - pad - max(0.0, min(1.0, value)) * (height - pad - 10)
        coords.append((px, py, when, value))
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{px:.1f},{py:.1f}" for i, (px, py, _, _) in enumerate(coords)
    )
    body.append(f'<path d="{path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    for px, py, when, value in coords:
        body.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="#1f5fbf">'
            f"<title>{when:%d %b %H:%M}: {value:.3f}</title></circle>"
        )
    body.append(
        f'<text x="{pad}" y="{height - 8}" font-size="9" fill="#5f6b78">{start:%d %b}</text>'
        f'<text x="{width - 10}" y="{height - 8}" text-anchor="end" font-size="9" '
        f'fill="#5f6b78">{end:%d %b}</text>'
    )
    return _svg(width, height, title, body)


def pair_matrix(results: dict[str, Any], key: str) -> tuple[list[str], list[list[float | None]]]:
    """A reviewer × reviewer matrix of one pairwise figure (kappa, span F1) of a report."""
    reviewers: list[str] = results["reviewers"]
    where = {name: i for i, name in enumerate(reviewers)}
    matrix: list[list[float | None]] = [[None] * len(reviewers) for _ in reviewers]
    for pair in results["pairs"]:
        i, j = where.get(pair["a"]), where.get(pair["b"])
        if i is not None and j is not None:
            matrix[i][j] = matrix[j][i] = pair[key]
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
