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
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone

from annotations.agreement.contributions import (
    Partial,
    Scale,
    answer_requests,
    compute_articles,
    counted_digest,
    record_counts,
)
from annotations.agreement.summary import reviewer_names, summarize
from annotations.agreement.sums import add, merge, pack, unpack, usable
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

CHUNK_SIZE = 1000

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
        .defer("results", "sums")
        .order_by("-created_at", "-pk")
        .first()
    )


class RunUnderWay(ValueError):
    """Asked to start a run while one is under way: the error names that run."""

    def __init__(self, report: AgreementReport) -> None:
        super().__init__("a run is already under way for this collection; wait for it to finish")
        self.report = report


def min_units_save(*, collection: Collection, min_units: int) -> None:
    """The collection's "too few claims to say" threshold, for its next runs and refreshes."""
    if min_units != collection.agreement_min_units:
        collection.agreement_min_units = min_units
        collection.save(update_fields=["agreement_min_units"])


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
            .defer("results", "sums")
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
    partial = compute_articles(
        collection=report.collection,
        article_ids=article_ids,
        mode=report.match_mode,
        threshold=report.iou_threshold,
        # The run answers the requests for a refresh once it has finished: if it
        # fails, they stay asked for, against the last finished report.
        answer=False,
    )
    # Bounded, so a chunk delivered twice cannot count past the total.
    AgreementReport.objects.filter(pk=report.pk).update(
        processed=Least(F("processed") + len(article_ids), F("total"))
    )
    return partial


def report_finish(report: AgreementReport, partials: Iterable[Partial]) -> AgreementReport:
    """Adds the chunks up into the report and answers the requests they counted. A
    finish delivered again (acks_late, after a worker died) does nothing: refreshes
    may have swapped changes into the sums since."""
    if AgreementReport.objects.filter(pk=report.pk, status=JobStatus.DONE).exists():
        report.refresh_from_db()
        return report
    collection = report.collection
    scale = Scale.of(collection)
    partials = list(partials)
    total = merge(partials)
    # Kept, so that a changed claim only swaps its article's part of the sums.
    report.sums = pack(total, scale)
    report.results = summarize(
        total,
        scale=scale,
        names=reviewer_names(collection),
        mode=report.match_mode,
        threshold=report.iou_threshold,
        min_units=collection.agreement_min_units,
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
            "sums",
            "status",
            "processed",
            "finished_at",
            "refreshed_at",
            "duration_ms",
        ]
    )
    for partial in partials:
        answer_requests(
            partial.get("asked", {}), mode=report.match_mode, threshold=report.iou_threshold
        )
    # Claims changed while the run was counting: their refreshes waited for it
    # (_refresh_chunk), and now swap the changes into these sums.
    changed = ArticleAgreement.objects.filter(
        article__collection=collection,
        match_mode=report.match_mode,
        iou_threshold=report.iou_threshold,
        requested_at__isnull=False,
    ).values_list("article_id", flat=True)
    agreement_request_many(list(changed))
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
        .defer("sums")
        .order_by("-finished_at", "-pk")
        .first()
    )


def refresh_due(article_id: int) -> bool:
    """Whether the article's claims have stopped changing long enough to refresh (debounce).

    A refresh is scheduled after every change; when another change came in
    after this one was scheduled, its own refresh will run, and this one
    has nothing to do.
    """
    return bool(refreshes_due([article_id]))


def refreshes_due(article_ids: Sequence[int]) -> list[int]:
    """Those of the articles whose claims have stopped changing long enough (refresh_due,
    in one query for many)."""
    quiet = timedelta(seconds=settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS) * 0.9
    recent = timezone.now() - quiet
    busy = set(
        ArticleAgreement.objects.filter(article_id__in=article_ids, requested_at__gt=recent)
        .values_list("article_id", flat=True)
        .distinct()
    )
    return [a for a in article_ids if a not in busy]


def refresh_article(article_id: int) -> AgreementReport | None:
    """After claims changed: recompute one article, then the collection's figures."""
    reports = refresh_articles([article_id])
    return reports[0] if reports else None


def refresh_articles(article_ids: Iterable[int]) -> list[AgreementReport]:
    """After claims changed on these articles (one, or an import's thousands): recompute
    them, then each of their collections' figures once.

    Their old counts are taken out of the sums and their new ones put in, so
    the cost follows the articles that changed, not the size of the
    collection; a collection with no finished report is left to its first run.
    """
    by_collection: dict[int, list[int]] = {}
    for article_id, collection_id in Article.objects.filter(pk__in=set(article_ids)).values_list(
        "pk", "collection_id"
    ):
        by_collection.setdefault(collection_id, []).append(article_id)
    reports = []
    for collection_id, ids in sorted(by_collection.items()):
        for i in range(0, len(ids), CHUNK_SIZE):
            report = _refresh_chunk(collection_id, sorted(ids)[i : i + CHUNK_SIZE])
            if report is not None:
                reports.append(report)
    return reports


def _refresh_chunk(collection_id: int, article_ids: list[int]) -> AgreementReport | None:
    """Recomputes some articles of one collection, then its figures, under the report's lock."""
    collection = Collection.objects.select_related("taxonomy").get(pk=collection_id)
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
    if run_under_way(collection) is not None:
        # A run is counting the collection again: what it reads may predate this
        # change, so the change waits, still asked for, and report_finish asks for
        # it again against the new sums.
        return None
    mode, threshold = latest["match_mode"], latest["iou_threshold"]
    scale = Scale.of(collection)
    with transaction.atomic():
        # One refresh at a time per report; its old results are replaced, not read.
        report = AgreementReport.objects.select_for_update().defer("results").get(pk=latest["pk"])
        records = dict(
            ArticleAgreement.objects.filter(
                article_id__in=article_ids, match_mode=mode, iou_threshold=threshold
            ).values_list("article_id", "record")
        )
        total = unpack(report.sums)
        olds = []
        for article_id in article_ids:
            record, digest = records.get(article_id), counted_digest(total, article_id)
            if record or digest is not None:
                # None (the sums are added up again) unless the stored record is the
                # one the sums counted; with neither, the article is new to them.
                olds.append(
                    record_counts(
                        article_id,
                        record,
                        scale=scale,
                        mode=mode,
                        threshold=threshold,
                        digest=digest,
                    )
                )
        # A record of another layout or scale (None) means the sums are added up again.
        old = None if None in olds else merge(o for o in olds if o is not None)
        new = compute_articles(
            collection=collection,
            article_ids=article_ids,
            mode=mode,
            threshold=threshold,
            scale=scale,
        )
        if total is not None and old is not None and usable(total, scale):
            # Swap these articles' part of the sums: a moment, however large the collection.
            add(total, old, sign=-1)
            add(total, new)
        else:
            # The taxonomy (or how counts are kept) changed since: count everything again.
            total = _add_up(collection, mode, threshold, scale)
        report.sums = pack(total, scale)
        report.results = summarize(
            total,
            scale=scale,
            names=reviewer_names(collection),
            mode=mode,
            threshold=threshold,
            min_units=collection.agreement_min_units,
        )
        report.refreshed_at = timezone.now()
        report.save(update_fields=["results", "sums", "refreshed_at"])
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


def _add_up(collection: Collection, mode: str, threshold: float, scale: Scale) -> Partial:
    """Every article of the collection counted again, chunk by chunk, in this process."""
    ids = list(collection.articles.order_by("pk").values_list("pk", flat=True))
    return merge(
        compute_articles(
            collection=collection,
            article_ids=ids[i : i + CHUNK_SIZE],
            mode=mode,
            threshold=threshold,
            scale=scale,
        )
        for i in range(0, len(ids), CHUNK_SIZE)
    )


def agreement_request(article_id: int) -> None:
    """Claims on this article changed: refresh its agreement once they stop changing."""
    agreement_request_many([article_id])


# Articles one refresh message carries, when an import asks for thousands at once.
REQUEST_BATCH = 500


def agreement_request_many(article_ids: Iterable[int]) -> None:
    """Claims on these articles changed (one article, or every article an import touched):
    refresh their agreement once they stop changing.

    A few queries and one message per REQUEST_BATCH articles, however many
    articles: the refresh recomputes them together (refresh_articles).
    """
    ids = sorted(set(article_ids))
    if not ids:
        return
    agreement_mark_requested(ids)
    for i in range(0, len(ids), REQUEST_BATCH):
        batch = ids[i : i + REQUEST_BATCH]
        if len(batch) == 1:
            enqueue(
                "annotations.tasks.agreement_refresh",
                batch[0],
                countdown=settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS,
            )
        else:
            enqueue(
                "annotations.tasks.agreement_refresh_many",
                batch,
                countdown=settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS,
            )


def agreement_mark_requested(article_ids: Iterable[int]) -> None:
    """Marks these articles' agreement as asked for, without sending the refresh.

    In the transaction that changed their claims: if the refresh is never sent
    (a worker that died before asking, a broker that was down), the
    reconciliation (annotations.jobs.reconcile) finds the mark and sends it.
    """
    ids = sorted(set(article_ids))
    now = timezone.now()
    for i in range(0, len(ids), REQUEST_BATCH):
        batch = ids[i : i + REQUEST_BATCH]
        known = set(
            ArticleAgreement.objects.filter(article_id__in=batch).values_list(
                "article_id", flat=True
            )
        )
        ArticleAgreement.objects.filter(article_id__in=known).update(requested_at=now)
        _agreement_mark_new([a for a in batch if a not in known], now)


def _agreement_mark_new(article_ids: Sequence[int], now: datetime) -> None:
    """Marks articles not yet in their collection's agreement figures as needing a refresh.

    So that a refresh the broker never received is still found by
    the reconciliation (annotations.jobs.reconcile). Only once the collection has a finished
    report: before that, its first run counts every article.
    """
    if not article_ids:
        return
    collections = dict(
        Article.objects.filter(pk__in=article_ids).values_list("pk", "collection_id")
    )
    latest: dict[int, tuple[str, float]] = {}
    for collection_id, mode, threshold in (
        AgreementReport.objects.filter(
            collection_id__in=set(collections.values()), status=JobStatus.DONE
        )
        .order_by("collection_id", "-finished_at", "-pk")
        .values_list("collection_id", "match_mode", "iou_threshold")
    ):
        latest.setdefault(collection_id, (mode, threshold))
    rows = [
        ArticleAgreement(
            article_id=article_id,
            match_mode=latest[collection_id][0],
            iou_threshold=latest[collection_id][1],
            requested_at=now,
        )
        for article_id, collection_id in collections.items()
        if collection_id in latest
    ]
    if rows:
        # An upsert: two reviewers saving on the same article at once both succeed.
        ArticleAgreement.objects.bulk_create(
            rows,
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
    listed = results.get("listed") or {}
    return results | {
        "articles": shown,
        "articles_hidden": len(results.get("articles", [])) - len(shown),
        "listed": {
            kind: [item for item in items if item["article"] not in hidden]
            for kind, items in listed.items()
        },
    }
