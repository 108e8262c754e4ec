"""Webhooks: partners told when a claim is published, corrected or retracted.

A delivery is a row written in the same transaction as the change it reports,
so a change that rolls back sends nothing, and a change that commits is never
forgotten even if the broker is down. webhooks.delivery sends it after the
commit; docs/api.md ("Webhooks") documents the body, the headers and how to
verify them.
"""

from __future__ import annotations

import secrets
import socket
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from annotations.core.permissions import require_admin
from annotations.jobs.enqueue import enqueue
from annotations.models import (
    DeliveryStatus,
    Organization,
    VerifiedClaim,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.publishing.records import published_record
from annotations.webhooks.client import refused_address

SECRET_PREFIX = "whsec_"  # noqa: S105 - how a secret starts, not a secret

URL_MAX_LENGTH = 2000


def _clean_url(url: str, errors: dict[str, str]) -> str:
    url = url.strip()
    if not url:
        errors["url"] = "Give the address the partner receives webhooks at."
        return url
    if len(url) > URL_MAX_LENGTH:
        errors["url"] = f"At most {URL_MAX_LENGTH} characters."
        return url
    # The scheme in lowercase, as the database's check wants it.
    if not url.startswith(("http://", "https://")):
        errors["url"] = "Use an http:// or https:// address."
        return url
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors["url"] = "This is not a valid web address."
        return url
    if settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES:
        return url
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        # Not found now (a partner may set its name up later): sending will say so.
        return url
    refused = sorted(str(address) for address in addresses if refused_address(str(address)))
    if refused:
        errors["url"] = (
            f"{host} is at {refused[0]}, a private or reserved address; "
            "webhooks are sent to public internet addresses only."
        )
    return url


def _clean_events(events: Iterable[str], errors: dict[str, str]) -> list[str]:
    wanted = set(events)
    unknown = sorted(wanted - set(WebhookEvent.values))
    if unknown:
        errors["events"] = (
            f"Unknown event {', '.join(unknown)}; use {', '.join(WebhookEvent.values)}."
        )
    elif not wanted:
        errors["events"] = "Choose at least one event."
    # In the order of WebhookEvent, so that equal choices are stored equally.
    return [event for event in WebhookEvent.values if event in wanted]


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def webhook_create(
    *, organization: Organization, user: User, url: str, events: Iterable[str]
) -> Webhook:
    require_admin(user, organization.pk, to="manage webhooks")
    errors: dict[str, str] = {}
    url = _clean_url(url, errors)
    chosen = _clean_events(events, errors)
    if "url" not in errors and Webhook.objects.filter(organization=organization, url=url).exists():
        errors["url"] = "This newsroom already sends webhooks to this address; edit that one."
    if errors:
        raise ValidationError(errors)
    return Webhook.objects.create(
        organization=organization, url=url, events=chosen, secret=new_secret(), created_by=user
    )


def webhook_update(
    *,
    webhook: Webhook,
    user: User,
    url: str | None = None,
    events: Iterable[str] | None = None,
    active: bool | None = None,
) -> Webhook:
    """Changes what is given; the secret stays, so the receiver need not change."""
    require_admin(user, webhook.organization_id, to="manage webhooks")
    errors: dict[str, str] = {}
    if url is not None:
        webhook.url = _clean_url(url, errors)
        duplicate = Webhook.objects.filter(organization_id=webhook.organization_id, url=webhook.url)
        if "url" not in errors and duplicate.exclude(pk=webhook.pk).exists():
            errors["url"] = "This newsroom already sends webhooks to this address."
    if events is not None:
        webhook.events = _clean_events(events, errors)
    if errors:
        raise ValidationError(errors)
    if active is not None:
        webhook.active = active
    webhook.save()
    return webhook


def webhook_deactivate(*, webhook: Webhook, user: User) -> Webhook:
    """Stops sending; the deliveries still waiting are marked failed when their turn comes."""
    return webhook_update(webhook=webhook, user=user, active=False)


def webhook_delete(*, webhook: Webhook, user: User) -> None:
    """Deletes the webhook and its delivery log."""
    require_admin(user, webhook.organization_id, to="manage webhooks")
    webhook.delete()


def delivery_redeliver(*, delivery: WebhookDelivery, user: User) -> WebhookDelivery:
    """Sends a failed delivery again, the same body, with a fresh round of attempts."""

    webhook = delivery.webhook
    require_admin(user, webhook.organization_id, to="manage webhooks")
    if delivery.status != DeliveryStatus.FAILED:
        raise ValidationError({"__all__": "Only a failed delivery can be sent again."})
    if not webhook.active:
        raise ValidationError({"__all__": "This webhook is deactivated; reactivate it first."})
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            response_status=None,
            error="",
            next_attempt_at=timezone.now(),
            delivered_at=None,
        )
        enqueue("annotations.tasks.deliver_webhook", delivery.pk)
    delivery.refresh_from_db()
    return delivery


def claim_body(
    claim: VerifiedClaim,
    event: str,
    created_at: datetime,
    change: dict[str, Any] | None = None,
) -> bytes:
    """The JSON body: the event, and the claim as partners see it (publishing); for
    claim.passage_changed, also what changed in the article (`change`)."""
    record = published_record(claim)
    body: dict[str, Any] = {"event": event, "created_at": created_at.isoformat(), "claim": record}
    if change is not None:
        body["change"] = change
    return orjson.dumps(body)


def webhooks_notify(
    *, claim: VerifiedClaim, event: str, change: dict[str, Any] | None = None
) -> list[WebhookDelivery]:
    """Queues one delivery per active webhook of the claim's newsroom that wants the event.

    Call it inside the transaction that makes the change: the deliveries are
    written with it, and sent once it commits.
    """

    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    # JSONField `contains` is not available on SQLite; a newsroom has a handful.
    hooks = [
        hook
        for hook in Webhook.objects.filter(
            organization_id=claim.organization_id, active=True
        ).order_by("pk")
        if event in hook.events
    ]
    if not hooks:
        return []
    now = timezone.now()
    body = claim_body(claim, event, now, change).decode("utf-8")
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(webhook=hook, event=event, claim=claim, body=body, next_attempt_at=now)
            for hook in hooks
        )
        for delivery in deliveries:
            enqueue("annotations.tasks.deliver_webhook", delivery.pk)
    return deliveries
