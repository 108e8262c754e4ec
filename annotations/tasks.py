"""Celery tasks: thin. They take ids and storage names, load rows, call services."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import chord, shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from annotations import agreement_runs, exports, webhooks
from annotations.models import AgreementReport, ArticleAgreement, ExportJob, ImportJob, JobStatus
from annotations.services import import_job_run, job_claim, jobs_pending

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def reanchor_version(article_id: int) -> int:
    """Moves the previous version's claims onto a new version of an article."""
    from annotations.models import Article
    from annotations.versions import article_reanchor

    article = Article.objects.select_related("previous_version").get(pk=article_id)
    return len(article_reanchor(article))


@shared_task
def ping() -> str:
    """Answers "pong": how a health check knows a worker is listening."""
    return "pong"


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> dict[str, Any]:
    """Imports an upload job's files one by one, saving progress after each.

    Safe to run again (a redelivered task): files already imported are
    skipped by position, and re-importing identical content changes nothing.
    A second copy of the task while the first runs does nothing.
    """
    if not job_claim(ImportJob, job_id):
        return {"status": ImportJob.objects.get(pk=job_id).status}
    job = ImportJob.objects.select_related("collection__organization").get(pk=job_id)
    return import_job_run(job=job)


# Agreement ------------------------------------------------------------------------


@shared_task(acks_late=True)
def agreement_chunk(report_id: int, article_ids: list[int]) -> dict[str, Any]:
    """One chunk of a collection run: stores its articles' contributions, returns their sum."""
    report = AgreementReport.objects.select_related("collection__taxonomy").get(pk=report_id)
    return agreement_runs.report_chunk(report, article_ids)


@shared_task(acks_late=True)
def agreement_finish(partials: list[dict[str, Any]], report_id: int) -> int:
    report = AgreementReport.objects.select_related("collection__taxonomy").get(pk=report_id)
    agreement_runs.report_finish(report, partials)
    return report_id


@shared_task
def agreement_failed(request: Any, exc: BaseException, traceback: Any, report_id: int) -> None:
    """Errback: a run whose chunk failed is shown as failed, with the reason."""
    agreement_runs.report_fail(report_id, f"{exc.__class__.__name__}: {exc}")


@shared_task(acks_late=True)
def agreement_run(report_id: int) -> None:
    """Fans a collection run out over chunks of articles (a chord) and adds them up."""
    # Claim the run: a redelivered task finds it started and does nothing.
    claimed = AgreementReport.objects.filter(
        pk=report_id, status=JobStatus.PENDING, started_at__isnull=True
    ).update(status=JobStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return
    report = AgreementReport.objects.select_related("collection").get(pk=report_id)
    parts = agreement_runs.chunks(report)
    if not parts:
        agreement_runs.report_finish(report, [])
        return
    chord(agreement_chunk.s(report_id, ids) for ids in parts)(
        agreement_finish.s(report_id).on_error(agreement_failed.s(report_id=report_id))
    )


@shared_task(acks_late=True)
def agreement_refresh(article_id: int) -> None:
    """Recomputes one article once its claims have stopped changing (debounce)."""
    last = ArticleAgreement.objects.filter(article_id=article_id).aggregate(
        last=Max("requested_at")
    )["last"]
    quiet = timedelta(seconds=settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS)
    if last and timezone.now() - last < quiet * 0.9:
        # Another change came in after this task was scheduled; its task will run.
        return
    agreement_runs.refresh_article(article_id)


@shared_task
def background_reconcile() -> dict[str, int]:
    """Sends again the background work asked for while the broker was down.

    Agreement refreshes and runs, imports, exports, and webhook deliveries
    whose message was lost (the broker was down when they were asked for,
    or Redis restarted holding them): the database says what is pending; celery beat runs this every
    WORKBENCH_RECONCILE_SECONDS, and each worker once when it starts. Work
    asked for within that time (or the refresh debounce) may still be on its
    way, so it is left alone.
    """
    grace = timedelta(
        seconds=max(
            settings.WORKBENCH_RECONCILE_SECONDS,
            2 * settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS,
        )
    )
    before = timezone.now() - grace
    pending: list[tuple[str, Any, list[int]]] = [
        (
            "agreement refreshes",
            agreement_refresh,
            agreement_runs.refreshes_pending(requested_before=before),
        ),
        ("agreement runs", agreement_run, agreement_runs.runs_pending(created_before=before)),
        ("imports", run_import_job, jobs_pending(ImportJob, created_before=before)),
        ("exports", run_export, jobs_pending(ExportJob, created_before=before)),
        ("webhook deliveries", deliver_webhook, webhooks.deliveries_pending(due_before=before)),
    ]
    for _, task, ids in pending:
        for pk in ids:
            task.apply_async((pk,), ignore_result=True)
    if any(ids for _, _, ids in pending):
        logger.info(
            "Reconciled %s", ", ".join(f"{len(ids)} {kind}" for kind, _, ids in pending if ids)
        )
    return {kind: len(ids) for kind, _, ids in pending}


@worker_ready.connect
def _reconcile_on_worker_start(sender: Any = None, **kwargs: Any) -> None:
    # A worker that starts (or restarts after an outage) catches up at once
    # instead of waiting for beat.
    background_reconcile.apply_async(ignore_result=True)


# Exports ---------------------------------------------------------------------------


@shared_task(acks_late=True)
def run_export(job_id: int) -> int:
    """Writes an export job's file. A worker killed mid-export: redelivered, written again.

    A second copy of the task while the first runs (or after it) does nothing.
    """
    if not job_claim(ExportJob, job_id):
        return 0
    try:
        return exports.export_run(job_id).rows
    except Exception as exc:
        # The reason is shown on the exports page; the traceback goes to the log.
        logger.exception("Export %s failed", job_id)
        exports.export_fail(job_id, f"{type(exc).__name__}: {exc}")
        return 0


@shared_task
def exports_expire() -> int:
    """Hourly (celery beat): deletes export files past their expiry."""
    return exports.exports_expire()


# Webhooks --------------------------------------------------------------------------


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self: Any, delivery_id: int) -> str:
    """Sends one webhook delivery; a failed attempt comes back after a growing wait.

    webhooks.delivery_attempt counts the attempts and decides when to give up,
    so Celery's own retry limit is off. Run again for a delivery that is
    delivered or failed, it does nothing.
    """
    outcome = webhooks.delivery_attempt(delivery_id)
    # In-process (no broker) Celery would run a retry at once, ignoring its
    # countdown, and raise it through whoever queued the task (the request
    # that published the claim). The attempts simply follow one another here.
    while outcome.retry_in is not None and self.request.is_eager:
        outcome = webhooks.delivery_attempt(delivery_id, early=True)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status
