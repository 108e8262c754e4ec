"""A running job beats a heartbeat every few seconds, whatever it is doing; one that
stops beating is shown as stopped, then resumed by another worker.

Bob is the Daily Planet's editor (tests/conftest.py). With a real worker
killed mid-job: tests/integration/test_job_takeover.py.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.jobs.heartbeat import beating
from annotations.models import ExportFormat, ExportJob, JobStatus
from tests.conftest import login


def running_export(planet, bob, *, silent: timedelta, attempts: int = 1) -> ExportJob:
    return ExportJob.objects.create(
        organization=planet,
        created_by=bob,
        format=ExportFormat.REPORT_PDF,
        status=JobStatus.RUNNING,
        total=900,
        processed=900,
        attempts=attempts,
        heartbeat_at=timezone.now() - silent,
    )


def test_a_job_beats_while_its_work_writes_no_progress(transactional_db, planet, bob, settings):
    # A PDF's layout writes no progress for minutes: the heartbeat comes from a
    # thread of its own, so the job never looks dead while its worker is alive.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.WORKBENCH_JOB_HEARTBEAT_SECONDS = 0.05
    job = running_export(planet, bob, silent=timedelta(minutes=5))
    with beating(ExportJob, job.pk):
        time.sleep(0.5)  # the "layout"
        job.refresh_from_db()
        assert timezone.now() - job.heartbeat_at < timedelta(seconds=0.3)
    assert not [t for t in threading.enumerate() if t.name.startswith("heartbeat-")]


def test_a_finished_job_is_left_alone_by_its_heartbeat(transactional_db, planet, bob, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.WORKBENCH_JOB_HEARTBEAT_SECONDS = 0.05
    job = running_export(planet, bob, silent=timedelta(minutes=5))
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    with beating(ExportJob, job.pk):
        time.sleep(0.3)
    job.refresh_from_db()
    assert timezone.now() - job.heartbeat_at > timedelta(minutes=4)


def test_a_silent_job_is_shown_as_stopped_and_being_resumed_not_as_a_frozen_bar(
    client, planet, bob, settings
):
    settings.WORKBENCH_JOB_HEARTBEAT_SECONDS = 5
    job = running_export(planet, bob, silent=timedelta(seconds=30))
    row = login(client, bob).get(reverse("export-status", args=[job.pk])).text
    assert "stopped answering" in row
    assert "another worker resumes it within a minute" in row
    fresh = running_export(planet, bob, silent=timedelta(seconds=1))
    assert "stopped answering" not in client.get(reverse("export-status", args=[fresh.pk])).text


def test_a_job_another_worker_took_over_says_so(client, planet, bob):
    job = running_export(planet, bob, silent=timedelta(seconds=1), attempts=2)
    row = login(client, bob).get(reverse("export-status", args=[job.pk])).text
    assert "Resumed by another worker after the first stopped (attempt 2)" in row


@pytest.mark.parametrize(
    ("in_process", "said"), [(True, "starting"), (False, "waiting for a worker")]
)
def test_a_waiting_job_says_what_it_waits_for(client, planet, bob, settings, in_process, said):
    # In-process (no broker) there is no worker to look for.
    settings.CELERY_TASK_ALWAYS_EAGER = in_process
    job = ExportJob.objects.create(organization=planet, created_by=bob, format=ExportFormat.JSONL)
    row = login(client, bob).get(reverse("export-status", args=[job.pk])).text
    assert said in row
    assert ("Celery worker" in row) is not in_process
