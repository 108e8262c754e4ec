"""Agreement runs (a chord of chunks) and the debounced refresh of one article."""

from __future__ import annotations

from typing import Any

from celery import chord, shared_task

from annotations.agreement import runs
from annotations.agreement.sums import from_message, to_message
from annotations.jobs.reconcile import register
from annotations.models import AgreementReport


def _report(report_id: int) -> AgreementReport:
    return AgreementReport.objects.select_related("collection__taxonomy").get(pk=report_id)


@shared_task(name="annotations.tasks.agreement_chunk", acks_late=True)
def agreement_chunk(report_id: int, article_ids: list[int]) -> str:
    """One chunk of a collection run: stores its articles' contributions, returns their
    sum (deflated: sums.to_message)."""
    return to_message(runs.report_chunk(_report(report_id), article_ids))


@shared_task(name="annotations.tasks.agreement_finish", acks_late=True)
def agreement_finish(partials: list[str | dict[str, Any]], report_id: int) -> int:
    runs.report_finish(_report(report_id), [from_message(p) for p in partials])
    return report_id


@shared_task(name="annotations.tasks.agreement_failed")
def agreement_failed(request: Any, exc: BaseException, traceback: Any, report_id: int) -> None:
    """Errback: a run whose chunk failed is shown as failed, with the reason."""
    runs.report_fail(report_id, f"{exc.__class__.__name__}: {exc}")


@shared_task(name="annotations.tasks.agreement_run", acks_late=True)
def agreement_run(report_id: int) -> None:
    """Fans a collection run out over chunks of articles (a chord) and adds them up."""
    report = runs.run_claim(report_id)
    if report is None:
        return  # a redelivered task: the run has started already
    parts = runs.chunks(report)
    if not parts:
        runs.report_finish(report, [])
        return
    chord(agreement_chunk.s(report_id, ids) for ids in parts)(
        agreement_finish.s(report_id).on_error(agreement_failed.s(report_id=report_id))
    )


@shared_task(name="annotations.tasks.agreement_refresh", acks_late=True)
def agreement_refresh(article_id: int) -> None:
    """Recomputes one article once its claims have stopped changing (debounce)."""
    if runs.refresh_due(article_id):
        runs.refresh_article(article_id)


@shared_task(name="annotations.tasks.agreement_refresh_many", acks_late=True)
def agreement_refresh_many(article_ids: list[int]) -> None:
    """Recomputes many articles together (an import's), those whose claims have stopped
    changing; one still changing has a refresh of its own coming."""
    runs.refresh_articles(runs.refreshes_due(article_ids))


register(
    "agreement refreshes",
    agreement_refresh,
    lambda before: runs.refreshes_pending(requested_before=before),
)
register("agreement runs", agreement_run, lambda before: runs.runs_pending(created_before=before))
