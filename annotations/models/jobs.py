"""What every background job shares: its status, its progress and why it failed.

One abstract model, so that the import, agreement and export jobs show
progress, finish and fail the same way; `WorkerJob` adds what a worker
needs to take a job and keep it (annotations.jobs.claiming).
"""

from __future__ import annotations

from django.db import models


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """Background work with a progress bar: `processed` of `total`."""

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return 0 if self.total == 0 else round(100 * self.processed / self.total)

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.DONE, JobStatus.FAILED}


class WorkerJob(Job):
    """A job one worker takes at a time, and takes over when its worker dies."""

    # Last sign of life: sent (again) while pending, taken, or a step done.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
