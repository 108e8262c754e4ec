"""Sending a delivery: signed, retried with a growing wait, never twice at once.

Delivery is at least once: a worker that dies after the partner answered
sends the delivery again. Receivers tell repeats apart by X-Workbench-Delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from annotations.models import DeliveryStatus, WebhookDelivery
from annotations.webhooks.client import post

MAX_ATTEMPTS = 8

# The longest wait between two attempts. It stays under the broker's visibility
# timeout (CELERY_VISIBILITY_TIMEOUT, an hour): Redis would hand a task
# scheduled further out than that to a second worker as well.
MAX_BACKOFF_SECONDS = 30 * 60

# A delivery a worker took and never finished (the worker died) may be taken
# again after this long; longer than any attempt lasts (TIMEOUT_SECONDS).
IN_FLIGHT_SECONDS = 60

# A retry may arrive this much before its time (clocks of the worker and the
# database) and still be sent.
DUE_SLACK_SECONDS = 5

USER_AGENT = "FactCheckWorkbench-Webhook/1"


def deliveries_pending(*, due_before: datetime) -> list[int]:
    """Deliveries whose next attempt was due before then and never came, or whose attempt
    a worker took and never finished (it died; the copy the broker gave back found the
    attempt still in flight and let it be).

    Their message was lost: the publish could not reach the broker, or Redis
    restarted with a retry it was holding. They are made due now, so that the
    next reconciliation leaves them be while the new message waits in the queue.
    """
    lost = Q(next_attempt_at__lt=due_before) | Q(
        next_attempt_at__isnull=True,
        last_attempt_at__lt=due_before - timedelta(seconds=IN_FLIGHT_SECONDS),
    )
    waiting = WebhookDelivery.objects.filter(
        lost,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
        webhook__active=True,
    )
    ids = list(waiting.order_by("pk").values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now())
    return ids


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.` followed by the body's bytes."""
    return hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()


def request_headers(delivery: WebhookDelivery, secret: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Workbench-Event": delivery.event,
        "X-Workbench-Delivery": str(delivery.pk),
        "X-Workbench-Timestamp": str(timestamp),
        "X-Workbench-Signature": f"sha256={sign(secret, timestamp, body)}",
    }


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: doubling, capped, jittered.

    The jitter (up to a fifth either way) spreads the retries of many
    deliveries that failed together, so a receiver coming back is not
    flooded at one instant.
    """
    base = settings.WORKBENCH_WEBHOOK_BACKOFF_SECONDS
    delay = min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return float(delay * random.uniform(0.8, 1.2))  # noqa: S311 - spacing, not a secret


@dataclass(frozen=True)
class Outcome:
    """What one run of the task did, and whether it should run again."""

    status: str
    retry_in: float | None = None


def delivery_attempt(delivery_id: int, *, early: bool = False) -> Outcome:
    """One attempt at a delivery: take it, POST it, write down the answer.

    Idempotent: a delivery already delivered or failed is left alone, one
    another worker is sending right now is not sent twice at once, and one
    whose next attempt is not due yet waits for it (a second copy of the
    task, sent by background_reconcile, comes to nothing). `early` sends a
    retry at once: in-process, with no broker to wait for it.
    """
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None:
        # Its webhook was deleted meanwhile.
        return Outcome("gone")
    if delivery.status in {DeliveryStatus.DELIVERED, DeliveryStatus.FAILED}:
        return Outcome(delivery.status)
    webhook = delivery.webhook
    now = timezone.now()
    if not webhook.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
            status=DeliveryStatus.DELIVERED
        ).update(
            status=DeliveryStatus.FAILED,
            error="Not sent: the webhook was deactivated.",
            next_attempt_at=None,
        )
        return Outcome(DeliveryStatus.FAILED)
    # Take the delivery: next_attempt_at is cleared while an attempt is under
    # way, so a second copy of the task finds nothing to take (unless the
    # first worker died mid-attempt, long enough ago); nor does a copy that
    # comes before the next attempt is due.
    if early:
        due = Q(next_attempt_at__isnull=False)
    else:
        due = Q(next_attempt_at__lte=now + timedelta(seconds=DUE_SLACK_SECONDS))
    abandoned = Q(next_attempt_at__isnull=True) & (
        Q(last_attempt_at__isnull=True)
        | Q(last_attempt_at__lt=now - timedelta(seconds=IN_FLIGHT_SECONDS))
    )
    taken = (
        WebhookDelivery.objects.filter(
            pk=delivery.pk, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
        )
        .filter(due | abandoned)
        .update(attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=None)
    )
    if not taken:
        return Outcome("busy")
    delivery.refresh_from_db(fields=["attempts"])
    body = delivery.body.encode("utf-8")
    answer = post(webhook.url, body, request_headers(delivery, webhook.secret, body))
    done = timezone.now()
    current = WebhookDelivery.objects.filter(pk=delivery.pk)
    if answer.ok:
        current.update(
            status=DeliveryStatus.DELIVERED,
            response_status=answer.status,
            error="",
            delivered_at=done,
        )
        return Outcome(DeliveryStatus.DELIVERED)
    if delivery.attempts >= MAX_ATTEMPTS:
        current.update(
            status=DeliveryStatus.FAILED, response_status=answer.status, error=answer.error
        )
        return Outcome(DeliveryStatus.FAILED)
    wait = backoff(delivery.attempts)
    current.update(
        status=DeliveryStatus.RETRYING,
        response_status=answer.status,
        error=answer.error,
        next_attempt_at=done + timedelta(seconds=wait),
    )
    return Outcome(DeliveryStatus.RETRYING, retry_in=wait)
