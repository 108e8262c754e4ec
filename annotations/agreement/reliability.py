"""Agreement on the labels of matched units: alpha, kappa, percent agreement.

Pure: no Django. The reliability data is a sequence of units, each a mapping
reviewer -> label; a reviewer missing from a unit, or mapped to None (a claim
still to check), is a missing value. `categories` fixes the index of every
label in the matrices, and for the ordinal metric it is the order of the scale.

Krippendorff's alpha is computed from the coincidence matrix o: a unit with
m >= 2 values adds, for every ordered pair of two different reviewers' values
(c, k), 1 / (m - 1) to o[c, k]; units with fewer than two values are not
pairable and add nothing. Coincidence matrices of disjoint sets of units add
up, so per-article matrices can be computed apart, summed, and alpha computed
once; the same holds for the pair confusion matrices behind Cohen's kappa and
for the reviewer-against-the-rest matrices.

    alpha = 1 - D_o / D_e,  D_o = Σ o_ck δ_ck / n,  D_e = Σ n_c n_k δ_ck / (n (n - 1))

with n_c the marginals of o, n their sum, and δ the difference function:
nominal δ_ck = [c != k]; ordinal δ_ck = (Σ_{g=c..k} n_g - (n_c + n_k) / 2)²
(Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability").

Nothing here raises on data that leaves a figure undefined (one reviewer, no
pairable units, a single category used by all): the figure is None and the
result says why in `reason`. Malformed input (a label outside `categories`,
a matrix that is not square) is a programming error and raises ValueError.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
import numpy.typing as npt

from annotations.agreement.matching import Reviewer, reviewer_key

Metric = Literal["nominal", "ordinal"]
Matrix = npt.NDArray[np.float64]
Counts = npt.NDArray[np.int64]

NO_VALUES = "no values"
ONE_REVIEWER = "only one reviewer"
NO_PAIRABLE_UNITS = "no pairable units"
TOO_FEW_VALUES = "fewer than two pairable values"
ALL_IDENTICAL = "all values identical: expected disagreement is zero"
NO_SHARED_UNITS = "no units labelled by both reviewers"
SAME_REVIEWER = "a reviewer cannot be compared with themself"
KAPPA_CHANCE_IS_ONE = "expected agreement is one: both reviewers used the same single category"
EVERY_RESAMPLE_UNDEFINED = "alpha is undefined in every resample"

# Bootstrap resamples are drawn in batches of at most this many cells
# (resamples x distinct units), which keeps memory flat on large inputs.
_BATCH_CELLS = 4_000_000


@dataclass(frozen=True, slots=True)
class AlphaResult:
    alpha: float | None
    # Why alpha is None; None when alpha is defined.
    reason: str | None
    metric: Metric
    # n: the number of values in pairable units.
    pairable_values: float
    observed_disagreement: float | None
    expected_disagreement: float | None


@dataclass(frozen=True, slots=True)
class AlphaInterval:
    alpha: float | None
    low: float | None
    high: float | None
    reason: str | None
    confidence: float
    resamples: int
    # Resamples where alpha was undefined (e.g. every drawn unit had the same
    # value); they are left out of the percentiles.
    undefined_resamples: int


@dataclass(frozen=True, slots=True)
class KappaResult:
    kappa: float | None
    reason: str | None
    # Units labelled by both reviewers.
    units: int
    observed_agreement: float | None
    expected_agreement: float | None


@dataclass(frozen=True, slots=True)
class PercentAgreement:
    agreement: float | None
    reason: str | None
    pairable_values: float


@dataclass(frozen=True, slots=True)
class ReviewerAgreement:
    reviewer: Reviewer
    # Pairings of this reviewer's value with another reviewer's on the same unit.
    pairs: int
    # Share of those pairings with the same value.
    agreement: float | None
    # Alpha over those pairings, each one a unit of two values.
    alpha: AlphaResult


# Coincidences -----------------------------------------------------------------------------


def value_counts[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]], categories: Sequence[Hashable]
) -> Counts:
    """One row per unit, in order: how many reviewers gave it each category."""
    unit_index, value_index, n_units, _ = _to_arrays(units, categories)
    return _count(unit_index, value_index, len(categories), n_units)


def value_counts_from_arrays(
    unit_index: npt.ArrayLike, value_index: npt.ArrayLike, n_categories: int
) -> Counts:
    """Rows 0..max(unit_index) from one (unit, category index) pair per value given."""
    units, values = _check_arrays(unit_index, value_index, n_categories)
    n_units = int(units.max()) + 1 if units.size else 0
    return _count(units, values, n_categories, n_units)


def coincidences_from_value_counts(counts: npt.ArrayLike) -> Matrix:
    """The coincidence matrix of units given as rows of category counts."""
    rows = np.asarray(counts, dtype=np.float64)
    if rows.ndim != 2:
        raise ValueError(f"value counts must be a units x categories matrix, not {rows.shape}")
    values = rows.sum(axis=1)
    pairable = values >= 2
    rows, values = rows[pairable], values[pairable]
    weighted = rows / (values - 1)[:, np.newaxis]
    # Σ_u n_uc n_uk / (m_u - 1), less the pairing of each value with itself.
    matrix: Matrix = rows.T @ weighted
    matrix[np.diag_indices_from(matrix)] -= weighted.sum(axis=0)
    # The matrix product may round (c, k) and (k, c) differently.
    return (matrix + matrix.T) / 2


def coincidences_from_arrays(
    unit_index: npt.ArrayLike, value_index: npt.ArrayLike, n_categories: int
) -> Matrix:
    """The coincidence matrix of many units at once, vectorised.

    One entry per value given: `unit_index[i]` is its unit (any non-negative
    integer id) and `value_index[i]` its category's index.
    """
    units, values = _check_arrays(unit_index, value_index, n_categories)
    if units.size and int(units.max()) >= 2 * units.size:
        # Sparse ids (database keys) would make the counts mostly empty rows.
        units = np.unique(units, return_inverse=True)[1].astype(np.int64)
    n_units = int(units.max()) + 1 if units.size else 0
    return coincidences_from_value_counts(_count(units, values, n_categories, n_units))


def coincidences[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]], categories: Sequence[Hashable]
) -> Matrix:
    unit_index, value_index, n_units, _ = _to_arrays(units, categories)
    return coincidences_from_value_counts(_count(unit_index, value_index, len(categories), n_units))


def difference_matrix(marginals: npt.ArrayLike, metric: Metric) -> Matrix:
    """δ[c, k] for the metric, given the coincidence marginals n_c (ordinal needs them)."""
    batch = _differences(np.asarray(marginals, dtype=np.float64)[np.newaxis], metric)
    return np.array(batch[0], dtype=np.float64)


# Krippendorff's alpha ---------------------------------------------------------------------


def alpha_from_coincidences(matrix: npt.ArrayLike, metric: Metric = "nominal") -> AlphaResult:
    coincidence = _square(matrix)
    _check_metric(metric)
    marginals = coincidence.sum(axis=0)
    n = float(marginals.sum())
    if n <= 0:
        return AlphaResult(None, NO_PAIRABLE_UNITS, metric, 0.0, None, None)
    if n <= 1:
        return AlphaResult(None, TOO_FEW_VALUES, metric, n, None, None)
    if np.count_nonzero(marginals) < 2:
        # Every difference function is zero between a category and itself.
        return AlphaResult(None, ALL_IDENTICAL, metric, n, 0.0, 0.0)
    observed, expected = _disagreements(coincidence[np.newaxis], metric)
    d_o, d_e = float(observed[0]), float(expected[0])
    return AlphaResult(1.0 - d_o / d_e, None, metric, n, d_o, d_e)


def krippendorff_alpha[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]],
    categories: Sequence[Hashable],
    metric: Metric = "nominal",
) -> AlphaResult:
    unit_index, value_index, n_units, labelled = _to_arrays(units, categories)
    if reason := _reviewers_reason(len(labelled)):
        return AlphaResult(None, reason, metric, 0.0, None, None)
    counts = _count(unit_index, value_index, len(categories), n_units)
    return alpha_from_coincidences(coincidences_from_value_counts(counts), metric)


def alpha_interval[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]],
    categories: Sequence[Hashable],
    metric: Metric = "nominal",
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator = 0,
) -> AlphaInterval:
    unit_index, value_index, n_units, labelled = _to_arrays(units, categories)
    if reason := _reviewers_reason(len(labelled)):
        return AlphaInterval(None, None, None, reason, confidence, resamples, 0)
    counts = _count(unit_index, value_index, len(categories), n_units)
    return alpha_interval_from_value_counts(
        counts, metric, resamples=resamples, confidence=confidence, seed=seed
    )


def alpha_interval_from_value_counts(
    counts: npt.ArrayLike,
    metric: Metric = "nominal",
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator = 0,
    point: AlphaResult | None = None,
) -> AlphaInterval:
    """Percentile bootstrap interval for alpha, resampling pairable units with replacement.

    Rows of `counts` are units (see `value_counts`); per-article matrices can
    be stacked with np.vstack. The default seed makes a report reproducible.
    `point` is alpha on these counts when the caller has it already.
    """
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    rows = np.asarray(counts, dtype=np.float64)
    if point is None:
        point = alpha_from_coincidences(coincidences_from_value_counts(rows), metric)
    if point.alpha is None:
        return AlphaInterval(None, None, None, point.reason, confidence, resamples, 0)

    # A resample's alpha depends only on how often each distinct unit (row of
    # counts) is drawn. Drawing N units uniformly with replacement puts a
    # Multinomial(N, size_g / N) number of them in each group g of identical
    # units, so drawing those numbers directly is the same bootstrap, and it
    # needs one small matrix product per batch instead of one pass per unit.
    patterns, sizes = _distinct_rows(rows[rows.sum(axis=1) >= 2])
    totals = patterns.sum(axis=1)
    contributions = np.einsum("gc,gk->gck", patterns, patterns)
    diagonal = np.arange(patterns.shape[1])
    contributions[:, diagonal, diagonal] -= patterns
    contributions /= (totals - 1)[:, np.newaxis, np.newaxis]
    flat = contributions.reshape(len(patterns), -1)

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_units = int(sizes.sum())
    probabilities = sizes / n_units
    batch = max(1, _BATCH_CELLS // len(patterns))
    alphas: list[npt.NDArray[np.float64]] = []
    for done in range(0, resamples, batch):
        draws = rng.multinomial(n_units, probabilities, size=min(batch, resamples - done))
        matrices = (draws @ flat).reshape(-1, *contributions.shape[1:])
        alphas.append(_alphas(matrices, metric))
    every = np.concatenate(alphas)
    defined = every[~np.isnan(every)]
    undefined = int(every.size - defined.size)
    if not defined.size:
        return AlphaInterval(
            point.alpha, None, None, EVERY_RESAMPLE_UNDEFINED, confidence, resamples, undefined
        )
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(defined, [tail, 1.0 - tail])
    return AlphaInterval(
        point.alpha, float(low), float(high), None, confidence, resamples, undefined
    )


# Percent agreement ------------------------------------------------------------------------


def percent_agreement_from_coincidences(matrix: npt.ArrayLike) -> PercentAgreement:
    """Share of pairable values whose pairing partners gave the same category.

    This is Krippendorff's observed agreement 1 - D_o (nominal): each value
    counts once, so with two reviewers per unit it is the share of units on
    which they agree, and with more it weighs each unit by its values.
    """
    coincidence = _square(matrix)
    n = float(coincidence.sum())
    if n <= 0:
        return PercentAgreement(None, NO_PAIRABLE_UNITS, 0.0)
    return PercentAgreement(float(np.trace(coincidence)) / n, None, n)


def percent_agreement[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]], categories: Sequence[Hashable]
) -> PercentAgreement:
    unit_index, value_index, n_units, labelled = _to_arrays(units, categories)
    if reason := _reviewers_reason(len(labelled)):
        return PercentAgreement(None, reason, 0.0)
    counts = _count(unit_index, value_index, len(categories), n_units)
    return percent_agreement_from_coincidences(coincidences_from_value_counts(counts))


# Cohen's kappa and confusion matrices -----------------------------------------------------


def confusion_matrix[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]], categories: Sequence[Hashable], a: R, b: R
) -> Counts:
    """Rows: a's category; columns: b's; over the units both labelled."""
    index = _category_index(categories)
    matrix = np.zeros((len(categories), len(categories)), dtype=np.int64)
    for unit in units:
        first, second = unit.get(a), unit.get(b)
        if first is not None and second is not None:
            matrix[_position(index, first), _position(index, second)] += 1
    return matrix


def pair_confusion_matrices[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]],
    categories: Sequence[Hashable],
    reviewers: Iterable[R] | None = None,
) -> dict[tuple[R, R], Counts]:
    """The confusion matrix of every pair of reviewers, (a, b) in `reviewer_key` order.

    `reviewers` defaults to everyone who appears in a unit; pairs who never
    labelled a unit together get an empty matrix. Matrices of the same pair
    add up across articles.
    """
    index = _category_index(categories)
    size = len(categories)
    matrices: dict[tuple[R, R], Counts] = {}
    seen: set[R] = set()
    for unit in units:
        seen.update(unit)
        labelled = sorted(
            ((reviewer, value) for reviewer, value in unit.items() if value is not None),
            key=lambda item: reviewer_key(item[0]),
        )
        for (a, first), (b, second) in combinations(labelled, 2):
            matrix = matrices.get((a, b))
            if matrix is None:
                matrix = matrices[(a, b)] = np.zeros((size, size), dtype=np.int64)
            matrix[_position(index, first), _position(index, second)] += 1
    everyone = sorted(seen if reviewers is None else set(reviewers), key=reviewer_key)
    return {
        pair: matrices.get(pair, np.zeros((size, size), dtype=np.int64))
        for pair in combinations(everyone, 2)
    }


def pooled_confusion_matrix[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]], categories: Sequence[Hashable]
) -> Counts:
    """Every pair of reviewers on every unit, each pair counted both ways round.

    Symmetric, since no reviewer of a pair is the reference; its total is
    twice the number of pairs.
    """
    size = len(categories)
    pooled = np.zeros((size, size), dtype=np.int64)
    for matrix in pair_confusion_matrices(units, categories).values():
        pooled += matrix + matrix.T
    return pooled


def kappa_from_confusion(matrix: npt.ArrayLike) -> KappaResult:
    confusion = _square(matrix)
    total = float(confusion.sum())
    units = round(total)
    if total <= 0:
        return KappaResult(None, NO_SHARED_UNITS, 0, None, None)
    rows = confusion.sum(axis=1) / total
    columns = confusion.sum(axis=0) / total
    observed = float(np.trace(confusion)) / total
    # Expected agreement is one exactly when both used one and the same
    # category; testing the counts avoids trusting a float to equal 1.0.
    used_rows, used_columns = np.flatnonzero(rows), np.flatnonzero(columns)
    if len(used_rows) == 1 and len(used_columns) == 1 and used_rows[0] == used_columns[0]:
        return KappaResult(None, KAPPA_CHANCE_IS_ONE, units, observed, 1.0)
    expected = float(rows @ columns)
    return KappaResult((observed - expected) / (1.0 - expected), None, units, observed, expected)


def cohen_kappa[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]], categories: Sequence[Hashable], a: R, b: R
) -> KappaResult:
    if a == b:
        return KappaResult(None, SAME_REVIEWER, 0, None, None)
    return kappa_from_confusion(confusion_matrix(units, categories, a, b))


def pairwise_kappa[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]],
    categories: Sequence[Hashable],
    reviewers: Iterable[R] | None = None,
) -> dict[tuple[R, R], KappaResult]:
    return {
        pair: kappa_from_confusion(matrix)
        for pair, matrix in pair_confusion_matrices(units, categories, reviewers).items()
    }


# Each reviewer against the rest -----------------------------------------------------------


def rest_coincidences[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]],
    categories: Sequence[Hashable],
    reviewers: Iterable[R] | None = None,
) -> dict[R, Matrix]:
    """Per reviewer, the coincidences of their values with the other reviewers' on each unit.

    Each pairing of the reviewer's value c with another's value k on a unit is
    a unit of two values: it adds 1 to [c, k] and to [k, c]. These matrices
    add up across articles like any coincidence matrix.
    """
    index = _category_index(categories)
    size = len(categories)
    matrices: dict[R, Matrix] = {}
    for unit in units:
        labelled = [
            (reviewer, _position(index, value))
            for reviewer, value in unit.items()
            if value is not None
        ]
        for reviewer in unit:
            if reviewer not in matrices:
                matrices[reviewer] = np.zeros((size, size), dtype=np.float64)
        for reviewer, mine in labelled:
            matrix = matrices[reviewer]
            for other, theirs in labelled:
                if other != reviewer:
                    matrix[mine, theirs] += 1.0
                    matrix[theirs, mine] += 1.0
    if reviewers is not None:
        for reviewer in reviewers:
            matrices.setdefault(reviewer, np.zeros((size, size), dtype=np.float64))
    return {reviewer: matrices[reviewer] for reviewer in sorted(matrices, key=reviewer_key)}


def reviewer_agreement_from_coincidences[R: Reviewer](
    matrices: Mapping[R, npt.ArrayLike], metric: Metric = "nominal"
) -> dict[R, ReviewerAgreement]:
    result: dict[R, ReviewerAgreement] = {}
    for reviewer, matrix in matrices.items():
        percent = percent_agreement_from_coincidences(matrix)
        result[reviewer] = ReviewerAgreement(
            reviewer=reviewer,
            pairs=round(percent.pairable_values / 2),
            agreement=percent.agreement,
            alpha=alpha_from_coincidences(matrix, metric),
        )
    return result


def reviewer_agreement[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]],
    categories: Sequence[Hashable],
    metric: Metric = "nominal",
    reviewers: Iterable[R] | None = None,
) -> dict[R, ReviewerAgreement]:
    return reviewer_agreement_from_coincidences(
        rest_coincidences(units, categories, reviewers), metric
    )


# Internals --------------------------------------------------------------------------------


def _category_index(categories: Sequence[Hashable]) -> dict[Hashable, int]:
    index = {category: position for position, category in enumerate(categories)}
    if len(index) != len(categories):
        raise ValueError("categories must be distinct")
    if None in index:
        raise ValueError("None is a missing value, not a category")
    return index


def _position(index: Mapping[Hashable, int], value: Hashable) -> int:
    position = index.get(value)
    if position is None:
        raise ValueError(f"{value!r} is not one of the categories")
    return position


def _to_arrays[R: Reviewer](
    units: Iterable[Mapping[R, Hashable | None]], categories: Sequence[Hashable]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int, set[R]]:
    """Flatten units into (unit, category index) pairs, one per value given."""
    index = _category_index(categories)
    unit_ids: list[int] = []
    value_ids: list[int] = []
    labelled: set[R] = set()
    n_units = 0
    for position, unit in enumerate(units):
        n_units = position + 1
        for reviewer, value in unit.items():
            if value is None:
                continue
            unit_ids.append(position)
            value_ids.append(_position(index, value))
            labelled.add(reviewer)
    return (
        np.asarray(unit_ids, dtype=np.int64),
        np.asarray(value_ids, dtype=np.int64),
        n_units,
        labelled,
    )


def _check_arrays(
    unit_index: npt.ArrayLike, value_index: npt.ArrayLike, n_categories: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    units = np.asarray(unit_index, dtype=np.int64)
    values = np.asarray(value_index, dtype=np.int64)
    if units.ndim != 1 or units.shape != values.shape:
        raise ValueError("unit_index and value_index must be 1-D arrays of the same length")
    if n_categories < 1:
        raise ValueError(f"n_categories must be at least 1, not {n_categories}")
    if units.size and (units.min() < 0 or values.min() < 0 or values.max() >= n_categories):
        raise ValueError("unit ids must be >= 0 and category indices in [0, n_categories)")
    return units, values


def _count(
    units: npt.NDArray[np.int64], values: npt.NDArray[np.int64], n_categories: int, n_units: int
) -> Counts:
    flat = np.bincount(units * n_categories + values, minlength=n_units * n_categories)
    return flat.astype(np.int64).reshape(n_units, n_categories)


def _distinct_rows(rows: Matrix) -> tuple[Matrix, npt.NDArray[np.int64]]:
    """The distinct rows of integer counts, sorted, and how often each occurs."""
    counts = rows.astype(np.int64)
    base = int(counts.max()) + 1
    if base ** counts.shape[1] < 2**62:
        # Read as digits in base `base`, first column most significant, each
        # row is one integer: sorting those is many times faster than
        # np.unique over rows, and gives the same (lexicographic) order.
        keys = counts @ (base ** np.arange(counts.shape[1] - 1, -1, -1, dtype=np.int64))
        _, first, sizes = np.unique(keys, return_index=True, return_counts=True)
        return rows[first], sizes.astype(np.int64)
    patterns, sizes = np.unique(rows, axis=0, return_counts=True)
    return patterns, sizes.astype(np.int64)


def _square(matrix: npt.ArrayLike) -> Matrix:
    square = np.asarray(matrix, dtype=np.float64)
    if square.ndim != 2 or square.shape[0] != square.shape[1]:
        raise ValueError(f"expected a square matrix, not one of shape {square.shape}")
    return square


def _check_metric(metric: str) -> None:
    if metric not in ("nominal", "ordinal"):
        raise ValueError(f"metric must be 'nominal' or 'ordinal', not {metric!r}")


def _reviewers_reason(labelled: int) -> str | None:
    """Why nothing can be paired when fewer than two reviewers gave a value."""
    if labelled == 0:
        return NO_VALUES
    if labelled == 1:
        return ONE_REVIEWER
    return None


def _differences(marginals: Matrix, metric: Metric) -> Matrix:
    """δ for a batch: marginals of shape (B, V) give differences of shape (B, V, V)."""
    size = marginals.shape[-1]
    if metric == "nominal":
        nominal = 1.0 - np.eye(size)
        return np.broadcast_to(nominal, (marginals.shape[0], size, size))
    _check_metric(metric)
    positions = np.arange(size)
    low = np.minimum.outer(positions, positions)
    high = np.maximum.outer(positions, positions)
    cumulative = np.cumsum(marginals, axis=-1)
    # Σ_{g=low..high} n_g, without a loop over the pairs of categories.
    between = cumulative[:, high] - cumulative[:, low] + marginals[:, low]
    differences: Matrix = (between - (marginals[:, low] + marginals[:, high]) / 2) ** 2
    return differences


def _disagreements(matrices: Matrix, metric: Metric) -> tuple[Matrix, Matrix]:
    """D_o and D_e of a batch of coincidence matrices of shape (B, V, V)."""
    marginals = matrices.sum(axis=1)
    n = marginals.sum(axis=1)
    differences = _differences(marginals, metric)
    observed = (matrices * differences).sum(axis=(1, 2)) / n
    chance = marginals[:, :, np.newaxis] * marginals[:, np.newaxis, :]
    expected = (chance * differences).sum(axis=(1, 2)) / (n * (n - 1))
    return observed, expected


def _alphas(matrices: Matrix, metric: Metric) -> Matrix:
    """Alpha of each matrix in a batch; NaN where it is undefined."""
    marginals = matrices.sum(axis=1)
    defined = (np.count_nonzero(marginals, axis=1) >= 2) & (marginals.sum(axis=1) > 1)
    alphas = np.full(len(matrices), np.nan)
    if defined.any():
        observed, expected = _disagreements(matrices[defined], metric)
        alphas[defined] = 1.0 - observed / expected
    return alphas
