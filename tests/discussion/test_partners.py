"""Comments never reach partners: not the partner API, not an export of any format or
audience, not a webhook's body, not a public page.

The demo newsroom's editor discusses a published claim, a reviewer's claim and
the article, each with words that must stay inside the newsroom.
"""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotations.discussion import services
from annotations.models import ClaimAnnotation, ExportFormat, VerifiedClaim, VerifiedStatus
from annotations.webhooks.services import claim_body
from tests.api.conftest import key_for, keyed

SECRETS = (
    "INSIDE-ONLY the tipster in Goma",
    "INSIDE-ONLY second reviewer disagrees",
    "INSIDE-ONLY article-wide doubts",
)


@pytest.fixture
def discussed(demo):
    editor = User.objects.get(username="editor")
    published = VerifiedClaim.objects.filter(article=demo, status=VerifiedStatus.PUBLISHED).first()
    claim = ClaimAnnotation.objects.filter(article=demo, reviewer__username="reviewer1").first()
    phrase = published.quote
    start = demo.text.index(phrase)
    services.thread_start(
        user=editor,
        article=demo,
        verified=published,
        body=SECRETS[0],
        quote=services.Quote(start, start + len(phrase)),
    )
    services.thread_start(user=editor, article=demo, claim=claim, body=SECRETS[1])
    services.thread_start(user=editor, article=demo, body=SECRETS[2])
    return published


def leaked(content: bytes | str) -> list[str]:
    text = content.decode() if isinstance(content, bytes) else content
    return [secret for secret in SECRETS if secret in text or "INSIDE-ONLY" in text]


def test_the_partner_api_shows_the_claim_and_none_of_its_discussion(discussed):
    partner = keyed(key_for("editor"))
    for url in ("/api/v1/claims/", f"/api/v1/claims/{discussed.pk}/"):
        answer = partner.get(url)
        assert answer.status_code == 200, url
        assert leaked(answer.content) == [], url
    assert partner.get(f"/api/v1/threads/?article={discussed.article_id}").status_code == 403


@pytest.mark.parametrize("audience", ["public", "newsroom"])
@pytest.mark.parametrize(
    "export_format", [f for f in ExportFormat.values if f != ExportFormat.REPORT_PDF]
)
def test_no_export_carries_a_comment(discussed, tmp_path, export_format, audience):
    out = tmp_path / "export"
    call_command(
        "export_claims",
        "--org",
        "demo",
        "--format",
        export_format,
        "--out",
        str(out),
        f"--audience={audience}",
        "--status=all",
    )
    data = out.read_bytes()
    assert data
    if zipfile.is_zipfile(BytesIO(data)):
        with zipfile.ZipFile(BytesIO(data)) as archive:
            data = b"".join(archive.read(name) for name in archive.namelist())
    assert leaked(data) == []


def test_a_webhook_body_and_the_public_pages_carry_no_comment(discussed):
    assert leaked(claim_body(discussed, "claim.published", timezone.now())) == []
    visitor = Client()
    page = visitor.get(reverse("public-claim", args=["demo", discussed.pk]))
    assert page.status_code == 200
    assert leaked(page.content) == []
    corrections = visitor.get(reverse("corrections-log", args=["demo"]))
    assert leaked(corrections.content) == []
