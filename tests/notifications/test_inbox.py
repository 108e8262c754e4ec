"""The inbox: the header's unread count (one query a page), opening and marking read,
and blind review on what it lists."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.discussion import services
from annotations.models import Notification, NotificationKind
from annotations.notifications.services import notify, notify_article_changed
from tests.discussion.conftest import client_for, submit


def unread_badge(html: str) -> str | None:
    found = re.search(r'class="badge inbox-count">(\d+)<', html)
    return found.group(1) if found else None


def test_the_header_counts_unread_notifications_in_one_query(article, reviewing, alice, bob):
    services.thread_start(user=alice, article=article, body="@bob look", claim=reviewing["alice"])
    editor = client_for(bob)
    for url in (
        reverse("home"),
        reverse("article-reader", args=[article.pk]),
        reverse("collection-activity", args=[article.collection_id]),
        reverse("collection-detail", args=[article.collection_id]),
    ):
        with CaptureQueriesContext(connection) as queries:
            page = editor.get(url)
        assert page.status_code == 200, url
        assert unread_badge(page.content.decode()) == "1", url
        counting = [q["sql"] for q in queries if "annotations_notification" in q["sql"]]
        assert len(counting) == 1, (url, counting)
    # A visitor's page (the login form) counts nothing.
    with CaptureQueriesContext(connection) as queries:
        Client().get(reverse("login"))
    assert not [q for q in queries if "annotations_notification" in q["sql"]]
    # Without it there is no badge, and nothing is counted for a visitor.
    Notification.objects.update(read_at="2026-01-01T00:00:00Z")
    assert unread_badge(editor.get(reverse("home")).content.decode()) is None


def test_opening_a_notification_marks_it_read_and_goes_to_the_thread(
    article, reviewing, alice, bob
):
    comment = services.thread_start(
        user=alice, article=article, body="@bob here", claim=reviewing["alice"]
    ).comment
    note = Notification.objects.get(recipient=bob)
    editor = client_for(bob)
    inbox = editor.get(reverse("notifications")).content.decode()
    assert "alice mentioned you" in inbox
    assert "unread" in inbox
    answer = editor.get(reverse("notification-open", args=[note.pk]))
    assert answer.status_code == 302
    assert answer["Location"] == (
        reverse("article-reader", args=[article.pk]) + f"#comment-{comment.pk}"
    )
    note.refresh_from_db()
    assert note.read_at is not None
    # Someone else's notification is not found.
    assert client_for(alice).get(reverse("notification-open", args=[note.pk])).status_code == 404


def test_mark_all_read_and_mark_one_unread_again(article, reviewing, alice, bob):
    services.thread_start(user=alice, article=article, body="@bob one", claim=reviewing["alice"])
    services.thread_start(user=alice, article=article, body="@bob two")
    editor = client_for(bob)
    editor.post(reverse("notifications-read-all"))
    assert not Notification.objects.filter(recipient=bob, read_at__isnull=True).exists()
    note = Notification.objects.filter(recipient=bob).first()
    editor.post(reverse("notification-read", args=[note.pk]), {"unread": "1"})
    assert unread_badge(editor.get(reverse("home")).content.decode()) == "1"


def test_a_published_claim_from_my_work_waits_until_i_have_submitted(article, alice, bob):
    # Made as the signal makes it when an editor publishes a claim from alice's claim.
    from annotations.reader.services import assignment_ensure

    assignment_ensure(article=article, reviewer=alice)
    notify(
        recipients=[alice],
        kind=NotificationKind.PUBLISHED,
        organization=article.organization,
        text="bob published “x”, made from your claim.",
        actor=bob,
        article=article,
    )
    reviewer = client_for(alice)
    assert "bob published" not in reviewer.get(reverse("notifications")).content.decode()
    assert unread_badge(reviewer.get(reverse("home")).content.decode()) is None
    submit(article, alice)
    assert "bob published" in reviewer.get(reverse("notifications")).content.decode()


def test_notify_article_changed_tells_the_editor_and_the_reviewers_of_published_claims(demo):
    from annotations.models import VerifiedClaim, VerifiedStatus

    claims = list(VerifiedClaim.objects.filter(article=demo, status=VerifiedStatus.PUBLISHED))
    made = notify_article_changed(demo, claims)
    assert {n.recipient.username for n in made} == {"editor", "reviewer1", "reviewer2"}
    assert all(n.kind == NotificationKind.ARTICLE_CHANGED for n in made)
    assert "2 published claims from it may need a correction" in made[0].text
    # The editor sees it now; the reviewers once they have submitted the article.
    editor = Client()
    editor.force_login(User.objects.get(username="editor"))
    assert "may need a correction" in editor.get(reverse("notifications")).content.decode()
    reviewer = Client()
    reviewer.force_login(User.objects.get(username="reviewer1"))
    assert "may need a correction" not in reviewer.get(reverse("notifications")).content.decode()
    assert notify_article_changed(demo, []) == []
