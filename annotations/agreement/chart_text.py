"""How wide a chart's text is, where it wraps, and which time ticks fit on an axis.

The charts are laid out on the server, before any font is loaded, so every
label is given room from an estimate of its width. The estimate uses the
advance widths of DejaVu Sans, wider than the fonts the page (system-ui) and
the PDF (Noto Sans) usually get, so a label has at least the room it needs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise

# DejaVu Sans advance widths of the printable ASCII characters (" " to "~"),
# in thousandths of an em.
ASCII_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
    603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)  # fmt: skip

# Letters of other scripts: about the widest Latin lower case; CJK a full em.
OTHER_WIDTH = 700
WIDE_WIDTH = 1000


def _char_width(char: str) -> int:
    code = ord(char)
    if 32 <= code < 127:
        return ASCII_WIDTHS[code - 32]
    if unicodedata.combining(char) or unicodedata.category(char) in {"Mn", "Me", "Cf"}:
        return 0
    if unicodedata.east_asian_width(char) in {"W", "F"}:
        return WIDE_WIDTH
    # An accented Latin letter is as wide as its letter.
    base = unicodedata.normalize("NFD", char)[0]
    return ASCII_WIDTHS[ord(base) - 32] if 32 <= ord(base) < 127 else OTHER_WIDTH


def text_width(text: str, size: float) -> float:
    """The width of one line of text at a font size, in the same units as the size."""
    return sum(_char_width(char) for char in text) * size / 1000


# Words, and the parts of hyphenated words ("Dlamini-", "Hartmann"): where a label may break.
PIECES = re.compile(r"\S+?-(?=\S)|\S+")


def widest_piece(text: str, size: float) -> float:
    """The width of the longest part of a label no line break can split."""
    return max((text_width(piece, size) for piece in PIECES.findall(text)), default=0.0)


def wrap(text: str, width: float, size: float) -> list[str]:
    """The text in lines no wider than `width`, broken between words or after a hyphen.

    A piece wider than `width` gets a line of its own: nothing is ever cut.
    """
    lines: list[str] = []
    for piece in PIECES.findall(text):
        if lines:
            joined = lines[-1] + ("" if lines[-1].endswith("-") else " ") + piece
            # (A hair of slack: a label exactly as wide as its room fits.)
            if text_width(joined, size) <= width + 0.01:
                lines[-1] = joined
                continue
        lines.append(piece)
    return lines or [""]


# Time axes ---------------------------------------------------------------------------

# The ticks of one step between two times, and the label of a tick given the one before.
Ticks = Callable[[datetime, datetime], Iterator[datetime]]
Label = Callable[[datetime, datetime | None], str]


def _months(when: datetime, months: int) -> datetime:
    index = when.year * 12 + when.month - 1 + months
    return when.replace(year=index // 12, month=index % 12 + 1, day=1)


def _every(step: timedelta, align: Callable[[datetime], datetime]) -> Ticks:
    def ticks(start: datetime, end: datetime) -> Iterator[datetime]:
        when = align(start)
        while when <= end:
            if when >= start:
                yield when
            when += step

    return ticks


def _every_months(months: int) -> Ticks:
    def ticks(start: datetime, end: datetime) -> Iterator[datetime]:
        when = _months(start.replace(hour=0, minute=0, second=0, microsecond=0), 0)
        when = _months(when, -((when.month - 1) % months))
        while when <= end:
            if when >= start:
                yield when
            when = _months(when, months)

    return ticks


def _minutes(n: int) -> Callable[[datetime], datetime]:
    def align(when: datetime) -> datetime:
        floor = when.replace(second=0, microsecond=0)
        return floor - timedelta(minutes=(floor.hour * 60 + floor.minute) % n)

    return align


def _midnight(when: datetime) -> datetime:
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


def _monday(when: datetime) -> datetime:
    return _midnight(when) - timedelta(days=when.weekday())


def _day(when: datetime) -> str:
    return f"{when.day} {when:%b}"


# The label of a tick, given the tick before it (None for the first): the
# larger unit (the day, the year) is written where it changes, not on every tick.
def _clock(when: datetime, before: datetime | None) -> str:
    if before is not None and before.date() == when.date():
        return f"{when:%H:%M}"
    if before is not None and (when.hour, when.minute) == (0, 0):
        return _day(when)
    return f"{_day(when)} {when:%H:%M}"


def _date(when: datetime, before: datetime | None) -> str:
    return f"{_day(when)} {when.year}" if before and before.year != when.year else _day(when)


def _month(when: datetime, before: datetime | None) -> str:
    return f"{when:%b %Y}" if before is None or before.year != when.year else f"{when:%b}"


def _year(when: datetime, before: datetime | None) -> str:
    return str(when.year)


# From the finest step to the coarsest; an axis takes the finest whose labels fit.
TIME_STEPS: list[tuple[timedelta, Ticks, Label]] = [
    *(
        (timedelta(minutes=n), _every(timedelta(minutes=n), _minutes(n)), _clock)
        for n in (1, 5, 15, 30, 60, 180, 360, 720)
    ),
    (timedelta(days=1), _every(timedelta(days=1), _midnight), _date),
    (timedelta(days=2), _every(timedelta(days=2), _midnight), _date),
    (timedelta(days=7), _every(timedelta(days=7), _monday), _date),
    (timedelta(days=14), _every(timedelta(days=14), _monday), _date),
    *((timedelta(days=30 * n), _every_months(n), _month) for n in (1, 3, 6)),
    *((timedelta(days=365 * n), _every_months(12 * n), _year) for n in (1, 2, 5, 10, 25)),
]


@dataclass(frozen=True)
class Tick:
    """A tick of a time axis: its time, its label, and where the label's centre is.

    `centre` is measured from the start of the axis, like the tick; it differs
    from the tick's own position only at the ends, where the label moves
    inwards to stay on the chart.
    """

    when: datetime
    label: str
    centre: float


def time_ticks(
    start: datetime,
    end: datetime,
    *,
    length: float,
    size: float,
    room: tuple[float, float] = (0, 0),
    gap: float = 8,
) -> list[Tick]:
    """Ticks between start and end whose labels fit side by side on an axis `length` long.

    `room` is how far a label may reach past the axis's start and end. The
    finest step whose labels fit is taken, written as its span calls for:
    hours for a day, days for a month, months for a year. The first tick is
    written in full ("3 Mar 09:00", "Jan 2026"), the larger unit again only
    where it changes. Without room for two ticks, just the start, in full.
    """
    span = (end - start).total_seconds()
    only_start = [
        _placed(start, f"{_day(start)} {start.year} {start:%H:%M}", 0, length, size, room)
    ]
    if span <= 0:
        return [
            replace(
                only_start[0], centre=_clamp(length / 2, only_start[0].label, length, size, room)
            )
        ]
    for step, ticks, label in TIME_STEPS:
        # Labels a few characters wide need at least 20 units each.
        if span / step.total_seconds() > length / 20:
            continue
        found: list[Tick] = []
        for when in ticks(start, end):
            text = label(when, found[-1].when if found else None)
            at = (when - start).total_seconds() / span * length
            found.append(_placed(when, text, at, length, size, room))
        if len(found) >= 2 and _fit(found, size, gap):
            return found
    return only_start


def _clamp(at: float, label: str, length: float, size: float, room: tuple[float, float]) -> float:
    half = text_width(label, size) / 2
    return min(max(at, half - room[0]), length + room[1] - half)


def _placed(
    when: datetime, label: str, at: float, length: float, size: float, room: tuple[float, float]
) -> Tick:
    return Tick(when, label, _clamp(at, label, length, size, room))


def _fit(ticks: list[Tick], size: float, gap: float) -> bool:
    """True when no two labels come closer than `gap`."""
    edges = [
        (
            tick.centre - text_width(tick.label, size) / 2,
            tick.centre + text_width(tick.label, size) / 2,
        )
        for tick in ticks
    ]
    return all(left - gap >= right for (_, right), (left, _) in pairwise(edges))
