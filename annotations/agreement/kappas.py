"""Fleiss' kappa over all reviewers, and Cohen's kappa weighted on ordinal ratings.

Pure: no Django. Both figures are computed from sums that add up across
articles: each article's contribution is computed once and stored, the
contributions are summed, and the figure is computed once from the sums.

Fleiss' kappa, generalized to a variable number of ratings per unit (Gwet,
Handbook of Inter-Rater Reliability, 4th ed., "Fleiss' generalized kappa").
The input is a units x categories count matrix: r_ik reviewers gave category
k to unit i, and r_i = Σ_k r_ik. Units with fewer than two ratings cannot show
agreement or disagreement and are left out altogether; n is the number of
the others (the pairable units).

    p_a = (1 / n) Σ_i Σ_k r_ik (r_ik - 1) / (r_i (r_i - 1))
    π_k = (1 / n) Σ_i r_ik / r_i
    p_e = Σ_k π_k²
    kappa = (p_a - p_e) / (1 - p_e)

When every unit has the same number r of ratings, π_k = Σ_i r_ik / (n r) is
Fleiss' (1971) p_j and the per-unit term is his P_i, so this is Fleiss' kappa
exactly. Gwet averages π_k over every unit with at least one rating, so on
data with singly-rated units the two differ; here a unit with one rating adds
nothing, as it adds nothing to Krippendorff's alpha (see reliability.py).

Every sum above is over units, so `FleissCounts` holds n, Σ_i p_a,i and the
vector Σ_i r_ik / r_i: the counts of disjoint sets of units add with `+`, and
p_a and every π_k are those sums divided by the summed n.

Cohen's weighted kappa (Cohen 1968) on an ordinal scale of k values, from the
k x k confusion matrix f of two reviewers' ratings on the units both rated
(rows: the first reviewer's rating; confusion matrices of disjoint units add
up). With i and j the positions of two ratings on the scale, the disagreement
weights are v_ij = |i - j| (linear) or (i - j)² (quadratic), and with row
totals r_i, column totals c_j and N = Σ f:

    kappa_w = 1 - (Σ v_ij f_ij / N) / (Σ v_ij r_i c_j / N²)

which is Cohen's (p_o(w) - p_e(w)) / (1 - p_e(w)) with the agreement weights
w_ij = 1 - v_ij / max(v). `observed_agreement` and `expected_agreement` are
p_o(w) and p_e(w). The scale is an ordered list of values, worst to best or
best to worst alike (only distances along it count), and the weights use the
positions on it, not the values: on 1..5 that is the same thing.

Nothing here raises on data that leaves a figure undefined (no pairable
units, one category used by all): kappa is None and `reason` says why.
Malformed input (a negative count, a rating outside the scale) raises
ValueError.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from annotations.agreement.reliability import (
    KAPPA_CHANCE_IS_ONE,
    NO_PAIRABLE_UNITS,
    NO_SHARED_UNITS,
    KappaResult,
)

Weights = Literal["linear", "quadratic"]
Counts = npt.NDArray[np.int64]

ONE_CATEGORY = "expected agreement is one: every rating is the same single category"


# Fleiss' kappa ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FleissCounts:
    """Sums over the pairable units of some articles; counts of disjoint units add with +."""

    # n: units with two or more ratings.
    units: int
    # Σ_i Σ_k r_ik (r_ik - 1) / (r_i (r_i - 1)): p_a times n.
    agreement: float
    # Per category k, Σ_i r_ik / r_i: π_k times n.
    shares: tuple[float, ...]

    @classmethod
    def zero(cls, n_categories: int) -> FleissCounts:
        if n_categories < 1:
            raise ValueError(f"n_categories must be at least 1, not {n_categories}")
        return cls(0, 0.0, (0.0,) * n_categories)

    def __add__(self, other: FleissCounts) -> FleissCounts:
        if len(self.shares) != len(other.shares):
            raise ValueError(
                f"cannot add counts over {len(self.shares)} and {len(other.shares)} categories"
            )
        return FleissCounts(
            self.units + other.units,
            self.agreement + other.agreement,
            tuple(a + b for a, b in zip(self.shares, other.shares, strict=True)),
        )


@dataclass(frozen=True, slots=True)
class FleissResult:
    kappa: float | None
    # Why kappa is None; None when kappa is defined.
    reason: str | None
    # Units with two or more ratings.
    units: int
    observed_agreement: float | None
    expected_agreement: float | None


def fleiss_counts(matrix: npt.ArrayLike) -> FleissCounts:
    """The sums of one article's (or any set of units') rows of category counts."""
    rows = np.asarray(matrix, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] < 1:
        raise ValueError(f"counts must be a units x categories matrix, not {rows.shape}")
    if rows.size and (rows.min() < 0 or not np.all(np.isfinite(rows))):
        raise ValueError("counts must be finite and non-negative")
    ratings = rows.sum(axis=1)
    pairable = ratings >= 2
    rows, ratings = rows[pairable], ratings[pairable]
    agreement = (rows * (rows - 1)).sum(axis=1) / (ratings * (ratings - 1))
    shares = (rows / ratings[:, np.newaxis]).sum(axis=0)
    return FleissCounts(
        int(pairable.sum()), float(agreement.sum()), tuple(float(s) for s in shares)
    )


def sum_fleiss_counts(counts: Iterable[FleissCounts], n_categories: int) -> FleissCounts:
    """The sum of many articles' counts; `n_categories` gives the sum of none its shape."""
    total = FleissCounts.zero(n_categories)
    for each in counts:
        total = total + each
    return total


def fleiss_kappa_from_counts(counts: FleissCounts) -> FleissResult:
    n = counts.units
    if n <= 0:
        return FleissResult(None, NO_PAIRABLE_UNITS, 0, None, None)
    observed = counts.agreement / n
    shares = np.asarray(counts.shares, dtype=np.float64) / n
    # p_e is one exactly when a single category has every rating; testing
    # the shares avoids trusting a float sum of squares to equal 1.0.
    if np.count_nonzero(shares) == 1:
        return FleissResult(None, ONE_CATEGORY, n, observed, 1.0)
    expected = float(shares @ shares)
    return FleissResult((observed - expected) / (1.0 - expected), None, n, observed, expected)


def fleiss_kappa(matrix: npt.ArrayLike) -> FleissResult:
    return fleiss_kappa_from_counts(fleiss_counts(matrix))


# Cohen's weighted kappa -------------------------------------------------------------------


def rating_confusion_matrix(
    a: Sequence[int | None], b: Sequence[int | None], scale: Sequence[int]
) -> Counts:
    """Rows: a's rating; columns: b's; over the units both rated (None is no rating).

    `a[u]` and `b[u]` are the two reviewers' ratings of unit u; rows and
    columns follow the order of `scale`.
    """
    if len(a) != len(b):
        raise ValueError(f"a and b must rate the same units, not {len(a)} and {len(b)}")
    index = _scale_index(scale)
    matrix = np.zeros((len(scale), len(scale)), dtype=np.int64)
    for first, second in zip(a, b, strict=True):
        if first is not None and second is not None:
            matrix[_position(index, first), _position(index, second)] += 1
    return matrix


def weighted_kappa_from_confusion(matrix: npt.ArrayLike, weights: Weights) -> KappaResult:
    confusion = np.asarray(matrix, dtype=np.float64)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"expected a square matrix, not one of shape {confusion.shape}")
    if confusion.size and confusion.min() < 0:
        raise ValueError("a confusion matrix holds counts, which cannot be negative")
    disagreement = disagreement_weights(confusion.shape[0], weights)
    total = float(confusion.sum())
    if total <= 0:
        return KappaResult(None, NO_SHARED_UNITS, 0, None, None)
    units = round(total)
    rows = confusion.sum(axis=1) / total
    columns = confusion.sum(axis=0) / total
    # Expected disagreement is zero exactly when both used one and the same
    # rating; testing the counts avoids trusting a float to equal 0.0.
    used_rows, used_columns = np.flatnonzero(rows), np.flatnonzero(columns)
    if len(used_rows) == 1 and len(used_columns) == 1 and used_rows[0] == used_columns[0]:
        return KappaResult(None, KAPPA_CHANCE_IS_ONE, units, 1.0, 1.0)
    observed = float((disagreement * confusion).sum()) / total
    expected = float(rows @ disagreement @ columns)
    # Two ratings used means two positions at least, so max(v) > 0.
    largest = float(disagreement.max())
    return KappaResult(
        1.0 - observed / expected,
        None,
        units,
        1.0 - observed / largest,
        1.0 - expected / largest,
    )


def weighted_kappa(
    a: Sequence[int | None], b: Sequence[int | None], scale: Sequence[int], weights: Weights
) -> KappaResult:
    return weighted_kappa_from_confusion(rating_confusion_matrix(a, b, scale), weights)


def disagreement_weights(size: int, weights: Weights) -> npt.NDArray[np.float64]:
    """v_ij for a scale of `size` values: |i - j| or (i - j)²."""
    positions = np.arange(size, dtype=np.float64)
    distance = np.abs(positions[:, np.newaxis] - positions[np.newaxis, :])
    if weights == "linear":
        return distance
    if weights == "quadratic":
        squared: npt.NDArray[np.float64] = distance**2
        return squared
    raise ValueError(f"weights must be 'linear' or 'quadratic', not {weights!r}")


def _scale_index(scale: Sequence[int]) -> dict[int, int]:
    index = {value: position for position, value in enumerate(scale)}
    if len(index) != len(scale):
        raise ValueError("the values of a scale must be distinct")
    if not index:
        raise ValueError("a scale needs at least one value")
    return index


def _position(index: dict[int, int], rating: int) -> int:
    position = index.get(rating)
    if position is None:
        raise ValueError(f"{rating!r} is not on the scale")
    return position
