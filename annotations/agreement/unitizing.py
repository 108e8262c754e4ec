"""Krippendorff's alpha for unitizing: did the reviewers mark the same stretches of text?

Pure: no Django. No IoU threshold and no matching of spans: each article is a
continuum of L characters (code points, the offsets of every span in the
workbench), and each reviewer who reviewed it divides it into claims and the
gaps between them. A reviewer's spans may overlap or nest; what counts is
their union, so a reviewer's *claims* here are the maximal stretches of
characters inside any of their spans (spans that overlap or touch make one
claim, and an empty span marks nothing). A reviewer who reviewed the article
and marked nothing has one gap the length of the text.

Which coefficient. Krippendorff, Mathet, Bouvry & Widlöcher (2016), "On the
reliability of unitizing textual continua: Further developments", Quality &
Quantity 50: 2347-2364, define a family: uα (units and gaps with all their
categories), |uα (the binary distinction between relevant matter, all units
taken together, and the gaps), cuα (the categories of overlapping units only)
and (k)uα (one category's units). "Did the reviewers mark the same stretches"
is |uα. With one category, "claim", |uα and uα are the same number, and cuα
and (k)uα do not apply. We use the 2016 definition, not Krippendorff's
earlier αU (1995, and Content Analysis, 2nd ed., 2004; the one DKPro
Statistics implements), because (a) the 2016 paper replaces it for more than
two observers, where it "turned out to behave not as expected", and an
article here may have three reviewers; (b) its observed disagreement is
simply the characters one reviewer put in a claim and another did not, where
the 1995 one squares the distances between the ends of claims; and (c) it is
built on the coincidence matrix of Krippendorff's alpha, so articles with
different numbers of reviewers pool the way units with missing values do,
and it adds up across articles in five numbers, where the 1995 expected
disagreement pairs every claim with every gap of the whole collection.

The formula, for one category. Each character of an article reviewed by m >= 2
reviewers is a unit of reliability data with m values, claim or gap; for the
collection, the articles are laid end to end (a claim never runs from one
into the next), and articles with fewer than two reviewers add nothing.

    n    = Σ_articles m L                        pairable values
    l_1  = Σ_reviewers |claims|                  values that are claim; l_0 = n - l_1
    o_01 = Σ_articles Σ_characters k (m - k) / (m - 1)
                                                 observed claim-gap coincidences,
                                                 k = reviewers with the character in a claim
    S    = Σ_claims l² + Σ_gaps l = Σ_claims l² + l_0
    e_01 = n l_0 l_1 / (n² - S)                  expected claim-gap coincidences
    |uα  = 1 - D_o / D_e,   D_o = 2 o_01 / n,   D_e = 2 e_01 / n

o_01 is the paper's observed coincidence l_ck of the gap and the claim: the
lengths of intersection of one reviewer's gaps with another's claims, summed
over ordered pairs of reviewers and divided by m - 1. In e_ck = n (l_c l_k -
[c = k] S_c) / (n² - S) a claim is one indivisible value, so it cannot pair
with itself by chance and takes l² out of the possible pairings, while a gap
is divisible matter and takes out l, one per character. With every claim one
character long, S = n and |uα is Krippendorff's nominal alpha over the
characters; longer claims make S larger and chance agreement smaller, so
|uα is never below that character-level alpha.

Additive: `UnitizingCounts` holds n, l_1, Σ_claims l², o_01 and the number of
articles, each a sum over articles, so per-article counts are computed once,
stored, summed, and |uα computed once from the sums in constant time.
`unitizing_counts` works on span boundaries, never on one value per
character: sorting a reviewer's spans merges them into claims, and a sweep
over the claims' ends gives k on each stretch between two ends.

Nothing here raises on data that leaves alpha undefined (no article with two
reviewers, nothing marked, everything marked): alpha is None and the result
says why in `reason`. A span outside [0, L) or with start > end raises
ValueError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from annotations.agreement.matching import Reviewer
from annotations.agreement.reliability import AlphaResult

NO_PAIRABLE_TEXT = "no text reviewed by two or more reviewers"
NOTHING_MARKED = "no reviewer marked anything: expected disagreement is zero"
EVERYTHING_MARKED = "the reviewers marked all of the text: expected disagreement is zero"

# Up to this many spans in an article, a plain sort and sweep beats numpy's
# per-call overhead (an article usually has a few dozen); past it, numpy wins.
_VECTOR_SPANS = 96


@dataclass(frozen=True, slots=True)
class UnitizingCounts:
    """Sums over articles reviewed by two or more reviewers; counts add with +."""

    # Articles reviewed by two or more reviewers.
    continua: int = 0
    # n = Σ m L: one value per character per reviewer.
    values: int = 0
    # l_1: of those values, the ones inside a claim.
    claimed: int = 0
    # Σ l² over every reviewer's claims.
    claim_squares: int = 0
    # o_01 = Σ k (m - k) / (m - 1) over characters: observed claim-gap coincidences.
    mismatch: float = 0.0

    def __add__(self, other: UnitizingCounts) -> UnitizingCounts:
        return UnitizingCounts(
            self.continua + other.continua,
            self.values + other.values,
            self.claimed + other.claimed,
            self.claim_squares + other.claim_squares,
            self.mismatch + other.mismatch,
        )


def unitizing_counts[R: Reviewer](
    length: int, spans_by_reviewer: Mapping[R, Iterable[tuple[int, int]]]
) -> UnitizingCounts:
    """One article's counts: `length` characters, each reviewer's [start, end) spans.

    Every reviewer who reviewed the article is a key, with no spans if they
    marked nothing.
    """
    if length < 0:
        raise ValueError(f"length must be >= 0, not {length}")
    by_reviewer = [sorted(spans) for spans in spans_by_reviewer.values()]
    reviewers = len(by_reviewer)
    if reviewers < 2 or length == 0:
        _check(length, by_reviewer)
        return UnitizingCounts()
    if sum(len(spans) for spans in by_reviewer) > _VECTOR_SPANS:
        claimed, squares, mismatch = _sweep_vectorised(length, by_reviewer)
    else:
        claimed, squares, mismatch = _sweep(length, by_reviewer)
    return UnitizingCounts(
        continua=1,
        values=reviewers * length,
        claimed=claimed,
        claim_squares=squares,
        mismatch=mismatch / (reviewers - 1),
    )


def sum_unitizing_counts(counts: Iterable[UnitizingCounts]) -> UnitizingCounts:
    total = UnitizingCounts()
    for each in counts:
        total = total + each
    return total


def unitizing_alpha_from_counts(counts: UnitizingCounts) -> AlphaResult:
    n = counts.values
    if n <= 0:
        return AlphaResult(None, NO_PAIRABLE_TEXT, "nominal", 0.0, None, None)
    observed = 2 * counts.mismatch / n
    claimed = counts.claimed
    gaps = n - claimed
    if claimed == 0:
        return AlphaResult(None, NOTHING_MARKED, "nominal", float(n), observed, 0.0)
    if gaps == 0:
        return AlphaResult(None, EVERYTHING_MARKED, "nominal", float(n), observed, 0.0)
    # Python integers: n² passes 2**63 at a few billion characters.
    possible_pairs = n * n - counts.claim_squares - gaps
    expected = 2 * gaps * claimed / possible_pairs
    return AlphaResult(1.0 - observed / expected, None, "nominal", float(n), observed, expected)


def unitizing_alpha[R: Reviewer](
    continua: Iterable[tuple[int, Mapping[R, Iterable[tuple[int, int]]]]],
) -> AlphaResult:
    """|uα over (length, reviewer -> spans) articles, pooled as one continuum."""
    return unitizing_alpha_from_counts(
        sum_unitizing_counts(unitizing_counts(length, spans) for length, spans in continua)
    )


# Internals --------------------------------------------------------------------------------


def _sweep(length: int, by_reviewer: list[list[tuple[int, int]]]) -> tuple[int, int, int]:
    """Claimed values, Σ claim², and Σ k (m - k) over characters, by a sweep over claim ends.

    Each reviewer's spans come sorted by start; they are checked on the way.
    """
    claimed = squares = 0
    # +1 where a claim starts and -1 where it ends, every reviewer's together.
    events: list[tuple[int, int]] = []
    for spans in by_reviewer:
        if spans and spans[0][0] < 0:
            raise ValueError(f"span {spans[0]} starts before the text")
        begin = reach = -1
        for start, end in spans:
            if start > end or end > length:
                raise ValueError(f"span [{start}, {end}) is not within [0, {length})")
            if start == end:
                continue
            # A claim closes at a span that starts after all of it has ended.
            if start > reach:
                if reach > begin:
                    claimed += reach - begin
                    squares += (reach - begin) ** 2
                    events += ((begin, 1), (reach, -1))
                begin, reach = start, end
            elif end > reach:
                reach = end
        if reach > begin:
            claimed += reach - begin
            squares += (reach - begin) ** 2
            events += ((begin, 1), (reach, -1))
    events.sort()
    # Between two consecutive ends, `inside` reviewers have the text in a claim.
    reviewers = len(by_reviewer)
    mismatch = inside = previous = 0
    for position, step in events:
        mismatch += (position - previous) * inside * (reviewers - inside)
        inside += step
        previous = position
    return claimed, squares, mismatch


def _sweep_vectorised(
    length: int, by_reviewer: list[list[tuple[int, int]]]
) -> tuple[int, int, int]:
    """The same as `_sweep`, with numpy, for articles with many spans."""
    reviewers = len(by_reviewer)
    pairs = [span for reviewer_spans in by_reviewer for span in reviewer_spans]
    spans = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    owners = np.repeat(np.arange(reviewers), [len(each) for each in by_reviewer])
    _check(length, by_reviewer, spans)
    marked = spans[:, 0] < spans[:, 1]
    spans, owners = spans[marked], owners[marked]
    if not spans.size:
        return 0, 0, 0
    # Laying the reviewers' continua end to end, one character apart, lets a
    # single sort merge every reviewer's spans without merging two reviewers'.
    stride = length + 1
    shift = owners * stride
    begin = spans[:, 0] + shift
    finish = spans[:, 1] + shift
    order = np.argsort(begin, kind="stable")
    begin, finish = begin[order], finish[order]
    reach = np.maximum.accumulate(finish)
    opens = np.empty(begin.size, dtype=bool)
    opens[0] = True
    np.greater(begin[1:], reach[:-1], out=opens[1:])
    first = np.flatnonzero(opens)
    last = np.append(first[1:] - 1, begin.size - 1)
    claim_start, claim_end = begin[first], reach[last]
    claims = claim_end - claim_start
    unshift = (claim_start // stride) * stride
    positions = np.concatenate((claim_start - unshift, claim_end - unshift))
    steps = np.concatenate((np.ones(claims.size, np.int64), -np.ones(claims.size, np.int64)))
    order = np.argsort(positions, kind="stable")
    inside = np.cumsum(steps[order])[:-1]
    stretches = np.diff(positions[order])
    mismatch = int((stretches * inside * (reviewers - inside)).sum())
    return int(claims.sum()), int((claims * claims).sum()), mismatch


def _check(
    length: int,
    by_reviewer: list[list[tuple[int, int]]],
    spans: npt.NDArray[np.int64] | None = None,
) -> None:
    if spans is None:
        pairs = [span for reviewer_spans in by_reviewer for span in reviewer_spans]
        spans = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    bad = (spans[:, 0] < 0) | (spans[:, 0] > spans[:, 1]) | (spans[:, 1] > length)
    if bad.any():
        start, end = spans[np.flatnonzero(bad)[0]]
        raise ValueError(f"span [{start}, {end}) is not within [0, {length})")
