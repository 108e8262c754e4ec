"""API test helpers: keys, clients that send them, and many published claims."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.keys.services import api_key_create
from annotations.models import (
    Article,
    Lineage,
    Organization,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)


@pytest.fixture(autouse=True)
def _no_sync_lag(settings):
    # Tests read what they just wrote; the lag is tested on its own.
    settings.WORKBENCH_API_SYNC_LAG_SECONDS = 0


def key_for(username: str, scopes: str = "read:claims", org: str = "demo") -> str:
    """A new API key's secret, acting as this member."""
    organization = Organization.objects.get(slug=org)
    user = User.objects.get(username=username)
    # A key's name is at most 100 characters; all eight scopes spelled out are more.
    name = f"{username} {scopes[:60]} {timezone.now().timestamp()}"
    return api_key_create(organization=organization, user=user, name=name, scopes=scopes).secret


def keyed(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def partner(demo) -> APIClient:
    """A partner's client: a read:claims key of the demo newsroom."""
    return keyed(key_for("editor"))


def publish_many(article: Article, count: int, *, sources: int = 3) -> list[VerifiedClaim]:
    """`count` published claims on one-word-long spans of the article, with sources."""
    editor = User.objects.get(username="editor")
    verdict = VerdictLabel.objects.filter(taxonomy__organization=article.organization).first()
    assert verdict is not None
    taken = set(VerifiedClaim.objects.filter(article=article).values_list("start", "end"))
    now = timezone.now()
    claims: list[VerifiedClaim] = []
    for start in range(len(article.text) - 3):
        if len(claims) == count:
            break
        if (start, start + 3) in taken:
            continue
        claims.append(
            VerifiedClaim(
                organization=article.organization,
                article=article,
                start=start,
                end=start + 3,
                quote=article.text[start : start + 3],
                claim_reviewed=f"Claim number {len(claims)}",
                verdict=verdict,
                rating=verdict.rating,
                lineage=Lineage.ADJUDICATED,
                editor=editor,
                status=VerifiedStatus.PUBLISHED,
                published_at=now,
            )
        )
    created = VerifiedClaim.objects.bulk_create(claims)
    VerifiedSource.objects.bulk_create(
        VerifiedSource(claim=claim, url=f"https://source.example/{claim.pk}/{n}", order=n)
        for claim in created
        for n in range(sources)
    )
    return created
