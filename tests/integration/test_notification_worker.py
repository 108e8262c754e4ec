"""Notification emails on a real `celery worker`, through a real SMTP server.

Runs when CELERY_BROKER_URL is set (CI sets it, with PostgreSQL). The worker,
a separate process with EMAIL_HOST and EMAIL_PORT in its environment (the
settings turn them into MAILERS), sends to an aiosmtpd server in this process.
Its own queue keeps the session's worker (console email) out of the way.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from annotations import tasks
from annotations.discussion import services
from annotations.models import EmailChoice, EmailState, Notification
from annotations.notifications.services import email_preference_set
from tests.discussion.conftest import reviewing  # noqa: F401
from tests.live_services import SmtpServer, wait_until
from tests.worker import database_url, start_worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL (a real broker)"
    ),
]


@pytest.fixture
def smtp_worker(tmp_path):
    """(the SMTP server, the queue of a worker that sends through it)."""
    queue = f"notifications-{os.getpid()}"
    with SmtpServer() as smtp, (tmp_path / "worker.log").open("w") as log:
        worker = start_worker(database_url(), tmp_path, log, queue=queue, env=smtp.env)
        try:
            yield smtp, queue
        finally:
            worker.terminate()
            worker.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
def test_the_worker_emails_a_mention_once_and_the_digest_through_smtp(
    article,
    reviewing,  # noqa: F811 - the fixture imported above
    alice,
    bob,
    carol,
    smtp_worker,
):
    smtp, queue = smtp_worker
    for user in (bob, carol):
        user.email = f"{user.username}@planet.example"
        user.save()
    # Kept for the digest while it is made, so that no other worker takes its email.
    email_preference_set(user=bob, email=EmailChoice.DIGEST)
    services.thread_start(user=alice, article=article, body="@bob is this right?")
    note = Notification.objects.get(recipient=bob)
    email_preference_set(user=bob, email=EmailChoice.IMMEDIATE)
    Notification.objects.filter(pk=note.pk).update(email=EmailState.PENDING)

    # Sent twice (a redelivery), emailed once.
    tasks.notification_email.apply_async([note.pk], queue=queue)
    tasks.notification_email.apply_async([note.pk], queue=queue)
    [message] = smtp.messages_to("bob@planet.example", timeout=60)
    assert "alice mentioned you" in message["Subject"]
    wait_until(
        lambda: Notification.objects.filter(pk=note.pk, email=EmailState.SENT).exists(),
        30,
        "the notification marked sent",
    )

    # carol wants a digest: the worker's beat task sends it.
    email_preference_set(user=carol, email=EmailChoice.DIGEST)
    services.thread_start(user=bob, article=article, body="@carol and you?")
    services.thread_start(user=bob, article=article, body="@carol the map too")
    tasks.notification_digest.apply_async(queue=queue)
    [digest] = smtp.messages_to("carol@planet.example", timeout=60)
    assert "2 things need you" in digest["Subject"]
    assert len(smtp.messages_to("bob@planet.example")) == 1
