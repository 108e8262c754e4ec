"""Upload jobs of claims files: imported batch by batch, their progress in lines."""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.storage import default_storage
from django.utils import timezone

from annotations.importing.claims import (
    AnnotationReport,
    agreement_after_import,
    annotations_import,
)
from annotations.importing.parsers import count_lines
from annotations.models import ImportJob

# A job lists this many errors; the others are counted.
LISTED_ERRORS = 1_000


def stored_label(stored: str) -> str:
    """The name an uploaded file is reported under: its own (short_name), without the
    job's folder and position prefix."""
    return stored.rsplit("/", 1)[-1].split("-", 1)[-1]


def claims_job_import(*, job: ImportJob) -> None:
    """Imports an upload job's claims files, saving its progress with each batch.

    Progress counts lines across the files; a job taken over by another worker
    resumes after the last line whose batch committed. Each article given
    claims has its agreement asked for once, when the files are done.
    """
    organization = job.collection.organization
    touched: set[int] = set()
    base = 0
    try:
        for stored in job.files:
            with default_storage.open(stored, "rb") as handle:
                lines = count_lines(handle)
                handle.seek(0)
                if base + lines > job.processed:
                    annotations_import(
                        organization=organization,
                        collection=job.collection,
                        data=handle,
                        name=stored_label(stored),
                        after=job.processed - base,
                        on_batch=_job_progress(job, base),
                        touched=touched,
                    )
            base += lines
            if job.processed < base:
                # Blank lines at the end of the file: read, nothing in them.
                job.processed = base
                job.save(update_fields=["processed"])
    finally:
        agreement_after_import(article_ids=touched)
    for stored in job.files:
        default_storage.delete(stored)


def _job_progress(job: ImportJob, base: int) -> Callable[[AnnotationReport], None]:
    """Saves a file's report into the job after each batch, from where the job stood at
    the file's start; the same report saved twice saves the same thing."""
    created, unchanged, skipped = job.created, job.unchanged, job.skipped
    listed, unlisted = list(job.errors), job.errors_unlisted

    def save(report: AnnotationReport) -> None:
        errors = listed + report.errors[: max(0, LISTED_ERRORS - len(listed))]
        job.processed = base + report.lines
        job.created = created + report.created
        job.unchanged = unchanged + report.unchanged
        job.skipped = skipped + report.skipped
        job.errors = errors
        job.errors_unlisted = unlisted + len(listed) + len(report.errors) - len(errors)
        job.heartbeat_at = timezone.now()
        job.save(
            update_fields=[
                "processed",
                "created",
                "unchanged",
                "skipped",
                "errors",
                "errors_unlisted",
                "heartbeat_at",
            ]
        )

    return save
