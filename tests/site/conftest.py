"""What the hostile input tests send into (tests/site/test_hostile_inputs*.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotations.core.inputs import SourceInput
from annotations.keys.services import api_key_create
from annotations.reader.services import assignment_ensure, claim_create
from tests.conftest import login
from tests.site.hostile import World


@pytest.fixture
def world(client, desk, article, alice, bob, planet, tmp_path, settings) -> World:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    assignment_ensure(article=article, reviewer=alice)
    start = article.text.index("reposition its forces")
    claim = claim_create(
        article=article,
        reviewer=alice,
        start=start,
        end=start + len("reposition its forces"),
        quote="reposition its forces",
        verdict=None,
        rating=None,
        note="Before.",
        sources=[SourceInput(url="https://before.example/")],
    )

    def api(user, scopes: str) -> APIClient:
        key = api_key_create(organization=planet, user=user, name=f"{user} key", scopes=scopes)
        api_client = APIClient()
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.secret}")
        return api_client

    return World(
        bob=login(Client(), bob),
        alice=login(Client(), alice),
        editor_api=api(bob, "write:articles,read:articles"),
        reviewer_api=api(alice, "read:annotations,write:annotations"),
        article=article,
        claim=claim,
        tmp_path=tmp_path,
    )
