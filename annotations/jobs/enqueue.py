"""Background work, sent by task name once the transaction commits.

Callers name the task ("annotations.tasks.run_export") rather than import
it: a service never imports a tasks module, so tasks can import services
without a cycle. annotations/tasks.py registers every task under its name.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def task_named(name: str) -> Any:
    """The registered task with this name; a misspelt name fails loudly, not in a worker."""
    try:
        return current_app.tasks[name]
    except KeyError:
        raise LookupError(
            f"No task is registered as {name!r} (see annotations/tasks.py)."
        ) from None


def enqueue(task_name: str, *args: Any, countdown: int = 0) -> None:
    """Sends the task named `task_name` with `args` once the transaction commits.

    The database is the source of truth: if the broker is down, the save
    still succeeds, and the background work is caught up later
    (annotations.jobs.reconcile).
    """
    task = task_named(task_name)

    def send() -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            task.apply_async(args, countdown=countdown)
            return
        try:
            # What a task did is recorded in the database, so no result is kept,
            # and this process never listens for one: with Redis down, listening
            # would hold the request for 20 seconds and then fail.
            # RabbitMQ's confirm is awaited at most this long: a broker that
            # blocks publishers (a memory or disk alarm) must not hold the save.
            task.apply_async(
                args,
                countdown=countdown,
                ignore_result=True,
                confirm_timeout=settings.WORKBENCH_PUBLISH_CONFIRM_SECONDS,
            )
        except Exception:
            # Whatever the failure, the save is committed and must not turn into
            # an error page. The work stays marked pending in the database (a
            # job's status, an agreement's requested_at) and the reconciliation
            # sends it again once the broker is back.
            logger.warning(
                "Could not reach the broker for %s%r; it will be reconciled",
                task_name,
                args,
                exc_info=True,
            )

    transaction.on_commit(send)
