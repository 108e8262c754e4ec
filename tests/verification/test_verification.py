"""Adjudication, publishing, corrections and the record they leave."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotations.core.inputs import SourceInput
from annotations.models import (
    ClaimAnnotation,
    Correction,
    VerdictLabel,
    VerifiedClaim,
)
from annotations.newsrooms.services import member_create
from annotations.verification import selectors
from annotations.verification import services as verification
from tests.conftest import demo_login, login


def editor():
    from django.contrib.auth.models import User

    return User.objects.get(username="editor")


def verdict(slug: str) -> VerdictLabel:
    return VerdictLabel.objects.get(taxonomy__organization__slug="demo", slug=slug)


def test_demo_publishes_one_unanimous_and_one_merged_claim(demo):
    claims = {v.quote: v for v in VerifiedClaim.objects.filter(article=demo)}
    assert claims["reposition its forces"].lineage == "unanimous"
    assert claims["give peace a chance"].lineage == "adjudicated"
    assert {v.status for v in claims.values()} == {"published"}
    assert claims["give peace a chance"].verdict.slug == "misleading"


def test_units_are_marked_unanimous_disputed_or_single(demo):
    units = {u.claims[0].quote: u for u in selectors.adjudication_units(demo)}
    assert units["reposition its forces"].status == "unanimous"
    assert units["give peace a chance"].status == "disputed"
    assert units["M23 rebels, backed by Rwanda"].status == "single"
    assert units["reposition its forces"].verified is not None


def judgement(article, phrase: str, slug: str = "false", sources=(), **extra):
    start = article.text.index(phrase)
    return verification.Judgement(
        start=start,
        end=start + len(phrase),
        claim_reviewed=extra.pop("claim_reviewed", phrase),
        verdict=verdict(slug),
        sources=list(sources),
        **extra,
    )


def test_publishing_needs_the_collections_minimum_of_independent_sources(demo):
    collection = demo.collection
    collection.min_sources = 2
    collection.save()
    draft = verification.verified_claim_save(
        article=demo,
        editor=editor(),
        judgement=judgement(
            demo,
            "within 400 km (250 miles) of Kisangani",
            "mostly-true",
            sources=[
                SourceInput(url="https://maps.example/a", title="Map"),
                SourceInput(url="https://maps.example/b", title="Same site, another page"),
            ],
        ),
    )
    with pytest.raises(ValidationError, match="needs 2 independent source"):
        verification.verified_publish(claim=draft, editor=editor(), confirm_open_reviews=True)
    draft = verification.verified_claim_save(
        article=demo,
        editor=editor(),
        claim=draft,
        judgement=judgement(
            demo,
            "within 400 km (250 miles) of Kisangani",
            "mostly-true",
            sources=[
                SourceInput(url="https://maps.example/a", title="Map"),
                SourceInput(url="https://roads.example/kisangani", title="Road atlas"),
            ],
        ),
    )
    assert (
        verification.verified_publish(
            claim=draft, editor=editor(), confirm_open_reviews=True
        ).status
        == "published"
    )


def test_a_correction_needs_a_public_note_and_lands_in_the_log(client, demo):
    claim = VerifiedClaim.objects.get(quote="give peace a chance")
    with pytest.raises(ValidationError, match="needs a public note"):
        verification.verified_correct(
            claim=claim, editor=editor(), note=" ", judgement=judgement(demo, "give peace a chance")
        )
    corrected = verification.verified_correct(
        claim=claim,
        editor=editor(),
        note="We first rated this misleading; it is an unverifiable intention.",
        judgement=judgement(
            demo, "give peace a chance", "unverifiable", claim_reviewed=claim.claim_reviewed
        ),
    )
    assert corrected.status == "corrected"
    assert corrected.verdict.slug == "unverifiable"
    log = client.get(reverse("corrections-log", args=["demo"]))  # public: no login
    assert log.status_code == 200
    assert "it is an unverifiable intention" in log.text
    history = list(corrected.history.order_by("history_date"))
    assert [h.status for h in history] == ["draft", "published", "corrected"]
    assert history[-1].history_user.username == "editor"


def test_a_retraction_keeps_the_claim_visible_as_retracted(demo):
    claim = VerifiedClaim.objects.get(quote="reposition its forces")
    retracted = verification.verified_retract(
        claim=claim, editor=editor(), note="The press release was misattributed."
    )
    assert VerifiedClaim.objects.get(pk=claim.pk).status == "retracted"
    assert Correction.objects.get(claim=retracted).kind == "retraction"


def test_two_editors_saving_the_same_draft_get_a_conflict(demo):
    other = member_create(
        organization=demo.organization, username="perry", role="editor"
    ).membership.user
    draft = verification.verified_claim_save(
        article=demo, editor=editor(), judgement=judgement(demo, "Mubi, another town")
    )
    seen_version = draft.version
    verification.verified_claim_save(
        article=demo,
        editor=other,
        claim=draft,
        expected_version=seen_version,
        judgement=judgement(demo, "Mubi, another town", "mixed"),
    )
    with pytest.raises(verification.VerifiedConflict) as conflict:
        verification.verified_claim_save(
            article=demo,
            editor=editor(),
            claim=draft,
            expected_version=seen_version,
            judgement=judgement(demo, "Mubi, another town", "true"),
        )
    assert conflict.value.current.verdict.slug == "mixed"
    assert VerifiedClaim.objects.get(pk=draft.pk).verdict.slug == "mixed"


def test_the_editor_merges_a_disputed_unit_in_the_browser_form(client, demo):
    VerifiedClaim.objects.filter(quote="give peace a chance").delete()
    units = {u.claims[0].quote: u for u in selectors.adjudication_units(demo)}
    unit = units["give peace a chance"]
    r1 = next(c for c in unit.claims if c.reviewer.username == "reviewer1")
    r2 = next(c for c in unit.claims if c.reviewer.username == "reviewer2")
    demo_login(client, "editor")
    response = client.post(
        reverse("adjudicate", args=[demo.pk]),
        {
            "unit": unit.index,
            "span_from": r2.pk,
            "verdict_from": r1.pk,
            "claim_reviewed": "M23 says the withdrawal will “give peace a chance”",
            "sources": [s[0] for s in unit.sources],
        },
    )
    assert response.status_code == 302
    merged = VerifiedClaim.objects.get(quote="give peace a chance")
    assert merged.verdict == r1.verdict
    assert merged.lineage == "adjudicated"
    assert set(merged.annotations.all()) == {r1, r2}


def test_reviewers_and_other_newsrooms_cannot_adjudicate(client, demo, eve):
    claim = VerifiedClaim.objects.first()
    demo_login(client, "reviewer1")
    assert client.get(reverse("adjudicate", args=[demo.pk])).status_code == 404
    assert client.get(reverse("verified-claim", args=[claim.pk])).status_code == 404
    assert (
        client.post(
            reverse("verified-claim-action", args=[claim.pk, "retract"]), {"note": "x"}
        ).status_code
        == 404
    )
    client.logout()
    login(client, eve)
    assert client.get(reverse("verified-claim", args=[claim.pk])).status_code == 404
    assert VerifiedClaim.objects.get(pk=claim.pk).status == "published"


def test_the_claim_page_shows_its_history(client, demo):
    claim = VerifiedClaim.objects.get(quote="reposition its forces")
    demo_login(client, "editor")
    page = client.get(reverse("verified-claim", args=[claim.pk]))
    assert page.status_code == 200
    assert (
        '<strong>Status</strong>: <span class="was">Draft</span> → '
        '<span class="now">Published</span>' in page.text
    )
    assert "Unanimous" in page.text


def test_claim_annotation_edits_are_recorded_too(demo):
    from django.contrib.auth.models import User

    from annotations.reader.services import claim_update

    reviewer = User.objects.get(username="reviewer2")
    claim = ClaimAnnotation.objects.get(reviewer=reviewer, quote="give peace a chance")
    claim_update(
        claim=claim,
        user=reviewer,
        expected_version=claim.version,
        verdict=verdict("misleading"),
        rating=None,
        note="Changed my mind",
        sources=[],
    )
    last = claim.history.order_by("-history_date").first()
    assert last.history_user == reviewer
    assert last.note == "Changed my mind"


def test_an_editor_whose_page_is_stale_gets_a_conflict_and_keeps_their_wording(client, demo):
    from django.test import Client

    VerifiedClaim.objects.filter(quote="give peace a chance").delete()
    member_create(
        organization=demo.organization, username="perry", role="editor", password="walikale-perry"
    )
    perry = Client()
    demo_login(perry, "perry")
    demo_login(client, "editor")
    url = reverse("adjudicate", args=[demo.pk])
    unit = next(
        u for u in client.get(url).context["units"] if u.claims[0].quote == "give peace a chance"
    )
    form = {
        "unit": unit.index,
        "version": 0,  # the editor's page showed no verified claim
        "span_from": unit.claims[0].pk,
        "verdict_from": unit.claims[0].pk,
    }
    assert perry.post(url, form | {"claim_reviewed": "Perry's wording"}).status_code == 302

    stale = client.post(url, form | {"claim_reviewed": "The editor's wording"})

    assert stale.status_code == 422
    assert "perry saved this claim meanwhile" in stale.text
    assert "Perry&#x27;s wording" in stale.text
    assert "The editor&#x27;s wording</textarea>" in stale.text
    assert (
        VerifiedClaim.objects.get(quote="give peace a chance").claim_reviewed == "Perry's wording"
    )


def test_the_claim_page_shows_the_history_of_the_reviewers_claims_it_came_from(client, demo):
    from annotations.reader.services import claim_update

    claim = VerifiedClaim.objects.get(quote="give peace a chance")
    theirs = claim.annotations.get(reviewer__username="reviewer2")
    claim_update(
        claim=theirs,
        user=theirs.reviewer,
        expected_version=theirs.version,
        verdict=verdict("misleading"),
        rating=None,
        note="On second thought: the advances contradict it.",
        sources=[],
    )

    page = client.get(reverse("verified-claim", args=[claim.pk]))
    assert page.status_code == 302  # login first
    demo_login(client, "editor")
    page = client.get(reverse("verified-claim", args=[claim.pk]))

    assert "History of reviewer2's claim (2 records)" in page.text
    assert (
        '<strong>Verdict</strong>: <span class="was">Unverifiable</span> → '
        '<span class="now">Misleading</span>' in page.text
    )
    assert "On second thought" in page.text


def test_the_history_reads_like_an_editorial_log(client, demo):
    # Labels, not field names; the passage, not offsets; and a late edit in a long
    # text shows the words that changed, not two texts cut at the same point.
    claim = VerifiedClaim.objects.get(quote="reposition its forces")
    long = "The alliance said it would reposition its forces. " * 6
    VerifiedClaim.objects.filter(pk=claim.pk).update(status="draft")
    claim.refresh_from_db()
    claim.summary = long + "Observers saw no withdrawal."
    claim._history_user = claim.editor
    claim.save()
    claim.summary = long + "Observers saw a partial withdrawal."
    claim.save()
    demo_login(client, "editor")
    page = client.get(reverse("verified-claim", args=[claim.pk])).text
    assert "<strong>What we found</strong>" in page
    assert "<del>no </del>" in page
    assert "<ins>a partial </ins>" in page
    assert "<strong>summary</strong>" not in page
    assert "<strong>start</strong>" not in page
    assert "settled by editor" in page
    assert "editor editor" not in page


def test_a_note_typed_with_its_label_is_labelled_once(client, demo):
    claim = VerifiedClaim.objects.get(quote="give peace a chance")
    corrected = verification.verified_correct(
        claim=claim,
        editor=editor(),
        note="Correction: the pledge cannot be verified yet.",
        judgement=judgement(
            demo, "give peace a chance", "unverifiable", claim_reviewed=claim.claim_reviewed
        ),
    )
    assert corrected.public_note == "the pledge cannot be verified yet."
    page = client.get(reverse("public-claim", args=["demo", claim.pk])).text
    assert "Correction: Correction" not in page
    demo_login(client, "editor")
    assert (
        "Correction:</strong> Correction"
        not in client.get(reverse("verified-claim", args=[claim.pk])).text
    )
