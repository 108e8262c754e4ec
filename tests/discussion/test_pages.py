"""Threads where the desk works: adjudication and the verified claim's page; and the
reviewers told when a claim made from their work is published.

The demo newsroom: reviewer1 and reviewer2 review the Walikale article blind,
the editor published two claims made from their work.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse

from annotations.discussion import services
from annotations.models import (
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    NotificationKind,
    VerifiedClaim,
    VerifiedStatus,
)
from tests.conftest import demo_login


def test_adjudication_and_the_verified_claims_page_show_their_threads(demo, client):
    editor = User.objects.get(username="editor")
    published = VerifiedClaim.objects.filter(article=demo, status=VerifiedStatus.PUBLISHED).first()
    claim = ClaimAnnotation.objects.filter(article=demo, reviewer__username="reviewer2").first()
    services.thread_start(user=editor, article=demo, verified=published, body="Check the date.")
    services.thread_start(user=editor, article=demo, claim=claim, body="Whose figure is this?")
    services.thread_start(user=editor, article=demo, body="The headline overstates it.")

    desk = demo_login(client, "editor")
    page = desk.get(reverse("verified-claim", args=[published.pk])).content.decode()
    assert "Check the date." in page
    assert "Whose figure" not in page  # a reviewer's claim's thread is not this page's
    adjudication = desk.get(reverse("adjudicate", args=[demo.pk])).content.decode()
    assert "Whose figure is this?" in adjudication
    assert "The headline overstates it." in adjudication
    assert "reviewer2's claim" in adjudication  # the thread says whose claim it is about


def test_reviewers_are_told_of_a_claim_published_from_their_work_once_they_submit(demo, client):
    # The demo's editor published two claims made from both reviewers' claims.
    reviewer = User.objects.get(username="reviewer1")
    told = reviewer.notifications.filter(kind=NotificationKind.PUBLISHED)
    assert told.count() == 2
    assert all("editor published" in n.text and "made from your claim" in n.text for n in told)
    inbox = demo_login(client, "reviewer1").get(reverse("notifications")).content.decode()
    assert "editor published" not in inbox  # still reviewing: the desk's verdicts wait
    Assignment.objects.filter(reviewer=reviewer).update(status=AssignmentStatus.SUBMITTED)
    inbox = client.get(reverse("notifications")).content.decode()
    assert inbox.count("editor published") == 2
