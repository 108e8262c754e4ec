from __future__ import annotations

import itertools
import random
import warnings

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.agreement import unitizing as u

GAP, CLAIM = 0, 1


def partition(length, spans):
    """A reviewer's continuum as (start, end, value) segments, character by character."""
    inside = [False] * length
    for start, end in spans:
        for position in range(start, end):
            inside[position] = True
    segments = []
    start = 0
    while start < length:
        end = start
        while end < length and inside[end] == inside[start]:
            end += 1
        segments.append((start, end, CLAIM if inside[start] else GAP))
        start = end
    return segments


def slow_unitizing(continua):
    """|uα from the definitions of Krippendorff et al. (2016), segment pair by segment pair.

    Observed coincidences l_ck: for every ordered pair of two reviewers of an
    article, the length of each intersection of a segment of the one (value
    c) with a segment of the other (value k), over m - 1. Expected:
    e_ck = l.. (l_c. l_.k - [c = k] S_c) / (l..² - S), with S_c the sum of l²
    over the claims (c = claim) or of l over the gaps (c = gap). Then
    uα = 1 - (l.. - Σ l_cc) / (l.. - Σ e_cc), and |uα collapses the values
    into relevant against irrelevant matter, which with one category changes
    nothing. Returns (alpha or None, the 2 x 2 observed coincidences).
    """
    observed = np.zeros((2, 2))
    self_pairs = np.zeros(2)
    for length, spans_by_reviewer in continua:
        m = len(spans_by_reviewer)
        if m < 2 or length == 0:
            continue
        parts = [partition(length, spans) for spans in spans_by_reviewer.values()]
        for i, j in itertools.permutations(range(m), 2):
            for g_start, g_end, g_value in parts[i]:
                for h_start, h_end, h_value in parts[j]:
                    overlap = min(g_end, h_end) - max(g_start, h_start)
                    if overlap > 0:
                        observed[g_value, h_value] += overlap / (m - 1)
        for part in parts:
            for start, end, value in part:
                self_pairs[value] += (end - start) ** 2 if value == CLAIM else end - start
    n = observed.sum()
    margins = observed.sum(axis=1)
    if n == 0 or np.count_nonzero(margins) < 2:
        return None, observed
    expected = n * (np.outer(margins, margins) - np.diag(self_pairs)) / (n * n - self_pairs.sum())
    alpha = 1 - (n - np.trace(observed)) / (n - np.trace(expected))
    # |uα: relevant (claim) against irrelevant (gap), one off-diagonal cell each.
    bar_alpha = 1 - observed[GAP, CLAIM] / expected[GAP, CLAIM]
    assert bar_alpha == pytest.approx(alpha, abs=1e-12)
    return alpha, observed


def mismatched_characters(length, spans_by_reviewer):
    """Σ over characters of k (m - k) / (m - 1), k the reviewers with it in a claim."""
    m = len(spans_by_reviewer)
    total = 0.0
    for position in range(length):
        k = sum(
            any(start <= position < end for start, end in spans)
            for spans in spans_by_reviewer.values()
        )
        total += k * (m - k) / (m - 1)
    return total


@st.composite
def articles(draw, max_length=40, max_spans=6):
    length = draw(st.integers(0, max_length))
    reviewers = draw(st.integers(1, 4))
    spans_by_reviewer = {}
    for reviewer in range(reviewers):
        spans = []
        for _ in range(draw(st.integers(0, max_spans))):
            start = draw(st.integers(0, length))
            spans.append((start, draw(st.integers(start, length))))
        spans_by_reviewer[f"reviewer{reviewer}"] = spans
    return length, spans_by_reviewer


collections = st.lists(articles(), min_size=1, max_size=6)


def random_articles(rng, count, *, max_length, spans, reviewers=(2, 3), min_spans=0):
    result = []
    for _ in range(count):
        length = rng.randint(1, max_length)
        by_reviewer = {}
        for reviewer in range(rng.choice(reviewers)):
            marked = []
            for _ in range(rng.randint(min_spans, spans)):
                start = rng.randrange(length)
                marked.append((start, min(length, start + rng.randint(0, max(1, length // 4)))))
            by_reviewer[reviewer] = marked
        result.append((length, by_reviewer))
    return result


# A worked example, by hand ----------------------------------------------------------------


def test_two_reviewers_one_claim_each():
    # Ten characters; alice claims [2, 6), bob [3, 7): they disagree on
    # characters 2 and 6. n = 2 * 10 = 20 values, l_1 = 4 + 4 = 8 claimed,
    # l_0 = 12 gap, o_01 = 2 / (2 - 1) = 2. S = 4² + 4² + 12 = 44, so
    # e_01 = 20 * 12 * 8 / (20² - 44) = 1920 / 356, and
    # |uα = 1 - o_01 / e_01 = 1 - 2 * 356 / 1920 = 151 / 240.
    counts = u.unitizing_counts(10, {"alice": [(2, 6)], "bob": [(3, 7)]})
    assert counts == u.UnitizingCounts(
        continua=1, values=20, claimed=8, claim_squares=32, mismatch=2.0
    )
    result = u.unitizing_alpha_from_counts(counts)
    assert result.alpha == pytest.approx(151 / 240, abs=1e-15)
    assert result.pairable_values == 20
    assert result.observed_disagreement == pytest.approx(2 * 2 / 20)
    assert result.expected_disagreement == pytest.approx(2 * 1920 / 356 / 20)
    assert result.alpha == pytest.approx(slow_unitizing([(10, {"a": [(2, 6)], "b": [(3, 7)]})])[0])


# A published example ----------------------------------------------------------------------


def test_claims_of_one_character_give_krippendorffs_binary_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability",
    # section A (binary data, two observers, no missing data): ten units,
    # observer i 0100000010, observer j 1110010000, alpha = 0.095. As ten
    # texts of one character each, 1 a claim and 0 none, every claim is one
    # character long, so S = n and |uα is that alpha.
    observer_i = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    observer_j = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    texts = [
        (1, {"i": [(0, 1)] if a else [], "j": [(0, 1)] if b else []})
        for a, b in zip(observer_i, observer_j, strict=True)
    ]
    result = u.unitizing_alpha(texts)
    assert result.alpha == pytest.approx(0.095, abs=5e-4)
    # o_01 = 4 of n = 20 values, 6 of them 1: alpha = 1 - 19 * 4 / (14 * 6).
    assert result.alpha == pytest.approx(1 - 19 * 4 / (14 * 6), abs=1e-12)


# The definition, written out --------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(continua=collections)
def test_alpha_equals_the_definition_segment_by_segment(continua):
    expected, observed = slow_unitizing(continua)
    counts = u.sum_unitizing_counts(u.unitizing_counts(n, spans) for n, spans in continua)
    assert counts.mismatch == pytest.approx(observed[GAP, CLAIM], abs=1e-9)
    assert counts.values == pytest.approx(observed.sum(), abs=1e-9)
    assert counts.claimed == pytest.approx(observed[CLAIM].sum(), abs=1e-9)
    result = u.unitizing_alpha(continua)
    if expected is None:
        assert result.alpha is None
        assert result.reason is not None
    else:
        assert result.alpha == pytest.approx(expected, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(article=articles())
def test_observed_disagreement_counts_the_characters_reviewers_disagree_on(article):
    length, spans_by_reviewer = article
    counts = u.unitizing_counts(length, spans_by_reviewer)
    if len(spans_by_reviewer) < 2 or length == 0:
        assert counts == u.UnitizingCounts()
    else:
        assert counts.mismatch == pytest.approx(
            mismatched_characters(length, spans_by_reviewer), abs=1e-9
        )


def test_seeded_collections_equal_the_definition():
    rng = random.Random(2016)
    for _ in range(150):
        continua = random_articles(
            rng, rng.randint(1, 8), max_length=120, spans=8, reviewers=(1, 2, 3, 4)
        )
        expected, _ = slow_unitizing(continua)
        result = u.unitizing_alpha(continua)
        if expected is None:
            assert result.alpha is None
        else:
            assert result.alpha == pytest.approx(expected, abs=1e-9)


def test_articles_with_many_spans_take_the_numpy_path_to_the_same_figure():
    rng = random.Random(95)
    for _ in range(20):
        continua = random_articles(rng, 3, max_length=600, spans=70, min_spans=50)
        assert all(sum(len(s) for s in spans.values()) > u._VECTOR_SPANS for _, spans in continua)
        expected, _ = slow_unitizing(continua)
        assert u.unitizing_alpha(continua).alpha == pytest.approx(expected, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(article=articles(max_length=60, max_spans=12))
def test_the_two_sweeps_agree(article):
    length, spans_by_reviewer = article
    by_reviewer = [sorted(spans) for spans in spans_by_reviewer.values()]
    assert u._sweep(length, by_reviewer) == u._sweep_vectorised(length, by_reviewer)


# Reference library ------------------------------------------------------------------------


def character_data(continua):
    """Reviewers x characters, 1 in a claim, 0 not, NaN where a reviewer did not review."""
    width = max(len(spans) for _, spans in continua)
    columns = []
    for length, spans_by_reviewer in continua:
        block = np.full((width, length), np.nan)
        for row, spans in enumerate(spans_by_reviewer.values()):
            block[row] = 0
            for start, end in spans:
                block[row, start:end] = 1
        columns.append(block)
    return np.concatenate(columns, axis=1)


def package_alpha(continua):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            value = krippendorff.alpha(
                character_data(continua), value_domain=[0, 1], level_of_measurement="nominal"
            )
        except ValueError:
            return None
    return None if np.isnan(value) else float(value)


def test_one_character_claims_equal_the_krippendorff_package_with_missing_reviewers():
    # Claims on even positions only never touch, so each is one character
    # long and |uα is nominal alpha over characters; articles with two, three
    # and four reviewers pool as units with missing values do.
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(200):
        continua = []
        for _ in range(int(rng.integers(1, 6))):
            length = int(rng.integers(1, 30))
            reviewers = int(rng.integers(1, 5))
            by_reviewer = {}
            for reviewer in range(reviewers):
                evens = np.arange(0, length, 2)
                chosen = evens[rng.random(evens.size) < rng.uniform(0.05, 0.8)]
                by_reviewer[reviewer] = [(int(p), int(p) + 1) for p in chosen]
            continua.append((length, by_reviewer))
        expected = package_alpha(continua)
        result = u.unitizing_alpha(continua)
        if expected is None:
            assert result.alpha is None
            continue
        assert result.alpha == pytest.approx(expected, abs=1e-9)
        checked += 1
    assert checked > 120


@settings(max_examples=150, deadline=None)
@given(continua=collections)
def test_alpha_is_never_below_character_level_alpha(continua):
    # Longer claims take more pairings out of chance: S >= n.
    result = u.unitizing_alpha(continua)
    if result.alpha is None:
        return
    reference = package_alpha(continua)
    assert reference is not None
    assert result.alpha >= reference - 1e-12


# Sums across articles ---------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(continua=collections, order=st.randoms(use_true_random=False))
def test_per_article_counts_add_up_in_any_order_and_grouping(continua, order):
    counts = [u.unitizing_counts(length, spans) for length, spans in continua]
    whole = u.sum_unitizing_counts(counts)
    shuffled = counts[:]
    order.shuffle(shuffled)
    cut = order.randint(0, len(shuffled))
    regrouped = u.sum_unitizing_counts(shuffled[:cut]) + u.sum_unitizing_counts(shuffled[cut:])
    assert regrouped.values == whole.values
    assert regrouped.claimed == whole.claimed
    assert regrouped.claim_squares == whole.claim_squares
    assert regrouped.continua == whole.continua
    assert regrouped.mismatch == pytest.approx(whole.mismatch, abs=1e-9)
    assert u.unitizing_alpha_from_counts(whole) == u.unitizing_alpha(continua)


def test_only_articles_with_two_or_more_reviewers_count():
    two = (10, {"alice": [(0, 4)], "bob": [(1, 4)]})
    alone = (10, {"alice": [(0, 9)]})
    nobody = (10, {})
    assert u.unitizing_counts(*alone) == u.UnitizingCounts()
    assert u.unitizing_counts(*nobody) == u.UnitizingCounts()
    assert u.unitizing_alpha([two, alone, nobody]) == u.unitizing_alpha([two])
    assert u.unitizing_counts(*two).continua == 1


# Spans, claims and reviewers --------------------------------------------------------------


def test_a_reviewers_overlapping_nested_and_touching_spans_are_one_claim():
    messy = {"alice": [(5, 9), (2, 6), (3, 4), (9, 12)], "bob": [(2, 12)]}
    tidy = {"alice": [(2, 12)], "bob": [(2, 12)]}
    assert u.unitizing_counts(20, messy) == u.unitizing_counts(20, tidy)
    assert u.unitizing_alpha([(20, messy)]).alpha == 1.0


def test_empty_spans_mark_nothing():
    with_empty = {"alice": [(3, 3), (0, 2)], "bob": [(5, 5)]}
    without = {"alice": [(0, 2)], "bob": []}
    assert u.unitizing_counts(8, with_empty) == u.unitizing_counts(8, without)


def test_a_reviewer_who_marked_nothing_still_reviewed():
    counts = u.unitizing_counts(10, {"alice": [(0, 5)], "bob": [], "carol": [(0, 5)]})
    assert counts.values == 30
    # Characters 0-4: two of three in a claim, k (m - k) / (m - 1) = 1 each.
    assert counts.mismatch == 5.0


def test_names_and_order_of_reviewers_and_spans_do_not_matter():
    first = {"alice": [(1, 3), (6, 9)], "bob": [(2, 4)], 7: [(0, 10)]}
    second = {"x": [(0, 10)], "y": [(6, 9), (1, 3)], "z": [(2, 4)]}
    assert u.unitizing_counts(12, first) == u.unitizing_counts(12, second)


def test_perfect_agreement_is_one():
    same = {"alice": [(2, 5), (7, 8)], "bob": [(2, 5), (7, 8)], "carol": [(2, 5), (7, 8)]}
    result = u.unitizing_alpha([(10, same), (4, {"alice": [], "bob": []})])
    assert result.alpha == 1.0
    assert result.observed_disagreement == 0.0


# Undefined and malformed ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("continua", "reason"),
    [
        ([], u.NO_PAIRABLE_TEXT),
        ([(10, {"alice": [(0, 3)]})], u.NO_PAIRABLE_TEXT),
        ([(0, {"alice": [], "bob": []})], u.NO_PAIRABLE_TEXT),
        ([(10, {"alice": [], "bob": []})], u.NOTHING_MARKED),
        ([(5, {"alice": [(0, 5)], "bob": [(0, 2), (2, 5)]})], u.EVERYTHING_MARKED),
    ],
)
def test_undefined_alpha_says_why(continua, reason):
    result = u.unitizing_alpha(continua)
    assert result.alpha is None
    assert result.reason == reason


@pytest.mark.parametrize(
    ("length", "spans"),
    [
        (10, {"alice": [(0, 11)], "bob": []}),
        (10, {"alice": [(-1, 3)], "bob": []}),
        (10, {"alice": [(5, 4)], "bob": []}),
        (10, {"alice": [(0, 11)]}),
        (-1, {"alice": [], "bob": []}),
        (500, {"alice": [(i, i + 1) for i in range(99)] + [(0, 501)], "bob": []}),
        (500, {"alice": [(i, i + 1) for i in range(99)] + [(7, 6)], "bob": []}),
    ],
)
def test_malformed_spans_are_refused(length, spans):
    with pytest.raises(ValueError, match=r"."):
        u.unitizing_counts(length, spans)
