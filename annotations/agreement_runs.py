"""Agreement on a collection: per-article contributions, their sums, the report.

The arithmetic lives in the pure `annotations.agreement` package; this module
loads claims, turns each article into a contribution (plain JSON: counts and
matrices that add up), adds contributions together and writes the report
document. A Celery run fans out over chunks of articles and adds the chunks'
partial sums; a changed claim recomputes one article's contribution and swaps
it into the report's stored sums, without a full run.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone

from annotations.agreement import (
    PairCounts,
    Reviewer,
    Span,
    alpha_from_coincidences,
    alpha_interval_from_value_counts,
    coincidences_from_value_counts,
    kappa_from_confusion,
    match_spans,
    mean_f1,
    pair_confusion_matrices,
    percent_agreement_from_coincidences,
    rest_coincidences,
    reviewer_agreement_from_coincidences,
    unit_labels,
    value_counts,
)
from annotations.models import (
    AgreementReport,
    ArticleAgreement,
    Assignment,
    ClaimAnnotation,
    Collection,
    JobStatus,
    MatchMode,
    VerdictLabel,
)

Partial = dict[str, Any]
CHUNK_SIZE = 500
# A run still pending or running after this long is taken as lost (no worker);
# a new run may start.
RUN_STALE_AFTER = timedelta(minutes=30)
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


# One article --------------------------------------------------------------------------


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


# Adding up ----------------------------------------------------------------------------


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


# Stored sums ---------------------------------------------------------------------------
#
# A report keeps its sums (AgreementReport.totals) so that a changed claim only
# swaps its article's part. Most of their bulk is the unit rows (a row of
# value counts per pairable unit, per article: the bootstrap resamples units);
# stored as JSON lists they would take a second to read back and write again
# on 100,000 units. They are kept packed instead: the rows as one int32 array
# and the article id of each row as another, both sorted by article, base64 in
# the JSON. Partials that travel between tasks keep the plain JSON form.


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


# The report document ------------------------------------------------------------------


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


# Runs ---------------------------------------------------------------------------------


def run_under_way(collection: Collection) -> AgreementReport | None:
    """The newest run asked for and not finished, unless it has gone stale."""
    return (
        AgreementReport.objects.filter(
            collection=collection,
            status__in=[JobStatus.PENDING, JobStatus.RUNNING],
            created_at__gte=timezone.now() - RUN_STALE_AFTER,
        )
        .defer("results", "totals")
        .order_by("-created_at", "-pk")
        .first()
    )


class RunUnderWay(ValueError):
    """Asked to start a run while one is under way: the error names that run."""

    def __init__(self, report: AgreementReport) -> None:
        super().__init__("a run is already under way for this collection; wait for it to finish")
        self.report = report


def report_start(
    *,
    collection: Collection,
    mode: str | None = None,
    threshold: float | None = None,
    requested_by: Any = None,
) -> AgreementReport:
    """A new report, pending, with the collection's defaults for what is not given."""
    mode = mode or MatchMode.OVERLAP
    if mode not in MatchMode.values:
        raise ValueError(f"match mode {mode!r}: use {' or '.join(MatchMode.values)}")
    threshold = collection.iou_threshold if threshold is None else threshold
    if not 0 < threshold <= 1:
        raise ValueError(f"IoU threshold {threshold}: use a number above 0 and at most 1")
    with transaction.atomic():
        # Two starts at once: the second waits here for the first to commit its
        # run, then finds it under way (on PostgreSQL; SQLite takes one writer
        # at a time anyway).
        list(Collection.objects.select_for_update().filter(pk=collection.pk).values("pk"))
        under_way = run_under_way(collection)
        if under_way is not None:
            raise RunUnderWay(under_way)
        return AgreementReport.objects.create(
            organization_id=collection.organization_id,
            collection=collection,
            match_mode=mode,
            iou_threshold=threshold,
            total=collection.articles.count(),
            requested_by=requested_by,
        )


def chunks(report: AgreementReport, size: int = CHUNK_SIZE) -> list[list[int]]:
    """The run's articles in chunks; the report's total is set from the same list."""
    ids = list(report.collection.articles.order_by("pk").values_list("pk", flat=True))
    AgreementReport.objects.filter(pk=report.pk).update(total=len(ids))
    report.total = len(ids)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def report_chunk(report: AgreementReport, article_ids: Sequence[int]) -> Partial:
    """Computes and stores a chunk of articles; returns their partial sum."""
    AgreementReport.objects.filter(pk=report.pk, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    partial = empty_partial()
    for item in compute_articles(
        collection=report.collection,
        article_ids=article_ids,
        mode=report.match_mode,
        threshold=report.iou_threshold,
    ):
        add(partial, item)
    # Bounded, so a chunk delivered twice cannot count past the total.
    AgreementReport.objects.filter(pk=report.pk).update(
        processed=Least(F("processed") + len(article_ids), F("total"))
    )
    return partial


def report_finish(report: AgreementReport, partials: Iterable[Partial]) -> AgreementReport:
    collection = report.collection
    scale = Scale.of(collection)
    total = merge(partials)
    # Kept, so that a changed claim only swaps its article's part of the sums.
    report.totals = pack(total, scale)
    report.results = summarize(
        total,
        scale=scale,
        names=reviewer_names(collection),
        mode=report.match_mode,
        threshold=report.iou_threshold,
    )
    now = timezone.now()
    started = report.started_at or report.created_at
    report.status = JobStatus.DONE
    report.processed = report.total
    report.finished_at = report.refreshed_at = now
    report.duration_ms = int((now - started).total_seconds() * 1000)
    report.save(
        update_fields=[
            "results",
            "totals",
            "status",
            "processed",
            "finished_at",
            "refreshed_at",
            "duration_ms",
        ]
    )
    return report


def report_fail(report_id: int, reason: str) -> None:
    AgreementReport.objects.filter(pk=report_id).exclude(status=JobStatus.DONE).update(
        status=JobStatus.FAILED, failure=reason, finished_at=timezone.now()
    )


def report_run_here(report: AgreementReport, chunk_size: int = CHUNK_SIZE) -> AgreementReport:
    """The whole run in this process: what the command does, and the tests' yardstick."""
    try:
        partials = [report_chunk(report, ids) for ids in chunks(report, chunk_size)]
        report.refresh_from_db()
        return report_finish(report, partials)
    except Exception as exc:
        report_fail(report.pk, f"{exc.__class__.__name__}: {exc}")
        raise


def latest_report(collection: Collection) -> AgreementReport | None:
    """The last finished report, without its stored sums (only a refresh needs them)."""
    return (
        AgreementReport.objects.filter(collection=collection, status=JobStatus.DONE)
        .defer("totals")
        .order_by("-finished_at", "-pk")
        .first()
    )


def refresh_article(article_id: int) -> AgreementReport | None:
    """After claims changed: recompute one article, then the collection's figures."""
    from annotations.models import Article

    article = Article.objects.select_related("collection__taxonomy").get(pk=article_id)
    collection = article.collection
    # Only which report and how it matched: its stored documents are large, and
    # are read once, below, under the lock.
    latest = (
        AgreementReport.objects.filter(collection=collection, status=JobStatus.DONE)
        .order_by("-finished_at", "-pk")
        .values("pk", "match_mode", "iou_threshold")
        .first()
    )
    if latest is None:
        # Nothing to refresh yet: the first run computes every article.
        return None
    mode, threshold = latest["match_mode"], latest["iou_threshold"]
    scale = Scale.of(collection)
    with transaction.atomic():
        # One refresh at a time per report; its old results are replaced, not read.
        report = AgreementReport.objects.select_for_update().defer("results").get(pk=latest["pk"])
        old = (
            ArticleAgreement.objects.filter(
                article_id=article_id, match_mode=mode, iou_threshold=threshold
            )
            .values_list("contribution", flat=True)
            .first()
        )
        fresh = compute_articles(
            collection=collection, article_ids=[article_id], mode=mode, threshold=threshold
        )
        new = fresh[0] if fresh else None
        total = report.totals
        if (
            total is not None
            and total.get("scale") == scale.key
            and (old is None or old.get("scale") == scale.key)
        ):
            # Swap this article's part of the sums: a moment, however large the collection.
            if old:
                add(total, old, sign=-1)
            if new:
                add(total, new)
        else:
            total = _add_up_stored(collection, mode, threshold, scale)
        report.totals = pack(total, scale)
        report.results = summarize(
            total,
            scale=scale,
            names=reviewer_names(collection),
            mode=mode,
            threshold=threshold,
        )
        report.refreshed_at = timezone.now()
        report.save(update_fields=["results", "totals", "refreshed_at"])
    return report


def refreshes_pending(*, requested_before: datetime) -> list[int]:
    """Articles whose claims changed before then and whose refresh has not run since.

    A refresh clears `requested_at` (compute_articles); one still set long
    after the change means the refresh never reached a worker (the broker was
    down when the claim was saved), so tasks.background_reconcile sends it
    again. Only rows counted the way their collection's latest report counts:
    rows of an older match mode are recomputed by the next full run anyway.
    """
    pending = list(
        ArticleAgreement.objects.filter(
            requested_at__isnull=False, requested_at__lt=requested_before
        )
        .values_list("article_id", "article__collection_id", "match_mode", "iou_threshold")
        .order_by("article_id")
    )
    if not pending:
        return []
    latest: dict[int, tuple[str, float]] = {}
    for collection_id, mode, threshold in (
        AgreementReport.objects.filter(
            collection_id__in={row[1] for row in pending}, status=JobStatus.DONE
        )
        .order_by("collection_id", "-finished_at", "-pk")
        .values_list("collection_id", "match_mode", "iou_threshold")
    ):
        latest.setdefault(collection_id, (mode, threshold))
    return sorted(
        {
            article_id
            for article_id, collection_id, mode, threshold in pending
            if latest.get(collection_id) == (mode, threshold)
        }
    )


def runs_pending(*, created_before: datetime) -> list[int]:
    """Runs that were asked for but never started: their task never reached a worker.

    Sending one again is safe: agreement_run claims its report first, so a
    run delivered twice starts once.
    """
    return list(
        AgreementReport.objects.filter(
            status=JobStatus.PENDING,
            started_at__isnull=True,
            created_at__lt=created_before,
            created_at__gte=timezone.now() - RUN_STALE_AFTER,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _add_up_stored(collection: Collection, mode: str, threshold: float, scale: Scale) -> Partial:
    """Every stored contribution added up; those counted in an old scale are counted again."""
    total = empty_partial()
    stale: list[int] = []
    for item in (
        ArticleAgreement.objects.filter(
            article__collection=collection, match_mode=mode, iou_threshold=threshold
        )
        .exclude(contribution__isnull=True)
        .values_list("contribution", flat=True)
        .iterator(chunk_size=2000)
    ):
        if not item:
            continue
        if item.get("scale") != scale.key:
            stale.append(item["article"])
        else:
            add(total, item)
    if stale:
        # The taxonomy changed since these were counted: count them again.
        for fresh in compute_articles(
            collection=collection, article_ids=stale, mode=mode, threshold=threshold
        ):
            add(total, fresh)
    return total
