"""Sending the emails: one notification at once, or each person's daily digest.

A notification to email is marked in the database when it is made (`email`:
pending, or digest), so a send the broker lost is found again
(annotations.jobs.reconcile), and a send that ran twice sends once: the row
is locked while its email leaves, and marked sent in the same transaction.
What blind review hides from its recipient now is not sent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotations.models import EmailChoice, EmailState, Notification
from annotations.notifications.email import message_for
from annotations.notifications.selectors import inbox_for
from annotations.notifications.services import email_choice

logger = logging.getLogger(__name__)


def email_send(notification_id: int) -> str:
    """Emails one notification now, if it is still to send; what happened, in a word."""
    with transaction.atomic():
        notification = (
            # Only the notification's row is locked: its thread and verified claim are
            # optional (an outer join, which PostgreSQL cannot lock).
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient", "thread", "verified")
            .filter(pk=notification_id, email=EmailState.PENDING)
            .first()
        )
        if notification is None:
            return "nothing to send"
        recipient = notification.recipient
        choice = email_choice(recipient)
        if choice == EmailChoice.DIGEST:
            notification.email = EmailState.DIGEST
            notification.save(update_fields=["email"])
            return "kept for the digest"
        visible = inbox_for(recipient).filter(pk=notification.pk).exists()
        if choice == EmailChoice.OFF or not recipient.email or not visible:
            notification.email = EmailState.SKIPPED
            notification.save(update_fields=["email"])
            return "skipped"
        message_for(recipient, [notification]).send()
        notification.email = EmailState.SENT
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["email", "emailed_at"])
    return "sent"


def emails_pending(*, before: datetime) -> list[int]:
    """Emails to send at once that were asked for before then and have not left."""
    return list(
        Notification.objects.filter(email=EmailState.PENDING, created_at__lt=before)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )


def digest_send_one(user: User, *, now: datetime) -> int:
    """One person's digest: their unread notifications waiting for it that they may see.

    Read ones were seen in the inbox and are not sent. One they may not see yet
    (blind review) waits for a later digest, for at most
    WORKBENCH_DIGEST_KEEP_DAYS.
    """
    with transaction.atomic():
        waiting = list(
            Notification.objects.select_for_update()
            .filter(recipient=user, email=EmailState.DIGEST)
            .order_by("created_at", "pk")
        )
        if not waiting:
            return 0
        visible = set(
            inbox_for(user).filter(pk__in=[n.pk for n in waiting]).values_list("pk", flat=True)
        )
        stale = now - timedelta(days=settings.WORKBENCH_DIGEST_KEEP_DAYS)
        wanted = email_choice(user) == EmailChoice.DIGEST and bool(user.email)
        send = [n for n in waiting if n.pk in visible and n.read_at is None and wanted]
        skipped = [
            n.pk
            for n in waiting
            if n not in send and (n.pk in visible or not wanted or n.created_at < stale)
        ]
        if send:
            message_for(user, send).send()
            Notification.objects.filter(pk__in=[n.pk for n in send]).update(
                email=EmailState.SENT, emailed_at=now
            )
        if skipped:
            Notification.objects.filter(pk__in=skipped).update(email=EmailState.SKIPPED)
    return len(send)


def digests_send() -> dict[str, int]:
    """Every digest due: one email per person with notifications waiting for it."""
    now = timezone.now()
    people = User.objects.filter(
        pk__in=Notification.objects.filter(email=EmailState.DIGEST).values("recipient")
    ).order_by("pk")
    sent = emails = 0
    for user in people:
        try:
            count = digest_send_one(user, now=now)
        except Exception:
            # One person's failing address must not hold back everyone else's digest;
            # theirs stays waiting for the next one.
            logger.exception("Could not send the digest of user %s", user.pk)
            continue
        sent += count
        emails += count > 0
    return {"emails": emails, "notifications": sent}
