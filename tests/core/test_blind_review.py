"""Blind review holds on every path, for reviewers and for editors assigned as reviewers.

In the demo newsroom reviewer1 and reviewer2 are reviewing the Walikale
article and have not submitted; the desk has published two claims on it.
Here the editor is assigned to it too: until they submit, they are a
reviewer on that article, on every page, file and endpoint.
"""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from annotations.agreement import runs
from annotations.exports.selection import Selection
from annotations.exports.writers import WRITERS
from annotations.models import (
    Article,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    ExportJob,
    VerifiedClaim,
    VerifiedStatus,
)
from annotations.reader.services import assignment_ensure, assignment_submit, claim_create
from annotations.verification.services import Judgement, verified_claim_save, verified_publish
from tests.api.conftest import key_for, keyed
from tests.conftest import demo_login
from tests.factories import ArticleFactory


def user(name: str) -> User:
    return User.objects.get(username=name)


@pytest.fixture
def reviewing_editor(demo) -> User:
    """The demo editor, assigned to the Walikale article with one claim of their own."""
    editor = user("editor")
    assignment_ensure(article=demo, reviewer=editor)
    start = demo.text.index("Walikale")
    claim_create(
        article=demo,
        reviewer=editor,
        start=start,
        end=start + len("Walikale"),
        quote="Walikale",
        verdict=None,
        rating=None,
    )
    return editor


def published(demo: Article) -> VerifiedClaim:
    claims = VerifiedClaim.objects.filter(article=demo, status=VerifiedStatus.PUBLISHED)
    return claims.earliest("pk")


def others_quotes(demo: Article, editor: User) -> list[str]:
    return list(
        ClaimAnnotation.objects.filter(article=demo)
        .exclude(reviewer=editor)
        .values_list("quote", flat=True)
    )


def test_a_reviewer_gets_no_verdict_of_their_article_through_another_articles_suggestions(
    client, demo
):
    # The hostile test's path: the "checked before" suggestions of another article.
    other = ArticleFactory(collection=demo.collection)
    claim = published(demo)
    demo_login(client, "reviewer1")
    url = reverse("similar-claims", args=[other.pk]) + f"?q={claim.claim_reviewed}"
    assert claim.claim_reviewed not in client.get(url).text
    # Once reviewer1 has submitted, the desk's verdict is theirs to reuse.
    assignment = Assignment.objects.get(article=demo, reviewer__username="reviewer1")
    assignment_submit(assignment=assignment, user=user("reviewer1"), confirm_unchecked=True)
    assert claim.claim_reviewed in client.get(url).text


def test_an_editor_reviewing_an_article_cannot_adjudicate_it_or_read_its_verdicts(
    client, demo, reviewing_editor
):
    demo_login(client, "editor")
    page = client.get(reverse("adjudicate", args=[demo.pk]))
    assert page.status_code == 403
    assert "You are reviewing" in page.text
    for quote in others_quotes(demo, reviewing_editor):
        assert quote not in page.text
    claim = published(demo)
    verified = client.get(reverse("verified-claim", args=[claim.pk]))
    assert verified.status_code == 403
    assert claim.summary not in verified.text
    assert (
        client.post(
            reverse("verified-claim-action", args=[claim.pk, "retract"]), {"note": "x"}
        ).status_code
        == 403
    )
    # The reader: their own claim, nobody else's, and none of the desk's verdicts.
    reader = client.get(reverse("article-reader", args=[demo.pk]))
    assert {c.reviewer_id for c in reader.context["reader"].claims} == {reviewing_editor.pk}
    assert reader.context["published"] is None
    assert "Verified by the desk" not in reader.text
    # The adjudication queue lists it, without its figures.
    queue = client.get(reverse("adjudication-queue", args=[demo.collection_id])).text
    assert "You are reviewing it" in queue


def test_an_editor_reviewing_an_article_sees_everything_once_they_submit(
    client, demo, reviewing_editor
):
    assignment = Assignment.objects.get(article=demo, reviewer=reviewing_editor)
    assignment_submit(assignment=assignment, user=reviewing_editor, confirm_unchecked=True)
    demo_login(client, "editor")
    assert client.get(reverse("adjudicate", args=[demo.pk])).status_code == 200
    assert client.get(reverse("verified-claim", args=[published(demo).pk])).status_code == 200


def test_agreement_leaves_out_the_articles_an_editor_is_reviewing(client, demo, reviewing_editor):
    runs.report_run_here(runs.report_start(collection=demo.collection))
    demo_login(client, "editor")
    page = client.get(reverse("agreement", args=[demo.collection_id])).text
    assert "1 article you are reviewing is left out" in page
    api = keyed(key_for("editor", "read:agreement"))
    results = api.get(f"/api/v1/collections/{demo.collection.slug}/agreement/").json()["results"]
    assert [a for a in results["articles"] if a["id"] == demo.pk] == []
    assert results["articles_hidden"] == 1


def test_an_editors_export_leaves_out_what_they_may_not_see_yet(demo, reviewing_editor):
    job = ExportJob(
        organization=demo.organization,
        created_by=reviewing_editor,
        format="webannotation",
        status_filter="all",
        audience="newsroom",
    )
    selection = Selection.of(job)
    assert selection.viewer_id == reviewing_editor.pk
    out = io.BytesIO()
    WRITERS["webannotation"](selection, out, lambda done: None)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    creators = {r["creator"].get("nickname") for r in records if r["workbench:kind"] == "claim"}
    assert creators == {"editor"}
    assert not [r for r in records if r["workbench:kind"] == "verified-claim"]
    # An operator's export_claims names no viewer: everything.
    everything = io.BytesIO()
    WRITERS["webannotation"](
        Selection(organization=demo.organization, status="all", audience="newsroom"),
        everything,
        lambda done: None,
    )
    assert len(everything.getvalue().splitlines()) > len(records)


def test_the_admin_shows_an_editor_no_other_reviewers_claims_on_their_article(
    demo, reviewing_editor
):
    client = Client()
    client.force_login(reviewing_editor)  # staff in the demo, with the app's permissions
    listing = client.get(reverse("admin:annotations_claimannotation_changelist")).text
    assert "Walikale" in listing
    for quote in others_quotes(demo, reviewing_editor):
        assert quote[:40] not in listing
    theirs = ClaimAnnotation.objects.filter(article=demo).exclude(reviewer=reviewing_editor).first()
    change = client.get(reverse("admin:annotations_claimannotation_change", args=[theirs.pk]))
    assert change.status_code == 302  # the admin's "does not exist", back to the index


def test_the_members_api_shows_an_editor_reviewing_only_their_own_claims(demo, reviewing_editor):
    api = keyed(key_for("editor", "read:annotations"))
    listed = api.get(f"/api/v1/annotations/?article={demo.pk}").json()["results"]
    assert {c["quote"] for c in listed} == {"Walikale"}


def test_publishing_while_reviews_are_open_asks_first_naming_who(demo):
    editor = user("editor")
    start = demo.text.index("Walikale")
    draft = verified_claim_save(
        article=demo,
        editor=editor,
        judgement=Judgement(
            start=start,
            end=start + len("Walikale"),
            claim_reviewed="Walikale is in North Kivu",
            verdict=published(demo).verdict,
            sources=list(published(demo).sources.all().values_list("url", flat=True)) and [],
        ),
    )
    draft.sources.create(url="https://un.example/report", stance="supports")
    with pytest.raises(ValidationError) as refused:
        verified_publish(claim=draft, editor=editor)
    assert "reviewer1 and reviewer2 have not submitted" in str(refused.value)
    draft.refresh_from_db()
    assert draft.status == VerifiedStatus.DRAFT
    assert verified_publish(claim=draft, editor=editor, confirm_open_reviews=True).is_public
    # Once every review is in, nothing to confirm.
    Assignment.objects.filter(article=demo).update(status=AssignmentStatus.SUBMITTED)
    second = verified_claim_save(
        article=demo,
        editor=editor,
        judgement=Judgement(
            start=start,
            end=start + len("Walikale is"),
            claim_reviewed="Walikale is a town",
            verdict=published(demo).verdict,
        ),
    )
    second.sources.create(url="https://un.example/report", stance="supports")
    assert verified_publish(claim=second, editor=editor).is_public
