"""Hostile input's entry points, for tests/site/test_hostile_inputs*.py: each sends
what it is given the way a person, a partner or an operator would, and says what
came back. The `world` they send it into is in tests/site/conftest.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Article, ClaimAnnotation, ImportJob, Source

HTMX = {"HX-Request": "true"}
SQL = "'); DROP TABLE annotations_article;--"
SCRIPT = "<script>window.__pwned=1</script>"
ATTRIBUTE_BREAKOUT = '"><img src=x onerror="window.__pwned=1">'
PHRASE = "give peace a chance"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20
TEN_MB = 10 * 1024 * 1024


@dataclass
class Outcome:
    """What an entry point answered: an HTTP status, or a command's exit status and stderr."""

    status: int
    text: str


@dataclass
class World:
    bob: Client
    alice: Client
    editor_api: APIClient
    reviewer_api: APIClient
    article: Article
    claim: ClaimAnnotation
    tmp_path: Path


def counts() -> dict[str, int]:
    return {
        "articles": Article.objects.count(),
        "claims": ClaimAnnotation.all_objects.count(),
        "sources": Source.objects.count(),
        "import jobs": ImportJob.objects.count(),
    }


def stored_files(w: World) -> list[Path]:
    return [p for p in (w.tmp_path / "media").rglob("*") if p.is_file()]


# The entry points ---------------------------------------------------------------------


def paste(w: World, **fields: str) -> Outcome:
    data = {"title": "A title", "url": "", "text": "Some text."} | fields
    response = w.bob.post(reverse("collection-paste", args=[w.article.collection_id]), data)
    return Outcome(response.status_code, response.text)


def upload(w: World, *files: tuple[str, bytes]) -> Outcome:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = w.bob.post(
        reverse("collection-upload", args=[w.article.collection_id]),
        {"uploads": [SimpleUploadedFile(name, content) for name, content in files]},
        headers=HTMX,
    )
    return Outcome(response.status_code, response.text)


def claim_form(w: World, phrase: str = PHRASE, **fields: Any) -> Outcome:
    start = w.article.text.index(phrase)
    data = {
        "start": start,
        "end": start + len(phrase),
        "quote": phrase,
        "verdict": "",
        "rating": "",
        "note": "",
        "source_url": [],
    } | fields
    response = w.alice.post(reverse("claim-create", args=[w.article.pk]), data, headers=HTMX)
    return Outcome(response.status_code, response.text)


def api_article(w: World, body: dict[str, Any] | bytes) -> Outcome:
    given = {"collection": "politics", "title": "A title", "text": "Some text."}
    data = body if isinstance(body, bytes) else json.dumps(given | body).encode()
    response = w.editor_api.post("/api/v1/articles/", data, content_type="application/json")
    return Outcome(response.status_code, response.content.decode())


def api_annotation(w: World, body: dict[str, Any] | bytes) -> Outcome:
    start = w.article.text.index(PHRASE)
    given = {"article": w.article.pk, "start": start, "end": start + len(PHRASE), "quote": PHRASE}
    data = body if isinstance(body, bytes) else json.dumps(given | body).encode()
    response = w.reviewer_api.post("/api/v1/annotations/", data, content_type="application/json")
    return Outcome(response.status_code, response.content.decode())


def api_patch(w: World, body: dict[str, Any]) -> Outcome:
    response = w.reviewer_api.patch(
        f"/api/v1/annotations/{w.claim.pk}/",
        {"version": w.claim.version} | body,
        format="json",
    )
    return Outcome(response.status_code, response.content.decode())


def command(name: str, *args: str) -> Outcome:
    err = StringIO()
    try:
        call_command(name, *args, stdout=StringIO(), stderr=err)
    except CommandError as error:
        return Outcome(error.returncode, err.getvalue())
    return Outcome(0, err.getvalue())


def import_articles(w: World, name: str, content: bytes) -> Outcome:
    path = w.tmp_path / name
    path.write_bytes(content)
    return command("import_articles", "--org", "planet", "--collection", "politics", str(path))


def import_annotations(w: World, record: dict[str, Any] | bytes) -> Outcome:
    start = w.article.text.index(PHRASE)
    given = {
        "article": w.article.url,
        "reviewer": "alice",
        "start": start,
        "end": start + len(PHRASE),
        "quote": PHRASE,
        "verdict": None,
    }
    path = w.tmp_path / "claims.jsonl"
    path.write_bytes(
        record if isinstance(record, bytes) else json.dumps(given | record).encode() + b"\n"
    )
    return command("import_annotations", "--org", "planet", str(path))


def line(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode() + b"\n"
