"""Webhooks' people, partner and claims.

In the demo newsroom, ada is an admin (she registers webhooks and reads the
delivery log), "editor" publishes claims but may not see the webhooks page,
"reviewer1" neither. Grace is an admin of the Rival Gazette and must get a 404
for anything of the demo newsroom's. The partner is a real HTTP server on
127.0.0.1, in a thread.
"""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import User

from annotations import tasks
from annotations.core.inputs import SourceInput
from annotations.exports import selection as exports
from annotations.exports import writers
from annotations.models import (
    DeliveryStatus,
    ExportAudience,
    ExportStatusFilter,
    Organization,
    Role,
    VerdictLabel,
    VerifiedClaim,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.newsrooms.services import member_create
from annotations.verification import services as verification
from annotations.webhooks import services as webhooks
from tests.conftest import PASSWORD
from tests.receiver import running_receiver

ALL_EVENTS = list(WebhookEvent.values)
CONFIDENTIAL_URL = "https://whistle.example/leaked-memo"


@pytest.fixture
def receiver():
    with running_receiver() as partner:
        yield partner


@pytest.fixture(autouse=True)
def _quick_backoff(settings):
    settings.WORKBENCH_WEBHOOK_BACKOFF_SECONDS = 0


@pytest.fixture
def newsroom(demo) -> Organization:
    return demo.organization


@pytest.fixture
def ada(newsroom) -> User:
    return member_create(
        organization=newsroom, username="ada", role=Role.ADMIN, password=PASSWORD
    ).membership.user


@pytest.fixture
def grace(gazette) -> User:
    return member_create(
        organization=gazette, username="grace", role=Role.ADMIN, password=PASSWORD
    ).membership.user


def editor() -> User:
    return User.objects.get(username="editor")


@pytest.fixture
def hook(newsroom, ada, receiver) -> Webhook:
    return webhooks.webhook_create(
        organization=newsroom, user=ada, url=receiver.url, events=ALL_EVENTS
    )


@pytest.fixture
def draft(demo) -> VerifiedClaim:
    """A draft with a public and a confidential source, ready to publish."""
    phrase = "within 400 km (250 miles) of Kisangani"
    start = demo.text.index(phrase)
    return verification.verified_claim_save(
        article=demo,
        editor=editor(),
        judgement=verification.Judgement(
            start=start,
            end=start + len(phrase),
            claim_reviewed=phrase,
            verdict=VerdictLabel.objects.get(taxonomy__organization=demo.organization, slug="true"),
            rating=5,
            sources=[
                SourceInput(url="https://maps.example/kisangani", title="Road atlas"),
                SourceInput(url=CONFIDENTIAL_URL, title="Memo", confidential=True),
            ],
        ),
    )


def send_all() -> list[WebhookDelivery]:
    """Runs the task for every delivery waiting, here and now."""
    for pk in (
        WebhookDelivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING])
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        tasks.deliver_webhook.apply([pk])
    return list(WebhookDelivery.objects.order_by("pk"))


def publish(claim: VerifiedClaim, django_capture_on_commit_callbacks) -> VerifiedClaim:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        published = verification.verified_publish(
            claim=claim, editor=editor(), confirm_open_reviews=True
        )
    assert len(queued) == WebhookDelivery.objects.filter(claim=claim).count()
    return published


def jsonl_record(organization: Organization, claim_id: int) -> dict:
    out = io.BytesIO()
    selection = exports.Selection(
        organization=organization,
        status=ExportStatusFilter.ALL,
        audience=ExportAudience.PUBLIC,
    )
    writers.write_jsonl(selection, out, lambda done: None)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    return next(r for r in records if r["id"] == claim_id)
