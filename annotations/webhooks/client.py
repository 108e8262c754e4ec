"""One POST to a partner, to a public address only, checked as the connection is made."""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from annotations.core.addresses import public_address

TIMEOUT_SECONDS = 10

ERROR_CHARS = 500


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its HTTP status, or why there was none."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class AddressRefused(OSError):
    """The receiver's address is on a private network, and the settings keep webhooks off it."""


def refused_address(address: str) -> bool:
    """Whether a webhook may not be sent to this IP address (core.addresses' rule).

    Unless WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES is on (development and tests
    send to 127.0.0.1): an admin could otherwise point a webhook at the
    workbench's own network.
    """
    return not settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES and not public_address(address)


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
