"""Export jobs in the background, and the hourly clean-up of expired files."""

from __future__ import annotations

import logging

from celery import shared_task

from annotations.exports import services
from annotations.jobs.claiming import job_claim, jobs_pending
from annotations.jobs.heartbeat import beating
from annotations.jobs.reconcile import register
from annotations.models import ExportJob

logger = logging.getLogger(__name__)


@shared_task(name="annotations.tasks.run_export", acks_late=True)
def run_export(job_id: int) -> int:
    """Writes an export job's file. A worker killed mid-export: redelivered, written again.

    A second copy of the task while the first runs (or after it) does nothing.
    """
    if not job_claim(ExportJob, job_id):
        return 0
    try:
        with beating(ExportJob, job_id):
            return services.export_run(job_id).rows
    except Exception as exc:
        # The reason is shown on the exports page; the traceback goes to the log.
        logger.exception("Export %s failed", job_id)
        services.export_fail(job_id, f"{type(exc).__name__}: {exc}")
        return 0


@shared_task(name="annotations.tasks.exports_expire")
def exports_expire() -> int:
    """Hourly (celery beat): deletes export files past their expiry."""
    return services.exports_expire()


register("exports", run_export, lambda before: jobs_pending(ExportJob, created_before=before))
