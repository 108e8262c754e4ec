"""The agreement report: a collection's sums summarized as the document the dashboard,
the PDF report, `compute_agreement --json` and the API show.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from annotations.agreement.contributions import Partial, Scale
from annotations.agreement.kappas import fleiss_kappa, weighted_kappa_from_confusion
from annotations.agreement.matching import PairCounts, Reviewer, mean_f1
from annotations.agreement.packing import unpack_rows
from annotations.agreement.reliability import (
    ONE_REVIEWER,
    alpha_from_coincidences,
    alpha_interval_from_value_counts,
    coincidences_from_value_counts,
    kappa_from_confusion,
    percent_agreement_from_coincidences,
    reviewer_agreement_from_coincidences,
)
from annotations.agreement.unitizing import UnitizingCounts, unitizing_alpha_from_counts
from annotations.models import Collection, MatchMode

BOOTSTRAP_RESAMPLES = 1000


def _alpha(
    counts: np.ndarray, metric: str, min_units: int, *, percent: bool = False
) -> dict[str, Any]:
    """Alpha with its interval; with `percent`, the percent agreement on the same units."""
    coincidence = coincidences_from_value_counts(counts)
    point = alpha_from_coincidences(coincidence, metric)  # type: ignore[arg-type]
    interval = alpha_interval_from_value_counts(
        counts,
        metric,  # type: ignore[arg-type]
        resamples=BOOTSTRAP_RESAMPLES,
        point=point,
    )
    units = len(counts)
    block = {
        "alpha": point.alpha,
        "metric": metric,
        "reason": point.reason,
        "units": units,
        "warning": too_few(units, min_units),
        "ci": [interval.low, interval.high] if interval.low is not None else None,
        "ci_confidence": interval.confidence,
        "ci_resamples": interval.resamples,
        "ci_undefined_resamples": interval.undefined_resamples,
        "pairable_values": point.pairable_values,
    }
    if percent:
        block["percent_agreement"] = percent_agreement_from_coincidences(coincidence).agreement
    return block


def too_few(units: int, min_units: int) -> str | None:
    """The warning a figure from too few units carries; None when there are enough."""
    return f"too few claims to say (n = {units:,})" if units < min_units else None


def summarize(
    total: Partial,
    *,
    scale: Scale,
    names: dict[int, str],
    mode: str,
    threshold: float,
    min_units: int = 10,
) -> dict[str, Any]:
    """The report: the same document for the dashboard, the command, the report and the API."""

    def name(reviewer: str | int) -> str:
        return names.get(int(reviewer), str(reviewer))

    verdicts = unpack_rows(total["verdict_counts"], len(scale.verdicts))[1]
    ratings = unpack_rows(total["rating_counts"], len(scale.ratings))[1]
    pair_counts: dict[tuple[Reviewer, Reviewer], PairCounts] = {}
    for key, values in total["pairs"].items():
        a, b = key.split(":")
        pair_counts[(int(a), int(b))] = PairCounts(*values)
    span_pairs = []
    pairs = []
    for (a, b), counts in sorted(pair_counts.items()):
        span_pairs.append(
            {
                "a": name(a),
                "b": name(b),
                "matched": counts.matched,
                "spans_a": counts.spans_a,
                "spans_b": counts.spans_b,
                "precision": counts.precision,
                "recall": counts.recall,
                "f1": counts.f1,
            }
        )
        matrix = np.asarray(total["confusion"].get(f"{a}:{b}", [[0]]))
        kappa = kappa_from_confusion(matrix) if matrix.size > 1 else None
        both = int(matrix.sum())
        rated = np.asarray(total["rating_confusion"].get(f"{a}:{b}", [[0]]))
        linear = weighted_kappa_from_confusion(rated, "linear") if rated.size > 1 else None
        quadratic = weighted_kappa_from_confusion(rated, "quadratic") if rated.size > 1 else None
        pairs.append(
            {
                "a": name(a),
                "b": name(b),
                "span_f1": counts.f1,
                "units": both,
                "kappa": kappa.kappa if kappa else None,
                "kappa_reason": kappa.reason if kappa else "no units labelled by both",
                "percent_agreement": float(np.trace(matrix)) / both if both else None,
                "warning": too_few(both, min_units),
                "rating_units": int(rated.sum()),
                "weighted_kappa_linear": linear.kappa if linear else None,
                "weighted_kappa_quadratic": quadratic.kappa if quadratic else None,
                "weighted_kappa_reason": (linear.reason if linear else "no ratings on this scale"),
                "rating_warning": too_few(int(rated.sum()), min_units),
            }
        )
    size = len(scale.verdicts)
    pooled = np.zeros((size, size), dtype=np.int64)
    for matrix in total["confusion"].values():
        m = np.asarray(matrix, dtype=np.int64).reshape(size, size)
        pooled += m + m.T
    rest = reviewer_agreement_from_coincidences(
        {int(r): np.asarray(m, dtype=np.float64) for r, m in total["rest"].items()}
    )
    reviewer_ids = sorted(int(r) for r in total["reviewers"])
    verdict = _alpha(verdicts, "nominal", min_units, percent=True)
    rating = _alpha(ratings, "ordinal", min_units)
    if len(reviewer_ids) == 1:
        # Not "no pairable units": say why there is nothing to pair.
        for block in (verdict, rating):
            if block["alpha"] is None:
                block["reason"] = ONE_REVIEWER
    fleiss = fleiss_kappa(verdicts) if size else None
    unitizing = unitizing_alpha_from_counts(UnitizingCounts(*total["unitizing"]))
    matched = sum(c.matched for c in pair_counts.values())
    marked = sum(c.spans_a + c.spans_b for c in pair_counts.values())
    articles = sorted(total["articles"].values(), key=lambda a: (-a[2], a[1], a[0]))
    return {
        "match": mode,
        "iou": threshold if mode == MatchMode.OVERLAP else None,
        "min_units": min_units,
        "articles_count": len(articles),
        "units": len(verdicts),
        "units_total": total["units"],
        "reviewers": [name(r) for r in reviewer_ids],
        "reason": ONE_REVIEWER if len(reviewer_ids) == 1 else None,
        "spans": {
            "f1_mean": mean_f1(pair_counts),
            # Of the claims two reviewers of one article marked, the share both marked.
            "found_together": 2 * matched / marked if marked else None,
            "units": total["span_units"],
            "warning": too_few(total["span_units"], min_units),
            "pairs": span_pairs,
            "unitizing": {
                "alpha": unitizing.alpha,
                "reason": unitizing.reason,
                "articles": int(total["unitizing"][0]),
            },
        },
        "verdict": verdict,
        "rating": rating,
        "fleiss": {
            "kappa": fleiss.kappa if fleiss else None,
            "reason": fleiss.reason if fleiss else "no verdicts in the taxonomy",
            "units": fleiss.units if fleiss else 0,
            "observed_agreement": fleiss.observed_agreement if fleiss else None,
            "expected_agreement": fleiss.expected_agreement if fleiss else None,
            "warning": too_few(fleiss.units if fleiss else 0, min_units),
        },
        "pairs": pairs,
        "confusion": {
            "labels": [scale.verdict_names[v] for v in scale.verdicts],
            "matrix": pooled.tolist(),
        },
        "reviewer_agreement": [
            {
                "reviewer": name(r),
                "pairs": result.pairs,
                "agreement": result.agreement,
                "alpha": result.alpha.alpha,
                "warning": too_few(result.pairs, min_units),
            }
            for r, result in sorted(rest.items())
        ],
        "unmatched": {
            name(r): n for r, n in sorted((int(r), n) for r, n in total["unmatched"].items())
        },
        "disputed_count": total["disputed_count"],
        "single_count": total["single_count"],
        "articles": [
            {
                "id": a[0],
                "title": a[1],
                # None: nobody has reviewed it yet (not "0% disagreement").
                "disagreement": a[2] if a[6] else None,
                "units": a[3],
                "disputed": a[4],
                "reviewers": a[5],
                "reviewed": a[6],
                "single": a[7],
            }
            for a in articles
        ],
        # The claims behind the headline: for the articles with the most
        # disagreement, each disputed unit's claim ids, and the claims marked
        # by one reviewer only.
        "listed": _listed(total, articles),
    }


LISTED_ARTICLES = 50


def _listed(total: Partial, articles: list[list[Any]]) -> dict[str, Any]:
    top = [a[0] for a in articles[:LISTED_ARTICLES]]
    ids, rows = unpack_rows(total["disputed"], 2)
    keep = np.isin(ids, top)
    units: dict[int, list[tuple[int, list[int]]]] = {}
    for article, unit, claim in zip(
        ids[keep].tolist(), rows[keep, 0].tolist(), rows[keep, 1].tolist(), strict=True
    ):
        group = units.setdefault(article, [])
        if not group or group[-1][0] != unit:
            group.append((unit, []))
        group[-1][1].append(claim)
    ids, rows = unpack_rows(total["single"], 1)
    keep = np.isin(ids, top)
    alone: dict[int, list[int]] = {}
    for article, claim in zip(ids[keep].tolist(), rows[keep, 0].tolist(), strict=True):
        alone.setdefault(article, []).append(claim)
    return {
        "disputed": [
            {"article": a, "claims": claims} for a in top for _, claims in units.get(a, [])
        ],
        "single": [{"article": a, "claim": c} for a in top for c in alone.get(a, [])],
    }


def reviewer_names(collection: Collection) -> dict[int, str]:
    from django.contrib.auth.models import User

    return dict(
        User.objects.filter(memberships__organization_id=collection.organization_id).values_list(
            "pk", "username"
        )
    )
