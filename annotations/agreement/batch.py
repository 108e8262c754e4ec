"""Many articles' agreement counts at once, as arrays.

Pure: no Django. matching.py and reliability.py define every figure one
article at a time, in plain Python; this module computes the same counts for
a whole batch of articles (a chunk of a run: hundreds to thousands of them)
with numpy, which is what lets a collection of 300,000 claims be counted in
seconds. tests/agreement/test_agreement_batch.py checks, on random
collections, that every count here equals the one the per-article functions
give.

The input is a `Spans` table, one row per claim, and the reviewers of each
article (`everyone`: those assigned to it and those who marked something).

Matching (match_units) follows matching.match_spans exactly. Candidate pairs
are found for every span at once: sorted by (article, start, end, id), the
spans that overlap span i and come after it are the next ones whose start is
before i's end, found by binary search. The greedy that joins pairs into
units (descending IoU, one span per reviewer, every two spans of a unit
matching) only ever joins spans of one connected component of the graph of
candidate pairs, so each component is decided on its own: a component whose
spans are all of different reviewers and all match each other (a clique, by
far the common case: the reviewers marked the same claim) is one unit, as the
greedy would make it; any other component goes through matching's own greedy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from annotations.agreement.matching import Span as OneSpan
from annotations.agreement.matching import greedy_units
from annotations.agreement.packing import pack_rows

Ints = npt.NDArray[np.int64]

# Columns of a spans table (rows from the database, or from a stored record).
ARTICLE, ID, REVIEWER, START, END, VERDICT, RATING = range(7)
COLUMNS = 7
# A claim still to check has no verdict and no rating: -1 in the table.
MISSING = -1
# (article, reviewer) and (reviewer, reviewer) as one integer: a * KEY + b. Ids are
# database keys, far below 2**31.
KEY = 2**31


@dataclass(frozen=True)
class Spans:
    """Claims of a batch of articles, sorted by (article, start, end, id)."""

    article: Ints
    id: Ints
    reviewer: Ints
    start: Ints
    end: Ints
    verdict: Ints
    rating: Ints

    @classmethod
    def from_rows(cls, rows: npt.ArrayLike) -> Spans:
        table = np.asarray(rows, dtype=np.int64).reshape(-1, COLUMNS)
        if table.size and table[:, START].min() >= 0 and table[:, [END, ID]].max() < KEY:
            # Two keys of two columns each sort faster than four: (article, start)
            # and (end, id), each column below 2**31 (articles counted from the first).
            article = table[:, ARTICLE] - table[:, ARTICLE].min()
            order = np.lexsort(
                (
                    table[:, END] * (2 * KEY) + table[:, ID],
                    article * (2 * KEY) + table[:, START],
                )
            )
        else:
            order = np.lexsort((table[:, ID], table[:, END], table[:, START], table[:, ARTICLE]))
        table = table[order]
        if table.size and np.any(table[:, END] <= table[:, START]):
            bad = int(table[np.flatnonzero(table[:, END] <= table[:, START])[0], ID])
            raise ValueError(f"span {bad} is empty or reversed")
        return cls(*(np.ascontiguousarray(table[:, c]) for c in range(COLUMNS)))

    def __len__(self) -> int:
        return len(self.id)

    def rows(self) -> Ints:
        return np.stack(
            [self.article, self.id, self.reviewer, self.start, self.end, self.verdict, self.rating],
            axis=1,
        )


def match_units(spans: Spans, *, exact: bool, threshold: float) -> Ints:
    """Each span's unit: units numbered 0.. in reading order, article by article.

    The same grouping as matching.match_spans on each article.
    """
    n = len(spans)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    first, second, score = _candidate_pairs(spans, exact=exact, threshold=threshold)
    component = _components(n, first, second)
    # Unit key: the index of a unit's first span (spans are in reading order).
    key = component.copy()
    messy = _messy_components(spans.reviewer, component, first, second)
    if messy.size:
        in_messy = np.isin(component, messy)
        edge_messy = in_messy[first]
        for comp in messy.tolist():
            members = np.flatnonzero(component == comp)
            chosen = edge_messy & (component[first] == comp)
            key[members] = _greedy_keys(
                members, spans, first[chosen], second[chosen], score[chosen]
            )
    # Renumber the keys 0.. in order; keys are span indices, so this is reading order.
    _, unit = np.unique(key, return_inverse=True)
    return unit.astype(np.int64)


def _candidate_pairs(
    spans: Spans, *, exact: bool, threshold: float
) -> tuple[Ints, Ints, npt.NDArray[np.float64]]:
    """Matching pairs (i < j) of different reviewers' spans, and their IoU."""
    n = len(spans)
    # Within an article, a span overlaps the later spans starting before its end.
    # Articles are ranked so one sorted key orders (article, position).
    _, article_rank = np.unique(spans.article, return_inverse=True)
    width = int(max(spans.end.max(), spans.start.max())) + 2
    keys = article_rank.astype(np.int64) * width + spans.start
    limit = np.searchsorted(keys, article_rank.astype(np.int64) * width + spans.end, "left")
    counts = np.maximum(limit - np.arange(1, n + 1), 0)
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    first = np.repeat(np.arange(n, dtype=np.int64), counts)
    # Offsets 1..count for each span's run of pairs.
    starts = np.cumsum(counts) - counts
    offset = np.arange(total, dtype=np.int64) - np.repeat(starts, counts) + 1
    second = first + offset
    keep = spans.reviewer[first] != spans.reviewer[second]
    first, second = first[keep], second[keep]
    if exact:
        same = (spans.start[first] == spans.start[second]) & (spans.end[first] == spans.end[second])
        first, second = first[same], second[same]
        return first, second, np.ones(len(first), dtype=np.float64)
    # first starts no later than second, and they overlap.
    inter = np.minimum(spans.end[first], spans.end[second]) - spans.start[second]
    union = np.maximum(spans.end[first], spans.end[second]) - spans.start[first]
    score = inter / union
    keep = score >= threshold
    return first[keep], second[keep], score[keep]


def _components(n: int, first: Ints, second: Ints) -> Ints:
    """Connected components of the pair graph, each labelled by its smallest index."""
    label = np.arange(n, dtype=np.int64)
    if first.size == 0:
        return label
    while True:
        low = np.minimum(label[first], label[second])
        new = label.copy()
        np.minimum.at(new, first, low)
        np.minimum.at(new, second, low)
        # Pointer jumping: every span takes its label's label.
        new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def _messy_components(reviewer: Ints, component: Ints, first: Ints, second: Ints) -> Ints:
    """Components that are not one unit outright: a reviewer twice, or a pair not matching."""
    n = len(component)
    size = np.bincount(component, minlength=n)
    edges = np.bincount(component[first], minlength=n)
    order = np.lexsort((reviewer, component))
    repeated = (component[order][1:] == component[order][:-1]) & (
        reviewer[order][1:] == reviewer[order][:-1]
    )
    twice = np.zeros(n, dtype=bool)
    twice[component[order][1:][repeated]] = True
    messy = (size > 1) & (twice | (edges != size * (size - 1) // 2))
    return np.flatnonzero(messy).astype(np.int64)


def _greedy_keys(
    members: Ints, spans: Spans, first: Ints, second: Ints, score: npt.NDArray[np.float64]
) -> Ints:
    """matching's greedy on one component: each member's unit key (its first span)."""
    local = {int(g): i for i, g in enumerate(members.tolist())}
    ordered = [
        OneSpan(int(spans.id[g]), int(spans.reviewer[g]), int(spans.start[g]), int(spans.end[g]))
        for g in members.tolist()
    ]
    edges = sorted(
        (-float(s), local[int(i)], local[int(j)])
        for s, i, j in zip(score.tolist(), first.tolist(), second.tolist(), strict=True)
    )
    keys = np.empty(len(members), dtype=np.int64)
    for group in greedy_units(ordered, edges):
        keys[group] = members[group[0]]
    return keys


# Counts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Category positions: verdict ids in the taxonomy's order, and the rating scale."""

    verdicts: tuple[int, ...]
    ratings: tuple[int, ...]


def positions(values: Ints, categories: Sequence[int], what: str) -> Ints:
    """Each value's position among the categories; -1 stays -1 (missing)."""
    if not len(categories):
        if np.any(values != MISSING):
            raise ValueError(f"a {what} was given, but the scale has none")
        return np.full(len(values), MISSING, dtype=np.int64)
    table = np.asarray(categories, dtype=np.int64)
    order = np.argsort(table, kind="stable")
    at = np.searchsorted(table[order], values)
    at = np.minimum(at, len(table) - 1)
    found = table[order][at] == values
    result = np.where(found, order[at], MISSING).astype(np.int64)
    strangers = (values != MISSING) & ~found
    if np.any(strangers):
        raise ValueError(
            f"{int(values[np.flatnonzero(strangers)[0]])!r} is not one of the {what} categories"
        )
    return result


def unit_pairs(unit: Ints, reviewer: Ints) -> tuple[Ints, Ints]:
    """Every two spans of one unit, (x, y) with x's reviewer before y's."""
    order = np.lexsort((reviewer, unit))
    u = unit[order]
    pairs_x: list[Ints] = []
    pairs_y: list[Ints] = []
    lag = 1
    while lag < len(order):
        same = u[lag:] == u[:-lag]
        if not same.any():
            break
        pairs_x.append(order[:-lag][same])
        pairs_y.append(order[lag:][same])
        lag += 1
    if not pairs_x:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(pairs_x), np.concatenate(pairs_y)


@dataclass(frozen=True)
class ArticleInfo:
    id: int
    title: str
    # Characters of its text (code points): the continuum for unitizing.
    length: int
    # Someone marked a claim or submitted a review of it.
    reviewed: bool


def count(
    spans: Spans,
    unit: Ints,
    *,
    everyone: tuple[Ints, Ints],
    articles: Sequence[ArticleInfo],
    scale: Scale,
) -> dict[str, Any]:
    """The batch's counts: what it adds to the collection's sums (contributions.Partial).

    `everyone` is (article, reviewer) rows: the reviewers of each article whose
    agreement counts, those assigned and those who marked something.
    """
    ev_article, ev_reviewer = _everyone(spans, everyone)
    n_units = int(unit.max()) + 1 if unit.size else 0
    unit_article = np.zeros(n_units, dtype=np.int64)
    unit_article[unit] = spans.article
    unit_size = np.bincount(unit, minlength=n_units)
    verdict = positions(spans.verdict, scale.verdicts, "verdict")
    rating = positions(spans.rating, scale.ratings, "rating")
    k, r = len(scale.verdicts), len(scale.ratings)
    verdict_rows = _unit_counts(unit, verdict, n_units, k)
    rating_rows = _unit_counts(unit, rating, n_units, r)
    verdict_pairable = verdict_rows.sum(axis=1) >= 2
    rating_pairable = rating_rows.sum(axis=1) >= 2
    disputed_unit = verdict_pairable & (np.count_nonzero(verdict_rows, axis=1) > 1)

    # Reviewer pairs: every two reviewers of an article, and their spans there.
    reviewers = np.unique(ev_reviewer)
    ev_rank = np.searchsorted(np.unique(ev_article), ev_article)
    p, q = unit_pairs(ev_rank.astype(np.int64), ev_reviewer)
    pair_a, pair_b = ev_reviewer[p], ev_reviewer[q]
    # One integer per (a, b): sorting those is much faster than unique rows.
    pair_codes, pair_index = np.unique(pair_a * KEY + pair_b, return_inverse=True)
    pair_index = pair_index.reshape(-1).astype(np.int64)
    pair_keys = np.stack([pair_codes // KEY, pair_codes % KEY], axis=1).reshape(-1, 2)
    n_pairs = len(pair_keys)
    span_ev = _row_of(ev_article, ev_reviewer, spans.article, spans.reviewer)
    spans_per_ev = np.bincount(span_ev, minlength=len(ev_article))
    spans_a = np.bincount(pair_index, weights=spans_per_ev[p], minlength=n_pairs)
    spans_b = np.bincount(pair_index, weights=spans_per_ev[q], minlength=n_pairs)

    # Two spans of one unit: matched, and their labels side by side.
    x, y = unit_pairs(unit, spans.reviewer)
    xy_pair = _pair_of(pair_keys, spans.reviewer[x], spans.reviewer[y])
    matched = np.bincount(xy_pair, minlength=n_pairs)
    confusion = _pair_matrices(xy_pair, verdict[x], verdict[y], n_pairs, k)
    rating_confusion = _pair_matrices(xy_pair, rating[x], rating[y], n_pairs, r)
    rest = _rest_matrices(
        np.searchsorted(reviewers, spans.reviewer[x]),
        np.searchsorted(reviewers, spans.reviewer[y]),
        verdict[x],
        verdict[y],
        len(reviewers),
        k,
    )
    single = unit_size == 1
    single_reviewer = spans.reviewer[single[unit]]
    unmatched_by = np.unique(single_reviewer, return_counts=True)

    # Per article.
    ids = np.asarray([a.id for a in articles], dtype=np.int64)
    n_articles = len(ids)
    art_of_unit = np.searchsorted(ids, unit_article) if n_articles else unit_article
    if n_articles and not np.array_equal(ids, np.sort(ids)):
        raise ValueError("articles must be given in id order")
    units_per = np.bincount(art_of_unit, minlength=n_articles)
    disputed_per = np.bincount(art_of_unit[disputed_unit], minlength=n_articles)
    single_per = np.bincount(art_of_unit[single], minlength=n_articles)
    reviewers_per = np.bincount(np.searchsorted(ids, ev_article), minlength=n_articles)
    compared = reviewers_per >= 2
    share = np.where(
        compared & (units_per > 0),
        (disputed_per + single_per) / np.maximum(units_per, 1),
        0.0,
    )
    article_rows: dict[str, list[Any]] = {
        str(info.id): [info.id, info.title, sh, u, d, e, info.reviewed, si]
        for info, sh, u, d, e, si in zip(
            articles,
            share.tolist(),
            units_per.tolist(),
            disputed_per.tolist(),
            reviewers_per.tolist(),
            single_per.tolist(),
            strict=True,
        )
    }
    compared_unit = compared[art_of_unit] if n_units else np.zeros(0, dtype=bool)

    # Claim ids of the disputed units, and of the units one reviewer marked alone
    # where someone else reviewed the article too: the lists under the headline.
    # Packed like the unit rows: (unit, claim) per claim of a disputed unit, in
    # reading order and by reviewer; the claim of each unit one reviewer marked.
    order = np.lexsort((spans.reviewer, unit))
    in_disputed = order[disputed_unit[unit[order]]]
    alone = order[(single & compared_unit)[unit[order]]]

    return {
        "v": VERSION,
        "pairs": {
            f"{a}:{b}": [int(matched[i]), int(spans_a[i]), int(spans_b[i])]
            for i, (a, b) in enumerate(pair_keys.tolist())
        },
        "confusion": {
            f"{a}:{b}": confusion[i].tolist() for i, (a, b) in enumerate(pair_keys.tolist())
        },
        "rating_confusion": {
            f"{a}:{b}": rating_confusion[i].tolist() for i, (a, b) in enumerate(pair_keys.tolist())
        },
        "rest": {str(int(reviewer)): rest[i].tolist() for i, reviewer in enumerate(reviewers)},
        "unmatched": {
            str(int(reviewer)): int(n) for reviewer, n in zip(*unmatched_by, strict=True)
        },
        "verdict_counts": pack_rows(
            unit_article[verdict_pairable], verdict_rows[verdict_pairable], k
        ),
        "rating_counts": pack_rows(unit_article[rating_pairable], rating_rows[rating_pairable], r),
        "articles": article_rows,
        "units": n_units,
        "span_units": int(compared_unit.sum()),
        "disputed_count": int(disputed_unit.sum()),
        "single_count": int((single & compared_unit).sum()),
        "disputed": pack_rows(
            unit_article[unit[in_disputed]],
            np.stack([unit[in_disputed], spans.id[in_disputed]], axis=1),
            2,
        ),
        "single": pack_rows(unit_article[unit[alone]], spans.id[alone].reshape(-1, 1), 1),
        "reviewers": {
            str(int(reviewer)): int(n)
            for reviewer, n in zip(*np.unique(ev_reviewer, return_counts=True), strict=True)
        },
        "unitizing": _unitizing(spans, ev_article, ev_reviewer, ids, articles, compared),
    }


# The version of the counts' layout: sums of another version are counted again.
VERSION = 3


def _everyone(spans: Spans, everyone: tuple[Ints, Ints]) -> tuple[Ints, Ints]:
    """(article, reviewer) rows, unique and sorted, with every reviewer who marked a span."""
    article = np.concatenate([np.asarray(everyone[0], dtype=np.int64), spans.article])
    reviewer = np.concatenate([np.asarray(everyone[1], dtype=np.int64), spans.reviewer])
    if not article.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    codes = np.unique(article * KEY + reviewer)
    return codes // KEY, codes % KEY


def _row_of(table_a: Ints, table_b: Ints, a: Ints, b: Ints) -> Ints:
    """The row of (a, b) in a table sorted by (a, b)."""
    if not a.size:
        return np.zeros(0, dtype=np.int64)
    base = int(max(table_b.max(), b.max())) + 1
    keys = table_a * base + table_b
    return np.searchsorted(keys, a * base + b).astype(np.int64)


def _pair_of(pair_keys: Ints, a: Ints, b: Ints) -> Ints:
    if not a.size:
        return np.zeros(0, dtype=np.int64)
    return _row_of(pair_keys[:, 0], pair_keys[:, 1], a, b)


def _unit_counts(unit: Ints, category: Ints, n_units: int, size: int) -> Ints:
    given = category >= 0
    if size == 0:
        return np.zeros((n_units, 0), dtype=np.int64)
    flat = np.bincount(unit[given] * size + category[given], minlength=n_units * size)
    return flat.reshape(n_units, size).astype(np.int64)


def _pair_matrices(pair: Ints, first: Ints, second: Ints, n_pairs: int, size: int) -> Ints:
    both = (first >= 0) & (second >= 0)
    flat = np.bincount(
        (pair[both] * size + first[both]) * size + second[both],
        minlength=n_pairs * size * size,
    )
    return flat.reshape(n_pairs, size, size).astype(np.int64)


def _rest_matrices(
    a: Ints, b: Ints, first: Ints, second: Ints, n_reviewers: int, size: int
) -> Ints:
    """Per reviewer, each pairing of their value with another's, counted both ways round."""
    both = (first >= 0) & (second >= 0)
    a, b, first, second = a[both], b[both], first[both], second[both]
    index = np.concatenate(
        [
            (a * size + first) * size + second,
            (a * size + second) * size + first,
            (b * size + second) * size + first,
            (b * size + first) * size + second,
        ]
    )
    flat = np.bincount(index, minlength=n_reviewers * size * size)
    return flat.reshape(n_reviewers, size, size).astype(np.int64)


def _unitizing(
    spans: Spans,
    ev_article: Ints,
    ev_reviewer: Ints,
    ids: Ints,
    articles: Sequence[ArticleInfo],
    compared: npt.NDArray[np.bool_],
) -> list[float]:
    """unitizing.unitizing_counts for every article compared, summed, as arrays.

    The same numbers as calling unitizing_counts article by article (the tests
    check it): each reviewer's spans merged into claims (overlapping or
    touching spans make one), then a sweep over the claims' ends counts, on
    each stretch of text, how many reviewers have it in a claim.
    """
    if not len(ids) or not compared.any():
        return [0, 0, 0, 0, 0.0]
    lengths = np.asarray([a.length for a in articles], dtype=np.int64)
    members = np.bincount(np.searchsorted(ids, ev_article), minlength=len(ids))
    values = int((members * lengths)[compared].sum())
    # Claims of the compared articles, by (article, reviewer, start).
    at = np.searchsorted(ids, spans.article)
    keep = compared[at]
    at, reviewer = at[keep], spans.reviewer[keep]
    start, end = spans.start[keep], spans.end[keep]
    claimed = squares = 0
    mismatch = 0.0
    if start.size:
        # Spans come in (article, start) order: a stable sort on (article, reviewer)
        # alone keeps each reviewer's spans by start (one key sorts faster than lexsort).
        order = np.argsort(at * KEY + reviewer, kind="stable")
        at, reviewer, start, end = at[order], reviewer[order], start[order], end[order]
        group = np.concatenate(
            [[0], np.cumsum((at[1:] != at[:-1]) | (reviewer[1:] != reviewer[:-1]))]
        )
        # The furthest end so far in the group: group numbers lift each group's
        # ends above every earlier group's, so one running maximum serves all.
        width = int(end.max()) + 1
        reach = np.maximum.accumulate(group * width + end) - group * width
        new = np.ones(len(start), dtype=bool)
        new[1:] = (group[1:] != group[:-1]) | (start[1:] > reach[:-1])
        first = np.flatnonzero(new)
        last = np.concatenate([first[1:], [len(start)]]) - 1
        claim_start, claim_end, claim_at = start[first], reach[last], at[first]
        length = claim_end - claim_start
        claimed = int(length.sum())
        squares = int((length * length).sum())
        # Sweep: +1 where a claim starts, -1 where it ends, per article.
        position = np.concatenate([claim_start, claim_end])
        delta = np.concatenate([np.ones(len(first), np.int64), -np.ones(len(first), np.int64)])
        where = np.concatenate([claim_at, claim_at])
        # By article, then position (the order of events at one position does not
        # change the sum: the stretch between them is empty).
        order = np.argsort(where * (int(position.max()) + 1) + position)
        position, delta, where = position[order], delta[order], where[order]
        covering = np.cumsum(delta)
        stretch = np.zeros(len(position), dtype=np.int64)
        same = where[1:] == where[:-1]
        stretch[:-1] = np.where(same, position[1:] - position[:-1], 0)
        m = members[where].astype(np.float64)
        mismatch = float((stretch * covering * (m - covering) / (m - 1)).sum())
    return [int(compared.sum()), values, claimed, squares, mismatch]
