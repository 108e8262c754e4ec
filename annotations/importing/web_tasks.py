"""Imports by URL and feeds, in the background."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from annotations.importing.by_url import fetch_job_run
from annotations.importing.feeds import feed_fetch as read_feed
from annotations.importing.feeds import feeds_cycle as cycle
from annotations.jobs.claiming import job_claim, jobs_pending
from annotations.jobs.heartbeat import beating
from annotations.jobs.reconcile import register
from annotations.models import FetchJob


@shared_task(name="annotations.tasks.run_fetch_job", acks_late=True)
def run_fetch_job(job_id: int) -> dict[str, Any]:
    """Fetches and imports a job's addresses one by one, saving progress after each.

    Safe to run again (a redelivered task): addresses already stored are
    skipped by position. A second copy of the task while the first runs does
    nothing; a job whose worker died is taken over where it stopped.
    """
    if not job_claim(FetchJob, job_id):
        return {"status": FetchJob.objects.get(pk=job_id).status}
    job = FetchJob.objects.select_related("collection").get(pk=job_id)
    with beating(FetchJob, job_id):
        return fetch_job_run(job=job)


@shared_task(name="annotations.tasks.feed_fetch", acks_late=True)
def feed_fetch(feed_id: int) -> dict[str, Any]:
    """Reads one feed and queues the import of its new items."""
    reading = read_feed(feed_id)
    return {"status": reading.status, "new": reading.new, "reason": reading.reason}


@shared_task(name="annotations.tasks.feeds_cycle")
def feeds_cycle() -> int:
    """celery beat, every minute: the feeds due are read."""
    return cycle()


register(
    "imports by URL", run_fetch_job, lambda before: jobs_pending(FetchJob, created_before=before)
)
