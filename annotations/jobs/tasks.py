"""The jobs' own tasks: a health ping, and the reconciliation of lost work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.utils import timezone

from annotations.jobs.reconcile import reconcile


@shared_task(name="annotations.tasks.ping")
def ping() -> str:
    """Answers "pong": how a health check knows a worker is listening."""
    return "pong"


@shared_task(name="annotations.tasks.background_reconcile")
def background_reconcile() -> dict[str, int]:
    """Sends again the background work asked for while the broker was down.

    Agreement refreshes and runs, imports, exports, and webhook deliveries
    whose message was lost (the broker was down when they were asked for,
    or Redis restarted holding them): the database says what is pending;
    celery beat runs this every WORKBENCH_RECONCILE_SECONDS, and each worker
    once when it starts. Work asked for within that time (or the refresh
    debounce) may still be on its way, so it is left alone.
    """
    grace = timedelta(
        seconds=max(
            settings.WORKBENCH_RECONCILE_SECONDS,
            2 * settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS,
        )
    )
    return reconcile(before=timezone.now() - grace)


@worker_ready.connect
def _reconcile_on_worker_start(sender: Any = None, **kwargs: Any) -> None:
    # A worker that starts (or restarts after an outage) catches up at once
    # instead of waiting for beat.
    background_reconcile.apply_async(ignore_result=True)
