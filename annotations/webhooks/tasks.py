"""Webhook deliveries in the background."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from annotations.jobs.reconcile import register
from annotations.webhooks.delivery import deliveries_pending, delivery_attempt


@shared_task(name="annotations.tasks.deliver_webhook", bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self: Any, delivery_id: int) -> str:
    """Sends one webhook delivery; a failed attempt comes back after a growing wait.

    delivery_attempt counts the attempts and decides when to give up,
    so Celery's own retry limit is off. Run again for a delivery that is
    delivered or failed, it does nothing.
    """
    outcome = delivery_attempt(delivery_id)
    # In-process (no broker) Celery would run a retry at once, ignoring its
    # countdown, and raise it through whoever queued the task (the request
    # that published the claim). The attempts simply follow one another here.
    while outcome.retry_in is not None and self.request.is_eager:
        outcome = delivery_attempt(delivery_id, early=True)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


register(
    "webhook deliveries", deliver_webhook, lambda before: deliveries_pending(due_before=before)
)
