"""Reading the inbox: each person's own notifications, as blind review lets them be seen."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import reverse

from annotations.core.permissions import AnyUser, editor_organizations_for, notifications_visible
from annotations.models import Notification


def inbox_for(user: AnyUser) -> QuerySet[Notification]:
    """The user's notifications they may see now, newest first."""
    return notifications_visible(user, Notification.objects.all()).order_by("-created_at", "-id")


def unread_count(user: AnyUser) -> int:
    """One query: the header asks it on every page."""
    if not isinstance(user, User):
        return 0
    return inbox_for(user).filter(read_at__isnull=True).count()


def notification_for(user: AnyUser, pk: int) -> Notification | None:
    return inbox_for(user).filter(pk=pk).select_related("thread", "verified").first()


@dataclass(frozen=True)
class Place:
    """Where a notification leads: its address, and the words of its link."""

    url: str
    label: str


def place_of(notification: Notification, *, desk: bool) -> Place:
    """The page a notification is about: the thread where it is (in the reader, or on the
    verified claim's page), or the published claim (its page for the desk, the reader's
    "Verified by the desk" for a reviewer), or the article."""
    thread = notification.thread
    if thread is not None:
        if thread.verified_id is not None:
            url = reverse("verified-claim", args=[thread.verified_id])
        else:
            url = reverse("article-reader", args=[thread.article_id])
        anchor = f"#comment-{notification.comment_id}" if notification.comment_id else ""
        return Place(f"{url}{anchor or f'#thread-{thread.pk}'}", "Open the thread")
    if notification.verified is not None:
        if desk:
            return Place(
                reverse("verified-claim", args=[notification.verified_id]), "Open the claim"
            )
        return Place(
            reverse("article-reader", args=[notification.verified.article_id])
            + "#published-heading",
            "Open the article",
        )
    if notification.article_id is not None:
        return Place(reverse("article-reader", args=[notification.article_id]), "Open the article")
    return Place(reverse("notifications"), "Open the inbox")


def desk_organizations(user: AnyUser) -> set[int]:
    """The newsrooms where the user's notifications lead to the desk's pages."""
    return set(editor_organizations_for(user).values_list("pk", flat=True))
