"""What every background job shares: its status, its progress and why it failed.

One abstract model, so that the import, agreement and export jobs show
progress, finish and fail the same way; `WorkerJob` adds what a worker
needs to take a job and keep it (annotations.jobs.claiming).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


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

    # Last sign of life: sent (again) while pending, taken, then every few
    # seconds while a worker runs it (annotations.jobs.heartbeat).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def stalled(self) -> bool:
        """Running, and three heartbeats missed: its worker has stopped; another resumes it."""
        if self.status != JobStatus.RUNNING or self.heartbeat_at is None:
            return False
        silent = timezone.now() - self.heartbeat_at
        return silent > timedelta(seconds=3 * settings.WORKBENCH_JOB_HEARTBEAT_SECONDS)

    @property
    def resumed(self) -> bool:
        """Taken over by another worker after the first one stopped."""
        return self.status == JobStatus.RUNNING and self.attempts > 1
