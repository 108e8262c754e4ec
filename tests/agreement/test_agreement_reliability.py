from __future__ import annotations

import itertools
import warnings
from typing import cast

import krippendorff
import numpy as np
import pytest
import sklearn.metrics  # type: ignore[import-untyped]  # it ships no type information
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.agreement import reliability as r
from annotations.agreement.matching import Span, match_spans, unit_labels

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section
# C: four coders, twelve units, values 1-5, None where a coder gave none.
PUBLISHED = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
SCALE = [1, 2, 3, 4, 5]


def as_units(cells, coders=None):
    """Coder-by-unit cells (None = missing) as one reviewer -> value mapping per unit."""
    coders = coders or list(range(len(cells)))
    n_units = len(cells[0]) if cells else 0
    return [{coders[c]: row[u] for c, row in enumerate(cells)} for u in range(n_units)]


def reference_alpha(cells, n_categories, metric):
    """The krippendorff package's alpha, None where it refuses or answers NaN."""
    data = np.array(
        [[np.nan if value is None else value for value in row] for row in cells], dtype=float
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            value = krippendorff.alpha(
                data, value_domain=list(range(n_categories)), level_of_measurement=metric
            )
        except ValueError:
            return None
    return None if np.isnan(value) else float(value)


@st.composite
def reliability_data(draw, max_coders=5, max_units=25):
    n_categories = draw(st.integers(min_value=2, max_value=6))
    n_coders = draw(st.integers(min_value=1, max_value=max_coders))
    n_units = draw(st.integers(min_value=0, max_value=max_units))
    value = st.one_of(st.none(), st.integers(min_value=0, max_value=n_categories - 1))
    row = st.lists(value, min_size=n_units, max_size=n_units)
    cells = draw(st.lists(row, min_size=n_coders, max_size=n_coders))
    return n_categories, cells


# The published example --------------------------------------------------------------------


def test_coincidence_matrix_of_the_published_example():
    matrix = r.coincidences(as_units(PUBLISHED), SCALE)
    published = np.array(
        [
            [7, 4 / 3, 1 / 3, 1 / 3, 0],
            [4 / 3, 10, 4 / 3, 1 / 3, 0],
            [1 / 3, 4 / 3, 8, 1 / 3, 0],
            [1 / 3, 1 / 3, 1 / 3, 4, 0],
            [0, 0, 0, 0, 3],
        ]
    )
    np.testing.assert_allclose(matrix, published, atol=1e-12)
    assert matrix.sum(axis=0).tolist() == pytest.approx([9, 13, 10, 5, 3])


@pytest.mark.parametrize(("metric", "published"), [("nominal", 0.743), ("ordinal", 0.815)])
def test_alpha_of_the_published_example(metric, published):
    result = r.krippendorff_alpha(as_units(PUBLISHED), SCALE, metric)
    assert result.reason is None
    assert result.pairable_values == 40
    assert result.alpha == pytest.approx(published, abs=1e-3)
    data = np.array([[np.nan if v is None else v for v in row] for row in PUBLISHED], dtype=float)
    package = krippendorff.alpha(data, value_domain=SCALE, level_of_measurement=metric)
    assert result.alpha == pytest.approx(package, abs=1e-9)


def test_ordinal_differences_of_the_published_example():
    delta = r.difference_matrix([9, 13, 10, 5, 3], "ordinal")
    # (9 + 13 - (9 + 13) / 2)² and (9 + 13 + 10 - (9 + 10) / 2)², as published.
    assert delta[0, 1] == delta[1, 0] == 121
    assert delta[0, 2] == 506.25
    assert np.all(np.diag(delta) == 0)
    np.testing.assert_array_equal(r.difference_matrix([1, 1, 1], "nominal"), 1 - np.eye(3))


def test_percent_agreement_of_the_published_example():
    # The diagonal of the coincidence matrix over n: (7 + 10 + 8 + 4 + 3) / 40.
    result = r.percent_agreement(as_units(PUBLISHED), SCALE)
    assert result.agreement == pytest.approx(0.8)
    assert result.pairable_values == 40


def test_verdicts_of_the_demo_article_from_spans_to_alpha():
    # Both reviewers mark "reposition its forces" (both misleading) and "give
    # peace a chance" (misleading against unverifiable).
    spans = [
        Span(1, "reviewer1", 10, 31, verdict="misleading"),
        Span(2, "reviewer2", 10, 31, verdict="misleading"),
        Span(3, "reviewer1", 50, 69, verdict="misleading"),
        Span(4, "reviewer2", 50, 69, verdict="unverifiable"),
    ]
    units = unit_labels(match_spans(spans).units, "verdict")
    verdicts = ["misleading", "unverifiable"]
    result = r.krippendorff_alpha(units, verdicts)
    # o = [[2, 1], [1, 0]]: D_o = 2/4, D_e = 2·3·1 / (4·3), so alpha = 0.
    assert result.alpha == pytest.approx(0.0)
    assert r.percent_agreement(units, verdicts).agreement == 0.5
    kappa = r.cohen_kappa(units, verdicts, "reviewer1", "reviewer2")
    assert kappa.kappa == pytest.approx(0.0)


# Against the krippendorff package ---------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(data=reliability_data(), metric=st.sampled_from(["nominal", "ordinal"]))
def test_alpha_equals_the_krippendorff_package(data, metric):
    n_categories, cells = data
    ours = r.krippendorff_alpha(as_units(cells), list(range(n_categories)), metric)
    expected = reference_alpha(cells, n_categories, metric)
    if expected is None:
        assert ours.alpha is None
        assert ours.reason
    else:
        assert ours.reason is None
        assert ours.alpha == pytest.approx(expected, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(data=reliability_data(), cut_points=st.lists(st.integers(0, 25), max_size=5))
def test_summed_chunk_matrices_give_the_same_alpha(data, cut_points):
    n_categories, cells = data
    units = as_units(cells)
    categories = list(range(n_categories))
    bounds = sorted({0, len(units), *(min(cut, len(units)) for cut in cut_points)})
    chunks = [units[a:b] for a, b in itertools.pairwise(bounds)]
    summed = sum(
        (r.coincidences(chunk, categories) for chunk in chunks),
        np.zeros((n_categories, n_categories)),
    )
    whole = r.coincidences(units, categories)
    np.testing.assert_allclose(summed, whole, atol=1e-12)
    for metric in ("nominal", "ordinal"):
        apart = r.alpha_from_coincidences(summed, metric)
        together = r.alpha_from_coincidences(whole, metric)
        assert apart.reason == together.reason
        if together.alpha is not None:
            assert apart.alpha == pytest.approx(together.alpha, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(data=reliability_data(), order=st.randoms(use_true_random=False))
def test_alpha_ignores_the_order_of_units_and_the_names_of_coders(data, order):
    n_categories, cells = data
    categories = list(range(n_categories))
    coders = [f"reviewer{i}" for i in range(len(cells))]
    order.shuffle(coders)
    units = as_units(cells)
    renamed = as_units(cells, coders)
    order.shuffle(renamed)
    for metric in ("nominal", "ordinal"):
        before = r.krippendorff_alpha(units, categories, metric)
        after = r.krippendorff_alpha(renamed, categories, metric)
        assert after.reason == before.reason
        if before.alpha is not None:
            assert after.alpha == pytest.approx(before.alpha, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(data=reliability_data())
def test_the_array_path_equals_the_mapping_path(data):
    n_categories, cells = data
    units = as_units(cells)
    pairs = [
        (u, value) for u, unit in enumerate(units) for value in unit.values() if value is not None
    ]
    # Sparse ids, as database keys would be.
    unit_index = [u * 1000 + 7 for u, _ in pairs]
    value_index = [value for _, value in pairs]
    np.testing.assert_allclose(
        r.coincidences_from_arrays(unit_index, value_index, n_categories),
        r.coincidences(units, list(range(n_categories))),
        atol=1e-12,
    )
    counts = r.value_counts(units, list(range(n_categories)))
    assert counts.shape == (len(units), n_categories)
    dense = r.value_counts_from_arrays([u for u, _ in pairs], value_index, n_categories)
    np.testing.assert_array_equal(dense, counts[: len(dense)])


def test_many_units_at_once_agree_with_the_package():
    rng = np.random.default_rng(7)
    data = rng.integers(0, 5, size=(3, 20_000)).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    given_values = ~np.isnan(data)
    unit_index = np.nonzero(given_values)[1]
    value_index = data[given_values].astype(np.int64)
    matrix = r.coincidences_from_arrays(unit_index, value_index, 5)
    for metric in ("nominal", "ordinal"):
        package = krippendorff.alpha(data, value_domain=range(5), level_of_measurement=metric)
        assert r.alpha_from_coincidences(matrix, metric).alpha == pytest.approx(package, abs=1e-9)


# Cohen's kappa and confusion matrices -----------------------------------------------------


labels = st.one_of(st.none(), st.sampled_from(["false", "mixed", "true"]))


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(labels, labels), max_size=30))
def test_kappa_equals_scikit_learn(rows):
    categories = ["false", "mixed", "true"]
    units = [{"a": first, "b": second} for first, second in rows]
    shared = [(first, second) for first, second in rows if first is not None and second is not None]
    ours = r.cohen_kappa(units, categories, "a", "b")
    assert ours.units == len(shared)
    matrix = r.confusion_matrix(units, categories, "a", "b")
    if not shared:
        assert (ours.kappa, ours.reason) == (None, r.NO_SHARED_UNITS)
        assert not matrix.any()
        return
    first, second = zip(*shared, strict=True)
    np.testing.assert_array_equal(
        matrix, sklearn.metrics.confusion_matrix(first, second, labels=categories)
    )
    with warnings.catch_warnings():
        # scikit-learn warns where kappa is undefined, and answers NaN.
        warnings.simplefilter("ignore")
        expected = sklearn.metrics.cohen_kappa_score(first, second, labels=categories)
    if np.isnan(expected):
        assert (ours.kappa, ours.reason) == (None, r.KAPPA_CHANCE_IS_ONE)
    else:
        assert ours.reason is None
        assert ours.kappa == pytest.approx(expected, abs=1e-9)


def test_pairwise_kappa_and_confusion_matrices_of_the_published_example():
    units = as_units(PUBLISHED, ["a", "b", "c", "d"])
    matrices = r.pair_confusion_matrices(units, SCALE)
    assert list(matrices) == [
        ("a", "b"),
        ("a", "c"),
        ("a", "d"),
        ("b", "c"),
        ("b", "d"),
        ("c", "d"),
    ]
    kappas = r.pairwise_kappa(units, SCALE)
    for (x, y), matrix in matrices.items():
        shared = [(u[x], u[y]) for u in units if u[x] is not None and u[y] is not None]
        first, second = zip(*shared, strict=True)
        np.testing.assert_array_equal(
            matrix, sklearn.metrics.confusion_matrix(first, second, labels=SCALE)
        )
        assert kappas[(x, y)].kappa == pytest.approx(
            sklearn.metrics.cohen_kappa_score(first, second, labels=SCALE), abs=1e-9
        )
    pooled = r.pooled_confusion_matrix(units, SCALE)
    np.testing.assert_array_equal(pooled, pooled.T)
    assert pooled.sum() == 2 * sum(int(m.sum()) for m in matrices.values())


def test_pair_confusion_matrices_add_up_across_articles():
    units = as_units(PUBLISHED, ["a", "b", "c", "d"])
    whole = r.pair_confusion_matrices(units, SCALE)
    first = r.pair_confusion_matrices(units[:5], SCALE)
    second = r.pair_confusion_matrices(units[5:], SCALE)
    for pair, matrix in whole.items():
        np.testing.assert_array_equal(first[pair] + second[pair], matrix)


def test_a_pair_that_never_met_has_an_empty_matrix():
    units = [{"a": "x", "b": "x"}, {"c": "y"}]
    kappas = r.pairwise_kappa(units, ["x", "y"])
    assert kappas[("a", "c")] == r.KappaResult(None, r.NO_SHARED_UNITS, 0, None, None)


# Each reviewer against the rest -----------------------------------------------------------


def test_each_reviewer_against_the_rest():
    units = [
        {"a": "x", "b": "x", "c": "y"},
        {"a": "x", "b": "x", "c": "x"},
        {"a": "y", "b": "y", "c": None},
        {"a": "x", "c": "y"},
        {"d": "x"},
    ]
    result = r.reviewer_agreement(units, ["x", "y"])
    assert list(result) == ["a", "b", "c", "d"]
    assert (result["a"].pairs, result["a"].agreement) == (6, pytest.approx(4 / 6))
    assert (result["b"].pairs, result["b"].agreement) == (5, pytest.approx(4 / 5))
    assert (result["c"].pairs, result["c"].agreement) == (5, pytest.approx(2 / 5))
    # c's pairings (y, x), (y, x), (x, x), (x, x), (y, x) as units of two:
    # o = [[4, 3], [3, 0]], D_o = 6/10, D_e = 2·7·3 / (10·9), alpha = -2/7.
    assert result["c"].alpha.alpha == pytest.approx(-2 / 7)
    package = krippendorff.alpha([[1, 1, 0, 0, 1], [0, 0, 0, 0, 0]], level_of_measurement="nominal")
    assert result["c"].alpha.alpha == pytest.approx(package, abs=1e-9)
    assert result["d"].pairs == 0
    assert result["d"].agreement is None
    assert result["d"].alpha.reason == r.NO_PAIRABLE_UNITS


def test_reviewer_matrices_add_up_across_articles():
    units = as_units(PUBLISHED)
    whole = r.rest_coincidences(units, SCALE)
    first, second = r.rest_coincidences(units[:7], SCALE), r.rest_coincidences(units[7:], SCALE)
    summed = {coder: first[coder] + second[coder] for coder in whole}
    for coder, agreement in r.reviewer_agreement_from_coincidences(summed, "ordinal").items():
        assert agreement == r.reviewer_agreement(units, SCALE, "ordinal")[coder]


# Undefined cases: a defined answer, never an exception ------------------------------------


@pytest.mark.parametrize(
    ("units", "reason"),
    [
        ([], r.NO_VALUES),
        ([{"a": None, "b": None}], r.NO_VALUES),
        ([{"a": "x"}, {"a": "y"}], r.ONE_REVIEWER),
        ([{"a": "x", "b": None}, {"b": "y"}], r.NO_PAIRABLE_UNITS),
        ([{"a": "x", "b": "x"}, {"a": "x", "b": "x", "c": "x"}], r.ALL_IDENTICAL),
    ],
)
@pytest.mark.parametrize("metric", ["nominal", "ordinal"])
def test_undefined_alpha_says_why(units, reason, metric):
    result = r.krippendorff_alpha(units, ["x", "y"], metric)
    assert (result.alpha, result.reason) == (None, reason)
    interval = r.alpha_interval(units, ["x", "y"], metric)
    assert (interval.alpha, interval.low, interval.high, interval.reason) == (
        None,
        None,
        None,
        reason,
    )


def test_undefined_figures_from_matrices():
    assert r.alpha_from_coincidences(np.zeros((3, 3))).reason == r.NO_PAIRABLE_UNITS
    assert r.alpha_from_coincidences([[0.5, 0], [0, 0]]).reason == r.TOO_FEW_VALUES
    assert r.alpha_from_coincidences([[4, 0], [0, 0]], "ordinal").reason == r.ALL_IDENTICAL
    assert r.percent_agreement_from_coincidences(np.zeros((2, 2))).reason == r.NO_PAIRABLE_UNITS
    assert r.percent_agreement([{"a": "x"}], ["x"]).reason == r.ONE_REVIEWER
    assert r.kappa_from_confusion(np.zeros((2, 2))).reason == r.NO_SHARED_UNITS
    assert r.coincidences([], ["x", "y"]).shape == (2, 2)
    assert r.coincidences_from_arrays([], [], 3).tolist() == np.zeros((3, 3)).tolist()


def test_undefined_kappa_says_why():
    same = [{"a": "x", "b": "x"}, {"a": "x", "b": "x"}]
    result = r.cohen_kappa(same, ["x", "y"], "a", "b")
    assert (result.kappa, result.reason, result.units) == (None, r.KAPPA_CHANCE_IS_ONE, 2)
    assert result.observed_agreement == 1.0
    assert r.cohen_kappa(same, ["x", "y"], "a", "a").reason == r.SAME_REVIEWER
    # One reviewer using one category against another using two is defined.
    mixed = [{"a": "x", "b": "x"}, {"a": "x", "b": "y"}]
    assert r.cohen_kappa(mixed, ["x", "y"], "a", "b").kappa == pytest.approx(0.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: r.coincidences([{"a": "maybe"}], ["x", "y"]),
        lambda: r.coincidences([], ["x", "x"]),
        lambda: r.coincidences_from_arrays([0, 1], [0], 2),
        lambda: r.coincidences_from_arrays([0], [2], 2),
        lambda: r.alpha_from_coincidences(np.zeros((2, 3))),
        lambda: r.alpha_from_coincidences(np.eye(2), cast("r.Metric", "interval")),
        lambda: r.alpha_interval([{"a": "x", "b": "y"}], ["x", "y"], resamples=0),
    ],
)
def test_malformed_input_is_refused(call):
    with pytest.raises(ValueError, match=r"."):
        call()


# Bootstrap interval -----------------------------------------------------------------------


def test_bootstrap_interval_contains_the_estimate_and_is_reproducible():
    units = as_units(PUBLISHED)
    interval = r.alpha_interval(units, SCALE, "ordinal")
    assert interval.reason is None
    assert interval.resamples == 1000
    assert interval.confidence == 0.95
    assert interval.low <= interval.alpha <= interval.high <= 1.0
    assert interval.alpha == r.krippendorff_alpha(units, SCALE, "ordinal").alpha
    assert r.alpha_interval(units, SCALE, "ordinal") == interval
    seeded = r.alpha_interval(units, SCALE, "ordinal", seed=np.random.default_rng(0))
    assert seeded == interval
    assert r.alpha_interval(units, SCALE, "ordinal", seed=1) != interval
    # The interval depends on the units, not the order they come in.
    assert r.alpha_interval(units[::-1], SCALE, "ordinal") == interval


def test_bootstrap_matches_resampling_units_one_by_one():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 4, size=(3, 120)).astype(float)
    data[1] = np.where(rng.random(120) < 0.6, data[0], data[1])
    data[rng.random(data.shape) < 0.2] = np.nan
    counts = np.stack([(data == v).sum(axis=0) for v in range(4)], axis=1)
    counts = counts[counts.sum(axis=1) >= 2]
    ours = r.alpha_interval_from_value_counts(counts, "nominal", resamples=4000, seed=5)
    # The textbook bootstrap: draw unit indices, recompute alpha each time.
    draws = np.random.default_rng(6).integers(0, len(counts), size=(4000, len(counts)))
    naive = [
        r.alpha_from_coincidences(r.coincidences_from_value_counts(counts[d])).alpha for d in draws
    ]
    low, high = np.quantile(naive, [0.025, 0.975])
    assert ours.low == pytest.approx(low, abs=0.02)
    assert ours.high == pytest.approx(high, abs=0.02)


def test_bootstrap_with_many_categories_takes_the_general_path():
    counts = r.value_counts(as_units(PUBLISHED), SCALE)
    padded = np.hstack([counts, np.zeros((len(counts), 40), dtype=np.int64)])
    for metric in ("nominal", "ordinal"):
        general = r.alpha_interval_from_value_counts(padded, metric)
        fast = r.alpha_interval_from_value_counts(counts, metric)
        assert general.undefined_resamples == fast.undefined_resamples
        assert (general.alpha, general.low, general.high) == pytest.approx(
            (fast.alpha, fast.low, fast.high), abs=1e-12
        )


def test_bootstrap_reports_resamples_where_alpha_is_undefined():
    # Two units, each unanimous: a resample that draws one of them twice has
    # a single category and no alpha.
    units = [{"a": "x", "b": "x"}, {"a": "y", "b": "y"}]
    interval = r.alpha_interval(units, ["x", "y"], resamples=200)
    assert interval.alpha == 1.0
    assert 0 < interval.undefined_resamples < 200
    assert (interval.low, interval.high) == (1.0, 1.0)
