"""A published claim's public page carries its ClaimReview, as partners receive it.

The demo newsroom has two published claims on the Walikale article; their
claimant, the Congo River Alliance (M23), is an organization, as the editor said.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from annotations.exports.selection import Selection
from annotations.exports.writers import WRITERS
from annotations.models import ClaimantKind, Organization, VerifiedClaim, VerifiedStatus

JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def validate_claim_review(review: dict, *, page_url: str, article_url: str = "") -> None:
    """schema.org ClaimReview with the fields Google's fact-check markup requires and
    recommends, typed as schema.org types them."""
    assert review["@context"] == "https://schema.org"
    assert review["@type"] == "ClaimReview"
    assert review["url"] == page_url  # the page itself
    assert isinstance(review["claimReviewed"], str)
    assert review["claimReviewed"]
    date.fromisoformat(review["datePublished"])
    author = review["author"]
    assert author["@type"] == "Organization"
    assert author["name"]
    assert author["url"].startswith("http")
    rating = review["reviewRating"]
    assert rating["@type"] == "Rating"
    assert rating["alternateName"]
    if "ratingValue" in rating:
        assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    item = review["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["author"]["@type"] in {"Person", "Organization"}
    assert item["author"]["name"]
    appearances = [*item.get("appearance", []), item.get("firstAppearance", {})]
    assert all(a.get("@type", "CreativeWork") == "CreativeWork" for a in appearances)
    # Where the claim appeared, when the article has an address (recommended).
    assert any(a.get("url") == article_url for a in appearances) or not article_url


@pytest.fixture
def published(demo) -> VerifiedClaim:
    return VerifiedClaim.objects.filter(status=VerifiedStatus.PUBLISHED).earliest("pk")


def page_of(claim: VerifiedClaim) -> str:
    return reverse("public-claim", args=[claim.organization.slug, claim.pk])


def test_the_public_page_carries_a_valid_claim_review_of_itself(client: Client, published):
    page = client.get(page_of(published))
    assert page.status_code == 200
    (block,) = JSONLD.findall(page.text)
    review = json.loads(block)
    validate_claim_review(
        review,
        page_url=f"http://127.0.0.1:8000{page_of(published)}",
        article_url=published.article.url,
    )
    assert review["itemReviewed"]["author"] == {
        "@type": "Organization",
        "name": "Congo River Alliance (M23)",
    }


def test_it_is_the_very_claim_review_partners_receive(client: Client, published):
    out = io.BytesIO()
    WRITERS["claimreview"](Selection(organization=published.organization), out, lambda done: None)
    exported = {r["url"]: r for r in json.loads(out.getvalue())}
    review = json.loads(JSONLD.findall(client.get(page_of(published)).text)[0])
    assert exported[review["url"]] == review


def test_the_claimant_is_typed_as_the_editor_says(client: Client, published):
    # The new user's case: "Ghana Ports and Harbours Authority" was typed Person.
    VerifiedClaim.objects.filter(pk=published.pk).update(
        claimant="Ghana Ports and Harbours Authority", claimant_kind=ClaimantKind.ORGANIZATION
    )
    review = json.loads(JSONLD.findall(client.get(page_of(published)).text)[0])
    assert review["itemReviewed"]["author"]["@type"] == "Organization"
    VerifiedClaim.objects.filter(pk=published.pk).update(
        claimant="Kofi Mensah", claimant_kind=ClaimantKind.PERSON
    )
    review = json.loads(JSONLD.findall(client.get(page_of(published)).text)[0])
    assert review["itemReviewed"]["author"] == {"@type": "Person", "name": "Kofi Mensah"}


def test_the_review_is_by_the_newsroom_at_its_own_site(client: Client, published):
    Organization.objects.filter(pk=published.organization_id).update(
        website="https://demo-newsroom.example/"
    )
    review = json.loads(JSONLD.findall(client.get(page_of(published)).text)[0])
    assert review["author"] == {
        "@type": "Organization",
        "name": "Demo Newsroom",
        "url": "https://demo-newsroom.example/",
    }


def test_a_claim_review_cannot_end_its_script_early(client: Client, published):
    VerifiedClaim.objects.filter(pk=published.pk).update(
        claim_reviewed="</script><script>alert(1)</script>"
    )
    page = client.get(page_of(published)).text
    assert "</script><script>alert(1)" not in page
    review = json.loads(JSONLD.findall(page)[0])
    assert review["claimReviewed"] == "</script><script>alert(1)</script>"
