"""The emails: one notification at once, or the day's in a digest; each with a signed
link that turns emails off without logging in (and RFC 8058's one-click header)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from annotations.models import Notification
from annotations.notifications.selectors import desk_organizations, place_of
from annotations.notifications.services import unsubscribe_token


def _absolute(path: str) -> str:
    return settings.WORKBENCH_PUBLIC_URL.rstrip("/") + path


def message_for(user: User, notifications: Sequence[Notification]) -> EmailMultiAlternatives:
    """One email to `user` about `notifications`: a single one, or a digest of several."""
    desk = desk_organizations(user)
    items: list[dict[str, Any]] = [
        {
            "notification": n,
            "url": _absolute(place_of(n, desk=n.organization_id in desk).url),
        }
        for n in notifications
    ]
    unsubscribe = _absolute(reverse("notifications-unsubscribe", args=[unsubscribe_token(user)]))
    context = {
        "user": user,
        "items": items,
        "digest": len(items) > 1,
        "unsubscribe": unsubscribe,
        "inbox": _absolute(reverse("notifications")),
        "settings_url": _absolute(reverse("notifications") + "#email"),
    }
    if len(items) == 1:
        subject = items[0]["notification"].text
    else:
        subject = f"{len(items)} things need you on the Fact-check Workbench"
    subject = " ".join(subject.split())
    if len(subject) > 140:
        subject = subject[:139].rstrip() + "…"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("annotations/notifications/email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string("annotations/notifications/email.html", context), "text/html"
    )
    return message
