"""W3C Web Annotation selectors built from offsets into an article's text.

Pure: no Django. A highlight is stored with both a TextPositionSelector
(start, end) and a TextQuoteSelector (exact, prefix, suffix), so that it can
be found again when the article text changes: reanchor() and reanchor_all()
do that, as DESIGN.md ("Anchoring") describes. All offsets count code points,
as Python's str does, and ends are exclusive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq, Levenshtein

CONTEXT_CHARS = 32


@dataclass(frozen=True, slots=True)
class TextSelector:
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str


class SpanError(ValueError):
    """Offsets that do not describe a non-empty span of the text."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def selector_for(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> TextSelector:
    """Both selectors for text[start:end]; raises SpanError for a bad span."""
    if start < 0:
        raise SpanError("start", f"Start {start} is before the beginning of the text.")
    if end > len(text):
        raise SpanError("end", f"End {end} is past the end of the text ({len(text)} characters).")
    if end <= start:
        raise SpanError("end", f"End {end} must be greater than start {start}.")
    return TextSelector(
        start=start,
        end=end,
        exact=text[start:end],
        prefix=text[max(0, start - context) : start],
        suffix=text[end : end + context],
    )


# ---------------------------------------------------------------------------
# Re-anchoring: finding a stored highlight again in a changed text.
# ---------------------------------------------------------------------------

Status = Literal["unchanged", "moved", "edited", "orphaned"]

DEFAULT_MAX_EDIT_RATIO = 0.25

# The weights are the ones Hypothesis uses for the same job: the quote itself
# matters most, its context next, and the position only separates candidates
# that are otherwise alike, because edits elsewhere shift it freely.
_QUOTE_WEIGHT = 50.0
_PREFIX_WEIGHT = 20.0
_SUFFIX_WEIGHT = 20.0
_POSITION_WEIGHT = 2.0
_TOTAL_WEIGHT = _QUOTE_WEIGHT + _PREFIX_WEIGHT + _SUFFIX_WEIGHT + _POSITION_WEIGHT

# A quote shorter than these, found away from its old offsets, exactly or
# approximately, must keep at least _CONTEXT_SUPPORT of its stored context (see
# _Reanchorer._plausible). Unrelated English contexts have a median similarity
# of about 0.35 and reach 0.5 about once in a hundred, while one intact side
# alone brings the mean to about 0.67.
_SHORT_EXACT = CONTEXT_CHARS
_SHORT_APPROXIMATE = 2 * CONTEXT_CHARS
_CONTEXT_SUPPORT = 0.6

# rapidfuzz's partial_ratio is bit-parallel, and fast, for quotes of up to 64
# characters; for longer ones it costs more than the scan it would save.
_PARTIAL_RATIO_MAX = 64


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a highlight landed in the new text.

    unchanged: the exact quote is still at its old offsets (its context may have
    changed: the score tells). moved: the exact quote, at other offsets.
    edited: an approximate match; quote is the new text of the span, which
    differs from the stored one. orphaned: nothing good enough; start, end and
    quote are None, and the caller keeps the annotation and its old selector.

    score is in [0, 1]: the similarity of the quote, the prefix and the suffix,
    and the nearness to the expected position, weighted; 1.0 for a highlight
    whose quote and context are untouched in a text of unchanged length.
    """

    status: Status
    start: int | None
    end: int | None
    quote: str | None
    score: float

    @property
    def found(self) -> bool:
        return self.status != "orphaned"


_ORPHAN = Anchor(status="orphaned", start=None, end=None, quote=None, score=0.0)


def reanchor(
    new_text: str,
    selector: TextSelector,
    *,
    max_edit_ratio: float = DEFAULT_MAX_EDIT_RATIO,
    old_length: int | None = None,
) -> Anchor:
    """Find the highlight described by selector in new_text.

    Tries the old offsets, then every exact occurrence of the quote, then
    approximate matches within max_edit_ratio * len(quote) edits (Levenshtein).
    old_length, the length of the text the selector was made on, lets the
    position that breaks ties follow the document's change in length.
    """
    return _Reanchorer(new_text, max_edit_ratio).anchor(selector, old_length)


def reanchor_all(
    new_text: str,
    selectors: Iterable[TextSelector],
    *,
    max_edit_ratio: float = DEFAULT_MAX_EDIT_RATIO,
    old_length: int | None = None,
) -> list[Anchor]:
    """reanchor() for many selectors on the same text; the anchors come in their order.

    What depends only on the text or on the quote is shared between the
    selectors: the chunking of the text for the approximate search, and the
    matches of a quote that several reviewers highlighted.
    """
    reanchorer = _Reanchorer(new_text, max_edit_ratio)
    return [reanchorer.anchor(selector, old_length) for selector in selectors]


def reanchored_selector(
    new_text: str, anchor: Anchor, context: int = CONTEXT_CHARS
) -> TextSelector | None:
    """The selector to store for a found anchor; None for an orphan, which keeps its old one."""
    if anchor.start is None or anchor.end is None:
        return None
    return selector_for(new_text, anchor.start, anchor.end, context)


class _Reanchorer:
    """Re-anchors selectors in one text, caching what selectors can share."""

    def __init__(self, text: str, max_edit_ratio: float) -> None:
        if not 0.0 <= max_edit_ratio < 1.0:
            # At 1 or more, any quote would match some span of any text.
            raise ValueError(
                f"max_edit_ratio must be at least 0 and below 1, not {max_edit_ratio}."
            )
        self.text = text
        self.max_edit_ratio = max_edit_ratio
        self._occurrences: dict[str, list[int]] = {}
        self._approximate: dict[tuple[str, int], list[tuple[int, int]]] = {}
        self._chunks: dict[int, list[str]] = {}
        self._anchors: dict[tuple[TextSelector, int | None], Anchor] = {}

    def anchor(self, selector: TextSelector, old_length: int | None) -> Anchor:
        # Several reviewers often highlight the very same span, and identical
        # selectors get identical anchors.
        key = (selector, old_length)
        found = self._anchors.get(key)
        if found is None:
            found = self._anchor(selector, old_length)
            self._anchors[key] = found
        return found

    def _anchor(self, selector: TextSelector, old_length: int | None) -> Anchor:
        text, exact = self.text, selector.exact
        if not exact:
            return _ORPHAN
        old_span = (selector.start, selector.end)
        # Without better knowledge, edits are taken to be spread evenly through
        # the document, so the span moves in proportion to its change in length.
        expected = selector.start
        if old_length:
            expected = round(selector.start * len(text) / old_length)

        at_old_span = selector.start >= 0 and text[selector.start : selector.end] == exact
        if at_old_span:
            before = text[max(0, selector.start - len(selector.prefix)) : selector.start]
            after = text[selector.end : selector.end + len(selector.suffix)]
            if before == selector.prefix and after == selector.suffix:
                return self._found("unchanged", selector, *old_span, expected)

        occurrences = self._exact_occurrences(exact)
        if occurrences:
            # The context decides. The old offsets, and then nearness to the
            # expected position, only break ties: a quote whose context changed
            # stays where it was unless the same words sit elsewhere in a
            # context closer to the stored one.
            def exact_rank(start: int) -> tuple[float, bool, int, int]:
                end = start + len(exact)
                prefix_score, suffix_score = self._context_scores(selector, start, end)
                return (
                    round(prefix_score + suffix_score, 9),
                    (start, end) == old_span,
                    -abs(start - expected),
                    -start,
                )

            start = max(occurrences, key=exact_rank)
            end = start + len(exact)
            if (start, end) != old_span and self._plausible(selector, start, end, _SHORT_EXACT):
                return self._found("moved", selector, start, end, expected)
            if at_old_span:
                return self._found("unchanged", selector, *old_span, expected)
            # A short quote found only in foreign contexts is most likely the
            # same few words used elsewhere, while the highlighted ones were
            # edited or deleted: the approximate search decides.

        max_edits = _max_edits(len(exact), self.max_edit_ratio)
        candidates = [
            span
            for span in (self._approximate_matches(exact, max_edits) if max_edits else [])
            if self._plausible(selector, *span, _SHORT_APPROXIMATE)
        ]
        if not candidates:
            return _ORPHAN

        def approximate_rank(span: tuple[int, int]) -> tuple[float, int, int]:
            return (
                round(self._score(selector, *span, expected), 9),
                -abs(span[0] - expected),
                -span[0],
            )

        start, end = max(candidates, key=approximate_rank)
        return self._found("edited", selector, start, end, expected)

    def _found(
        self, status: Status, selector: TextSelector, start: int, end: int, expected: int
    ) -> Anchor:
        return Anchor(
            status=status,
            start=start,
            end=end,
            quote=self.text[start:end],
            score=self._score(selector, start, end, expected),
        )

    def _score(self, selector: TextSelector, start: int, end: int, expected: int) -> float:
        quote, exact = self.text[start:end], selector.exact
        quote_score = 1.0 - Levenshtein.distance(exact, quote) / max(len(exact), len(quote))
        prefix_score, suffix_score = self._context_scores(selector, start, end)
        position_score = max(0.0, 1.0 - abs(start - expected) / max(1, len(self.text)))
        total = (
            _QUOTE_WEIGHT * quote_score
            + _PREFIX_WEIGHT * prefix_score
            + _SUFFIX_WEIGHT * suffix_score
            + _POSITION_WEIGHT * position_score
        )
        return total / _TOTAL_WEIGHT

    def _context_scores(self, selector: TextSelector, start: int, end: int) -> tuple[float, float]:
        """How much of the stored prefix and suffix surround text[start:end], each in [0, 1].

        The longest common subsequence, rather than the longest common affix,
        so that a changed comma next to the quote does not hide an otherwise
        intact context. An empty stored side (a span at the edge of the old
        text) is no evidence either way and scores 1.
        """
        prefix, suffix = selector.prefix, selector.suffix
        prefix_score = suffix_score = 1.0
        if prefix:
            before = self.text[max(0, start - len(prefix)) : start]
            prefix_score = LCSseq.similarity(prefix, before) / len(prefix)
        if suffix:
            after = self.text[end : end + len(suffix)]
            suffix_score = LCSseq.similarity(suffix, after) / len(suffix)
        return prefix_score, suffix_score

    def _plausible(self, selector: TextSelector, start: int, end: int, short: int) -> bool:
        """Whether a span away from the old offsets may be the highlight.

        A quote of short characters or more is evidence enough: a clause found
        exactly, or a longer passage within a quarter of edits. A shorter one
        occurs, exactly or within a few edits, in many places of a long
        article, and a highlight silently put on the wrong words is worse than
        an orphan, which the reader shows for review; so the span must also
        keep its context: the mean score of the stored sides must reach
        _CONTEXT_SUPPORT. Sides that were empty in the old text are left out.
        """
        if len(selector.exact) >= short:
            return True
        prefix_score, suffix_score = self._context_scores(selector, start, end)
        sides = [
            score
            for score, stored in ((prefix_score, selector.prefix), (suffix_score, selector.suffix))
            if stored
        ]
        return not sides or sum(sides) / len(sides) >= _CONTEXT_SUPPORT

    def _exact_occurrences(self, exact: str) -> list[int]:
        found = self._occurrences.get(exact)
        if found is None:
            found = []
            position = self.text.find(exact)
            while position != -1:
                found.append(position)
                # Occurrences may overlap ("aa" twice in "aaa"), so step by one.
                position = self.text.find(exact, position + 1)
            self._occurrences[exact] = found
        return found

    def _approximate_matches(self, exact: str, max_edits: int) -> list[tuple[int, int]]:
        """Spans within max_edits (Levenshtein) of exact: the best one around each local best end.

        The spans are max_edits characters longer or shorter than the quote at
        most, and never empty (max_edits < len(exact)).
        """
        found = self._approximate.get((exact, max_edits))
        if found is None:
            spans: set[tuple[int, int]] = set()
            for low, high in self._candidate_regions(exact, max_edits):
                ends = dict(_match_ends(exact, self.text[low:high], max_edits))
                for end, distance in ends.items():
                    # Only the local minima: the ends next to a good one are
                    # mostly the same match with a character more or less.
                    if distance <= ends.get(end - 1, distance) and distance <= ends.get(
                        end + 1, distance
                    ):
                        spans.add(self._best_start(exact, low, low + end, distance))
            found = sorted(spans)
            self._approximate[exact, max_edits] = found
        return found

    def _candidate_regions(self, exact: str, max_edits: int) -> list[tuple[int, int]]:
        """The parts of the text that may hold a span within max_edits of exact.

        Scanning a long article in Python for every selector would be slow, so
        the text is cut into overlapping chunks such that each span as long as
        a match can be lies whole in one chunk, and rapidfuzz, in C, discards
        the chunks that cannot hold a match: a span within d edits keeps at
        least len(exact) - d characters of the quote in order, so the chunk's
        longest common subsequence with the quote is at least that long.
        """
        length = len(exact)
        width = _chunk_width(length + max_edits)
        # Chunks of size characters, step apart: a span of up to width
        # characters that starts in a chunk's first step characters ends inside
        # it. Half a width apart is the measured sweet spot: wider chunks let
        # more through the filter, narrower ones cost more to filter.
        step = (width + 1) // 2
        size = width + step - 1
        chunks = self._chunks.get(width)
        if chunks is None:
            chunks = [self.text[i : i + size] for i in range(0, len(self.text), step)]
            self._chunks[width] = chunks
        hits = process.extract(
            exact, chunks, scorer=LCSseq.similarity, score_cutoff=length - max_edits, limit=None
        )
        indexes = sorted(index for _, _, index in hits)
        if length <= _PARTIAL_RATIO_MAX:
            # A tighter filter for short quotes, whose chunks pass the first one
            # often: a span within d edits lies in, or contains, a window of
            # len(exact) characters within 2d insertions and deletions of the
            # quote, so the chunk's partial_ratio (its best such window) is at
            # least 100 * (1 - d / len(exact)). This needs a chunk at least as
            # long as the quote, which only the last ones may not be.
            cutoff = 100.0 * (1.0 - max_edits / length) - 1e-6
            indexes = [
                index
                for index in indexes
                if len(chunks[index]) < length
                or fuzz.partial_ratio(exact, chunks[index], score_cutoff=cutoff) > 0.0
            ]
        # Neighbouring chunks overlap, so the ones left are merged into regions
        # and each region is scanned once.
        regions: list[tuple[int, int]] = []
        for index in indexes:
            low, high = index * step, min(len(self.text), index * step + size)
            if regions and low <= regions[-1][1]:
                regions[-1] = (regions[-1][0], high)
            else:
                regions.append((low, high))
        return regions

    def _best_start(self, exact: str, low: int, end: int, distance: int) -> tuple[int, int]:
        """The best span that ends at end, starts at low or later and is distance edits away.

        Such a span is at most distance characters longer or shorter than the
        quote. Among the starts that reach the distance, the one whose span is
        closest to the quote's length wins, then the later (shorter) one, so a
        match does not swallow or drop characters that cost nothing extra.
        """
        length = len(exact)

        def rank(start: int) -> tuple[int, int, int]:
            cost = Levenshtein.distance(exact, self.text[start:end], score_cutoff=distance)
            return cost, abs(end - start - length), -start

        # The range holds the start of the span _match_ends measured, and as
        # distance < length, every start in it leaves a non-empty span.
        starts = range(max(low, end - length - distance), end - length + distance + 1)
        return min(starts, key=rank), end


def _max_edits(length: int, ratio: float) -> int:
    # The epsilon keeps 0.29 * 100 from flooring to 28; the cap keeps a match
    # at least one character long, whatever the ratio.
    return max(0, min(math.floor(ratio * length + 1e-9), length - 1))


def _chunk_width(longest: int) -> int:
    """A chunk width for matches of up to longest characters.

    Widths come from a short ladder (8, 12, 16, 24, 32, 48, ...), so that quotes
    of similar lengths share one chunking of the text, for chunks at most half
    again as wide as they need to be.
    """
    width = 8
    while width < longest:
        width = width * 3 // 2 if width & (width - 1) == 0 else width * 4 // 3
    return width


def _match_ends(pattern: str, text: str, max_edits: int) -> list[tuple[int, int]]:
    """(end, distance) for every end of text where some span ending there is within max_edits.

    distance is the least Levenshtein distance between pattern and a span of
    text ending at end (exclusive). Myers' bit-parallel algorithm (1999), with
    Python's unbounded integers as bit vectors: one pass over the text,
    whatever the pattern's length.
    """
    length = len(pattern)
    masks: dict[str, int] = {}
    for i, char in enumerate(pattern):
        masks[char] = masks.get(char, 0) | (1 << i)
    get = masks.get
    full = (1 << length) - 1
    last_row = 1 << (length - 1)
    vertical_plus, vertical_minus = full, 0
    score = length
    ends: list[tuple[int, int]] = []
    for end, char in enumerate(text, start=1):
        equal = get(char, 0)
        xv = equal | vertical_minus
        xh = (((equal & vertical_plus) + vertical_plus) ^ vertical_plus) | equal
        # full ^ x is ~x within the pattern's bits; a bit carried above them
        # is shifted out below before it can matter.
        horizontal_plus = vertical_minus | (full ^ (xh | vertical_plus))
        horizontal_minus = vertical_plus & xh
        if horizontal_plus & last_row:
            score += 1
        elif horizontal_minus & last_row:
            score -= 1
        # Nothing is shifted into the first row: a match may start anywhere.
        horizontal_plus = (horizontal_plus << 1) & full
        horizontal_minus = (horizontal_minus << 1) & full
        vertical_plus = horizontal_minus | (full ^ (xv | horizontal_plus))
        vertical_minus = horizontal_plus & xv
        if score <= max_edits:
            ends.append((end, score))
    return ends
