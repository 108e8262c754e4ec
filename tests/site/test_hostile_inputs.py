"""Hostile input through every entry point: the paste and upload forms, the reader's
claim form, the API (articles, annotations) and the import commands.

Each refusal is a clear 4xx, or for a command an error line that names the file
and the line, and leaves the database as it was: no article, claim, source or
import job half-written. What is valid but looks dangerous (a script tag in a
note, SQL in a title) is stored verbatim and shown escaped
(test_hostile_inputs_stored.py). Whether anything runs in a browser is checked
in Chromium: tests/browser/test_hostile_rendering.py.

People as in tests/conftest.py: bob is the Daily Planet's editor, alice a
reviewer assigned to the article.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from annotations.models import ClaimAnnotation, Source
from tests.site.hostile import (
    HTMX,
    PNG,
    TEN_MB,
    ZIP,
    Outcome,
    World,
    api_annotation,
    api_article,
    api_patch,
    claim_form,
    counts,
    import_annotations,
    import_articles,
    line,
    paste,
    stored_files,
    upload,
)

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
