"""Webhooks: a signed POST to a partner when a claim is published, corrected or retracted.

A delivery is a row written in the same transaction as the change it reports,
so a change that rolls back sends nothing, and a change that commits is never
forgotten even if the broker is down. A Celery task (tasks.deliver_webhook)
sends it after the commit. The body is fixed when the row is written, so every
attempt sends the same bytes; each attempt signs them with a fresh timestamp.

Delivery is at least once: a worker that dies after the partner answered
sends the delivery again. Receivers tell repeats apart by X-Workbench-Delivery.
README.md ("Webhooks") documents the body, the headers and how to verify them.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import random
import secrets
import socket
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from annotations import exports, services
from annotations.models import (
    DeliveryStatus,
    ExportAudience,
    ExportStatusFilter,
    Membership,
    Organization,
    Role,
    VerifiedClaim,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - how a secret starts, not a secret
TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 8
# The longest wait between two attempts. It stays under the broker's visibility
# timeout (CELERY_VISIBILITY_TIMEOUT, an hour): Redis would hand a task
# scheduled further out than that to a second worker as well.
MAX_BACKOFF_SECONDS = 30 * 60
# A delivery a worker took and never finished (the worker died) may be taken
# again after this long; longer than any attempt lasts (TIMEOUT_SECONDS).
IN_FLIGHT_SECONDS = 60
# A retry may arrive this much before its time (clocks of the worker and the
# database) and still be sent.
DUE_SLACK_SECONDS = 5
ERROR_CHARS = 500
URL_MAX_LENGTH = 2000
USER_AGENT = "FactCheckWorkbench-Webhook/1"


# Who may manage webhooks --------------------------------------------------------------


def require_admin(user: User, organization_id: int) -> Membership:
    """Webhooks send the newsroom's claims elsewhere: only its admins set them up."""
    membership = Membership.objects.filter(user=user, organization_id=organization_id).first()
    if membership is None or membership.role != Role.ADMIN:
        raise PermissionDenied("Only the newsroom's admins can manage webhooks.")
    return membership


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
    require_admin(user, organization.pk)
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
    require_admin(user, webhook.organization_id)
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
    require_admin(user, webhook.organization_id)
    webhook.delete()


def delivery_redeliver(*, delivery: WebhookDelivery, user: User) -> WebhookDelivery:
    """Sends a failed delivery again, the same body, with a fresh round of attempts."""
    from annotations import tasks

    webhook = delivery.webhook
    require_admin(user, webhook.organization_id)
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
        services.enqueue(tasks.deliver_webhook, delivery.pk)
    delivery.refresh_from_db()
    return delivery


# What is sent -------------------------------------------------------------------------


def deliveries_pending(*, due_before: datetime) -> list[int]:
    """Deliveries whose next attempt was due before then and never came, or whose attempt
    a worker took and never finished (it died; the copy the broker gave back found the
    attempt still in flight and let it be).

    Their message was lost: the publish could not reach the broker, or Redis
    restarted with a retry it was holding. They are made due now, so that the
    next reconciliation leaves them be while the new message waits in the queue.
    """
    lost = Q(next_attempt_at__lt=due_before) | Q(
        next_attempt_at__isnull=True,
        last_attempt_at__lt=due_before - timedelta(seconds=IN_FLIGHT_SECONDS),
    )
    waiting = WebhookDelivery.objects.filter(
        lost,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
        webhook__active=True,
    )
    ids = list(waiting.order_by("pk").values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now())
    return ids


def claim_body(claim: VerifiedClaim, event: str, created_at: datetime) -> bytes:
    """The JSON body: the claim exactly as the JSONL export and the API show it outside.

    The public audience: confidential sources are not even read.
    """
    selection = exports.Selection(
        organization=claim.organization,
        status=ExportStatusFilter.ALL,
        audience=ExportAudience.PUBLIC,
    )
    rows, sources = exports.page_rows(selection.claims().filter(pk=claim.pk), selection.sources())
    (row,) = rows
    record = exports.claim_record(exports.Context.of(selection), row, sources.get(row.id, []))
    return orjson.dumps({"event": event, "created_at": created_at.isoformat(), "claim": record})


def webhooks_notify(*, claim: VerifiedClaim, event: str) -> list[WebhookDelivery]:
    """Queues one delivery per active webhook of the claim's newsroom that wants the event.

    Call it inside the transaction that makes the change: the deliveries are
    written with it, and sent once it commits.
    """
    from annotations import tasks

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
    body = claim_body(claim, event, now).decode("utf-8")
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(webhook=hook, event=event, claim=claim, body=body, next_attempt_at=now)
            for hook in hooks
        )
        for delivery in deliveries:
            services.enqueue(tasks.deliver_webhook, delivery.pk)
    return deliveries


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.` followed by the body's bytes."""
    return hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()


def request_headers(delivery: WebhookDelivery, secret: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Workbench-Event": delivery.event,
        "X-Workbench-Delivery": str(delivery.pk),
        "X-Workbench-Timestamp": str(timestamp),
        "X-Workbench-Signature": f"sha256={sign(secret, timestamp, body)}",
    }


# Sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its HTTP status, or why there was none."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# The well-known NAT64 prefix: 64:ff9b::a9fe:a9fe is 169.254.169.254 on such a network.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressRefused(OSError):
    """The receiver's address is on a private network, and the settings keep webhooks off it."""


def refused_address(address: str) -> bool:
    """Whether a webhook may not be sent to this IP address.

    Unless WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES is on (development and tests
    send to 127.0.0.1), only public internet addresses: not loopback, private
    networks, link-local (cloud metadata at 169.254.169.254), or reserved ones.
    An admin could otherwise point a webhook at the workbench's own network.
    """
    if settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES:
        return False
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address carried inside an IPv6 one is where the packets go.
        inside = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if ip in NAT64:
            inside.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(v4 is not None and refused_address(str(v4)) for v4 in inside):
            return True
        if ip.is_site_local:
            return True
    return not ip.is_global or ip.is_multicast


def _vetted_connection(
    address: tuple[str, int], timeout: Any = None, source_address: Any = None, **kwargs: Any
) -> socket.socket:
    """socket.create_connection, to an address of the host that refused_address allows.

    The address checked is the address connected to: a name that resolves to a
    public address when the webhook is saved and to a private one when it is
    sent is caught here, at the moment of sending.
    """
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _name, target in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM
    ):
        if refused_address(str(target[0])):
            error = AddressRefused(
                f"{host} is at {target[0]}, a private or reserved address: "
                "webhooks are sent to public addresses only"
            )
            continue
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(target)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error or OSError(f"{host} has no address")


class _Vetted:
    """Connects through _vetted_connection instead of socket.create_connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _vetted_connection


class _HTTPConnection(_Vetted, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Vetted, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        super().__init__()
        self.context = ssl.create_default_context()

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req, context=self.context)


def _opener() -> urllib.request.OpenerDirector:
    # Only http and https, and no redirect handler: a 3xx is an answer like any
    # other non-2xx (a failed attempt). Following it could send the signed claim
    # to another scheme or host than the one the admin registered. No error
    # processor either, so a 4xx or 5xx comes back as a response, not raised.
    # No proxy: the address connected to is the receiver's, checked by
    # refused_address as the connection is made.
    opener = urllib.request.OpenerDirector()
    for handler in (_HTTPHandler(), _HTTPSHandler()):
        opener.add_handler(handler)
    return opener


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs once. Never raises for the network's or the receiver's faults."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener().open(request, timeout=TIMEOUT_SECONDS) as response:
            # The answer's body is not kept: only whether it was a 2xx.
            response.read(64 * 1024)
            status = int(response.status)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])
    if 300 <= status < 400:
        return Answer(status, f"HTTP {status}: webhooks do not follow redirects")
    if not 200 <= status < 300:
        return Answer(status, f"HTTP {status}")
    return Answer(status)


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: doubling, capped, jittered.

    The jitter (up to a fifth either way) spreads the retries of many
    deliveries that failed together, so a receiver coming back is not
    flooded at one instant.
    """
    base = settings.WORKBENCH_WEBHOOK_BACKOFF_SECONDS
    delay = min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return float(delay * random.uniform(0.8, 1.2))  # noqa: S311 - spacing, not a secret


@dataclass(frozen=True)
class Outcome:
    """What one run of the task did, and whether it should run again."""

    status: str
    retry_in: float | None = None


def delivery_attempt(delivery_id: int, *, early: bool = False) -> Outcome:
    """One attempt at a delivery: take it, POST it, write down the answer.

    Idempotent: a delivery already delivered or failed is left alone, one
    another worker is sending right now is not sent twice at once, and one
    whose next attempt is not due yet waits for it (a second copy of the
    task, sent by background_reconcile, comes to nothing). `early` sends a
    retry at once: in-process, with no broker to wait for it.
    """
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None:
        # Its webhook was deleted meanwhile.
        return Outcome("gone")
    if delivery.status in {DeliveryStatus.DELIVERED, DeliveryStatus.FAILED}:
        return Outcome(delivery.status)
    webhook = delivery.webhook
    now = timezone.now()
    if not webhook.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
            status=DeliveryStatus.DELIVERED
        ).update(
            status=DeliveryStatus.FAILED,
            error="Not sent: the webhook was deactivated.",
            next_attempt_at=None,
        )
        return Outcome(DeliveryStatus.FAILED)
    # Take the delivery: next_attempt_at is cleared while an attempt is under
    # way, so a second copy of the task finds nothing to take (unless the
    # first worker died mid-attempt, long enough ago); nor does a copy that
    # comes before the next attempt is due.
    if early:
        due = Q(next_attempt_at__isnull=False)
    else:
        due = Q(next_attempt_at__lte=now + timedelta(seconds=DUE_SLACK_SECONDS))
    abandoned = Q(next_attempt_at__isnull=True) & (
        Q(last_attempt_at__isnull=True)
        | Q(last_attempt_at__lt=now - timedelta(seconds=IN_FLIGHT_SECONDS))
    )
    taken = (
        WebhookDelivery.objects.filter(
            pk=delivery.pk, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
        )
        .filter(due | abandoned)
        .update(attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=None)
    )
    if not taken:
        return Outcome("busy")
    delivery.refresh_from_db(fields=["attempts"])
    body = delivery.body.encode("utf-8")
    answer = post(webhook.url, body, request_headers(delivery, webhook.secret, body))
    done = timezone.now()
    current = WebhookDelivery.objects.filter(pk=delivery.pk)
    if answer.ok:
        current.update(
            status=DeliveryStatus.DELIVERED,
            response_status=answer.status,
            error="",
            delivered_at=done,
        )
        return Outcome(DeliveryStatus.DELIVERED)
    if delivery.attempts >= MAX_ATTEMPTS:
        current.update(
            status=DeliveryStatus.FAILED, response_status=answer.status, error=answer.error
        )
        return Outcome(DeliveryStatus.FAILED)
    wait = backoff(delivery.attempts)
    current.update(
        status=DeliveryStatus.RETRYING,
        response_status=answer.status,
        error=answer.error,
        next_attempt_at=done + timedelta(seconds=wait),
    )
    return Outcome(DeliveryStatus.RETRYING, retry_in=wait)
