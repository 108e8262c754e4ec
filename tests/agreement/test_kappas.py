from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import sklearn.metrics  # type: ignore[import-untyped]  # it ships no type information
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats import inter_rater  # type: ignore[import-untyped]

from annotations.agreement import kappas as k
from annotations.agreement import reliability as r

# Fleiss (1971), "Measuring nominal scale agreement among many raters",
# Psychological Bulletin 76(5): 378-382, Table 1: six psychiatrists put each
# of 30 patients in one of five diagnoses (1 depression, 2 personality
# disorder, 3 schizophrenia, 4 neurosis, 5 other); one row per patient. The
# paper prints kappa = .430.
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip

# The worked example of Wikipedia's "Fleiss' kappa" article (also statsmodels'
# test table): 14 raters put 10 subjects in 5 categories; the article prints
# P̄ = 0.378, P̄e = 0.213 and kappa = 0.210.
WIKIPEDIA = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip

# Stata's example data set rvary2 (`webuse rvary2`, Stata Base Reference
# Manual, [R] kappa): five raters, ten subjects, categories 1-3, with three
# to five ratings per subject. Klein's `kappaetc rater1-rater5` (Gwet's
# formulas) prints "Scott/Fleiss' Kappa | 0.3586" and "Percent Agreement |
# 0.5833" for it.
RVARY2 = [
    [1, 2, 2, None, 2], [1, 1, 3, 3, 3], [3, 3, 3, 3, 3], [1, 1, 1, 1, 3], [1, 1, 1, 3, 3],
    [1, 2, 2, 2, 2], [1, 1, 1, 1, 1], [2, 2, 2, 2, 3], [1, 3, None, None, 3], [1, 1, 1, 3, 3],
]  # fmt: skip

# Gwet, Handbook of Inter-Rater Reliability (4th ed.), four raters and twelve
# subjects in five categories, as shipped by the irrCAC package
# (irrCAC.datasets.raw_4raters); Gwet's Fleiss' generalized kappa for it is
# 0.76117, with p_a = 0.81818 and p_e = 0.23872.
GWET_4_RATERS = [
    [1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1],
    [None, None, 3, None],
]  # fmt: skip

# Altman (1991), Practical Statistics for Medical Research, section 14.3,
# with the linear weights 1 - |i - j| / (g - 1) of section 14.3.4.
# Table 14.2: two radiologists' assessments of 85 xeromammograms (normal,
# benign disease, suspected cancer, cancer; Boyd et al. 1982), rows
# radiologist A; the book prints kappa_w = 0.57.
XEROMAMMOGRAMS = [[21, 12, 0, 0], [4, 17, 1, 0], [3, 9, 15, 2], [0, 0, 0, 1]]
# Table 14.3: MAST (rows) against RAST on 363 sera, five grades from negative
# to very high (Brostoff et al. 1984); the book prints kappa_w = 0.56.
MAST_RAST = [
    [86, 3, 14, 0, 2], [26, 0, 10, 4, 0], [20, 2, 22, 4, 1], [11, 1, 37, 16, 14],
    [3, 0, 15, 24, 48],
]  # fmt: skip


def counts_of(ratings, categories):
    """One row per unit: how many of its ratings (None = no rating) fall in each category."""
    return np.array([[row.count(c) for c in categories] for row in ratings], dtype=np.int64)


def slow_generalized_fleiss(ratings, categories):
    """Gwet's Fleiss' generalized kappa, unit by unit, from the raw ratings.

    p_a,i is the share of ordered pairs of two different ratings of unit i
    that agree, counted pair by pair; units with one rating or none are left out.
    """
    pairable = [
        [value for value in row if value is not None]
        for row in ratings
        if sum(value is not None for value in row) >= 2
    ]
    if not pairable:
        return None
    n = len(pairable)
    p_a = 0.0
    for values in pairable:
        pairs = list(itertools.permutations(values, 2))
        p_a += sum(first == second for first, second in pairs) / len(pairs)
    p_a /= n
    pi = [sum(values.count(c) / len(values) for values in pairable) / n for c in categories]
    p_e = sum(share * share for share in pi)
    if p_e == 1.0:
        return None
    return (p_a - p_e) / (1 - p_e)


# Fleiss' kappa: published examples ---------------------------------------------------------


def test_fleiss_1971_table_1():
    counts, _ = inter_rater.aggregate_raters(np.array(FLEISS_1971))
    result = k.fleiss_kappa(counts)
    assert result.units == 30
    assert result.reason is None
    assert result.kappa == pytest.approx(0.430, abs=5e-4)
    assert result.kappa == pytest.approx(0.4302445200601408, abs=1e-12)


def test_wikipedia_worked_example():
    result = k.fleiss_kappa(WIKIPEDIA)
    assert result.observed_agreement == pytest.approx(0.378, abs=5e-4)
    assert result.expected_agreement == pytest.approx(0.213, abs=5e-4)
    assert result.kappa == pytest.approx(0.210, abs=5e-4)
    # Exactly: P̄ = 0.378021978..., P̄e = 0.212755102..., kappa = 0.2099307044...
    assert result.kappa == pytest.approx(0.20993070442195522, abs=1e-12)


def test_stata_rvary2_with_three_to_five_ratings_per_subject():
    result = k.fleiss_kappa(counts_of(RVARY2, [1, 2, 3]))
    assert result.units == 10
    assert result.kappa == pytest.approx(0.3586, abs=5e-5)
    assert result.observed_agreement == pytest.approx(0.5833, abs=5e-5)


def test_gwet_example_with_a_singly_rated_subject():
    # Subject 12 has one rating. Gwet keeps it in π_k and prints 0.76117; here
    # it adds nothing, so π_k is over the eleven pairable subjects. p_a, over
    # those eleven in both, is as printed; kappa is irrCAC's on the eleven.
    result = k.fleiss_kappa(counts_of(GWET_4_RATERS, [1, 2, 3, 4, 5]))
    assert result.units == 11
    assert result.observed_agreement == pytest.approx(0.81818, abs=5e-6)
    assert result.kappa == pytest.approx(0.76248, abs=5e-6)
    assert result.kappa != pytest.approx(0.76117, abs=5e-6)


# Fleiss' kappa: reference implementations -------------------------------------------------


def test_equal_ratings_per_unit_match_statsmodels():
    rng = np.random.default_rng(1971)
    checked = 0
    for _ in range(500):
        units = int(rng.integers(1, 40))
        raters = int(rng.integers(2, 15))
        categories = int(rng.integers(2, 7))
        # Skewed category probabilities, so some tables use few categories.
        probabilities = rng.dirichlet(np.full(categories, 0.7))
        ratings = rng.choice(categories, size=(units, raters), p=probabilities)
        counts = np.stack([(ratings == c).sum(axis=1) for c in range(categories)], axis=1)
        result = k.fleiss_kappa(counts)
        if np.count_nonzero(counts.sum(axis=0)) == 1:
            assert result.kappa is None
            continue
        assert result.kappa == pytest.approx(inter_rater.fleiss_kappa(counts), abs=1e-9)
        checked += 1
    assert checked > 450


def test_variable_ratings_per_unit_match_the_formula_written_out():
    # irrCAC (Gwet's own package) pins scipy==1.12 and coverage<7, so it
    # cannot share this environment; this is Gwet's formula, unit by unit.
    rng = np.random.default_rng(2014)
    checked = 0
    for _ in range(400):
        units = int(rng.integers(1, 30))
        raters = int(rng.integers(2, 7))
        categories = list(range(int(rng.integers(2, 6))))
        missing = rng.random((units, raters)) < rng.uniform(0.0, 0.7)
        values = rng.integers(0, len(categories), size=(units, raters))
        ratings = [
            [None if missing[u, c] else int(values[u, c]) for c in range(raters)]
            for u in range(units)
        ]
        expected = slow_generalized_fleiss(ratings, categories)
        result = k.fleiss_kappa(counts_of(ratings, categories))
        if expected is None:
            assert result.kappa is None
            assert result.reason is not None
            continue
        assert result.kappa == pytest.approx(expected, abs=1e-9)
        checked += 1
    assert checked > 300


@settings(max_examples=100, deadline=None)
@given(
    raters=st.integers(2, 8),
    rows=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=8), min_size=1, max_size=20),
)
def test_the_formula_is_statsmodels_when_every_unit_has_the_same_ratings(raters, rows):
    ratings = [(row * raters)[:raters] for row in rows]
    counts = counts_of(ratings, [0, 1, 2, 3])
    expected = slow_generalized_fleiss(ratings, [0, 1, 2, 3])
    if expected is None:
        return
    assert expected == pytest.approx(inter_rater.fleiss_kappa(counts), abs=1e-9)


# Fleiss' kappa: sums across articles ------------------------------------------------------


count_rows = st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), max_size=30)


@settings(max_examples=150, deadline=None)
@given(rows=count_rows, cut_points=st.lists(st.integers(0, 30), max_size=5))
def test_counts_of_disjoint_units_add_up_to_the_whole(rows, cut_points):
    matrix = np.array(rows, dtype=np.int64).reshape(-1, 3)
    cuts = sorted({min(cut, len(matrix)) for cut in cut_points})
    chunks = np.split(matrix, cuts)
    summed = k.sum_fleiss_counts((k.fleiss_counts(chunk) for chunk in chunks), 3)
    whole = k.fleiss_counts(matrix)
    assert summed.units == whole.units
    assert summed.agreement == pytest.approx(whole.agreement, abs=1e-9)
    assert summed.shares == pytest.approx(whole.shares, abs=1e-9)
    from_sum, direct = k.fleiss_kappa_from_counts(summed), k.fleiss_kappa(matrix)
    assert from_sum.reason == direct.reason
    if direct.kappa is None:
        assert from_sum.kappa is None
    else:
        assert from_sum.kappa == pytest.approx(direct.kappa, abs=1e-9)


def test_counts_add_with_plus():
    first = k.fleiss_counts([[2, 0], [1, 1]])
    second = k.fleiss_counts([[0, 3]])
    assert first + second == k.fleiss_counts([[2, 0], [1, 1], [0, 3]])
    assert first + k.FleissCounts.zero(2) == first
    assert k.sum_fleiss_counts([], 2) == k.FleissCounts(0, 0.0, (0.0, 0.0))


# Fleiss' kappa: undefined and malformed ---------------------------------------------------


@pytest.mark.parametrize(
    ("matrix", "reason", "units"),
    [
        (np.zeros((0, 3)), r.NO_PAIRABLE_UNITS, 0),
        ([[1, 0, 0], [0, 1, 0], [0, 0, 0]], r.NO_PAIRABLE_UNITS, 0),
        ([[3, 0], [2, 0], [1, 0]], k.ONE_CATEGORY, 2),
    ],
)
def test_undefined_fleiss_kappa_says_why(matrix, reason, units):
    result = k.fleiss_kappa(matrix)
    assert result.kappa is None
    assert result.reason == reason
    assert result.units == units


def test_a_unit_with_one_rating_adds_nothing():
    with_single = k.fleiss_kappa([[2, 1], [1, 2], [0, 1]])
    without = k.fleiss_kappa([[2, 1], [1, 2]])
    assert with_single == without


@pytest.mark.parametrize(
    "call",
    [
        lambda: k.fleiss_counts([[1, -1]]),
        lambda: k.fleiss_counts([1, 2, 3]),
        lambda: k.fleiss_counts(np.zeros((2, 0))),
        lambda: k.fleiss_counts([[1, np.nan]]),
        lambda: k.fleiss_counts([[1, 1]]) + k.fleiss_counts([[1, 1, 0]]),
        lambda: k.FleissCounts.zero(0),
    ],
)
def test_malformed_fleiss_input_is_refused(call):
    with pytest.raises(ValueError, match=r"."):
        call()


# Weighted kappa: published examples -------------------------------------------------------


@pytest.mark.parametrize(
    ("matrix", "printed"), [(XEROMAMMOGRAMS, 0.57), (MAST_RAST, 0.56)], ids=["xero", "mast"]
)
def test_altman_linear_weighted_kappa(matrix, printed):
    result = k.weighted_kappa_from_confusion(matrix, "linear")
    assert result.kappa == pytest.approx(printed, abs=5e-3)
    assert result.units == np.sum(matrix)


def test_xeromammograms_weighted_agreement_proportions():
    # Altman's p_o(w) and p_e(w) with weights 1, 2/3, 1/3, 0 (Stata's
    # `kap rada radb, wgt(w)` prints 86.67% and 69.11%).
    result = k.weighted_kappa_from_confusion(XEROMAMMOGRAMS, "linear")
    assert result.observed_agreement == pytest.approx(0.8667, abs=5e-5)
    assert result.expected_agreement == pytest.approx(0.6911, abs=5e-5)
    assert result.kappa == pytest.approx(0.5683990442054958, abs=1e-12)


@pytest.mark.parametrize(
    ("second", "printed"),
    [
        ([8, 8, 6, 6, 7, 6, 1, 4, 8], 0.758620689655172),
        ([3, 5, 6, 6, 7, 6, 1, 4, 8], 0.438095238095238),
    ],
)
def test_maple_quadratic_weighted_kappa(second, printed):
    # Maple's help page for EssayTools[QuadraticWeightedKappa], examples 1
    # and 2; the scale runs from the smallest to the largest score given.
    first = [9, 7, 8, 7, 6, 8, 3, 5, 10]
    result = k.weighted_kappa(first, second, list(range(1, 11)), "quadratic")
    assert result.kappa == pytest.approx(printed, abs=1e-14)


# Weighted kappa: scikit-learn -------------------------------------------------------------


scales = st.sampled_from(
    [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [0, 1, 2], [1, 2], [-2, 0, 3, 7, 8, 10], [4, 3, 2, 1]]
)


@st.composite
def paired_ratings(draw):
    scale = draw(scales)
    rating = st.sampled_from(scale)
    pairs = draw(st.lists(st.tuples(rating, rating), max_size=40))
    return scale, [a for a, _ in pairs], [b for _, b in pairs]


@settings(max_examples=300, deadline=None)
@given(data=paired_ratings(), weights=st.sampled_from(["linear", "quadratic"]))
def test_weighted_kappa_equals_scikit_learn(data, weights):
    scale, a, b = data
    result = k.weighted_kappa(a, b, scale, weights)
    assert result.units == len(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = sklearn.metrics.cohen_kappa_score(a, b, labels=scale, weights=weights)
        except ValueError:
            expected = float("nan")
    if np.isnan(expected):
        assert result.kappa is None
        assert result.reason is not None
    else:
        assert result.kappa == pytest.approx(expected, abs=1e-9)


def test_weighted_kappa_matches_scikit_learn_on_many_seeded_tables():
    rng = np.random.default_rng(1968)
    for _ in range(300):
        size = int(rng.integers(2, 8))
        scale = list(rng.permutation(np.arange(10, 10 + size)))
        units = int(rng.integers(2, 60))
        a = rng.choice(scale, size=units).tolist()
        # Agreement more often than chance, so kappa spans a useful range.
        b = [x if rng.random() < 0.5 else int(rng.choice(scale)) for x in a]
        for weights in ("linear", "quadratic"):
            result = k.weighted_kappa(a, b, scale, weights)
            with warnings.catch_warnings():
                # It warns where both gave one and the same rating, and answers NaN.
                warnings.simplefilter("ignore")
                expected = sklearn.metrics.cohen_kappa_score(a, b, labels=scale, weights=weights)
            if np.isnan(expected):
                assert result.kappa is None
            else:
                assert result.kappa == pytest.approx(expected, abs=1e-9)


# Weighted kappa: sums, scales and special cases -------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    data=paired_ratings(), cut=st.integers(0, 40), weights=st.sampled_from(["linear", "quadratic"])
)
def test_confusion_matrices_of_disjoint_units_add_up(data, cut, weights):
    scale, a, b = data
    parts = [
        k.rating_confusion_matrix(a[:cut], b[:cut], scale),
        k.rating_confusion_matrix(a[cut:], b[cut:], scale),
    ]
    summed = k.weighted_kappa_from_confusion(parts[0] + parts[1], weights)
    assert summed == k.weighted_kappa(a, b, scale, weights)


def test_a_reversed_scale_gives_the_same_kappa():
    a = [1, 2, 3, 4, 5, 5, 4, 2, 1, 3]
    b = [2, 2, 3, 5, 4, 5, 3, 1, 1, 4]
    for weights in ("linear", "quadratic"):
        worst_first = k.weighted_kappa(a, b, [1, 2, 3, 4, 5], weights)
        best_first = k.weighted_kappa(a, b, [5, 4, 3, 2, 1], weights)
        assert best_first.kappa == pytest.approx(worst_first.kappa, abs=1e-12)


def test_positions_not_values_set_the_distances():
    # On the scale [1, 2, 10], 10 is one step from 2, as sklearn's labels= has it.
    a, b = [1, 2, 10, 10, 2], [2, 10, 10, 1, 2]
    result = k.weighted_kappa(a, b, [1, 2, 10], "linear")
    same_steps = k.weighted_kappa(
        [1, 2, 3, 3, 2], [2, 3, 3, 1, 2], [1, 2, 3], "linear"
    )  # fmt: skip
    assert result.kappa == pytest.approx(same_steps.kappa, abs=1e-12)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_on_two_ratings_weighted_kappa_is_cohens_kappa(weights):
    matrix = [[20, 5], [10, 15]]
    weighted = k.weighted_kappa_from_confusion(matrix, weights)
    plain = r.kappa_from_confusion(matrix)
    assert weighted.kappa == pytest.approx(plain.kappa, abs=1e-12)
    assert weighted.observed_agreement == pytest.approx(plain.observed_agreement, abs=1e-12)
    assert weighted.expected_agreement == pytest.approx(plain.expected_agreement, abs=1e-12)


def test_missing_ratings_are_left_out():
    result = k.weighted_kappa([1, None, 3, 2], [1, 2, None, 2], [1, 2, 3], "linear")
    assert result.units == 2
    assert k.rating_confusion_matrix([1, None], [None, 2], [1, 2]).sum() == 0


@pytest.mark.parametrize(
    ("a", "b", "scale", "reason"),
    [
        ([], [], [1, 2, 3], r.NO_SHARED_UNITS),
        ([1, None], [None, 2], [1, 2, 3], r.NO_SHARED_UNITS),
        ([2, 2, 2], [2, 2, 2], [1, 2, 3], r.KAPPA_CHANCE_IS_ONE),
        ([7, 7], [7, 7], [7], r.KAPPA_CHANCE_IS_ONE),
    ],
)
@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_undefined_weighted_kappa_says_why(a, b, scale, reason, weights):
    result = k.weighted_kappa(a, b, scale, weights)
    assert result.kappa is None
    assert result.reason == reason


def test_one_reviewer_on_one_rating_is_not_undefined():
    # Only both on one and the same rating makes chance agreement total.
    result = k.weighted_kappa([2, 2, 2], [1, 2, 3], [1, 2, 3], "quadratic")
    assert result.kappa == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: k.weighted_kappa([1, 6], [1, 2], [1, 2, 3], "linear"),
        lambda: k.weighted_kappa([1], [1, 2], [1, 2, 3], "linear"),
        lambda: k.weighted_kappa([1], [1], [1, 1, 2], "linear"),
        lambda: k.weighted_kappa([], [], [], "linear"),
        lambda: k.weighted_kappa([1], [1], [1, 2], "cubic"),
        lambda: k.weighted_kappa_from_confusion([[1, 2, 3]], "linear"),
        lambda: k.weighted_kappa_from_confusion([[1, -1], [0, 1]], "linear"),
    ],
)
def test_malformed_weighted_input_is_refused(call):
    with pytest.raises(ValueError, match=r"."):
        call()
