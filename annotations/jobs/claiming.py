"""Taking a job for the worker about to run it, and finding jobs no worker is on."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from annotations.models import ExportJob, FetchJob, ImportJob, JobStatus

# A job tried this often (its worker killed each time: out of memory, say) fails.
MAX_JOB_ATTEMPTS = 5


def _job_stale_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.WORKBENCH_JOB_STALE_SECONDS)


def _job_silent(stale_before: datetime) -> Q:
    """A running job that has shown no sign of life since then: its worker is gone."""
    return Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True)
    )


def job_claim(model: type[ImportJob | ExportJob | FetchJob], pk: int) -> bool:
    """Takes a job for the task about to run it; False means leave it alone.

    The same job can be sent more than once: its first message may only have
    been slow when background_reconcile sent another, or the broker gives a
    message back after its visibility timeout while the job still runs. The
    first copy takes a pending job; a later copy finds it running, alive (its
    heartbeat_at recent), and does nothing. A running job silent for
    WORKBENCH_JOB_STALE_SECONDS lost its worker, and the next copy takes it
    over, up to MAX_JOB_ATTEMPTS attempts; then the job fails, saying why.
    """
    now = timezone.now()
    stale_before = _job_stale_before()
    takeable = Q(status=JobStatus.PENDING) | (
        _job_silent(stale_before) & Q(attempts__lt=MAX_JOB_ATTEMPTS)
    )
    if model.objects.filter(takeable, pk=pk).update(status=JobStatus.RUNNING, heartbeat_at=now):
        return True
    model.objects.filter(_job_silent(stale_before), pk=pk).update(
        status=JobStatus.FAILED,
        failure=f"Stopped after {MAX_JOB_ATTEMPTS} attempts: each time its worker died.",
        finished_at=now,
    )
    return False


def jobs_pending(
    model: type[ImportJob | ExportJob | FetchJob], *, created_before: datetime
) -> list[int]:
    """Jobs no worker is on: asked for (or last sent) before then and not taken, or running
    and silent (their worker died). Those pending are marked as sent again now, so that
    the next reconciliation leaves them be while they wait in a long queue."""
    silent = _job_silent(_job_stale_before())
    unsent = Q(status=JobStatus.PENDING, created_at__lt=created_before) & (
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=created_before)
    )
    ids = list(model.objects.filter(unsent | silent).order_by("pk").values_list("pk", flat=True))
    model.objects.filter(unsent, pk__in=ids).update(heartbeat_at=timezone.now())
    return ids
