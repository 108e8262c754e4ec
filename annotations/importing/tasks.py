"""Import jobs, and the re-anchoring of claims when an article gets a new version."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from annotations.importing.services import import_job_run
from annotations.importing.versions import article_reanchor
from annotations.jobs.claiming import job_claim, jobs_pending
from annotations.jobs.enqueue import enqueue
from annotations.jobs.heartbeat import beating
from annotations.jobs.reconcile import register
from annotations.models import Article, ImportJob


@shared_task(name="annotations.tasks.reanchor_version", acks_late=True)
def reanchor_version(article_id: int) -> int:
    """Moves the previous version's claims onto a new version of an article, then asks
    for the alerts a published claim's edited or removed passage raises (watching)."""

    article = Article.objects.select_related("previous_version").get(pk=article_id)
    changes = article_reanchor(article)
    if any(change.verified_id is not None for change in changes):
        enqueue("annotations.tasks.passages_check", article_id)
    return len(changes)


@shared_task(name="annotations.tasks.run_import_job", acks_late=True)
def run_import_job(job_id: int) -> dict[str, Any]:
    """Imports an upload job's files one by one, saving progress after each.

    Safe to run again (a redelivered task): files already imported are
    skipped by position, and re-importing identical content changes nothing.
    A second copy of the task while the first runs does nothing.
    """
    if not job_claim(ImportJob, job_id):
        return {"status": ImportJob.objects.get(pk=job_id).status}
    job = ImportJob.objects.select_related("collection__organization").get(pk=job_id)
    with beating(ImportJob, job_id):
        return import_job_run(job=job)


register("imports", run_import_job, lambda before: jobs_pending(ImportJob, created_before=before))
