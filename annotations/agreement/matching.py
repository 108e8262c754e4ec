"""Unitizing: did the reviewers highlight the same claims?

Pure: no Django. For one article version, the spans of every reviewer are
matched one-to-one across reviewers into units. A unit holds at most one span
per reviewer and every span is in exactly one unit; a span that nobody else
matched is a unit of its own.

Two spans of different reviewers *match* when they cover the same characters
(mode "exact") or when their character intersection-over-union is at least
the threshold (mode "overlap", the default, threshold 0.5).

How spans are grouped: a deterministic greedy, not an optimal assignment.
With two reviewers an optimal assignment exists (the Hungarian method), but a
unit may hold the spans of three or more reviewers, and the best grouping of
k reviewers' spans is k-dimensional matching, which is NP-hard. The greedy
takes candidate pairs by descending IoU (ties by the position of the two
spans: start, end, then id) and joins their units when the result still has
one span per reviewer and every two spans in it match (complete linkage), so
no unit chains a span to another it barely touches. On the typical article,
where claims overlap little, the greedy and an optimal assignment agree.

Candidate pairs come from a sweep over the spans sorted by start, which looks
only at spans still open where a span starts: O(n log n + pairs) rather than
O(n²) over all spans of the article.

Reviewer pairs: for two reviewers a and b (in the order of `reviewer_key`),
``matched`` is the number of units holding a span of each, ``spans_a`` and
``spans_b`` their numbers of spans. These counts add up across articles, so
collection figures are computed from sums, never averaged from percentages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

Reviewer = int | str
Mode = Literal["overlap", "exact"]
LabelField = Literal["verdict", "rating"]
Label = str | int
ReviewerPair = tuple[Reviewer, Reviewer]


@dataclass(frozen=True, slots=True)
class Span:
    id: int
    reviewer: Reviewer
    start: int
    # Exclusive, like every offset in the workbench.
    end: int
    # A verdict is a label: its name, or its database id.
    verdict: Label | None = None
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class Unit:
    # Reviewer -> that reviewer's span, in reading order of the spans.
    spans: dict[Reviewer, Span]

    @property
    def start(self) -> int:
        return min(span.start for span in self.spans.values())

    @property
    def end(self) -> int:
        return max(span.end for span in self.spans.values())

    def labels(self, field: LabelField) -> dict[Reviewer, Label | None]:
        """Reviewer -> verdict or rating; None (a claim still to check) is a missing value."""
        if field == "verdict":
            return {reviewer: span.verdict for reviewer, span in self.spans.items()}
        return {reviewer: span.rating for reviewer, span in self.spans.items()}


@dataclass(frozen=True, slots=True)
class PairCounts:
    """Span matching of two reviewers a and b; adding counts pools articles."""

    matched: int = 0
    spans_a: int = 0
    spans_b: int = 0

    def __add__(self, other: PairCounts) -> PairCounts:
        return PairCounts(
            self.matched + other.matched,
            self.spans_a + other.spans_a,
            self.spans_b + other.spans_b,
        )

    @property
    def precision(self) -> float | None:
        """Share of a's spans that b marked too: a's precision with b as the reference."""
        return self.matched / self.spans_a if self.spans_a else None

    @property
    def recall(self) -> float | None:
        """Share of b's spans that a marked too: a's recall with b as the reference."""
        return self.matched / self.spans_b if self.spans_b else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall, 2m / (n_a + n_b): the same both ways."""
        total = self.spans_a + self.spans_b
        return 2 * self.matched / total if total else None


@dataclass(frozen=True, slots=True)
class Matching:
    mode: Mode
    threshold: float
    # In reading order: by the position of each unit's first span.
    units: tuple[Unit, ...]
    # Every pair of reviewers, each pair in `reviewer_key` order.
    pairs: dict[ReviewerPair, PairCounts]
    # Reviewer -> the spans nobody else marked (units of one span).
    unmatched: dict[Reviewer, tuple[Span, ...]]

    @property
    def mean_f1(self) -> float | None:
        return mean_f1(self.pairs)


def reviewer_key(reviewer: Reviewer) -> tuple[int, int, str]:
    """Sort key that orders ids and usernames alike (ints first), so pairs have one spelling."""
    if isinstance(reviewer, int):
        return (0, reviewer, "")
    return (1, 0, reviewer)


def reviewer_pair(a: Reviewer, b: Reviewer) -> ReviewerPair:
    return (a, b) if reviewer_key(a) <= reviewer_key(b) else (b, a)


def iou(a: Span, b: Span) -> float:
    """Character intersection over union of two spans (0.0 when they do not overlap)."""
    intersection = min(a.end, b.end) - max(a.start, b.start)
    if intersection <= 0:
        return 0.0
    return intersection / (max(a.end, b.end) - min(a.start, b.start))


def match_spans(
    spans: Iterable[Span],
    *,
    mode: Mode = "overlap",
    threshold: float = 0.5,
    reviewers: Iterable[Reviewer] | None = None,
) -> Matching:
    """Match one article version's spans across reviewers into units.

    `reviewers` names everyone whose agreement counts on this article, so a
    reviewer who marked nothing still has pairs (with no spans); by default,
    the reviewers who marked something.
    """
    if mode not in ("overlap", "exact"):
        raise ValueError(f"mode must be 'overlap' or 'exact', not {mode!r}")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], not {threshold!r}")
    # Sorting on the spans' own fields makes everything after it independent
    # of the order the caller passed them in; indices into this list are the
    # tie-breaker "by position, then id".
    ordered = sorted(spans, key=lambda span: (span.start, span.end, span.id))
    _check(ordered)
    everyone = _reviewers(ordered, reviewers)

    edges = _candidate_pairs(ordered, exact=mode == "exact", threshold=threshold)
    groups = greedy_units(ordered, edges)
    units = tuple(Unit({ordered[i].reviewer: ordered[i] for i in group}) for group in groups)

    rank = {reviewer: position for position, reviewer in enumerate(everyone)}
    span_counts = dict.fromkeys(everyone, 0)
    for span in ordered:
        span_counts[span.reviewer] += 1
    matched = dict.fromkeys(combinations(everyone, 2), 0)
    unmatched: dict[Reviewer, list[Span]] = {reviewer: [] for reviewer in everyone}
    for unit in units:
        if len(unit.spans) == 1:
            (only,) = unit.spans.values()
            unmatched[only.reviewer].append(only)
            continue
        for a, b in combinations(sorted(unit.spans, key=rank.__getitem__), 2):
            matched[(a, b)] += 1
    pairs = {
        (a, b): PairCounts(count, span_counts[a], span_counts[b])
        for (a, b), count in matched.items()
    }
    return Matching(
        mode=mode,
        threshold=threshold,
        units=units,
        pairs=pairs,
        unmatched={reviewer: tuple(found) for reviewer, found in unmatched.items()},
    )


def sum_pair_counts(
    per_article: Iterable[Mapping[ReviewerPair, PairCounts]],
) -> dict[ReviewerPair, PairCounts]:
    """Pool the pair counts of many articles: the collection's figures."""
    total: dict[ReviewerPair, PairCounts] = {}
    for pairs in per_article:
        for pair, counts in pairs.items():
            key = reviewer_pair(*pair)
            if key != pair:
                # A pair spelled the other way round has its roles swapped.
                counts = PairCounts(counts.matched, counts.spans_b, counts.spans_a)
            total[key] = total.get(key, PairCounts()) + counts
    return dict(sorted(total.items(), key=lambda item: _pair_sort_key(item[0])))


def mean_f1(pairs: Mapping[ReviewerPair, PairCounts]) -> float | None:
    """Mean of the pairs' F1, leaving out pairs where neither reviewer marked anything."""
    scores = [f1 for counts in pairs.values() if (f1 := counts.f1) is not None]
    return sum(scores) / len(scores) if scores else None


def unit_labels(units: Iterable[Unit], field: LabelField) -> list[dict[Reviewer, Label | None]]:
    """The units as reliability data: one reviewer -> label mapping per unit."""
    return [unit.labels(field) for unit in units]


def _pair_sort_key(pair: ReviewerPair) -> tuple[tuple[int, int, str], tuple[int, int, str]]:
    return (reviewer_key(pair[0]), reviewer_key(pair[1]))


def _check(ordered: list[Span]) -> None:
    seen: set[int] = set()
    for span in ordered:
        if span.end <= span.start:
            raise ValueError(f"span {span.id} is empty or reversed: [{span.start}, {span.end})")
        if span.id in seen:
            raise ValueError(f"span id {span.id} appears twice")
        seen.add(span.id)


def _reviewers(ordered: list[Span], reviewers: Iterable[Reviewer] | None) -> list[Reviewer]:
    marked = {span.reviewer for span in ordered}
    if reviewers is None:
        return sorted(marked, key=reviewer_key)
    named = set(reviewers)
    if strangers := marked - named:
        raise ValueError(f"spans by reviewers not listed: {sorted(strangers, key=reviewer_key)}")
    return sorted(named, key=reviewer_key)


def _candidate_pairs(
    ordered: list[Span], *, exact: bool, threshold: float
) -> list[tuple[float, int, int]]:
    """Matching pairs (i < j) of spans of different reviewers, best first.

    Each entry is (-IoU, i, j), so plain tuple order is the greedy's order:
    descending IoU, then by position and id through the indices.
    """
    edges: list[tuple[float, int, int]] = []
    # Spans that started earlier and are still open; a span that ends before
    # the current one starts cannot overlap it or anything after it.
    open_spans: list[int] = []
    for j, span in enumerate(ordered):
        open_spans = [i for i in open_spans if ordered[i].end > span.start]
        for i in open_spans:
            other = ordered[i]
            if other.reviewer == span.reviewer:
                continue
            if exact:
                if other.start == span.start and other.end == span.end:
                    edges.append((-1.0, i, j))
                continue
            # other.start <= span.start, and they overlap, so these are the
            # intersection and the union without min/max over both starts.
            score = (min(other.end, span.end) - span.start) / (
                max(other.end, span.end) - other.start
            )
            if score >= threshold:
                edges.append((-score, i, j))
        open_spans.append(j)
    edges.sort()
    return edges


def greedy_units(ordered: list[Span], edges: list[tuple[float, int, int]]) -> list[list[int]]:
    unit_of = list(range(len(ordered)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(ordered))}
    matches = {(i, j) for _, i, j in edges}
    for _, i, j in edges:
        first, second = unit_of[i], unit_of[j]
        if first == second:
            continue
        left, right = members[first], members[second]
        if {ordered[x].reviewer for x in left} & {ordered[y].reviewer for y in right}:
            continue
        if not all((min(x, y), max(x, y)) in matches for x in left for y in right):
            continue
        keep, gone = (first, second) if first < second else (second, first)
        for x in members[gone]:
            unit_of[x] = keep
        members[keep] = sorted(members[keep] + members.pop(gone))
    # A unit's key is its first span's index, so sorting by it is reading order.
    return [members[key] for key in sorted(members)]
