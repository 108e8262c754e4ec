"""Background work whose message was lost is sent again; work sent twice runs once.

A message is lost when the broker is down as the work is asked for, or when
Redis restarts holding it (it keeps nothing on disk). tasks.background_reconcile
sends such work again from what the database says is pending, and a message that
was only slow then arrives as a second copy: that copy must come to nothing.
With the real services: tests/integration/test_faults.py.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from annotations import tasks
from annotations.jobs import claiming as services
from annotations.models import (
    DeliveryStatus,
    ExportFormat,
    ExportJob,
    ImportJob,
    JobStatus,
    Role,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.newsrooms import services as newsrooms_services
from annotations.webhooks import delivery as webhooks
from annotations.webhooks import services as webhooks_services
from tests.receiver import running_receiver


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def receiver():
    with running_receiver() as partner:
        yield partner


@pytest.fixture
def hook(planet, receiver):
    ada = newsrooms_services.member_create(organization=planet, username="ada", role=Role.ADMIN)
    return webhooks_services.webhook_create(
        organization=planet,
        user=ada.membership.user,
        url=receiver.url,
        events=[WebhookEvent.PUBLISHED],
    )


def export_job(planet, bob, *, age: timedelta = timedelta(0), **fields) -> ExportJob:
    job = ExportJob.objects.create(
        organization=planet, created_by=bob, format=ExportFormat.JSONL, **fields
    )
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    return job


def delivery(hook, *, due_in: timedelta, **fields) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        webhook=hook,
        event=WebhookEvent.PUBLISHED,
        body='{"event": "claim.published"}',
        next_attempt_at=timezone.now() + due_in,
        **fields,
    )


def test_only_work_pending_for_longer_than_the_grace_is_sent_again(planet, bob, desk, hook):
    old, fresh = timedelta(minutes=10), timedelta(0)
    lost = export_job(planet, bob, age=old)
    export_job(planet, bob, age=fresh)  # its message may still be on its way
    # A worker has it, alive; and one whose worker died an hour ago.
    export_job(planet, bob, age=old, status=JobStatus.RUNNING, heartbeat_at=timezone.now())
    orphan = export_job(
        planet, bob, age=old, status=JobStatus.RUNNING, heartbeat_at=timezone.now() - old * 6
    )
    export_job(planet, bob, age=old, status=JobStatus.DONE)
    lost_import = ImportJob.objects.create(organization=planet, collection=desk)
    ImportJob.objects.filter(pk=lost_import.pk).update(created_at=timezone.now() - old)
    ImportJob.objects.create(organization=planet, collection=desk)
    overdue = delivery(hook, due_in=-old, status=DeliveryStatus.RETRYING, attempts=1)
    delivery(hook, due_in=timedelta(minutes=5), status=DeliveryStatus.RETRYING, attempts=1)
    delivery(hook, due_in=-old, status=DeliveryStatus.DELIVERED)
    # Taken by a worker that died mid-attempt, ten minutes ago.
    abandoned = WebhookDelivery.objects.create(
        webhook=hook,
        event=WebhookEvent.PUBLISHED,
        body="{}",
        status=DeliveryStatus.PENDING,
        attempts=1,
        last_attempt_at=timezone.now() - old,
    )
    before = timezone.now() - timedelta(minutes=1)

    assert services.jobs_pending(ExportJob, created_before=before) == [lost.pk, orphan.pk]
    assert services.jobs_pending(ImportJob, created_before=before) == [lost_import.pk]
    assert webhooks.deliveries_pending(due_before=before) == [overdue.pk, abandoned.pk]
    # Sent again just now: the next pass leaves them be while they wait in the queue.
    assert services.jobs_pending(ExportJob, created_before=before) == [orphan.pk]
    assert services.jobs_pending(ImportJob, created_before=before) == []
    assert webhooks.deliveries_pending(due_before=before) == []


def test_a_second_copy_of_an_export_task_writes_nothing_more(planet, bob, media):
    job = export_job(planet, bob)

    tasks.run_export.apply(args=[job.pk])
    job.refresh_from_db()
    first = sorted(p for p in (media / "exports").rglob("*") if p.is_file())
    tasks.run_export.apply(args=[job.pk])

    again = ExportJob.objects.get(pk=job.pk)
    assert job.status == again.status == JobStatus.DONE
    assert again.attempts == 1
    assert again.finished_at == job.finished_at
    assert sorted(p for p in (media / "exports").rglob("*") if p.is_file()) == first


def test_a_job_another_worker_is_running_is_left_to_it(planet, bob, desk, media):
    alive = timezone.now()
    export = export_job(planet, bob, status=JobStatus.RUNNING, heartbeat_at=alive)
    upload = ImportJob.objects.create(
        organization=planet,
        collection=desk,
        status=JobStatus.RUNNING,
        files=["imports/x.txt"],
        heartbeat_at=alive,
    )

    tasks.run_export.apply(args=[export.pk])
    tasks.run_import_job.apply(args=[upload.pk])

    export.refresh_from_db()
    upload.refresh_from_db()
    assert (export.status, export.attempts) == (JobStatus.RUNNING, 0)
    assert (upload.status, upload.processed, upload.failure) == (JobStatus.RUNNING, 0, "")


def test_a_job_whose_worker_died_is_taken_over_and_fails_after_five_attempts(
    planet, bob, media, settings
):
    settings.WORKBENCH_JOB_STALE_SECONDS = 60
    silent = timezone.now() - timedelta(minutes=5)
    orphan = export_job(planet, bob, status=JobStatus.RUNNING, heartbeat_at=silent, attempts=1)

    tasks.run_export.apply(args=[orphan.pk])

    orphan.refresh_from_db()
    assert (orphan.status, orphan.attempts) == (JobStatus.DONE, 2)

    doomed = export_job(planet, bob, status=JobStatus.RUNNING, heartbeat_at=silent, attempts=5)
    tasks.run_export.apply(args=[doomed.pk])
    doomed.refresh_from_db()
    assert doomed.status == JobStatus.FAILED
    assert doomed.failure == "Stopped after 5 attempts: each time its worker died."


def test_a_webhook_attempt_that_comes_before_it_is_due_sends_nothing(hook, receiver):
    waiting = delivery(
        hook, due_in=timedelta(minutes=5), status=DeliveryStatus.RETRYING, attempts=1
    )

    assert webhooks.delivery_attempt(waiting.pk).status == "busy"
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.RETRYING, 1)
    assert receiver.requests == []

    WebhookDelivery.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now())
    assert webhooks.delivery_attempt(waiting.pk).status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("tasks_in_process")
def test_the_reconciliation_runs_lost_work_in_process(planet, bob, hook, receiver, media):
    lost = export_job(planet, bob, age=timedelta(minutes=10))
    overdue = delivery(hook, due_in=-timedelta(minutes=10), status=DeliveryStatus.PENDING)

    sent = tasks.background_reconcile()

    assert sent["exports"] == sent["webhook deliveries"] == 1
    assert ExportJob.objects.get(pk=lost.pk).status == JobStatus.DONE
    assert WebhookDelivery.objects.get(pk=overdue.pk).status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1
