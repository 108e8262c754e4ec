"""Cut an article's text into paragraphs and segments under highlights.

Pure: no Django. Every place where a highlight starts or ends, and every
paragraph edge, is a cut; between two cuts the set of covering claims is
constant, so overlapping and nested highlights become flat segments that each
know which claims cover them. A highlight that crosses a paragraph break is
split into one run of segments per paragraph.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from annotations.core.text import paragraph_spans


@dataclass(frozen=True, slots=True)
class Span:
    id: int
    start: int
    end: int


@dataclass(slots=True)
class Segment:
    start: int
    end: int
    # Covering claims, outermost (earliest start, then longest) first.
    claims: tuple[int, ...] = ()


@dataclass(slots=True)
class Paragraph:
    index: int
    start: int
    end: int
    segments: list[Segment] = field(default_factory=list)


def segment(text: str, spans: Iterable[Span]) -> list[Paragraph]:
    paragraphs = [Paragraph(i, s, e) for i, (s, e) in enumerate(paragraph_spans(text))]
    if not paragraphs:
        return []
    opens: dict[int, list[Span]] = defaultdict(list)
    closes: dict[int, list[int]] = defaultdict(list)
    for span in spans:
        if span.end > span.start:
            opens[span.start].append(span)
            closes[span.end].append(span.id)
    cuts = sorted(
        set(opens) | set(closes) | {p.start for p in paragraphs} | {p.end for p in paragraphs}
    )
    active: dict[int, Span] = {}
    order: tuple[int, ...] = ()
    current = 0
    for position, next_position in pairwise(cuts):
        changed = False
        for claim_id in closes.get(position, ()):
            active.pop(claim_id, None)
            changed = True
        for span in opens.get(position, ()):
            active[span.id] = span
            changed = True
        if changed:
            order = tuple(
                s.id for s in sorted(active.values(), key=lambda s: (s.start, -s.end, s.id))
            )
        while current < len(paragraphs) and paragraphs[current].end <= position:
            current += 1
        if current == len(paragraphs):
            break
        paragraph = paragraphs[current]
        if paragraph.start <= position and next_position <= paragraph.end:
            paragraph.segments.append(Segment(position, next_position, order))
    return paragraphs


def paragraphs_touching(text: str, start: int, end: int) -> list[int]:
    """Indexes of the paragraphs a span [start, end) lies in."""
    return [
        i
        for i, (p_start, p_end) in enumerate(paragraph_spans(text))
        if p_start < end and start < p_end
    ]
