"""A unit's place in the article: its sentence and paragraph, every reviewer's span marked.

The editor settles a claim in context: whose span is the claim, and what the
sentence around it says. Each reviewer's span is marked with the number of
their row in the unit's table; text is escaped, piece by piece.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from annotations.core.highlights import Span, segment
from annotations.core.text import paragraph_spans, text_direction

# A sentence ends at one of these followed by white space (or the paragraph's end).
SENTENCE_END = re.compile(r"[.!?؟。！？]+[\"'”’»)]*\s")


@dataclass(frozen=True)
class Marked:
    """A reviewer's span, numbered as the unit's table numbers its rows."""

    number: int
    start: int
    end: int
    who: str


@dataclass(frozen=True)
class UnitContext:
    sentence: SafeString
    paragraph: SafeString
    # Of the paragraph's own text: an Arabic paragraph in an English article reads
    # right to left.
    direction: str


def _window(text: str, start: int, end: int, marks: Sequence[Marked]) -> SafeString:
    """text[start:end] as HTML, each reviewer's span in it marked (clipped to the window)."""
    spans = [
        Span(i, max(m.start, start) - start, min(m.end, end) - start)
        for i, m in enumerate(marks)
        if m.start < end and start < m.end
    ]
    piece = text[start:end]
    parts: list[str] = []
    for paragraph in segment(piece, spans):
        for seg in paragraph.segments:
            words = escape(piece[seg.start : seg.end])
            if not seg.claims:
                parts.append(words)
                continue
            covering = sorted((marks[i] for i in seg.claims), key=lambda m: m.number)
            who = escape(" and ".join(m.who for m in covering))
            depth = min(len(covering), 3)
            parts.append(f'<mark class="by by{depth}" title="marked by {who}">{words}</mark>')
            ending = sorted(
                marks[i].number for i in seg.claims if min(marks[i].end, end) - start == seg.end
            )
            if ending:
                parts.append(f'<sup class="by-who">{" ".join(map(str, ending))}</sup>')
        parts.append(" ")
    return mark_safe("".join(parts).rstrip())  # noqa: S308 - every piece of text is escaped


def unit_context(text: str, start: int, end: int, marks: Sequence[Marked]) -> UnitContext:
    """The sentence and the paragraph(s) around [start, end), with the reviewers' spans."""
    touched = [(s, e) for s, e in paragraph_spans(text) if s < end and start < e] or [(start, end)]
    first, last = touched[0][0], touched[-1][1]
    # The sentence: from the end of the previous one to the end of the one the span ends in.
    before = [m.end() for m in SENTENCE_END.finditer(text, first, start)]
    sentence_start = before[-1] if before else first
    after = SENTENCE_END.search(text, max(end - 1, first), last)
    sentence_end = after.end() if after else last
    return UnitContext(
        sentence=_window(text, sentence_start, sentence_end, marks),
        paragraph=_window(text, first, last, marks),
        direction=text_direction(text[first:last]),
    )
