"""A fetched page as a WARC file (ISO 28500, written by warcio), in the exports' storage.

One gzipped file per capture: a warcinfo record, the request as sent, the
response as received (status line, headers, body), and a metadata record
listing the redirects that led there. The body is stored as the workbench
read it: de-chunked, and inflated when the server compressed it although we
asked it not to, so its headers are rewritten to say so (the originals are
kept as WARC-Original-* in the metadata record).
"""

from __future__ import annotations

import hashlib
import io
import urllib.parse
from dataclasses import dataclass
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from annotations.core import web

SOFTWARE = "Fact-check Workbench (warcio)"
# Hop-by-hop or transfer headers that no longer describe the body as stored.
DROPPED = {"transfer-encoding", "content-encoding", "content-length", "connection"}


@dataclass(frozen=True)
class Stored:
    name: str
    sha256: str
    size: int


def payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def warc_bytes(answer: web.Answer, *, captured_at: datetime) -> bytes:
    """The WARC file of one answer (and how it was reached)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    date = captured_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    info = writer.create_warcinfo_record(
        "capture.warc.gz", {"software": SOFTWARE, "format": "WARC File Format 1.1"}
    )
    writer.write_record(info)
    parts = urllib.parse.urlsplit(answer.url)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    request_headers = [("Host", parts.netloc), *answer.request_headers.items()]
    request = writer.create_warc_record(
        answer.url,
        "request",
        payload=io.BytesIO(b""),
        http_headers=StatusAndHeaders(
            f"GET {target} HTTP/1.1", request_headers, is_http_request=True
        ),
        warc_headers_dict={"WARC-Date": date},
    )
    headers = [(k, v) for k, v in answer.headers if k.lower() not in DROPPED]
    headers.append(("Content-Length", str(len(answer.body))))
    response = writer.create_warc_record(
        answer.url,
        "response",
        payload=io.BytesIO(answer.body),
        http_headers=StatusAndHeaders(
            f"{answer.status} {answer.reason or 'OK'}", headers, protocol="HTTP/1.1"
        ),
        warc_headers_dict={
            "WARC-Date": date,
            **({"WARC-IP-Address": answer.address} if answer.address else {}),
        },
    )
    writer.write_record(response)
    writer.write_record(request)
    original = [f"WARC-Original-{k}: {v}" for k, v in answer.headers if k.lower() in DROPPED]
    lines = [f"via: {url}" for url in answer.chain[:-1]] + original
    if lines:
        metadata = writer.create_warc_record(
            answer.url,
            "metadata",
            payload=io.BytesIO("\n".join(lines).encode("utf-8")),
            warc_content_type="text/plain; charset=utf-8",
            warc_headers_dict={"WARC-Date": date},
        )
        writer.write_record(metadata)
    return out.getvalue()


def warc_store(answer: web.Answer, *, folder: str, captured_at: datetime) -> Stored:
    """Writes the answer's WARC file into the default storage (local or S3)."""
    data = warc_bytes(answer, captured_at=captured_at)
    digest = payload_hash(answer.body)
    name = default_storage.save(
        f"{folder}/{captured_at:%Y%m%dT%H%M%S}-{digest[:12]}.warc.gz", ContentFile(data)
    )
    return Stored(name=name, sha256=digest, size=len(data))


def warc_payload(name: str) -> tuple[str, bytes]:
    """The URL and body of the response record of a stored WARC file (tests, checks)."""
    with default_storage.open(name, "rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type == "response":
                return record.rec_headers.get_header(
                    "WARC-Target-URI"
                ), record.content_stream().read()
    raise ValueError(f"{name} holds no response record")
