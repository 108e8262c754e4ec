"""Hostile-looking input that is valid, through every entry point: a script tag in a
note or SQL in a title is stored verbatim and shown escaped; a 10 MB line in an upload
becomes an error line of its job; an uploaded file named ../../etc/passwd is stored
under a name we make, inside its job's folder. What is refused: test_hostile_inputs.py.

People as in tests/conftest.py: bob is the Daily Planet's editor, alice a
reviewer assigned to the article.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.importing.services import short_name as _short_name
from annotations.models import Article, ClaimAnnotation, ImportJob
from tests.site.hostile import (
    ATTRIBUTE_BREAKOUT,
    PHRASE,
    SCRIPT,
    SQL,
    TEN_MB,
    api_annotation,
    api_article,
    claim_form,
    counts,
    import_annotations,
    import_articles,
    line,
    paste,
    stored_files,
    upload,
)

# Tasks that run here and now; with a broker the import job goes to a real worker.
in_process = pytest.mark.usefixtures("tasks_in_process")


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
