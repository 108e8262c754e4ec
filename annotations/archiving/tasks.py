"""Sources archived in the background."""

from __future__ import annotations

from celery import shared_task

from annotations.archiving.services import archive_cycle as cycle
from annotations.archiving.services import archive_run, archives_pending
from annotations.jobs.reconcile import register


@shared_task(name="annotations.tasks.archive_source", acks_late=True)
def archive_source(archive_id: int) -> str:
    """Captures one source as a WARC record, or checks that it is still there.

    A second copy of the task while the first runs does nothing ("busy").
    """
    return archive_run(archive_id).status


@shared_task(name="annotations.tasks.archive_cycle")
def archive_cycle() -> dict[str, int]:
    """celery beat, every WORKBENCH_ARCHIVE_SWEEP_SECONDS: new sources, and checks due."""
    return cycle()


register("source archives", archive_source, archives_pending)
