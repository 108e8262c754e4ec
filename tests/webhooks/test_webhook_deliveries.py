"""Webhook deliveries: what is sent for which change, to whom, signed how, and the
retries when a partner's receiver fails. People and the partner:
tests/webhooks/conftest.py.

Deliveries are sent with `deliver_webhook.apply()`, in this process, whether or
not a broker is configured: Celery then runs each retry at once, ignoring its
countdown, so "fails twice, then accepts" takes milliseconds and always ends the
same way.
"""

from __future__ import annotations

import json
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from annotations import tasks
from annotations.core.inputs import SourceInput
from annotations.models import VerdictLabel, VerifiedClaim, WebhookDelivery, WebhookEvent
from annotations.verification import services as verification
from annotations.webhooks import client as webhooks_client
from annotations.webhooks import delivery as webhooks_delivery
from annotations.webhooks import services as webhooks
from tests.conftest import login
from tests.receiver import Received, closed_port_url, verify
from tests.webhooks.conftest import (
    ALL_EVENTS,
    CONFIDENTIAL_URL,
    editor,
    jsonl_record,
    publish,
    send_all,
)

# Delivering -------------------------------------------------------------------------------


def test_publishing_posts_the_signed_claim_as_the_jsonl_export_shows_it(
    newsroom, hook, draft, receiver, django_capture_on_commit_callbacks
):
    published = publish(draft, django_capture_on_commit_callbacks)
    before = int(time.time())
    (delivery,) = send_all()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None
    assert delivery.error == ""

    (request,) = receiver.requests
    assert request.path == "/hooks/claims"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-workbench-event"] == "claim.published"
    assert request.headers["x-workbench-delivery"] == str(delivery.pk)
    assert abs(int(request.headers["x-workbench-timestamp"]) - before) <= 5
    assert request.headers["x-workbench-signature"] == "sha256=" + webhooks_delivery.sign(
        hook.secret, request.headers["x-workbench-timestamp"], request.body
    )
    assert verify(hook.secret, request)
    # Any change to the body breaks the signature.
    assert not verify(hook.secret, Received("", request.headers, request.body + b" "))
    assert not verify("whsec_another", request)

    body = json.loads(request.body)
    assert body["event"] == "claim.published"
    assert body["claim"] == jsonl_record(newsroom, published.pk)
    assert body["claim"]["status"] == "published"
    assert [s["url"] for s in body["claim"]["sources"]] == ["https://maps.example/kisangani"]
    # Confidential sources never leave: not even a flag saying one exists.
    assert CONFIDENTIAL_URL.encode() not in request.body
    assert b"confidential" not in request.body
    assert request.body == delivery.body.encode()


def test_a_failing_receiver_is_retried_with_growing_waits_until_it_accepts(
    hook, draft, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    waits: list[int] = []
    backoff = webhooks_delivery.backoff

    def recorded(attempts: int) -> float:
        waits.append(attempts)
        return backoff(attempts)

    monkeypatch.setattr(webhooks_delivery, "backoff", recorded)
    receiver.fail(2, status=503)
    publish(draft, django_capture_on_commit_callbacks)
    (delivery,) = send_all()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)
    assert delivery.error == ""
    assert waits == [1, 2]
    assert len(receiver.requests) == 3
    # The same delivery, the same bytes; each attempt signed afresh.
    assert {r.headers["x-workbench-delivery"] for r in receiver.requests} == {str(delivery.pk)}
    assert {r.body for r in receiver.requests} == {delivery.body.encode()}
    assert all(verify(hook.secret, r) for r in receiver.requests)


def test_the_wait_doubles_from_the_setting_with_jitter_and_a_cap(settings):
    settings.WORKBENCH_WEBHOOK_BACKOFF_SECONDS = 30
    for attempts, base in [(1, 30), (2, 60), (3, 120), (4, 240), (7, 1800), (20, 1800)]:
        waits = [webhooks_delivery.backoff(attempts) for _ in range(50)]
        assert all(0.8 * base <= w <= 1.2 * base for w in waits), (attempts, waits)
        assert len(set(waits)) > 1  # jittered
    assert (
        webhooks_delivery.backoff(30)
        < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    )


def test_a_delivery_fails_after_the_last_attempt_and_can_be_redelivered(
    client, newsroom, ada, hook, draft, receiver, django_capture_on_commit_callbacks
):
    receiver.fail(webhooks_delivery.MAX_ATTEMPTS, status=500)
    publish(draft, django_capture_on_commit_callbacks)
    (delivery,) = send_all()
    assert (delivery.status, delivery.attempts) == ("failed", webhooks_delivery.MAX_ATTEMPTS)
    assert (delivery.response_status, delivery.error) == (500, "HTTP 500")
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == webhooks_delivery.MAX_ATTEMPTS

    page = login(client, ada).get(reverse("webhooks", args=[newsroom.slug]))
    assert page.status_code == 200
    row = page.text.split(f'id="delivery-{delivery.pk}"')[1].split("</tr>")[0]
    assert "claim.published" in row
    assert "Failed" in row
    assert "HTTP 500" in row
    assert f"<td>{webhooks_delivery.MAX_ATTEMPTS}" in row
    assert "within 400 km" in row
    assert reverse("webhook-redeliver", args=[delivery.pk]) in row

    # The partner fixed their server; the admin sends it again.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("webhook-redeliver", args=[delivery.pk]))
    assert response.status_code == 302
    assert len(queued) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == ("pending", 0, "")
    (delivery,) = send_all()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert receiver.requests[-1].body == receiver.requests[0].body


def test_an_unreachable_receiver_is_recorded_as_an_error(
    newsroom, ada, draft, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks_delivery, "MAX_ATTEMPTS", 2)
    webhooks.webhook_create(
        organization=newsroom, user=ada, url=closed_port_url(), events=ALL_EVENTS
    )
    publish(draft, django_capture_on_commit_callbacks)
    (delivery,) = send_all()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 2, None)
    assert "Connection refused" in delivery.error
    assert len(delivery.error) <= webhooks_client.ERROR_CHARS


@pytest.mark.parametrize("location", ["file:///etc/passwd", "/hooks/elsewhere"])
def test_a_redirect_is_not_followed(
    hook, draft, receiver, monkeypatch, location, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks_delivery, "MAX_ATTEMPTS", 1)
    receiver.location = location
    receiver.fail(1, status=302)
    publish(draft, django_capture_on_commit_callbacks)
    (delivery,) = send_all()
    assert (delivery.status, delivery.response_status) == ("failed", 302)
    assert "do not follow redirects" in delivery.error
    assert [r.path for r in receiver.requests] == ["/hooks/claims"]


def test_a_delivered_delivery_is_not_sent_again(
    hook, draft, receiver, django_capture_on_commit_callbacks
):
    publish(draft, django_capture_on_commit_callbacks)
    (delivery,) = send_all()
    # A redelivered message (a worker died before acknowledging it).
    assert tasks.deliver_webhook.apply([delivery.pk]).get() == "delivered"
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_delivery_being_sent_is_not_taken_by_a_second_worker(
    hook, draft, receiver, django_capture_on_commit_callbacks
):
    publish(draft, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    # Another worker took it a moment ago and is waiting for the partner.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=1, last_attempt_at=timezone.now(), next_attempt_at=None
    )
    assert webhooks_delivery.delivery_attempt(delivery.pk).status == "busy"
    assert receiver.requests == []
    # That worker died: after a while the delivery can be taken again.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        last_attempt_at=timezone.now()
        - timezone.timedelta(seconds=webhooks_delivery.IN_FLIGHT_SECONDS + 1)
    )
    assert webhooks_delivery.delivery_attempt(delivery.pk).status == "delivered"
    assert len(receiver.requests) == 1


# Which changes are sent, and to whom -------------------------------------------------------


def test_publish_correct_and_retract_each_send_their_event(
    demo, newsroom, ada, hook, draft, receiver, django_capture_on_commit_callbacks
):
    only_retractions = webhooks.webhook_create(
        organization=newsroom,
        user=ada,
        url=receiver.url.replace("/claims", "/retractions"),
        events=[WebhookEvent.RETRACTED],
    )
    claim = publish(draft, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        claim = verification.verified_correct(
            claim=claim,
            editor=editor(),
            note="The distance is by road, not in a straight line.",
            judgement=verification.Judgement(
                start=claim.start,
                end=claim.end,
                claim_reviewed=claim.claim_reviewed,
                verdict=VerdictLabel.objects.get(
                    taxonomy__organization=newsroom, slug="mostly-true"
                ),
                rating=4,
                sources=[
                    SourceInput(url="https://maps.example/kisangani", title="Road atlas"),
                    SourceInput(url=CONFIDENTIAL_URL, title="Memo", confidential=True),
                ],
            ),
        )
        verification.verified_retract(claim=claim, editor=editor(), note="The map was wrong.")
    deliveries = send_all()
    assert [(d.webhook_id, d.event, d.status) for d in deliveries] == [
        (hook.pk, "claim.published", "delivered"),
        (hook.pk, "claim.corrected", "delivered"),
        (hook.pk, "claim.retracted", "delivered"),
        (only_retractions.pk, "claim.retracted", "delivered"),
    ]
    sent = [json.loads(r.body) for r in receiver.requests]
    assert [(b["event"], b["claim"]["status"]) for b in sent] == [
        ("claim.published", "published"),
        ("claim.corrected", "corrected"),
        ("claim.retracted", "retracted"),
        ("claim.retracted", "retracted"),
    ]
    assert sent[1]["claim"]["verdict"] == "mostly-true"
    assert sent[1]["claim"]["public_note"] == "The distance is by road, not in a straight line."
    assert sent[2]["claim"]["public_note"] == "The map was wrong."
    assert all(CONFIDENTIAL_URL.encode() not in r.body for r in receiver.requests)
    assert receiver.requests[3].path == "/hooks/retractions"


def test_nothing_is_sent_for_a_change_that_rolls_back(hook, draft, receiver):
    def publish_then_fail() -> None:
        with transaction.atomic():
            verification.verified_publish(claim=draft, editor=editor(), confirm_open_reviews=True)
            raise RuntimeError("the request failed after publishing")

    with pytest.raises(RuntimeError):
        publish_then_fail()
    assert not WebhookDelivery.objects.exists()


def test_another_newsrooms_webhooks_hear_nothing(
    gazette, grace, hook, draft, receiver, django_capture_on_commit_callbacks
):
    theirs = webhooks.webhook_create(
        organization=gazette, user=grace, url=receiver.url + "/gazette", events=ALL_EVENTS
    )
    publish(draft, django_capture_on_commit_callbacks)
    assert not WebhookDelivery.objects.filter(webhook=theirs).exists()
    assert WebhookDelivery.objects.filter(webhook=hook).count() == 1


def test_a_deactivated_webhook_is_sent_nothing_new_nor_what_was_waiting(
    newsroom, ada, hook, draft, demo, receiver, django_capture_on_commit_callbacks
):
    publish(draft, django_capture_on_commit_callbacks)
    webhooks.webhook_deactivate(webhook=hook, user=ada)
    (waiting,) = send_all()
    assert waiting.status == "failed"
    assert "deactivated" in waiting.error
    claim = VerifiedClaim.objects.get(quote="reposition its forces")
    verification.verified_retract(claim=claim, editor=editor(), note="Withdrawn.")
    assert WebhookDelivery.objects.count() == 1
    assert receiver.requests == []
    with pytest.raises(ValidationError, match="deactivated"):
        webhooks.delivery_redeliver(delivery=waiting, user=ada)


def test_editing_a_webhook_keeps_its_secret(ada, hook, receiver):
    secret = hook.secret
    changed = webhooks.webhook_update(
        webhook=hook, user=ada, url=receiver.url + "/v2", events=[WebhookEvent.CORRECTED]
    )
    assert (changed.url, changed.events, changed.secret) == (
        receiver.url + "/v2",
        ["claim.corrected"],
        secret,
    )
    with pytest.raises(PermissionDenied):
        webhooks.webhook_update(webhook=hook, user=editor(), active=False)


@pytest.mark.usefixtures("tasks_in_process")
def test_in_process_tasks_deliver_when_the_publish_commits(
    hook, draft, receiver, django_capture_on_commit_callbacks
):
    receiver.fail(1)
    with django_capture_on_commit_callbacks(execute=True):
        verification.verified_publish(claim=draft, editor=editor(), confirm_open_reviews=True)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(receiver.requests) == 2
