"""One article's contribution to the agreement figures, their sums, and the report document.

The arithmetic lives in the pure modules beside this one (matching,
reliability); this one turns each article's claims into a contribution
(plain JSON: counts and matrices that add up), adds contributions together
and summarizes the sums as the report `compute_agreement --json` prints.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils import timezone

from annotations.agreement.matching import (
    PairCounts,
    Reviewer,
    Span,
    match_spans,
    mean_f1,
    unit_labels,
)
from annotations.agreement.reliability import (
    alpha_from_coincidences,
    alpha_interval_from_value_counts,
    coincidences_from_value_counts,
    kappa_from_confusion,
    pair_confusion_matrices,
    percent_agreement_from_coincidences,
    rest_coincidences,
    reviewer_agreement_from_coincidences,
    value_counts,
)
from annotations.models import (
    ArticleAgreement,
    Assignment,
    ClaimAnnotation,
    Collection,
    MatchMode,
    VerdictLabel,
)

Partial = dict[str, Any]

BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class Scale:
    """The categories values are counted in: a collection's verdicts and ratings."""

    verdicts: tuple[int, ...]
    verdict_names: dict[int, str]
    ratings: tuple[int, ...]

    @property
    def key(self) -> list[list[int]]:
        """How contributions record the scale they were counted in."""
        return [list(self.verdicts), list(self.ratings)]

    @classmethod
    def of(cls, collection: Collection) -> Scale:
        taxonomy = collection.taxonomy
        labels = list(VerdictLabel.objects.filter(taxonomy=taxonomy).order_by("order", "pk"))
        return cls(
            verdicts=tuple(label.pk for label in labels),
            verdict_names={label.pk: label.name for label in labels},
            ratings=tuple(range(taxonomy.worst_rating, taxonomy.best_rating + 1)),
        )


def _pairable(counts: np.ndarray) -> list[list[int]]:
    """Rows of units with two or more values: the only ones alpha uses."""
    if counts.size == 0:
        return []
    return [[int(v) for v in row] for row in counts[counts.sum(axis=1) >= 2]]


def contribution(
    *,
    article_id: int,
    title: str,
    claims: Sequence[tuple[int, int, int, int, int | None, int | None]],
    reviewers: Iterable[int],
    scale: Scale,
    mode: str,
    threshold: float,
) -> dict[str, Any]:
    """One article's counts and matrices, as JSON.

    `claims` are (id, reviewer, start, end, verdict id, rating) rows.
    """
    spans = [Span(c[0], c[1], c[2], c[3], c[4], c[5]) for c in claims]
    matching = match_spans(spans, mode=mode, threshold=threshold, reviewers=reviewers)  # type: ignore[arg-type]
    verdicts = unit_labels(matching.units, "verdict")
    ratings = unit_labels(matching.units, "rating")
    verdict_counts = value_counts(verdicts, scale.verdicts)
    rating_counts = value_counts(ratings, scale.ratings)
    everyone = sorted({c[1] for c in claims} | set(reviewers))
    confusion = pair_confusion_matrices(verdicts, scale.verdicts, everyone)
    rest = rest_coincidences(verdicts, scale.verdicts, everyone)
    pairable: list[Any] = (
        list(verdict_counts[verdict_counts.sum(axis=1) >= 2]) if verdict_counts.size else []
    )
    disputed = sum(1 for row in pairable if np.count_nonzero(row) > 1)
    single = sum(1 for unit in matching.units if len(unit.spans) == 1)
    units = len(matching.units)
    return {
        "article": article_id,
        "title": title,
        # The categories the counts are in: a taxonomy edit makes this row stale.
        "scale": scale.key,
        "reviewers": everyone,
        "units": units,
        "pairable": len(pairable),
        "disputed": disputed,
        "single": single,
        # Units not everyone agrees on, including those only one reviewer marked.
        "disagreement": (disputed + single) / units if units and len(everyone) > 1 else 0.0,
        "pairs": [[a, b, p.matched, p.spans_a, p.spans_b] for (a, b), p in matching.pairs.items()],
        "verdict_counts": _pairable(verdict_counts),
        "rating_counts": _pairable(rating_counts),
        "confusion": [[a, b, m.astype(int).tolist()] for (a, b), m in confusion.items()],
        "rest": [[r, m.astype(int).tolist()] for r, m in rest.items()],
        "unmatched": {
            str(r): [[s.id, s.start, s.end] for s in spans_]
            for r, spans_ in matching.unmatched.items()
            if spans_
        },
    }


def _load(article_ids: Sequence[int]) -> tuple[dict[int, list[Any]], dict[int, set[int]]]:
    """Claims and assigned reviewers of these articles, in two queries."""
    claims: dict[int, list[Any]] = defaultdict(list)
    for article_id, *row in (
        ClaimAnnotation.objects.filter(article_id__in=article_ids)
        .order_by()
        .values_list("article_id", "id", "reviewer_id", "start", "end", "verdict_id", "rating")
        .iterator(chunk_size=5000)
    ):
        claims[article_id].append(row)
    assigned: dict[int, set[int]] = defaultdict(set)
    for article_id, reviewer_id in Assignment.objects.filter(
        article_id__in=article_ids
    ).values_list("article_id", "reviewer_id"):
        assigned[article_id].add(reviewer_id)
    return claims, assigned


def compute_articles(
    *, collection: Collection, article_ids: Sequence[int], mode: str, threshold: float
) -> list[dict[str, Any]]:
    """Contributions of these articles, stored for later refreshes."""
    scale = Scale.of(collection)
    titles = dict(
        collection.articles.filter(pk__in=article_ids).values_list("pk", "title").order_by()
    )
    claims, assigned = _load(article_ids)
    contributions = [
        contribution(
            article_id=article_id,
            title=titles[article_id],
            claims=claims.get(article_id, []),
            reviewers=assigned.get(article_id, set()),
            scale=scale,
            mode=mode,
            threshold=threshold,
        )
        for article_id in article_ids
        if article_id in titles
    ]
    now = timezone.now()
    # An upsert, so that a run and a refresh computing the same article at the
    # same moment both succeed; the later one wins.
    ArticleAgreement.objects.bulk_create(
        [
            ArticleAgreement(
                article_id=c["article"],
                match_mode=mode,
                iou_threshold=threshold,
                contribution=c,
                computed_at=now,
                requested_at=None,
            )
            for c in contributions
        ],
        update_conflicts=True,
        unique_fields=["article", "match_mode", "iou_threshold"],
        update_fields=["contribution", "computed_at", "requested_at"],
    )
    return contributions


def empty_partial() -> Partial:
    return {
        "pairs": {},
        "verdict_counts": {},
        "rating_counts": {},
        "confusion": {},
        "rest": {},
        # Article id -> [id, title, disagreement, units, disputed].
        "articles": {},
        "unmatched": {},
        "units": 0,
    }


def _add_matrix(target: dict[str, Any], key: str, matrix: list[list[int]], sign: int = 1) -> None:
    counts = np.asarray(matrix, dtype=np.int64)
    if key in target:
        target[key] = (np.asarray(target[key]) + sign * counts).tolist()
    else:
        target[key] = (sign * counts).tolist()


def add(partial: Partial, item: dict[str, Any], sign: int = 1) -> Partial:
    """Adds one article's contribution to a partial sum (in place); sign=-1 takes it out.

    Everything here is a count, so taking an article's old contribution out
    and putting its new one in gives the same total as adding up every article
    again: that is how a changed claim refreshes a collection in a moment.
    """
    for a, b, matched, spans_a, spans_b in item["pairs"]:
        key = f"{a}:{b}"
        old = partial["pairs"].get(key, [0, 0, 0])
        partial["pairs"][key] = [
            old[0] + sign * matched,
            old[1] + sign * spans_a,
            old[2] + sign * spans_b,
        ]
    article = str(item["article"])
    for field in ("verdict_counts", "rating_counts"):
        if _is_packed(partial[field]):
            partial[field] = _swap_packed(
                partial[field], item["article"], item[field] if sign > 0 else []
            )
            continue
        partial[field].pop(article, None)
        if sign > 0 and item[field]:
            partial[field][article] = item[field]
    for a, b, matrix in item["confusion"]:
        _add_matrix(partial["confusion"], f"{a}:{b}", matrix, sign)
    for reviewer, matrix in item["rest"]:
        _add_matrix(partial["rest"], str(reviewer), matrix, sign)
    for reviewer, spans in item["unmatched"].items():
        partial["unmatched"][reviewer] = partial["unmatched"].get(reviewer, 0) + sign * len(spans)
    partial["units"] += sign * item["units"]
    partial["articles"].pop(article, None)
    if sign > 0:
        partial["articles"][article] = [
            item["article"],
            item["title"],
            item["disagreement"],
            item["units"],
            item["disputed"],
        ]
    return partial


def merge(partials: Iterable[Partial]) -> Partial:
    """Adds partial sums together; the order does not matter."""
    total = empty_partial()
    seen: set[frozenset[int]] = set()
    for partial in partials:
        # A chunk delivered twice (acks_late after a worker died) counts once.
        covers = frozenset(int(a) for a in partial["articles"])
        if covers and covers in seen:
            continue
        seen.add(covers)
        for key, (m, a, b) in partial["pairs"].items():
            old = total["pairs"].get(key, [0, 0, 0])
            total["pairs"][key] = [old[0] + m, old[1] + a, old[2] + b]
        total["verdict_counts"].update(partial["verdict_counts"])
        total["rating_counts"].update(partial["rating_counts"])
        for key, matrix in partial["confusion"].items():
            _add_matrix(total["confusion"], key, matrix)
        for key, matrix in partial["rest"].items():
            _add_matrix(total["rest"], key, matrix)
        for key, n in partial["unmatched"].items():
            total["unmatched"][key] = total["unmatched"].get(key, 0) + n
        total["units"] += partial["units"]
        total["articles"].update(partial["articles"])
    return total


def _is_packed(value: Any) -> bool:
    return isinstance(value, dict) and "packed" in value


def _encode(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype="<i4").tobytes()).decode("ascii")


def _decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<i4").astype(np.int64)


def _unpack(value: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    width = int(value["width"])
    return _decode(value["ids"]), _decode(value["rows"]).reshape(-1, width)


def _pack_arrays(ids: np.ndarray, rows: np.ndarray, width: int) -> dict[str, Any]:
    return {"packed": 1, "width": width, "ids": _encode(ids), "rows": _encode(rows)}


def _unit_rows(value: Any, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(article id per row, rows): every article's unit rows in article order.

    Article order, so that a seeded bootstrap gives the same interval however
    the sums were reached.
    """
    if _is_packed(value):
        return _unpack(value)
    keys = sorted(value, key=int)
    rows = np.asarray([row for key in keys for row in value[key]], dtype=np.int64).reshape(
        -1, width
    )
    ids = np.repeat(
        np.asarray([int(k) for k in keys], dtype=np.int64),
        [len(value[k]) for k in keys],
    )
    return ids, rows


def _swap_packed(value: dict[str, Any], article: int, rows: list[list[int]]) -> dict[str, Any]:
    """Packed unit rows with one article's rows replaced (none: taken out)."""
    width = int(value["width"])
    ids, current = _unpack(value)
    keep = ids != article
    ids, current = ids[keep], current[keep]
    if rows:
        new = np.asarray(rows, dtype=np.int64).reshape(-1, width)
        at = int(np.searchsorted(ids, article))
        ids = np.concatenate([ids[:at], np.full(len(new), article, dtype=np.int64), ids[at:]])
        current = np.concatenate([current[:at], new, current[at:]])
    return _pack_arrays(ids, current, width)


def pack(total: Partial, scale: Scale) -> Partial:
    """The sums as a report stores them."""
    packed = dict(total)
    for field, width in (
        ("verdict_counts", len(scale.verdicts)),
        ("rating_counts", len(scale.ratings)),
    ):
        packed[field] = _pack_arrays(*_unit_rows(total[field], width), width)
    return packed | {"scale": scale.key}


def _stack(value: Any, width: int) -> np.ndarray:
    """Every article's unit rows, in article order, so a seeded bootstrap is repeatable."""
    return _unit_rows(value, width)[1]


def _alpha(counts: np.ndarray, metric: str) -> dict[str, Any]:
    point = alpha_from_coincidences(coincidences_from_value_counts(counts), metric)  # type: ignore[arg-type]
    interval = alpha_interval_from_value_counts(
        counts,
        metric,  # type: ignore[arg-type]
        resamples=BOOTSTRAP_RESAMPLES,
    )
    return {
        "alpha": point.alpha,
        "metric": metric,
        "reason": point.reason,
        "ci": [interval.low, interval.high] if interval.low is not None else None,
        "ci_confidence": interval.confidence,
        "pairable_values": point.pairable_values,
    }


def summarize(
    total: Partial,
    *,
    scale: Scale,
    names: dict[int, str],
    mode: str,
    threshold: float,
) -> dict[str, Any]:
    """The report: the same document for the dashboard, the command and the API."""

    def name(reviewer: str | int) -> str:
        return names.get(int(reviewer), str(reviewer))

    verdicts = _stack(total["verdict_counts"], len(scale.verdicts))
    ratings = _stack(total["rating_counts"], len(scale.ratings))
    pair_counts: dict[tuple[Reviewer, Reviewer], PairCounts] = {}
    for key, values in total["pairs"].items():
        a, b = key.split(":")
        pair_counts[(int(a), int(b))] = PairCounts(*values)
    span_pairs = []
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
    pairs = []
    for (a, b), counts in sorted(pair_counts.items()):
        matrix = np.asarray(total["confusion"].get(f"{a}:{b}", [[0]]))
        kappa = kappa_from_confusion(matrix) if matrix.size > 1 else None
        both = int(matrix.sum())
        pairs.append(
            {
                "a": name(a),
                "b": name(b),
                "span_f1": counts.f1,
                "units": both,
                "kappa": kappa.kappa if kappa else None,
                "kappa_reason": kappa.reason if kappa else "no units labelled by both",
                "percent_agreement": float(np.trace(matrix)) / both if both else None,
            }
        )
    size = len(scale.verdicts)
    pooled = np.zeros((size, size), dtype=np.int64)
    for matrix in total["confusion"].values():
        m = np.asarray(matrix, dtype=np.int64)
        pooled += m + m.T
    rest = reviewer_agreement_from_coincidences(
        {int(r): np.asarray(m, dtype=np.float64) for r, m in total["rest"].items()}
    )
    reviewer_ids = sorted({int(r) for key in total["pairs"] for r in key.split(":")})
    verdict = _alpha(verdicts, "nominal")
    verdict["percent_agreement"] = percent_agreement_from_coincidences(
        coincidences_from_value_counts(verdicts)
    ).agreement
    articles = sorted(total["articles"].values(), key=lambda a: (-a[2], a[1], a[0]))
    return {
        "match": mode,
        "iou": threshold if mode == MatchMode.OVERLAP else None,
        "articles_count": len(articles),
        "units": len(verdicts),
        "units_total": total["units"],
        "reviewers": [name(r) for r in reviewer_ids],
        "spans": {"f1_mean": mean_f1(pair_counts), "pairs": span_pairs},
        "verdict": verdict,
        "rating": _alpha(ratings, "ordinal"),
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
            }
            for r, result in sorted(rest.items())
        ],
        "unmatched": {name(r): n for r, n in sorted(total["unmatched"].items())},
        "articles": [
            {"id": a[0], "title": a[1], "disagreement": a[2], "units": a[3], "disputed": a[4]}
            for a in articles
        ],
    }


def reviewer_names(collection: Collection) -> dict[int, str]:
    from django.contrib.auth.models import User

    return dict(
        User.objects.filter(memberships__organization_id=collection.organization_id).values_list(
            "pk", "username"
        )
    )
