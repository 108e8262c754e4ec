"""A running job's heartbeat: how the workbench tells a busy worker from a dead one.

While a worker runs an import or an export, a thread of its own writes the
job's `heartbeat_at` every WORKBENCH_JOB_HEARTBEAT_SECONDS, whatever the job
is doing (a PDF's layout writes no progress for minutes). A job silent for
WORKBENCH_JOB_STALE_SECONDS lost its worker: the reconciliation sends it
again and the next worker takes it over (claiming.job_claim).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.utils import timezone

from annotations.models import ExportJob, FetchJob, ImportJob, JobStatus

logger = logging.getLogger(__name__)


def beat(model: type[ImportJob | ExportJob | FetchJob], pk: int) -> int:
    """One heartbeat: the job shows a sign of life now (while it is running)."""
    return model.objects.filter(pk=pk, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now())


@contextlib.contextmanager
def beating(model: type[ImportJob | ExportJob | FetchJob], pk: int) -> Iterator[None]:
    """Beats the job's heartbeat in a thread while the block runs.

    Only on a real worker, outside a transaction: the thread has a database
    connection of its own, which would not see a job an open transaction has
    not committed, and in-process tasks (no broker) finish within the request
    that started them.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER or connection.in_atomic_block:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.wait(settings.WORKBENCH_JOB_HEARTBEAT_SECONDS):
                try:
                    beat(model, pk)
                except DatabaseError:
                    # The database went away for a moment: the next beat will tell.
                    logger.warning("Missed a heartbeat of %s %s", model.__name__, pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
