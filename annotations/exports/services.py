"""Export jobs: started from the page or the API, written by a worker, expired after a week."""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import (
    F,
)
from django.db.models.functions import Least
from django.utils import timezone

from annotations.core.permissions import require_editor
from annotations.exports.selection import Selection, pdf_check, selection_check
from annotations.exports.writers import WRITERS, count, filename
from annotations.jobs.enqueue import enqueue
from annotations.models import ExportFormat, ExportJob, JobStatus

if TYPE_CHECKING:
    pass


logger = logging.getLogger(__name__)


def temp_dir() -> Path:
    path = Path(settings.WORKBENCH_EXPORT_TMP)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_run(job_id: int) -> ExportJob:
    """Writes a job's file; safe to run again after a worker died in the middle.

    The file is written to a temporary file first and handed to the storage
    only when complete, under a name of its own; a second attempt clears what
    a killed first one left behind, so a job ends with exactly one file.
    """
    job = ExportJob.objects.select_related("organization", "collection", "verdict").get(pk=job_id)
    if job.status == JobStatus.DONE:
        return job
    selection = Selection.of(job)
    total = count(selection, job.format)
    ExportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        heartbeat_at=timezone.now(),
        total=total,
        processed=0,
        failure="",
    )
    prefix = f"export-{job.pk}-"
    for stale in temp_dir().glob(prefix + "*"):
        stale.unlink(missing_ok=True)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(
            processed=Least(done, F("total")), heartbeat_at=timezone.now()
        )

    handle, path = tempfile.mkstemp(prefix=prefix, dir=temp_dir())
    try:
        with os.fdopen(handle, "wb") as out:
            rows = WRITERS[job.format](selection, out, progress)
        name = f"exports/{job.organization.slug}/{job.pk}/{filename(job)}"
        # What an earlier, killed attempt may have saved under this name.
        if default_storage.exists(name):
            default_storage.delete(name)
        with open(path, "rb") as complete:
            stored = default_storage.save(name, File(complete))
        size = default_storage.size(stored)
    finally:
        Path(path).unlink(missing_ok=True)
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE,
        file=stored,
        filename=filename(job),
        rows=rows,
        size=size,
        processed=Least(rows, F("total")),
        finished_at=now,
        expires_at=now + timedelta(days=settings.WORKBENCH_EXPORT_DAYS),
    )
    job.refresh_from_db()
    return job


def export_fail(job_id: int, reason: str) -> None:
    ExportJob.objects.filter(pk=job_id).exclude(status=JobStatus.DONE).update(
        status=JobStatus.FAILED, failure=reason, finished_at=timezone.now()
    )


def exports_expire(now: datetime | None = None) -> int:
    """Deletes the files of exports past their expiry; the jobs stay, marked expired."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(expired=False, expires_at__lt=now).exclude(file=""):
        if default_storage.exists(job.file):
            default_storage.delete(job.file)
        ExportJob.objects.filter(pk=job.pk).update(expired=True, file="")
        expired += 1
    return expired


def export_start(*, selection: Selection, export_format: str, user: Any) -> ExportJob:
    """Queues an export; the file is written by a worker (in-process without a broker)."""

    require_editor(user, selection.organization.pk)
    if export_format not in ExportFormat.values:
        raise ValidationError({"format": f"Use one of: {', '.join(ExportFormat.values)}."})
    selection_check(selection)
    pdf_check(selection, export_format)
    with transaction.atomic():
        job = ExportJob.objects.create(
            organization=selection.organization,
            collection=selection.collection,
            created_by=user,
            format=export_format,
            audience=selection.audience,
            status_filter=selection.status,
            verdict=selection.verdict,
            date_field=selection.date_field,
            date_from=selection.date_from,
            date_to=selection.date_to,
        )
        enqueue("annotations.tasks.run_export", job.pk)
    return job
