"""Webhooks on a real `celery worker`: sent after the publish commits, retried with a countdown.

Runs when CELERY_BROKER_URL is set (CI sets it, with PostgreSQL). The partner
is a real HTTP server on 127.0.0.1 in this process; the worker, a separate
process, POSTs to it.
"""

from __future__ import annotations

import json
import os
import time
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command

from annotations import tasks
from annotations.core.inputs import SourceInput
from annotations.models import (
    Article,
    DeliveryStatus,
    Role,
    VerdictLabel,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.newsrooms.services import member_create
from annotations.verification import services as verification
from annotations.webhooks import services as webhooks
from tests.receiver import running_receiver, verify
from tests.worker import database_url, start_worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL (a real broker)"
    ),
]


@pytest.fixture
def receiver():
    with running_receiver() as partner:
        yield partner


@pytest.fixture
def demo(transactional_db) -> Article:
    call_command("demo", stdout=StringIO())
    return Article.objects.get(organization__slug="demo")


@pytest.fixture
def hook(demo, receiver):
    ada = member_create(organization=demo.organization, username="ada", role=Role.ADMIN)
    return webhooks.webhook_create(
        organization=demo.organization,
        user=ada.membership.user,
        url=receiver.url,
        events=list(WebhookEvent.values),
    )


def publish_draft(article: Article):
    editor = User.objects.get(username="editor")
    phrase = "within 400 km (250 miles) of Kisangani"
    start = article.text.index(phrase)
    draft = verification.verified_claim_save(
        article=article,
        editor=editor,
        judgement=verification.Judgement(
            start=start,
            end=start + len(phrase),
            claim_reviewed=phrase,
            verdict=VerdictLabel.objects.get(
                taxonomy__organization=article.organization, slug="true"
            ),
            sources=[
                SourceInput(url="https://maps.example/kisangani", title="Road atlas"),
                SourceInput(url="https://whistle.example/memo", title="Memo", confidential=True),
            ],
        ),
    )
    return verification.verified_publish(claim=draft, editor=editor, confirm_open_reviews=True)


def wait_for(condition, timeout: float = 60) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = WebhookDelivery.objects.order_by("pk").first()
        if delivery is not None and condition(delivery):
            return delivery
        time.sleep(0.1)
    raise AssertionError(f"the delivery stayed {delivery and delivery.status}")


def test_the_worker_posts_a_published_claim_once_the_publish_commits(
    celery_worker, hook, demo, receiver
):
    claim = publish_draft(demo)
    delivery = wait_for(lambda d: d.status == DeliveryStatus.DELIVERED)
    assert (delivery.attempts, delivery.response_status) == (1, 200)
    (request,) = receiver.requests
    assert verify(hook.secret, request)
    body = json.loads(request.body)
    assert (body["event"], body["claim"]["id"]) == ("claim.published", claim.pk)
    assert b"whistle.example" not in request.body


def test_the_worker_retries_with_a_countdown_until_the_receiver_accepts(
    hook, demo, receiver, tmp_path
):
    # Its own worker and queue, with no wait between attempts.
    queue = f"webhooks-{os.getpid()}"
    receiver.fail(2, status=503)
    with (tmp_path / "worker.log").open("w") as log:
        worker = start_worker(
            database_url(),
            tmp_path,
            log,
            queue=queue,
            env={"WORKBENCH_WEBHOOK_BACKOFF_SECONDS": "0"},
        )
        try:
            delivery = WebhookDelivery.objects.create(
                webhook=hook, event=WebhookEvent.PUBLISHED, body='{"event":"claim.published"}'
            )
            tasks.deliver_webhook.apply_async([delivery.pk], queue=queue)
            delivery = wait_for(lambda d: d.status == DeliveryStatus.DELIVERED)
        finally:
            worker.terminate()
            worker.wait(timeout=20)
    assert (delivery.attempts, delivery.response_status) == (3, 200)
    assert len(receiver.requests) == 3
    assert all(verify(hook.secret, r) for r in receiver.requests)
