"""A collection's activity, for its editors: who commented, requested, changed and
published, and when; filterable; blind review holds for an editor who reviews."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from annotations.discussion import services
from annotations.models import Activity, ActivityKind, Role
from annotations.newsrooms.services import member_create
from annotations.reader.services import assignment_ensure
from tests.conftest import PASSWORD
from tests.discussion.conftest import client_for


def mark_in_reader(client, article, phrase: str) -> None:
    """Marks a claim as the reader's form does (the activity names who, from the request)."""
    start = article.text.index(phrase)
    answer = client.post(
        reverse("claim-create", args=[article.pk]),
        {"start": start, "end": start + len(phrase), "quote": phrase, "verdict": "", "note": ""},
    )
    assert answer.status_code in (200, 302), answer.status_code


def activity_page(client, article, **filters) -> str:
    answer = client.get(reverse("collection-activity", args=[article.collection_id]), filters)
    assert answer.status_code == 200, answer.status_code
    return answer.content.decode()


def test_the_editor_sees_who_did_what_and_filters_it(article, reviewing, alice, bob):
    mark_in_reader(client_for(alice), article, "before Friday")
    services.thread_start(user=alice, article=article, claim=reviewing["alice"], body="My doubt.")
    services.thread_start(
        user=bob,
        article=article,
        claim=reviewing["alice"],
        body="Cite ACLED.",
        request_changes=True,
    )
    editor = client_for(bob)
    page = activity_page(editor, article)
    assert "requested changes" in page
    assert "Cite ACLED." in page
    assert "commented" in page
    assert "My doubt." in page
    assert "marked a claim" in page
    assert "before Friday" in page

    requests = activity_page(editor, article, what="requests")
    assert "Cite ACLED." in requests
    assert "My doubt." not in requests
    by_alice = activity_page(editor, article, who=alice.pk)
    assert "My doubt." in by_alice
    assert "Cite ACLED." not in by_alice
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    assert "Nothing matches these filters" in activity_page(editor, article, since=tomorrow)
    refused = editor.get(
        reverse("collection-activity", args=[article.collection_id]),
        {"since": tomorrow, "until": "2020-01-01"},
    )
    assert refused.status_code == 400
    assert "The end date is before the start date." in refused.content.decode()


def test_reviewers_and_other_newsrooms_do_not_get_the_activity_page(article, reviewing, alice, eve):
    url = reverse("collection-activity", args=[article.collection_id])
    assert client_for(alice).get(url).status_code == 404
    assert client_for(eve).get(url).status_code == 404


def test_an_editor_reviewing_blind_sees_only_their_own_activity_on_that_article(
    article, reviewing, alice, bob, planet
):
    dora = member_create(
        organization=planet, username="dora", role=Role.EDITOR, password=PASSWORD
    ).membership.user
    assignment_ensure(article=article, reviewer=dora)
    mark_in_reader(client_for(dora), article, "before Friday")
    mark_in_reader(client_for(alice), article, "give peace")
    services.thread_start(
        user=alice, article=article, claim=reviewing["alice"], body="Alice says no."
    )
    page = activity_page(client_for(dora), article)
    assert "before Friday" in page
    assert "Alice says no." not in page
    assert "give peace" not in page
    # The desk's editor, not reviewing, sees both.
    desk = activity_page(client_for(bob), article)
    assert "before Friday" in desk
    assert "Alice says no." in desk
    assert "give peace" in desk
    assert Activity.objects.filter(kind=ActivityKind.MARKED_CLAIM).count() == 2


def test_an_editor_reviewing_sees_nothing_said_about_the_desks_verdict_on_that_article(
    article, reviewing, bob, planet
):
    # A collection without blind review: the editor reviewing sees the others' claims,
    # never the desk's verdict, nor what is said about it, before they submit.
    from annotations.verification.services import Judgement, verified_claim_save

    article.collection.blind_review = False
    article.collection.save()
    start = article.text.index("reposition its forces")
    verified = verified_claim_save(
        article=article,
        editor=bob,
        judgement=Judgement(
            start=start,
            end=start + len("reposition its forces"),
            claim_reviewed="The rebels will reposition their forces",
            verdict=article.collection.taxonomy.labels.first(),
        ),
    )
    services.thread_start(
        user=bob, article=article, verified=verified, body="Rate it MOSTLYFALSE, I think."
    )
    dora = member_create(
        organization=planet, username="dora", role=Role.EDITOR, password=PASSWORD
    ).membership.user
    assignment_ensure(article=article, reviewer=dora)
    assert "MOSTLYFALSE" not in activity_page(client_for(dora), article)
    assert "MOSTLYFALSE" in activity_page(client_for(bob), article)
