"""Agreement between reviewers, in two stages; pure: no Django.

1. `matching`: did reviewers highlight the same claims? Spans are matched
   across reviewers into units; pairwise precision, recall and F1.
2. `reliability`: do they label the matched units alike? Krippendorff's alpha
   (nominal for verdicts, ordinal for ratings) from coincidence matrices,
   with a bootstrap interval; Cohen's kappa, percent agreement, confusion
   matrices, and each reviewer against the rest.

Every count and matrix here adds up across articles, so a collection's
figures come from sums of per-article ones.
"""

from __future__ import annotations

from annotations.agreement.matching import (
    Matching,
    PairCounts,
    Reviewer,
    Span,
    Unit,
    iou,
    match_spans,
    mean_f1,
    reviewer_key,
    reviewer_pair,
    sum_pair_counts,
    unit_labels,
)
from annotations.agreement.reliability import (
    AlphaInterval,
    AlphaResult,
    KappaResult,
    Metric,
    PercentAgreement,
    ReviewerAgreement,
    alpha_from_coincidences,
    alpha_interval,
    alpha_interval_from_value_counts,
    cohen_kappa,
    coincidences,
    coincidences_from_arrays,
    coincidences_from_value_counts,
    confusion_matrix,
    difference_matrix,
    kappa_from_confusion,
    krippendorff_alpha,
    pair_confusion_matrices,
    pairwise_kappa,
    percent_agreement,
    percent_agreement_from_coincidences,
    pooled_confusion_matrix,
    rest_coincidences,
    reviewer_agreement,
    reviewer_agreement_from_coincidences,
    value_counts,
    value_counts_from_arrays,
)

__all__ = [
    "AlphaInterval",
    "AlphaResult",
    "KappaResult",
    "Matching",
    "Metric",
    "PairCounts",
    "PercentAgreement",
    "Reviewer",
    "ReviewerAgreement",
    "Span",
    "Unit",
    "alpha_from_coincidences",
    "alpha_interval",
    "alpha_interval_from_value_counts",
    "cohen_kappa",
    "coincidences",
    "coincidences_from_arrays",
    "coincidences_from_value_counts",
    "confusion_matrix",
    "difference_matrix",
    "iou",
    "kappa_from_confusion",
    "krippendorff_alpha",
    "match_spans",
    "mean_f1",
    "pair_confusion_matrices",
    "pairwise_kappa",
    "percent_agreement",
    "percent_agreement_from_coincidences",
    "pooled_confusion_matrix",
    "rest_coincidences",
    "reviewer_agreement",
    "reviewer_agreement_from_coincidences",
    "reviewer_key",
    "reviewer_pair",
    "sum_pair_counts",
    "unit_labels",
    "value_counts",
    "value_counts_from_arrays",
]
