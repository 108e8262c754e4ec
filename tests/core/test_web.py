"""The one vetted HTTP client (core.web), against a local server that misbehaves: it
redirects forever, drips, stalls, sends too much, the wrong type, or points at a
private address. Each ends in a WebError with a reason, on time, nothing connected
to where it must not be."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from werkzeug import Response

from annotations.core import web
from annotations.core.addresses import public_address

PAGES = frozenset({"text/html"})


def fetch(url: str, **limits) -> web.Answer:
    return web.request(
        "GET",
        url,
        limits=web.Limits(**{"timeout": 5, "content_types": PAGES, **limits}),
        allow_private=True,
    )


def test_it_follows_redirects_and_reports_the_chain(httpserver):
    httpserver.expect_request("/a").respond_with_data("", 301, {"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data(
        "", 302, {"Location": httpserver.url_for("/c")}
    )
    httpserver.expect_request("/c").respond_with_data("<p>here</p>", content_type="text/html")
    answer = fetch(httpserver.url_for("/a"))
    assert (answer.status, answer.body) == (200, b"<p>here</p>")
    assert answer.url == httpserver.url_for("/c")
    assert answer.chain == [httpserver.url_for(p) for p in ("/a", "/b", "/c")]
    assert answer.address == "127.0.0.1"


def test_endless_redirects_stop_at_the_limit(httpserver):
    for n in range(10):
        httpserver.expect_request(f"/{n}").respond_with_data("", 302, {"Location": f"/{n + 1}"})
    with pytest.raises(web.WebError, match="more than 3 redirects") as caught:
        fetch(httpserver.url_for("/0"), redirects=3)
    assert caught.value.kind == "redirects"


def test_a_redirect_loop_is_named(httpserver):
    httpserver.expect_request("/a").respond_with_data("", 302, {"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", 302, {"Location": "/a"})
    with pytest.raises(web.WebError, match="loop"):
        fetch(httpserver.url_for("/a"))


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/"])
def test_a_redirect_to_another_scheme_is_refused(httpserver, location):
    httpserver.expect_request("/a").respond_with_data("", 302, {"Location": location})
    with pytest.raises(web.WebError, match="not an http"):
        fetch(httpserver.url_for("/a"))


@pytest.fixture
def only_the_test_server_is_public(monkeypatch):
    """Production's rule, except that the test server's 127.0.0.1 counts as public."""
    monkeypatch.setattr(
        web, "public_address", lambda address: address == "127.0.0.1" or public_address(address)
    )


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:9/",
        "http://[::1]:9/",
        "http://[::ffff:10.0.0.1]:9/",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",  # 169.254.169.254, hex-mapped
        "http://[64:ff9b::c0a8:1]/",  # NAT64 of 192.168.0.1
        "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
        "http://169.254.169.254/latest/meta-data/",
        "http://0x7f.0.0.2:9/",
    ],
)
def test_a_redirect_into_a_private_address_is_refused_before_connecting(
    httpserver, only_the_test_server_is_public, target, monkeypatch
):
    connected: list[object] = []
    real_connect = socket.socket.connect

    def watched(self, address):
        connected.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", watched)
    httpserver.expect_request("/a").respond_with_data("", 302, {"Location": target})
    with pytest.raises(web.WebError, match="private or reserved") as caught:
        web.request(
            "GET",
            httpserver.url_for("/a"),
            limits=web.Limits(timeout=5),
            allow_private=False,
            purpose="pages are fetched from public addresses only",
        )
    assert caught.value.kind == "address"
    assert "pages are fetched from public addresses only" in caught.value.reason
    # Only the test server was ever connected to.
    assert all(address[0] == "127.0.0.1" for address in connected), connected


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch):
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        # Only this name is faked: the broker's and the database's connections resolve as ever.
        if host != "news.example":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(web.WebError, match=r"news\.example is at 10\.1\.2\.3"):
        web.request(
            "GET", "http://news.example/", limits=web.Limits(timeout=5), allow_private=False
        )


def test_a_name_that_does_not_resolve_is_said_so():
    with pytest.raises(web.WebError) as caught:
        fetch("http://no-such-host.invalid/")
    assert caught.value.kind == "dns"
    assert "does not resolve" in caught.value.reason


def test_a_huge_body_is_refused_whether_announced_or_not(httpserver):
    httpserver.expect_request("/announced").respond_with_data("x" * 5000, content_type="text/html")

    def unannounced(request):
        return Response((b"x" * 1000 for _ in range(50)), content_type="text/html")

    httpserver.expect_request("/streamed").respond_with_handler(unannounced)
    with pytest.raises(web.WebError, match="5,000 bytes; the limit is 1,000") as caught:
        fetch(httpserver.url_for("/announced"), max_bytes=1000)
    assert caught.value.kind == "too-large"
    with pytest.raises(web.WebError, match="over 10,000 bytes"):
        fetch(httpserver.url_for("/streamed"), max_bytes=10_000)


def test_a_gzip_bomb_is_refused(httpserver):
    bomb = gzip.compress(b"\0" * 5_000_000)
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(web.WebError, match="inflates to over"):
        fetch(httpserver.url_for("/bomb"), max_bytes=100_000)


def test_a_compressed_page_is_read(httpserver):
    httpserver.expect_request("/z").respond_with_data(
        gzip.compress(b"<p>hello</p>"),
        content_type="text/html",
        headers={"Content-Encoding": "gzip"},
    )
    assert fetch(httpserver.url_for("/z")).body == b"<p>hello</p>"


def test_the_wrong_content_type_is_refused_before_the_body_is_read(httpserver):
    httpserver.expect_request("/pdf").respond_with_data(b"%PDF-1.7", content_type="application/pdf")
    with pytest.raises(web.WebError, match="application/pdf, not text/html") as caught:
        fetch(httpserver.url_for("/pdf"))
    assert caught.value.kind == "content-type"


def test_a_slow_drip_is_cut_off_at_the_deadline(httpserver):
    def drip(request):
        def body() -> Iterator[bytes]:
            for _ in range(100):
                time.sleep(0.2)
                yield b"x"

        return Response(body(), content_type="text/html")

    httpserver.expect_request("/drip").respond_with_handler(drip)
    started = time.monotonic()
    with pytest.raises(web.WebError, match="within 1 seconds") as caught:
        fetch(httpserver.url_for("/drip"), timeout=1)
    assert caught.value.kind == "timeout"
    assert time.monotonic() - started < 3


@contextmanager
def silent_server(headers: bytes = b"", pause: float = 1.0) -> Iterator[str]:
    """Accepts connections, sends `headers` a byte every `pause` seconds (or nothing), never
    finishes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            held.append(conn)
            for byte in headers:
                if stop.wait(pause):
                    break
                try:
                    conn.send(bytes([byte]))
                except OSError:
                    break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.parametrize("headers", [b"", b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100])
def test_a_server_that_never_answers_frees_the_worker_on_time(headers):
    with silent_server(headers) as url:
        started = time.monotonic()
        with pytest.raises(web.WebError) as caught:
            fetch(url, timeout=1.5)
        assert caught.value.kind == "timeout"
        assert time.monotonic() - started < 4


def test_a_refused_connection_is_a_network_error():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(web.WebError, match="Connection refused") as caught:
        fetch(f"http://127.0.0.1:{port}/")
    assert caught.value.kind == "network"


def test_not_http_at_all_is_a_protocol_error():
    # An SSH server's greeting, all at once, and then nothing.
    with (
        silent_server(b"SSH-2.0-OpenSSH\r\n\r\n", pause=0) as url,
        pytest.raises(web.WebError) as caught,
    ):
        fetch(url, timeout=30)
    assert caught.value.kind == "protocol"


def test_conditional_headers_reach_the_server_and_304_is_an_answer(httpserver):
    httpserver.expect_request("/p", headers={"If-None-Match": '"v1"'}).respond_with_data("", 304)
    answer = web.request(
        "GET",
        httpserver.url_for("/p"),
        headers={"If-None-Match": '"v1"'},
        limits=web.Limits(timeout=5, content_types=PAGES),
        allow_private=True,
    )
    assert (answer.status, answer.body) == (304, b"")


def test_a_name_with_many_silent_addresses_is_given_up_within_the_time_limit(monkeypatch):
    # A listening socket whose backlog is full: a connection to it hangs, as to a
    # host that drops packets. The name resolves to it five times over (the
    # system's resolver answers for it, as a DNS server with five A records would).
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.2)
    resolve = socket.getaddrinfo

    def five_times(host, *args, **kwargs):
        if host == "many.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))] * 5
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", five_times)
    started = time.monotonic()
    try:
        with pytest.raises(web.WebError) as caught:
            fetch(f"http://many.example:{port}/", timeout=1.0)
    finally:
        for filler in fillers:
            filler.close()
        server.close()
    assert time.monotonic() - started < 2.0
    assert caught.value.kind == "timeout"
