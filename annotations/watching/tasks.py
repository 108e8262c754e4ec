"""Watched articles in the background, and the alerts a changed passage raises."""

from __future__ import annotations

from celery import shared_task

from annotations.jobs.reconcile import register
from annotations.watching.alerts import alerts_pending, passages_check
from annotations.watching.services import watch_cycle as cycle
from annotations.watching.services import watches_check


@shared_task(name="annotations.tasks.watch_cycle")
def watch_cycle() -> dict[str, int]:
    """celery beat, every five minutes: the watches due, sent in batches."""
    return cycle()


@shared_task(name="annotations.tasks.watch_check_batch", acks_late=True)
def watch_check_batch(watch_ids: list[int]) -> dict[str, int]:
    """Checks a batch of watched articles; how many were unchanged, changed, gone, failed."""
    return dict(watches_check(watch_ids))


@shared_task(name="annotations.tasks.passages_check", acks_late=True)
def passages_check_task(article_id: int) -> int:
    """Alerts for the published passages a new version of the article edited or removed."""
    return len(passages_check(article_id))


register("passage alerts", passages_check_task, alerts_pending)
