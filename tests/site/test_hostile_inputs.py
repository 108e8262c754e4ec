"""Hostile input through every entry point: the paste and upload forms, the reader's
claim form, the API (articles, annotations) and the import commands.

Each refusal is a clear 4xx, or for a command an error line that names the file
and the line, and leaves the database as it was: no article, claim, source or
import job half-written. What is valid but looks dangerous (a script tag in a
note, SQL in a title) is stored verbatim and shown escaped. Whether anything
runs in a browser is checked in Chromium: tests/browser/test_hostile_rendering.py.

People as in tests/conftest.py: bob is the Daily Planet's editor, alice a
reviewer assigned to the article.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.core.inputs import SourceInput
from annotations.importing.services import short_name as _short_name
from annotations.keys.services import api_key_create
from annotations.models import Article, ClaimAnnotation, ImportJob, Source
from annotations.reader.services import assignment_ensure, claim_create
from tests.conftest import login

HTMX = {"HX-Request": "true"}
SQL = "'); DROP TABLE annotations_article;--"
SCRIPT = "<script>window.__pwned=1</script>"
ATTRIBUTE_BREAKOUT = '"><img src=x onerror="window.__pwned=1">'
PHRASE = "give peace a chance"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20
TEN_MB = 10 * 1024 * 1024

# Tasks that run here and now; with a broker the import job goes to a real worker.
in_process = pytest.mark.usefixtures("tasks_in_process")


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


@pytest.fixture
def world(client, desk, article, alice, bob, planet, tmp_path, settings) -> World:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    assignment_ensure(article=article, reviewer=alice)
    start = article.text.index("reposition its forces")
    claim = claim_create(
        article=article,
        reviewer=alice,
        start=start,
        end=start + len("reposition its forces"),
        quote="reposition its forces",
        verdict=None,
        rating=None,
        note="Before.",
        sources=[SourceInput(url="https://before.example/")],
    )

    def api(user, scopes: str) -> APIClient:
        key = api_key_create(organization=planet, user=user, name=f"{user} key", scopes=scopes)
        api_client = APIClient()
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.secret}")
        return api_client

    return World(
        bob=login(Client(), bob),
        alice=login(Client(), alice),
        editor_api=api(bob, "write:articles,read:articles"),
        reviewer_api=api(alice, "read:annotations,write:annotations"),
        article=article,
        claim=claim,
        tmp_path=tmp_path,
    )


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


# Refused: a 4xx or an error line, and nothing stored ----------------------------------

Case = Callable[[World], Outcome]
REFUSED: list[Any] = [
    # The paste form (editors).
    pytest.param(
        lambda w: paste(w, url="javascript:alert(1)"), 422, "Enter a valid URL", id="paste-js-url"
    ),
    pytest.param(
        lambda w: paste(w, url="data:text/html,<script>alert(1)</script>"),
        422,
        "Enter a valid URL",
        id="paste-data-url",
    ),
    pytest.param(
        lambda w: paste(w, text="Text with a \x00 NUL."),
        422,
        "Null characters are not allowed",
        id="paste-nul",
    ),
    pytest.param(
        lambda w: paste(w, text="x" * 1001), 422, "the limit is 1,000", id="paste-too-long"
    ),
    pytest.param(
        lambda w: paste(w, text="x" * 20_000),
        413,
        "larger than the 14.6\xa0KB a form may hold",
        id="paste-oversized-body",
    ),
    # The upload form (editors): judged by content before anything is stored.
    pytest.param(
        lambda w: upload(w, ("page.html", PNG)),
        422,
        "page.html: this is a PNG image, not a .html file",
        id="upload-png-as-html",
    ),
    pytest.param(
        lambda w: upload(w, ("page.html", ZIP)),
        422,
        "page.html: this is a zip archive",
        id="upload-zip-as-html",
    ),
    pytest.param(
        lambda w: upload(w, ("notes.txt", b"Title\n\nText\x00\x01\x02")),
        422,
        "notes.txt: this is a binary file, not text",
        id="upload-binary-txt",
    ),
    pytest.param(
        lambda w: upload(w, ("latin.txt", "Titre\n\nCafé".encode("latin-1"))),
        422,
        "latin.txt: not valid UTF-8 (byte 11 is b&#x27;\\xe9&#x27;)",
        id="upload-invalid-utf8",
    ),
    pytest.param(
        lambda w: upload(w, ("batch.jsonl", b"\n<html><body>Hi</body></html>\n")),
        422,
        "batch.jsonl:2: this is not JSON lines",
        id="upload-html-as-jsonl",
    ),
    pytest.param(
        lambda w: upload(w, ("run.exe", b"MZ\x90\x00")),
        422,
        "run.exe: unsupported file type",
        id="upload-exe",
    ),
    pytest.param(
        lambda w: upload(w, ("big.txt", b"Big\n\n" + b"x" * 1_000_000)),
        422,
        "Larger than 1 MB: big.txt",
        id="upload-too-large",
    ),
    pytest.param(
        lambda w: upload(w, ("good.txt", b"Good\n\nFine."), ("page.html", PNG)),
        422,
        "page.html: this is a PNG image",
        id="upload-one-bad-file-refuses-all",
    ),
    # The reader's claim form (reviewers, htmx).
    pytest.param(
        lambda w: claim_form(w, start=len(w.article.text), end=len(w.article.text) + 10),
        422,
        "past the end",
        id="form-offsets-past-the-end",
    ),
    pytest.param(
        lambda w: claim_form(w, start=-5), 422, "greater than or equal to 0", id="form-negative"
    ),
    pytest.param(
        lambda w: claim_form(w, rating="-1"), 422, "Select a valid choice", id="form-rating"
    ),
    pytest.param(
        lambda w: claim_form(w, source_url=["javascript:alert(1)"]),
        422,
        "is not an http(s) address",
        id="form-js-source-url",
    ),
    pytest.param(
        lambda w: claim_form(w, source_url=["data:text/html;base64,PHNjcmlwdD4="]),
        422,
        "is not an http(s) address",
        id="form-data-source-url",
    ),
    pytest.param(
        lambda w: claim_form(w, note="a\x00b"),
        422,
        "Null characters are not allowed",
        id="form-nul-note",
    ),
    pytest.param(
        lambda w: claim_form(w, note="x" * 10_001),
        422,
        "at most 10000 characters",
        id="form-note-too-long",
    ),
    pytest.param(
        lambda w: claim_form(w, note="x" * 20_000),
        413,
        "so nothing was saved",
        id="form-oversized-body",
    ),
    # The API: articles.
    pytest.param(
        lambda w: api_article(w, {"url": "javascript:alert(1)"}),
        400,
        "is not an http(s) address",
        id="api-article-js-url",
    ),
    pytest.param(
        lambda w: api_article(w, {"url": "data:text/html,<script>alert(1)</script>"}),
        400,
        "is not an http(s) address",
        id="api-article-data-url",
    ),
    pytest.param(
        lambda w: api_article(w, {"text": "", "html": "<script>alert(1)</script>"}),
        400,
        "no article text could be found",
        id="api-article-only-a-script",
    ),
    pytest.param(
        lambda w: api_article(
            w, b'{"collection": "politics", "title": "T", "text": "Caf\xe9 au lait"}'
        ),
        400,
        "not valid JSON",
        id="api-article-invalid-utf8",
    ),
    pytest.param(
        lambda w: api_article(w, {"text": "x" * 12_000}),
        413,
        "over 10,000 bytes",
        id="api-article-oversized-body",
    ),
    pytest.param(
        lambda w: api_article(w, {"text": "x" * 1001}),
        400,
        "the limit is 1,000",
        id="api-article-too-long",
    ),
    # The API: annotations.
    pytest.param(
        lambda w: api_annotation(
            w, {"start": len(w.article.text), "end": len(w.article.text) + 10, "quote": "x"}
        ),
        400,
        "past the end",
        id="api-annotation-offsets-past-the-end",
    ),
    pytest.param(
        lambda w: api_annotation(w, {"rating": -1}),
        400,
        "Rating -1 is outside 1",
        id="api-annotation-negative-rating",
    ),
    pytest.param(
        lambda w: api_annotation(w, {"sources": [{"url": "javascript:alert(1)"}]}),
        400,
        "is not an http(s) address",
        id="api-annotation-js-source-url",
    ),
    pytest.param(
        lambda w: api_annotation(
            w,
            {
                "sources": [
                    {"url": "https://fine.example/"},
                    {"url": "data:text/html,<script>alert(1)</script>"},
                ]
            },
        ),
        400,
        "sources.1.url",
        id="api-annotation-data-source-url",
    ),
    pytest.param(
        lambda w: api_annotation(w, b'{"article": 1, "note": "\xff\xfe"}'),
        400,
        "not valid JSON",
        id="api-annotation-invalid-utf8",
    ),
    pytest.param(
        lambda w: api_annotation(w, {"note": "x" * 12_000}),
        413,
        "over 10,000 bytes",
        id="api-annotation-oversized-body",
    ),
    pytest.param(
        lambda w: api_annotation(w, {"note": "a\x00b"}),
        400,
        "Null characters are not allowed",
        id="api-annotation-nul-note",
    ),
    # The API: changing a claim.
    pytest.param(
        lambda w: api_patch(w, {"rating": -1, "note": "Changed"}),
        400,
        "Rating -1 is outside 1",
        id="api-patch-negative-rating",
    ),
    pytest.param(
        lambda w: api_patch(w, {"note": "Changed", "sources": [{"url": "javascript:alert(1)"}]}),
        400,
        "is not an http(s) address",
        id="api-patch-js-source-url",
    ),
    # The import commands: exit status 1 and a line naming the file and line.
    pytest.param(
        lambda w: import_articles(w, "page.html", PNG),
        1,
        "page.html: this is a PNG image, not a .html file",
        id="import-articles-png-as-html",
    ),
    pytest.param(
        lambda w: import_articles(w, "notes.txt", b"Title\n\n\x00\x00\x00"),
        1,
        "notes.txt: this is a binary file, not text",
        id="import-articles-binary-txt",
    ),
    pytest.param(
        lambda w: import_articles(
            w,
            "urls.jsonl",
            line({"title": "A", "url": "javascript:alert(1)", "text": "T"})
            + line({"title": "B", "url": "data:text/html,x", "text": "T"}),
        ),
        1,
        "urls.jsonl:2: url: 'data:text/html,x' is not an http(s) address",
        id="import-articles-js-and-data-urls",
    ),
    pytest.param(
        lambda w: import_articles(w, "bad.jsonl", b'{"title": "Caf\xe9", "text": "T"}\n'),
        1,
        "bad.jsonl:1: not valid UTF-8",
        id="import-articles-invalid-utf8",
    ),
    pytest.param(
        lambda w: import_articles(
            w, "huge.jsonl", b'{"title": "Huge", "text": "' + b"x" * TEN_MB + b'"}'
        ),
        1,
        "huge.jsonl:1: text: The article has 10,485,760 characters; the limit is 1,000.",
        id="import-articles-10mb-single-line",
    ),
    pytest.param(
        lambda w: import_annotations(w, {"start": 10_000, "end": 10_010, "quote": "x"}),
        1,
        "claims.jsonl:1: end:",
        id="import-annotations-offsets-past-the-end",
    ),
    pytest.param(
        lambda w: import_annotations(w, {"rating": -1}),
        1,
        "claims.jsonl:1: rating: Rating -1 is outside 1",
        id="import-annotations-negative-rating",
    ),
    pytest.param(
        lambda w: import_annotations(w, {"sources": [{"url": "javascript:alert(1)"}]}),
        1,
        "claims.jsonl:1: sources[0].url: 'javascript:alert(1)' is not an http(s) address",
        id="import-annotations-js-source-url",
    ),
    pytest.param(
        lambda w: import_annotations(w, {"note": "x" * TEN_MB}),
        1,
        "claims.jsonl:1: note: The note is longer than",
        id="import-annotations-10mb-single-line",
    ),
    pytest.param(
        lambda w: import_annotations(w, b'{"article": "Caf\xe9"}\n'),
        1,
        "claims.jsonl:1: not valid UTF-8",
        id="import-annotations-invalid-utf8",
    ),
    pytest.param(
        lambda w: import_annotations(w, PNG),
        1,
        "claims.jsonl: this is a PNG image, not JSON lines",
        id="import-annotations-png",
    ),
    pytest.param(
        lambda w: import_annotations(w, b"<html>\n" + line({"article": "x"})),
        1,
        "claims.jsonl:1: this is not JSON lines",
        id="import-annotations-html",
    ),
]


@pytest.mark.parametrize(("send", "status", "message"), REFUSED)
def test_hostile_input_is_refused_clearly_and_nothing_is_stored(
    world, settings, send: Case, status: int, message: str
):
    # Small limits, so that "too big" is quick to send.
    settings.WORKBENCH_MAX_ARTICLE_CHARS = 1000
    settings.WORKBENCH_MAX_UPLOAD_BYTES = 1_000_000
    settings.WORKBENCH_API_MAX_BODY_BYTES = 10_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 15_000
    before = counts()
    claim = ClaimAnnotation.objects.get(pk=world.claim.pk)

    outcome = send(world)

    assert outcome.status == status, outcome.text[-2000:]
    assert message in outcome.text
    assert counts() == before
    assert stored_files(world) == []
    # A refused change leaves the claim it aimed at as it was.
    after = ClaimAnnotation.objects.get(pk=world.claim.pk)
    assert (after.version, after.note, after.rating) == (claim.version, claim.note, claim.rating)
    assert list(Source.objects.filter(claim=after).values_list("url", flat=True)) == [
        "https://before.example/"
    ]


def test_a_refused_htmx_upload_replaces_the_form_not_the_job_list(world):
    outcome = upload(world, ("page.html", PNG))
    assert outcome.status == 422
    response = world.bob.post(
        reverse("collection-upload", args=[world.article.collection_id]),
        {"uploads": []},
        headers=HTMX,
    )
    assert response["HX-Retarget"] == response["HX-Reselect"] == "#upload-form"
    assert response["HX-Reswap"] == "outerHTML"


# Valid, though it looks dangerous: stored verbatim, shown escaped -----------------------


def test_sql_and_markup_in_a_pasted_article_are_stored_as_text_and_shown_escaped(world):
    outcome = paste(world, title=SQL, text=f"{SCRIPT}\n\nThe text {ATTRIBUTE_BREAKOUT}.")
    assert outcome.status == 302
    article = Article.objects.get(title=SQL)
    assert article.text == f"{SCRIPT}\n\nThe text {ATTRIBUTE_BREAKOUT}."
    page = world.bob.get(reverse("article-reader", args=[article.pk])).text
    assert SCRIPT not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "&#x27;); DROP TABLE annotations_article;--" in page


def test_a_note_with_sql_and_markup_is_stored_verbatim_and_shown_escaped(world):
    note = f"{SQL} {SCRIPT} {ATTRIBUTE_BREAKOUT}"
    outcome = claim_form(
        world,
        note=note,
        source_url=["https://fine.example/"],
        source_title=[ATTRIBUTE_BREAKOUT],
        source_quote=[""],
        source_stance=["supports"],
    )
    assert outcome.status == 200, outcome.text
    claim = ClaimAnnotation.objects.get(quote=PHRASE)
    assert claim.note == note
    assert claim.sources.get().title == ATTRIBUTE_BREAKOUT
    assert SCRIPT not in outcome.text
    assert "<img src=x" not in outcome.text
    page = world.alice.get(reverse("article-reader", args=[world.article.pk])).text
    assert SCRIPT not in page
    assert "<img src=x" not in page


def test_the_api_stores_a_note_verbatim_and_sanitizes_article_html(world):
    created = api_annotation(world, {"note": SQL})
    assert created.status == 201, created.text
    assert ClaimAnnotation.objects.get(quote=PHRASE).note == SQL

    html = (
        f"<p>Words <a href='javascript:alert(1)'>link</a></p>{SCRIPT}"
        "<img src=x onerror=alert(1)><svg onload=alert(1)></svg>"
    )
    imported = api_article(world, {"text": "Words and more words.", "html": html})
    assert imported.status == 201, imported.text
    stored = Article.objects.get(title="A title").html
    for dangerous in ("<script", "onerror", "onload", "javascript:", "<svg"):
        assert dangerous not in stored


def test_import_commands_store_hostile_looking_text_verbatim(world):
    outcome = import_annotations(world, {"note": f"{SQL} {SCRIPT}"})
    assert outcome.status == 0, outcome.text
    assert ClaimAnnotation.objects.get(quote=PHRASE).note == f"{SQL} {SCRIPT}"
    article_line = line(
        {"title": SQL, "text": "Plain text.", "html": f"<p>Plain text.</p>{SCRIPT}"}
    )
    outcome = import_articles(world, "sql.jsonl", article_line)
    assert outcome.status == 0, outcome.text
    article = Article.objects.get(title=SQL)
    assert "<script" not in article.html


@in_process
def test_a_10_mb_single_line_upload_becomes_an_error_line_of_its_job(
    world, settings, django_capture_on_commit_callbacks
):
    settings.WORKBENCH_MAX_ARTICLE_CHARS = 1000
    before = counts()
    huge = b'{"title": "Huge", "text": "' + b"x" * TEN_MB + b'"}'
    with django_capture_on_commit_callbacks(execute=True):
        outcome = upload(world, ("huge.jsonl", huge))
    assert outcome.status == 200
    job = ImportJob.objects.get()
    job.refresh_from_db()
    assert job.errors == [
        "huge.jsonl:1: text: The article has 10,485,760 characters; the limit is 1,000."
    ]
    assert counts() == before | {"import jobs": 1}
    assert stored_files(world) == []  # the upload is deleted once read


# Uploaded files are stored under names we make ------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/var/www/index.html", "index.html"),
        ("..\\..\\windows.jsonl", "windows.jsonl"),
        ("nul\x00byte.txt", "nul_byte.txt"),
        ("..", "upload.txt"),
        ("", "upload.txt"),
        ("script.txt.exe", "script_txt.txt"),
        ("<img src=x onerror=alert(1)>.html", "img_src_x_onerror_alert_1.html"),
    ],
)
def test_an_uploaded_file_is_stored_under_a_name_we_make(given, stored):
    assert _short_name(given) == stored


def test_an_upload_with_a_hostile_name_is_stored_inside_its_jobs_folder(world):
    boundary = "hostile"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="uploads"; filename="../../../etc/cron.d/x.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
        "A title\r\n\r\nThe text.\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = world.bob.post(
        reverse("collection-upload", args=[world.article.collection_id]),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    media = (world.tmp_path / "media").resolve()
    for name in job.files:
        assert name.startswith(f"imports/{job.pk}/")
        assert (media / name).resolve().is_relative_to(media / "imports" / str(job.pk))
    assert [p.name for p in stored_files(world)] in ([], ["0000-x.txt"])
