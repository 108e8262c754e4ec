"""Notification emails in the background."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from celery import shared_task

from annotations.jobs.reconcile import register
from annotations.notifications.delivery import digests_send, email_send, emails_pending

logger = logging.getLogger(__name__)


@shared_task(name="annotations.tasks.notification_email", bind=True, acks_late=True, max_retries=8)
def notification_email(self: Any, notification_id: int) -> str:
    """Emails one notification (a mention, a request for changes); run twice, sends once.

    A mail server that refuses or cannot be reached is tried again after a
    growing wait; the notification stays marked to send meanwhile.
    """
    try:
        return email_send(notification_id)
    except (smtplib.SMTPException, OSError) as exc:
        if self.request.is_eager:
            # In-process there is no later: the saved comment must not fail for it.
            logger.warning("Could not send notification %s by email: %s", notification_id, exc)
            return "not sent"
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2**self.request.retries)) from exc


@shared_task(name="annotations.tasks.notification_digest", acks_late=True)
def notification_digest() -> dict[str, int]:
    """Each person's daily digest (celery beat, WORKBENCH_DIGEST_HOUR)."""
    return digests_send()


register("notification emails", notification_email, lambda before: emails_pending(before=before))
