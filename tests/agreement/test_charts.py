"""The agreement charts as a reader sees them: every label whole, none on top of
another, the time axis in dates that fit, and nothing the page's
Content-Security-Policy or the PDF would refuse.

Label widths are measured with DejaVu Sans (Pillow), a wide font: labels that
do not overlap in it do not overlap in the narrower fonts the page and the PDF
usually get. tests/browser/test_charts.py checks the same in real Chromium.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import combinations
from typing import Any

import pytest
from lxml import etree

from annotations.agreement import charts

SVG = "{http://www.w3.org/2000/svg}"

VERDICTS = [
    "False",
    "Mostly false",
    "Missing context",
    "Half true",
    "Mostly true",
    "True",
    "Misleading",
    "Unverifiable",
]
REVIEWERS = ["Reviewer 1", "Reviewer 2", "Nomvula Dlamini-Hartmann", "Reviewer 4"]
MANY_REVIEWERS = [f"Reviewer {i}" for i in range(1, 13)] + ["Nomvula Dlamini-Hartmann"]
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SECOND, MINUTE = timedelta(seconds=1), timedelta(minutes=1)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@cache
def font(size: float) -> Any:
    image_font = pytest.importorskip("PIL.ImageFont")
    try:
        return image_font.truetype("DejaVuSans.ttf", size)
    except OSError:
        pytest.skip("no DejaVu Sans to measure labels with (fonts-dejavu-core)")


@dataclass(frozen=True)
class Box:
    """Where a line of a label is drawn: its text, left, top, right and bottom."""

    text: str
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        # Half a unit of slack: touching is not overlapping.
        return (
            self.left < other.right - 0.5
            and other.left < self.right - 0.5
            and self.top < other.bottom - 0.5
            and other.top < self.bottom - 0.5
        )


def parse(svg: str) -> Any:
    return etree.fromstring(svg.encode())


def labels(svg: str) -> list[str]:
    """The words of each <text> of a chart, as a reader (or a screen reader) gets them."""
    return [" ".join("".join(text.itertext()).split()) for text in parse(svg).iter(f"{SVG}text")]


def boxes(svg: str) -> list[Box]:
    """The box of every line of text of a chart, from its position, anchor and font size."""
    found = []
    for text in parse(svg).iter(f"{SVG}text"):
        size = float(text.get("font-size"))
        anchor = text.get("text-anchor", "start")
        x, y = float(text.get("x")), float(text.get("y"))
        lines = [(x, y, text.text or "")]
        if spans := text.findall(f"{SVG}tspan"):
            lines = []
            for span in spans:
                y += float(span.get("dy", 0))
                lines.append((float(span.get("x", x)), y, span.text or ""))
        for left, baseline, line in lines:
            width = font(size).getlength(line.strip())
            left -= {"start": 0, "middle": width / 2, "end": width}[anchor]
            found.append(
                Box(line, left, baseline - 0.8 * size, left + width, baseline + 0.25 * size)
            )
    return found


def overlapping(svg: str) -> list[tuple[str, str]]:
    return [(a.text, b.text) for a, b in combinations(boxes(svg), 2) if a.overlaps(b)]


def outside(svg: str) -> list[str]:
    """Labels that run past the chart's edges, where the browser cuts them off."""
    root = parse(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    return [
        box.text
        for box in boxes(svg)
        if box.left < 0 or box.top < 0 or box.right > width or box.bottom > height
    ]


def kappas(names: list[str]) -> list[list[float | None]]:
    return [
        [1.0 if i == j else 0.1 * ((i + j) % 10) for j in range(len(names))]
        for i in range(len(names))
    ]


def confusion(size: int) -> list[list[float | None]]:
    return [[float((7 * i + 3 * j) % 40) for j in range(size)] for i in range(size)]


def results(reviewers: list[str], verdicts: list[str]) -> dict[str, Any]:
    """A report document (summary.summarize) with these reviewers and verdicts."""
    return {
        "reviewers": reviewers,
        "pairs": [
            {"a": a, "b": b, "kappa": 0.42, "span_f1": 0.8}
            for i, a in enumerate(reviewers)
            for b in reviewers[i + 1 :]
        ],
        "verdict": {"alpha": 0.71, "ci": [0.55, 0.83]},
        "rating": {"alpha": None, "ci": None},
        "confusion": {"labels": verdicts, "matrix": confusion(len(verdicts))},
    }


def runs(count: int, every: timedelta) -> list[tuple[datetime | None, float | None]]:
    return [(START + i * every, 0.4 + 0.5 * i / count) for i in range(count)]


CHARTS = {
    "confusion": lambda: charts.heatmap(
        "Verdict confusion", VERDICTS, VERDICTS, confusion(len(VERDICTS)), counts=True
    ),
    "kappa": lambda: charts.heatmap("Kappa", REVIEWERS, REVIEWERS, kappas(REVIEWERS)),
    "kappa, 13 reviewers": lambda: charts.heatmap(
        "Kappa", MANY_REVIEWERS, MANY_REVIEWERS, kappas(MANY_REVIEWERS)
    ),
    "interval": lambda: charts.interval("Alpha", 0.71, 0.55, 0.83),
    "interval, undefined": lambda: charts.interval("Alpha", None, None, None),
    "timeline, 200 runs an hour apart": lambda: charts.timeline("Over time", runs(200, HOUR)),
    "timeline, 30 runs an hour apart": lambda: charts.timeline("Over time", runs(30, HOUR)),
    "timeline, 60 runs a day apart": lambda: charts.timeline("Over time", runs(60, DAY)),
    "timeline, 30 runs a month apart": lambda: charts.timeline("Over time", runs(30, 30 * DAY)),
    "timeline, 12 runs in an hour": lambda: charts.timeline("Over time", runs(12, 5 * MINUTE)),
    "timeline, one run": lambda: charts.timeline("Over time", runs(1, DAY)),
    "timeline, two runs 20 seconds apart": lambda: charts.timeline(
        "Over time", runs(2, 20 * SECOND)
    ),
    # The first tick is at the start of the axis: its label moves inwards.
    "timeline, from midnight": lambda: charts.timeline(
        "Over time", [(START.replace(hour=0) + n * 10 * MINUTE, 0.5) for n in range(40)]
    ),
}


# Whole labels ------------------------------------------------------------------------


def test_every_verdict_is_written_whole_on_both_axes_of_the_confusion_matrix():
    written = labels(CHARTS["confusion"]())
    for verdict in VERDICTS:
        # Once as a row, once as a column; never "Mostly fal" or "Unverifiab".
        assert written.count(verdict) == 2, (verdict, written)


def test_every_reviewer_is_written_whole_on_both_axes_of_a_pair_heatmap():
    written = labels(CHARTS["kappa"]())
    for name in REVIEWERS:
        assert written.count(name) == 2, (name, written)


def test_each_cell_says_its_whole_row_and_column_when_pointed_at():
    svg = CHARTS["confusion"]()
    titles = {"".join(title.itertext()) for title in parse(svg).iter(f"{SVG}title")}
    assert "Missing context × Unverifiable: 35" in titles


def test_verdict_bars_write_long_verdict_names_whole():
    names = [*VERDICTS, "Needs a correction from the original publisher"]
    svg = charts.bars("Claims per verdict", [(name, 3, "#c0392b") for name in names])
    assert set(names) <= set(labels(svg))
    assert overlapping(svg) == []
    assert outside(svg) == []


# Labels apart and on the chart -------------------------------------------------------


@pytest.mark.parametrize("name", CHARTS)
def test_no_label_overlaps_another(name):
    assert overlapping(CHARTS[name]()) == []


@pytest.mark.parametrize("name", CHARTS)
def test_every_label_is_inside_its_chart(name):
    assert outside(CHARTS[name]()) == []


# The time axis -----------------------------------------------------------------------


def ticks(svg: str) -> list[str]:
    """The time axis's labels: the chart's text less the 0, 0.5 and 1 of the alpha axis."""
    return [label for label in labels(svg) if label not in {"0", "0.5", "1"}]


def test_runs_an_hour_apart_are_marked_by_the_hour_and_the_day_where_it_changes():
    found = ticks(CHARTS["timeline, 30 runs an hour apart"]())
    assert found == ["5 Jan 12:00", "18:00", "6 Jan", "06:00", "12:00"]


def test_runs_a_day_apart_are_marked_by_the_date():
    found = ticks(CHARTS["timeline, 60 runs a day apart"]())
    assert len(found) >= 4
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", tick) for tick in found), found


def test_runs_within_an_hour_are_marked_by_the_minute():
    found = ticks(CHARTS["timeline, 12 runs in an hour"]())
    assert found[0] == "5 Jan 09:00"
    assert len(found) >= 3
    assert all(re.fullmatch(r"\d\d:\d\d", tick) for tick in found[1:]), found


def test_runs_over_years_are_marked_by_month_with_the_year_where_it_changes():
    found = ticks(CHARTS["timeline, 30 runs a month apart"]())
    # The first tick has the year, and so has each January.
    assert re.fullmatch(r"[A-Z][a-z]{2} 2026", found[0])
    assert "Jan 2027" in found
    assert all(re.fullmatch(r"[A-Z][a-z]{2}( \d{4})?", tick) for tick in found), found


def test_a_single_run_is_marked_with_its_date_and_time():
    assert ticks(CHARTS["timeline, one run"]()) == ["5 Jan 2026 09:00"]
    # Runs too close for two ticks: the first, in full.
    assert ticks(CHARTS["timeline, two runs 20 seconds apart"]()) == ["5 Jan 2026 09:00"]


def test_without_runs_the_timeline_says_so():
    assert "No finished runs yet" in labels(charts.timeline("Over time", []))


# What the page and the PDF need -----------------------------------------------------


def test_each_chart_keeps_its_accessible_name():
    drawn = charts.figures_charts(results(REVIEWERS, VERDICTS), runs(5, DAY))
    names = {}
    for key, svg in drawn.items():
        root = parse(svg)
        assert root.get("role") == "img"
        assert root.find(f"{SVG}title").text == root.get("aria-label")
        names[key] = root.get("aria-label")
    # tests/browser and the report find the charts by these names.
    assert names == {
        "verdict_chart": "Verdict alpha with its 95% interval",
        "rating_chart": "Rating alpha with its 95% interval",
        "kappa_heatmap": "Cohen's kappa per pair",
        "f1_heatmap": "Span F1 per pair",
        "confusion_heatmap": "Verdict confusion matrix (pooled over pairs)",
        "timeline": "Verdict alpha over time",
    }


def test_the_charts_hold_nothing_the_policy_or_the_pdf_would_refuse():
    drawn = charts.figures_charts(results(MANY_REVIEWERS, VERDICTS), runs(50, DAY))
    for svg in drawn.values():
        root = parse(svg)
        # No inline style, no stylesheet, no script, nothing fetched, no ids to collide.
        assert root.xpath("//*[local-name()='style' or local-name()='script']") == []
        assert root.xpath("//@style | //@href | //@*[local-name()='href'] | //@id") == []
        assert not any(name.startswith("on") for el in root.iter() for name in el.attrib)


def test_colour_is_not_the_only_carrier_of_a_value():
    written = labels(CHARTS["kappa"]())
    assert written.count("1.00") == len(REVIEWERS)
    assert "0.30" in written
    assert "—" in labels(
        charts.heatmap("Kappa", ["a", "b"], ["a", "b"], [[1.0, None], [None, 1.0]])
    )


def test_names_people_typed_are_escaped():
    svg = charts.heatmap("Kappa", ["<b>Ann</b>"], ["<b>Ann</b>"], [[1.0]])
    assert "<b>" not in svg
    assert "<b>Ann</b>" in labels(svg)
