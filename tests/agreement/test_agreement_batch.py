"""The batch counts equal, number for number, what the per-article functions give.

batch.py counts hundreds of articles at once with numpy; matching.match_spans
and the reliability functions define each figure one article at a time. On
random collections (overlapping and nested spans, a reviewer marking the same
claim twice, claims still to check, reviewers assigned who marked nothing,
articles nobody marked) every count must agree.
"""

from __future__ import annotations

import base64
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.agreement import batch
from annotations.agreement.matching import Span, match_spans, unit_labels
from annotations.agreement.packing import merge_rows, pack_rows, unpack_rows
from annotations.agreement.reliability import (
    pair_confusion_matrices,
    rest_coincidences,
    value_counts,
)
from annotations.agreement.unitizing import UnitizingCounts, unitizing_counts

VERDICTS = (11, 12, 13, 14)
RATINGS = (1, 2, 3, 4, 5)
SCALE = batch.Scale(VERDICTS, RATINGS)


def random_collection(rng: random.Random, articles: int, reviewers: int = 3):
    """Spans rows, (article, reviewer) assignments and article infos."""
    rows, assigned, infos = [], [], []
    claim = 1000
    for article in range(1, articles + 1):
        length = rng.randint(50, 400)
        team = rng.sample(range(101, 101 + reviewers + 1), rng.randint(1, reviewers))
        assigned += [(article, r) for r in team]
        sites = [
            (s, min(length, s + rng.randint(3, 40)))
            for s in (rng.randint(0, length - 4) for _ in range(rng.randint(0, 8)))
        ]
        for r in team:
            if rng.random() < 0.1:
                continue  # assigned, marked nothing
            for start, end in sites:
                if rng.random() < 0.25:
                    continue
                start = max(0, start + rng.choice([-3, 0, 0, 2]))
                end = max(start + 1, min(length, end + rng.choice([-2, 0, 0, 4])))
                claim += 1
                verdict = rng.choice([*VERDICTS, VERDICTS[0], -1])
                rating = rng.choice([*RATINGS, -1])
                rows.append((article, claim, r, start, end, verdict, rating))
                if rng.random() < 0.05:
                    # The same reviewer marks an overlapping passage again.
                    claim += 1
                    rows.append((article, claim, r, start + 1, end + 2, verdict, rating))
        # Someone marked a claim without being assigned.
        if rng.random() < 0.1:
            claim += 1
            rows.append((article, claim, 199, 0, 5, VERDICTS[1], 3))
        infos.append(batch.ArticleInfo(article, f"A{article}", length + 10, True))
    return rows, assigned, infos


def per_article(rows, assigned, infos, *, exact: bool, threshold: float):
    """Every count, article by article, with the per-article functions."""
    totals: dict = {
        "pairs": Counter(),
        "confusion": {},
        "rating_confusion": {},
        "rest": {},
        "unmatched": Counter(),
        "verdict_rows": [],
        "rating_rows": [],
        "articles": {},
        "units": 0,
        "unitizing": UnitizingCounts(),
    }
    for info in infos:
        spans = [
            Span(c, r, s, e, None if v < 0 else v, None if g < 0 else g)
            for a, c, r, s, e, v, g in rows
            if a == info.id
        ]
        everyone = sorted({r for a, r in assigned if a == info.id} | {s.reviewer for s in spans})
        matching = match_spans(
            spans, mode="exact" if exact else "overlap", threshold=threshold, reviewers=everyone
        )
        verdicts = unit_labels(matching.units, "verdict")
        ratings = unit_labels(matching.units, "rating")
        for (a, b), counts in matching.pairs.items():
            totals["pairs"][(a, b)] += np.array([counts.matched, counts.spans_a, counts.spans_b])
        for field, labels, scale in (
            ("confusion", verdicts, VERDICTS),
            ("rating_confusion", ratings, RATINGS),
        ):
            for pair, matrix in pair_confusion_matrices(labels, scale, everyone).items():
                totals[field][pair] = totals[field].get(pair, 0) + matrix
        for reviewer, coincidences in rest_coincidences(verdicts, VERDICTS, everyone).items():
            totals["rest"][reviewer] = totals["rest"].get(reviewer, 0) + coincidences
        for reviewer, lonely in matching.unmatched.items():
            if lonely:
                totals["unmatched"][reviewer] += len(lonely)
        vc = value_counts(verdicts, VERDICTS)
        rc = value_counts(ratings, RATINGS)
        pairable = vc[vc.sum(axis=1) >= 2] if vc.size else np.zeros((0, len(VERDICTS)))
        totals["verdict_rows"] += [(info.id, list(row)) for row in pairable]
        if rc.size:
            totals["rating_rows"] += [(info.id, list(row)) for row in rc[rc.sum(axis=1) >= 2]]
        disputed = sum(1 for row in pairable if np.count_nonzero(row) > 1)
        single = sum(1 for unit in matching.units if len(unit.spans) == 1)
        units = len(matching.units)
        totals["articles"][str(info.id)] = [
            info.id,
            info.title,
            (disputed + single) / units if units and len(everyone) > 1 else 0.0,
            units,
            disputed,
            len(everyone),
            info.reviewed,
            single,
        ]
        totals["units"] += units
        if len(everyone) >= 2:
            marked = {r: [(s.start, s.end) for s in spans if s.reviewer == r] for r in everyone}
            totals["unitizing"] = totals["unitizing"] + unitizing_counts(info.length, marked)
    return totals


def check(rows, assigned, infos, *, exact=False, threshold=0.5):
    spans = batch.Spans.from_rows(rows)
    unit = batch.match_units(spans, exact=exact, threshold=threshold)
    got = batch.count(
        spans,
        unit,
        everyone=(np.array([a for a, _ in assigned]), np.array([r for _, r in assigned])),
        articles=infos,
        scale=SCALE,
    )
    want = per_article(rows, assigned, infos, exact=exact, threshold=threshold)

    assert got["pairs"] == {f"{a}:{b}": [int(x) for x in v] for (a, b), v in want["pairs"].items()}
    for field in ("confusion", "rating_confusion"):
        assert got[field] == {f"{a}:{b}": m.tolist() for (a, b), m in want[field].items()}
    assert got["rest"] == {str(r): m.astype(int).tolist() for r, m in want["rest"].items()}
    assert got["unmatched"] == {str(r): n for r, n in want["unmatched"].items()}
    ids, verdict_rows = unpack_rows(got["verdict_counts"], len(VERDICTS))
    assert list(zip(ids.tolist(), verdict_rows.tolist(), strict=True)) == [
        (a, [int(x) for x in row]) for a, row in want["verdict_rows"]
    ]
    ids, rating_rows = unpack_rows(got["rating_counts"], len(RATINGS))
    assert list(zip(ids.tolist(), rating_rows.tolist(), strict=True)) == [
        (a, [int(x) for x in row]) for a, row in want["rating_rows"]
    ]
    assert got["articles"] == want["articles"]
    assert got["units"] == want["units"]
    u = want["unitizing"]
    assert got["unitizing"][:4] == [u.continua, u.values, u.claimed, u.claim_squares]
    assert got["unitizing"][4] == pytest.approx(u.mismatch, abs=1e-9)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(("exact", "threshold"), [(False, 0.5), (False, 0.2), (True, 1.0)])
def test_batch_counts_equal_the_per_article_functions(seed, exact, threshold):
    rows, assigned, infos = random_collection(random.Random(seed), articles=40)
    check(rows, assigned, infos, exact=exact, threshold=threshold)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10**9), articles=st.integers(1, 6), reviewers=st.integers(1, 4))
def test_batch_counts_equal_the_per_article_functions_on_any_collection(seed, articles, reviewers):
    rows, assigned, infos = random_collection(random.Random(seed), articles, reviewers)
    check(rows, assigned, infos, threshold=random.Random(seed).choice([0.1, 0.5, 0.9]))


def test_crowded_articles_go_through_the_greedy_and_still_agree():
    # Many reviewers marking nested and chained passages: components that are
    # not one unit outright, where the per-component greedy decides.
    rng = random.Random(7)
    rows, assigned, infos = [], [], []
    claim = 0
    for article in range(1, 30):
        team = list(range(1, 7))
        assigned += [(article, r) for r in team]
        for r in team:
            for _ in range(rng.randint(1, 6)):
                start = rng.randint(0, 60)
                claim += 1
                rows.append((article, claim, r, start, start + rng.randint(5, 40), 11, 2))
        infos.append(batch.ArticleInfo(article, "", 120, True))
    spans = batch.Spans.from_rows(rows)
    first, second, _ = batch._candidate_pairs(spans, exact=False, threshold=0.3)
    messy = batch._messy_components(
        spans.reviewer, batch._components(len(spans), first, second), first, second
    )
    assert messy.size > 0
    check(rows, assigned, infos, threshold=0.3)


def test_the_units_of_a_batch_are_the_units_of_each_article():
    rows, _, infos = random_collection(random.Random(3), articles=30)
    spans = batch.Spans.from_rows(rows)
    unit = batch.match_units(spans, exact=False, threshold=0.5)
    for info in infos:
        mine = spans.article == info.id
        groups: dict[int, list[int]] = {}
        for u, c in zip(unit[mine].tolist(), spans.id[mine].tolist(), strict=True):
            groups.setdefault(u, []).append(c)
        article_spans = [Span(c, r, s, e) for a, c, r, s, e, _, _ in rows if a == info.id]
        matching = match_spans(article_spans, mode="overlap", threshold=0.5)
        assert list(groups.values()) == [
            [s.id for s in sorted(unit_.spans.values(), key=lambda s: (s.start, s.end, s.id))]
            for unit_ in matching.units
        ]


def test_packed_rows_read_back_deflated_and_in_the_plain_layout_stored_before():
    ids = np.array([3, 3, 5, 9], dtype=np.int64)
    rows = np.array([[2, 0, 1], [0, 3, 0], [1, 1, 1], [0, 0, 2]], dtype=np.int64)
    packed = pack_rows(ids, rows, 3)
    got_ids, got_rows = unpack_rows(packed, 3)
    assert got_ids.tolist() == ids.tolist()
    assert got_rows.tolist() == rows.tolist()
    plain = {
        "packed": 1,
        "width": 3,
        "ids": base64.b64encode(ids.astype("<i4").tobytes()).decode(),
        "rows": base64.b64encode(rows.astype("<i4").tobytes()).decode(),
    }
    got_ids, got_rows = unpack_rows(plain, 3)
    assert got_ids.tolist() == ids.tolist()
    assert got_rows.tolist() == rows.tolist()
    # Merged and swapped rows come back deflated, in article order.
    first = {**plain, "ids": base64.b64encode(ids[:2].astype("<i4").tobytes()).decode()}
    first["rows"] = base64.b64encode(rows[:2].astype("<i4").tobytes()).decode()
    merged = merge_rows([pack_rows(ids[2:], rows[2:], 3), first], 3)
    assert merged["packed"] == 2
    assert unpack_rows(merged, 3)[0].tolist() == [3, 3, 5, 9]
    assert unpack_rows(merged, 3)[1].tolist() == rows.tolist()
