"""Agreement runs over a collection, and the refresh of one article when its claims change.

A Celery run fans out over chunks of articles and adds the chunks' partial
sums; a changed claim recomputes one article's contribution and swaps it
into the report's stored sums, without a full run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Least
from django.utils import timezone

from annotations.agreement.contributions import (
    Partial,
    Scale,
    add,
    compute_articles,
    empty_partial,
    merge,
    pack,
    reviewer_names,
    summarize,
)
from annotations.core.permissions import blind_articles
from annotations.jobs.enqueue import enqueue
from annotations.models import (
    AgreementReport,
    Article,
    ArticleAgreement,
    Collection,
    JobStatus,
    MatchMode,
)

CHUNK_SIZE = 500

# A run still pending or running after this long is taken as lost (no worker);
# a new run may start.
RUN_STALE_AFTER = timedelta(minutes=30)


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


def run_request(
    *,
    collection: Collection,
    mode: str | None = None,
    threshold: float | None = None,
    requested_by: Any = None,
) -> AgreementReport:
    """Starts a run in the background; while one is under way, answers with that one."""
    try:
        report = report_start(
            collection=collection, mode=mode, threshold=threshold, requested_by=requested_by
        )
    except RunUnderWay as exc:
        return exc.report
    enqueue("annotations.tasks.agreement_run", report.pk)
    return report


def run_claim(report_id: int) -> AgreementReport | None:
    """Takes a pending run for the task about to run it; None if it has started already."""
    claimed = AgreementReport.objects.filter(
        pk=report_id, status=JobStatus.PENDING, started_at__isnull=True
    ).update(status=JobStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return None
    return AgreementReport.objects.select_related("collection").get(pk=report_id)


def run_state(collection: Collection) -> tuple[AgreementReport | None, AgreementReport | None]:
    """The last finished report, and the run under way (or the newest run, if it failed).

    An older failure is history once a later run has finished.
    """
    under_way = run_under_way(collection)
    if under_way is None:
        newest = (
            AgreementReport.objects.filter(collection=collection)
            .defer("results", "totals")
            .order_by("-created_at", "-pk")
            .first()
        )
        under_way = newest if newest and newest.status != JobStatus.DONE else None
    return latest_report(collection), under_way


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


def refresh_due(article_id: int) -> bool:
    """Whether the article's claims have stopped changing long enough to refresh (debounce).

    A refresh is scheduled after every change; when another change came in
    after this one was scheduled, its own refresh will run, and this one
    has nothing to do.
    """
    last = ArticleAgreement.objects.filter(article_id=article_id).aggregate(
        last=Max("requested_at")
    )["last"]
    quiet = timedelta(seconds=settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS)
    return not (last and timezone.now() - last < quiet * 0.9)


def refresh_article(article_id: int) -> AgreementReport | None:
    """After claims changed: recompute one article, then the collection's figures."""

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
    down when the claim was saved), so the reconciliation (annotations.jobs.reconcile) sends it
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


def agreement_request(article_id: int) -> None:
    """Claims on this article changed: refresh its agreement once they stop changing."""

    now = timezone.now()
    if not ArticleAgreement.objects.filter(article_id=article_id).update(requested_at=now):
        _agreement_mark_new(article_id, now)
    enqueue(
        "annotations.tasks.agreement_refresh",
        article_id,
        countdown=settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS,
    )


def _agreement_mark_new(article_id: int, now: datetime) -> None:
    """Marks an article not yet in its collection's agreement figures as needing a refresh.

    So that a refresh the broker never received is still found by
    the reconciliation (annotations.jobs.reconcile). Only once the collection has a finished
    report: before that, its first run counts every article.
    """
    latest = (
        AgreementReport.objects.filter(collection__articles=article_id, status=JobStatus.DONE)
        .order_by("-finished_at", "-pk")
        .values_list("match_mode", "iou_threshold")
        .first()
    )
    if latest is None:
        return
    # An upsert: two reviewers saving on the same article at once both succeed.
    ArticleAgreement.objects.bulk_create(
        [
            ArticleAgreement(
                article_id=article_id,
                match_mode=latest[0],
                iou_threshold=latest[1],
                requested_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["article", "match_mode", "iou_threshold"],
        update_fields=["requested_at"],
    )


def results_for(user: Any, results: dict[str, Any] | None) -> dict[str, Any] | None:
    """A report's figures as this user may see them: without the per-article rows of
    articles they are reviewing blind (core.permissions), and saying how many are left
    out. The collection's sums still count those articles' claims.
    """
    if not results:
        return results
    hidden = set(blind_articles(user).values_list("article_id", flat=True))
    if not hidden:
        return results
    shown = [row for row in results.get("articles", []) if row["id"] not in hidden]
    return results | {
        "articles": shown,
        "articles_hidden": len(results.get("articles", [])) - len(shown),
    }
