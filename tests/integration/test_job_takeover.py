"""A running job beats a heartbeat every few seconds on a real worker, even through a
PDF's layout; when its worker is killed, its page says so, and another worker takes
it over within about a minute (here the delays are seconds, set by the environment).

Runs when CELERY_BROKER_URL is set (CI sets it, with PostgreSQL).
"""

from __future__ import annotations

import os
import signal
import time
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotations import tasks
from annotations.models import Article, ExportJob, JobStatus
from tests.integration.test_export_worker import many_claims
from tests.worker import database_url, start_worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL (a real broker)"
    ),
]

# The worker's clocks, shortened: a beat a second, silent for 4 s means dead.
BEATS = {
    "WORKBENCH_JOB_HEARTBEAT_SECONDS": "1",
    "WORKBENCH_JOB_STALE_SECONDS": "4",
    "WORKBENCH_RECONCILE_SECONDS": "1",
}


@pytest.fixture
def demo(transactional_db) -> Article:
    call_command("demo", stdout=StringIO())
    article = Article.objects.get(organization__slug="demo")
    Article.objects.filter(pk=article.pk).update(text=article.text * 3)
    article.refresh_from_db()
    # Enough claims for a PDF that takes WeasyPrint several seconds to lay out.
    many_claims(article, 400)
    return article


def pdf_export(demo: Article) -> ExportJob:
    return ExportJob.objects.create(
        organization=demo.organization,
        format="report-pdf",
        created_by=User.objects.get(username="editor"),
    )


def test_a_job_beats_while_its_pdf_is_laid_out(demo, tmp_path, settings):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    queue = f"beats-{os.getpid()}"
    job = pdf_export(demo)
    log = (tmp_path / "worker.log").open("w")
    worker = start_worker(
        database_url(), media, log, queue=queue, env=BEATS | {"CELERY_QUEUE": queue}
    )
    silences = []
    try:
        tasks.run_export.apply_async([job.pk], queue=queue)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_finished:
                break
            if job.status == JobStatus.RUNNING and job.heartbeat_at:
                silences.append((timezone.now() - job.heartbeat_at).total_seconds())
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    assert job.status == JobStatus.DONE, job.failure
    assert job.attempts == 1
    # Watched for seconds while the layout wrote no progress: never silent for
    # three beats, so never taken for dead.
    assert len(silences) >= 10
    assert max(silences) < 3


def test_a_killed_workers_job_is_shown_stopped_then_taken_over(demo, tmp_path, settings):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.WORKBENCH_JOB_HEARTBEAT_SECONDS = 1
    queue = f"takeover-{os.getpid()}"
    job = pdf_export(demo)
    editor = Client()
    editor.force_login(User.objects.get(username="editor"))
    logs = [(tmp_path / f"worker{n}.log").open("w") for n in (1, 2)]
    # Each worker reads only this test's queue, and sends what it re-sends there too.
    env = BEATS | {"CELERY_QUEUE": queue}
    first = start_worker(database_url(), media, logs[0], queue=queue, env=env)
    second = None
    try:
        tasks.run_export.apply_async([job.pk], queue=queue)
        while ExportJob.objects.get(pk=job.pk).status != JobStatus.RUNNING:
            time.sleep(0.1)
        time.sleep(1)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed = time.monotonic()
        # Three beats missed: the page says the worker stopped, not a frozen bar.
        time.sleep(3.5)
        row = editor.get(reverse("export-status", args=[job.pk])).text
        assert "stopped answering" in row
        assert "another worker resumes it" in row
        # Past the stale time, the reconciliation (celery beat's, here by hand)
        # sends it again and the next worker takes it over.
        time.sleep(1)
        second = start_worker(database_url(), media, logs[1], queue=queue, env=env)
        tasks.background_reconcile.apply_async(queue=queue)
        deadline = time.monotonic() + 120
        resumed_seen = False
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_finished:
                break
            if job.attempts == 2 and job.status == JobStatus.RUNNING and not resumed_seen:
                row = editor.get(reverse("export-status", args=[job.pk])).text
                resumed_seen = "Resumed by another worker" in row
            time.sleep(0.2)
        taken_over_in = time.monotonic() - killed
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
        for log in logs:
            log.close()
    assert job.status == JobStatus.DONE, job.failure
    assert job.attempts == 2
    assert resumed_seen
    assert taken_over_in < 60
