"""One POST to a partner, to a public address only, through the workbench's one vetted
HTTP client (core.web: the same one that fetches pages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from annotations.core import web
from annotations.core.web import AddressRefused

__all__ = ["AddressRefused", "Answer", "post", "refused_address"]

TIMEOUT_SECONDS = 10

ERROR_CHARS = web.ERROR_CHARS

PURPOSE = "webhooks are sent to public addresses only"

# The answer's body is not kept, only whether it was a 2xx: no more than this is read.
LIMITS = web.Limits(timeout=TIMEOUT_SECONDS, max_bytes=64 * 1024, redirects=0, truncate=True)


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its HTTP status, or why there was none."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def refused_address(address: str) -> bool:
    """Whether a webhook may not be sent to this IP address (core.addresses' rule).

    Unless WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES is on (development and tests
    send to 127.0.0.1): an admin could otherwise point a webhook at the
    workbench's own network.
    """
    return web.refused(address, allow_private=settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES)


def _vetted_connection(address: tuple[str, int], timeout: Any = None) -> Any:
    """core.web.vetted_connection with the webhooks' switch (tests call it directly)."""
    return web.vetted_connection(
        address,
        timeout,
        allow_private=settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES,
        purpose=PURPOSE,
    )


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs once. Never raises for the network's or the receiver's faults.

    A 3xx is an answer like any other non-2xx (a failed attempt): following it
    could send the signed claim to another scheme or host than the one the
    admin registered.
    """
    try:
        answer = web.request(
            "POST",
            url,
            body=body,
            headers=headers,
            limits=LIMITS,
            allow_private=settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES,
            purpose=PURPOSE,
        )
    except web.WebError as exc:
        return Answer(None, exc.reason[:ERROR_CHARS])
    status = answer.status
    if 300 <= status < 400:
        return Answer(status, f"HTTP {status}: webhooks do not follow redirects")
    if not 200 <= status < 300:
        return Answer(status, f"HTTP {status}")
    return Answer(status)
