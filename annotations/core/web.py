"""The one HTTP client for addresses someone else chose: webhooks and fetched pages.

Every connection goes to an address that core.addresses calls public (unless
the caller's switch allows private networks: development and tests), checked
on the address actually connected to, so a name that resolves to a public
address when it is saved and to a private one later is caught at the moment
of connecting. Redirects are followed by this module, not by a library: each
hop is an http(s) URL, connected to and checked afresh, at most `redirects`
of them, never the same one twice. One deadline covers the whole request,
redirects included: a watchdog shuts the socket when it passes, so a server
that drips its answer a byte at a time, or never finishes its headers, frees
the worker on time. Bodies over `max_bytes` are refused (announced or not),
and the answer's content type can be required. Every failure is a WebError
with a reason a person can read, and a `kind` code can act on.

No proxy and no cookies; only http and https.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from annotations.core.addresses import public_address

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
ERROR_CHARS = 500


class AddressRefused(OSError):
    """The host is on a private network or a reserved address, and the caller keeps off them."""


class WebError(Exception):
    """Why a request got no usable answer, in words; `kind` says what sort of failure.

    kinds: "address" (private or reserved), "dns" (the name does not resolve),
    "network" (refused, reset, TLS), "timeout", "redirects", "too-large",
    "content-type", "protocol" (not HTTP as it should be), "url".
    """

    def __init__(self, kind: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason[:ERROR_CHARS])
        self.kind = kind
        self.reason = reason[:ERROR_CHARS]
        self.status = status


@dataclass(frozen=True)
class Limits:
    """What one request may take: time (redirects included), bytes, hops and types."""

    timeout: float = 20.0
    max_bytes: int = 10_000_000
    # 0: a redirect is returned as the answer, not followed.
    redirects: int = 5
    # Lowercase media types the answer must have (its 2xx answers); None: any.
    content_types: frozenset[str] | None = None
    # Over max_bytes: False refuses the answer, True keeps the first max_bytes (webhooks).
    truncate: bool = False


@dataclass
class Answer:
    """What the server said: the final URL, the status, headers and body."""

    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    # Every URL asked for on the way, the first one included.
    chain: list[str] = field(default_factory=list)
    address: str = ""
    # The request's own headers as sent to the final URL (for an archive's request record).
    request_headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str = "") -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), default)

    @property
    def media_type(self) -> str:
        return media_type(self.header("content-type"))

    @property
    def charset(self) -> str | None:
        return charset_of(self.header("content-type"))

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def charset_of(content_type: str) -> str | None:
    message = Message()
    message["content-type"] = content_type
    value = message.get_param("charset")
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


# Addresses of one name tried in turn before the connection is given up.
MAX_ADDRESSES = 4


def refused(address: str, *, allow_private: bool) -> bool:
    """Whether this IP address may not be connected to (core.addresses' rule)."""
    return not allow_private and not public_address(address)


def vetted_connection(
    address: tuple[str, int],
    timeout: Any = None,
    source_address: Any = None,
    *,
    allow_private: bool,
    purpose: str = "requests go to public addresses only",
    time_left: Callable[[], float] | None = None,
) -> socket.socket:
    """socket.create_connection, to an address of the host that `refused` allows.

    At most MAX_ADDRESSES of the host's addresses are tried, and with `time_left`
    (the request's deadline) every attempt gets only what is left of it: a name
    with many silent addresses cannot hold a worker longer than one request."""
    host, port = address
    error: OSError | None = None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise WebError("dns", f"{host} does not resolve ({exc.strerror or exc})") from None
    tried = 0
    for family, kind, proto, _name, target in infos:
        if refused(str(target[0]), allow_private=allow_private):
            error = AddressRefused(
                f"{host} is at {target[0]}, a private or reserved address: {purpose}"
            )
            continue
        if tried == MAX_ADDRESSES:
            break
        tried += 1
        wait = timeout
        if time_left is not None:
            left = time_left()
            if left <= 0.001:
                raise WebError("timeout", f"no connection to {host} within the time limit")
            wait = left if wait is None else min(wait, left)
        sock = socket.socket(family, kind, proto)
        try:
            if wait is not None:
                sock.settimeout(wait)
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
    """Connects through vetted_connection instead of socket.create_connection."""

    allow_private: bool = False
    purpose: str = "requests go to public addresses only"

    def __init__(
        self,
        *args: Any,
        allow_private: bool,
        purpose: str,
        time_left: Callable[[], float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)

        def create(address: tuple[str, int], timeout: Any = None, source: Any = None) -> Any:
            return vetted_connection(
                address,
                timeout,
                source,
                allow_private=allow_private,
                purpose=purpose,
                time_left=time_left,
            )

        self._create_connection = create


class _HTTPConnection(_Vetted, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Vetted, http.client.HTTPSConnection):
    pass


_TLS = ssl.create_default_context()


class _Deadline:
    """Shuts the connection's socket when the request's time is up, whatever it waits on."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return max(self.ends - time.monotonic(), 0.001)

    def remaining(self) -> float:
        """The seconds left, 0 or less once the time is up."""
        return self.ends - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.expired and sock is not None:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # The plain socket's shutdown, under TLS too: the blocked read returns at once.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                self._shut(self._sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _split(url: str) -> urllib.parse.SplitResult:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError as exc:
        raise WebError("url", f"{url!r} is not a valid address ({exc})") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise WebError("url", f"{url[:200]!r} is not an http(s) address")
    return parts


def _decoded(body: bytes, encoding: str, limits: Limits) -> bytes:
    """A body sent compressed although we asked for none, inflated within max_bytes."""
    if encoding in {"", "identity"}:
        return body
    if encoding not in {"gzip", "x-gzip", "deflate"}:
        raise WebError(
            "protocol", f"the answer is compressed as {encoding!r}, which we do not read"
        )
    wbits = 47 if encoding != "deflate" else 15
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limits.max_bytes + 1)
    except zlib.error as exc:
        raise WebError("protocol", f"the compressed answer is broken ({exc})") from None
    if len(out) > limits.max_bytes or inflater.unconsumed_tail:
        if limits.truncate:
            return out[: limits.max_bytes]
        raise WebError("too-large", f"the answer inflates to over {limits.max_bytes:,} bytes")
    return out


def _one(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    limits: Limits,
    deadline: _Deadline,
    *,
    allow_private: bool,
    purpose: str,
) -> tuple[http.client.HTTPResponse, bytes, str, http.client.HTTPConnection]:
    parts = _split(url)
    kind: type[http.client.HTTPConnection]
    kwargs: dict[str, Any] = {
        "allow_private": allow_private,
        "purpose": purpose,
        "time_left": deadline.remaining,
    }
    if parts.scheme == "https":
        kind, kwargs["context"] = _HTTPSConnection, _TLS
    else:
        kind = _HTTPConnection
    # The port always given: an IPv6 host would otherwise be read as host:port.
    port = parts.port or (443 if parts.scheme == "https" else 80)
    connection = kind(parts.hostname or "", port, timeout=deadline.left(), **kwargs)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    connection.connect()
    deadline.watch(connection.sock)
    address = ""
    if connection.sock is not None:
        address = str(connection.sock.getpeername()[0])
        # No single wait may outlast the request's deadline (the watchdog ends it then anyway).
        connection.sock.settimeout(deadline.left())
    connection.request(method, target, body=body, headers=headers)
    response = connection.getresponse()
    if response.status in REDIRECT_STATUSES and limits.redirects > 0:
        return response, b"", address, connection
    length = response.getheader("content-length")
    announced = int(length) if length is not None and length.strip().isdigit() else 0
    if announced > limits.max_bytes and not limits.truncate:
        raise WebError(
            "too-large",
            f"the answer is {announced:,} bytes; the limit is {limits.max_bytes:,}",
            status=response.status,
        )
    if (
        limits.content_types is not None
        and 200 <= response.status < 300
        and method != "HEAD"
        and media_type(response.getheader("content-type") or "") not in limits.content_types
    ):
        given = media_type(response.getheader("content-type") or "") or "no content type"
        raise WebError(
            "content-type",
            f"the answer is {given}, not {' or '.join(sorted(limits.content_types))}",
            status=response.status,
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read(CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limits.max_bytes:
            if limits.truncate:
                break
            raise WebError(
                "too-large",
                f"the answer is over {limits.max_bytes:,} bytes; the rest was not read",
                status=response.status,
            )
    if deadline.expired:
        # The watchdog shut the socket: what was read is a part, not the answer.
        raise _timed_out(limits)
    data = b"".join(chunks)
    data = _decoded(data, (response.getheader("content-encoding") or "").strip().lower(), limits)
    if limits.truncate:
        data = data[: limits.max_bytes]
    return response, data, address, connection


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    limits: Limits,
    allow_private: bool,
    purpose: str = "requests go to public addresses only",
) -> Answer:
    """One request, following redirects within `limits`. Raises WebError, never anything else.

    `purpose` ends the refusal of a private address: "webhooks are sent to public
    addresses only", "pages are fetched from public addresses only".
    """
    sent = {"Accept-Encoding": "identity", "Connection": "close", **(headers or {})}
    chain: list[str] = []
    deadline = _Deadline(limits.timeout)
    try:
        while True:
            if url in chain:
                raise WebError("redirects", f"the redirects go round in a loop back to {url}")
            chain.append(url)
            connection: http.client.HTTPConnection | None = None
            try:
                response, data, address, connection = _one(
                    method,
                    url,
                    body,
                    sent,
                    limits,
                    deadline,
                    allow_private=allow_private,
                    purpose=purpose,
                )
                status, reason = int(response.status), str(response.reason or "")
                answer_headers = [(str(k), str(v)) for k, v in response.getheaders()]
            finally:
                if connection is not None:
                    connection.close()
                deadline.watch(None)
            if status in REDIRECT_STATUSES and limits.redirects > 0:
                location = next((v for k, v in answer_headers if k.lower() == "location"), "")
                if not location:
                    raise WebError("protocol", f"HTTP {status} with no Location", status=status)
                if len(chain) > limits.redirects:
                    raise WebError(
                        "redirects",
                        f"more than {limits.redirects} redirects (the last to {location[:200]})",
                        status=status,
                    )
                following = urllib.parse.urljoin(url, location.strip())
                _split(following)  # http(s) only: never file:, ftp:, gopher:…
                url = urllib.parse.urldefrag(following).url
                if status == 303 or (status in {301, 302} and method == "POST"):
                    method, body = "GET", None
                continue
            return Answer(
                url=url,
                status=status,
                reason=reason,
                headers=answer_headers,
                body=data,
                chain=chain,
                address=address,
                request_headers=dict(sent),
            )
    except WebError:
        if deadline.expired:
            raise _timed_out(limits) from None
        raise
    except AddressRefused as exc:
        raise WebError("address", str(exc)) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if deadline.expired or isinstance(exc, TimeoutError | socket.timeout):
            raise _timed_out(limits) from None
        if isinstance(exc, ssl.SSLError | ssl.CertificateError):
            raise WebError("network", f"TLS failed: {exc}") from None
        if isinstance(exc, http.client.HTTPException | ValueError):
            raise WebError(
                "protocol", f"not a valid HTTP answer ({type(exc).__name__}: {exc})"
            ) from None
        raise WebError("network", f"{type(exc).__name__}: {exc}") from None
    finally:
        deadline.cancel()


def _timed_out(limits: Limits) -> WebError:
    return WebError(
        "timeout", f"no complete answer within {limits.timeout:g} seconds (the time limit)"
    )
