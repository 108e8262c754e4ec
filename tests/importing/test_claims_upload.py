"""Claims files uploaded in the browser: the same upload as articles, told apart by
content, run as a background job whose progress counts lines.

bob, the Daily Planet's editor, uploads; alice and carol are the reviewers the
files name. The job runs in-process here (no broker), when the upload commits.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from annotations.importing import claims_job
from annotations.importing.services import import_job_run
from annotations.models import ClaimAnnotation, ImportJob, ImportKind, JobStatus
from tests.conftest import login
from tests.importing.test_bulk_claims import claim_lines, jsonl

needs_eager_tasks = pytest.mark.usefixtures("tasks_in_process")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def articles(desk, alice, carol):
    from tests.factories import ArticleFactory

    return [ArticleFactory(collection=desk, url=f"https://news.example/s-{n}") for n in range(8)]


def upload(client: Client, desk, *files: tuple[str, bytes], capture=None):
    data = {"uploads": [SimpleUploadedFile(name, content) for name, content in files]}
    url = reverse("collection-upload", args=[desk.pk])
    if capture is None:
        return client.post(url, data)
    with capture(execute=True):
        return client.post(url, data)


@needs_eager_tasks
def test_a_claims_file_is_imported_by_a_job_counting_lines(
    desk, bob, articles, media, django_capture_on_commit_callbacks
):
    lines = claim_lines(articles, 2000)
    lines[16]["quote"] = "not what the article says"
    lines[1023]["verdict"] = "pants-on-fire"
    lines[1998]["reviewer"] = "mallory"
    client = login(Client(), bob)

    response = upload(
        client, desk, ("claims.jsonl", jsonl(lines)), capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.kind, job.status, job.total, job.processed) == (
        ImportKind.CLAIMS,
        JobStatus.DONE,
        2000,
        2000,
    )
    assert (job.created, job.unchanged, job.error_count) == (1997, 0, 3)
    assert [error.split(": ")[0] for error in job.errors] == [
        "claims.jsonl:17",
        "claims.jsonl:1024",
        "claims.jsonl:1999",
    ]
    assert ClaimAnnotation.objects.count() == 1997
    assert not any(default_storage.exists(name) for name in job.files)

    status = client.get(reverse("import-job", args=[job.pk]))
    assert "Claims from 1 file · Done" in status.text
    assert "2,000/2,000 lines" in status.text
    assert "1,997 created, 0 already present, 3 lines with errors." in status.text
    assert "claims.jsonl:1024: verdict: Unknown verdict &#x27;pants-on-fire&#x27;" in status.text
    assert "hx-trigger" not in status.text


@needs_eager_tasks
def test_web_annotations_are_told_apart_by_content(
    desk, bob, articles, media, django_capture_on_commit_callbacks
):
    article = articles[0]
    record = {
        "type": "Annotation",
        "creator": {"nickname": "alice"},
        "target": {
            "source": article.url,
            "selector": [
                {"type": "TextQuoteSelector", "exact": article.text[4:12]},
                {"type": "TextPositionSelector", "start": 4, "end": 12},
            ],
        },
        "body": [{"type": "TextualBody", "purpose": "assessing", "value": "false"}],
    }

    upload(
        login(Client(), bob),
        desk,
        ("export.jsonl", (json.dumps(record) + "\n").encode()),
        capture=django_capture_on_commit_callbacks,
    )

    job = ImportJob.objects.get()
    assert (job.kind, job.created, job.errors) == (ImportKind.CLAIMS, 1, [])
    assert ClaimAnnotation.objects.get().verdict.slug == "false"


def test_articles_and_claims_in_one_upload_are_refused(desk, bob, articles, media):
    response = upload(
        login(Client(), bob),
        desk,
        ("claims.jsonl", jsonl(claim_lines(articles, 2))),
        ("report.txt", b"Convoy reaches Goma\n\nThe convoy reached Goma on Monday."),
    )

    assert response.status_code == 422
    assert "Upload files of claims on their own" in response.text
    assert not ImportJob.objects.exists()


def test_an_article_jsonl_is_still_articles(desk, bob, media, django_capture_on_commit_callbacks):
    line = {"title": "Talks in Doha", "text": "Delegations met in Doha on Tuesday."}
    with django_capture_on_commit_callbacks(execute=False):
        upload(login(Client(), bob), desk, ("articles.jsonl", jsonl([line])))

    assert ImportJob.objects.get().kind == ImportKind.ARTICLES


def test_a_job_taken_over_resumes_after_the_lines_it_had_done(desk, bob, articles, media):
    lines = claim_lines(articles, 300)
    job = ImportJob.objects.create(
        organization=desk.organization,
        collection=desk,
        created_by=bob,
        kind=ImportKind.CLAIMS,
        files=[default_storage.save("imports/x/0000-claims.jsonl", _file(jsonl(lines)))],
        total=300,
        # Its first worker died after committing the batch that ended at line 120.
        processed=120,
        created=120,
    )

    import_job_run(job=job)

    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == (JobStatus.DONE, 300, 300)
    # Only lines 121–300 were read: the first 120 were never stored by this run.
    assert ClaimAnnotation.objects.count() == 180


def test_a_file_of_many_bad_lines_lists_the_first_and_counts_the_rest(
    desk, bob, articles, media, monkeypatch
):
    monkeypatch.setattr(claims_job, "LISTED_ERRORS", 5)
    lines = claim_lines(articles, 40)
    for line in lines[:12]:
        line["reviewer"] = "mallory"
    job = ImportJob.objects.create(
        organization=desk.organization,
        collection=desk,
        created_by=bob,
        kind=ImportKind.CLAIMS,
        files=[default_storage.save("imports/y/0000-claims.jsonl", _file(jsonl(lines)))],
        total=40,
    )

    import_job_run(job=job)

    job.refresh_from_db()
    assert (job.created, len(job.errors), job.errors_unlisted, job.error_count) == (28, 5, 7, 12)
    assert job.errors[0].startswith("claims.jsonl:1: reviewer: 'mallory' is not a member")


def _file(content: bytes):
    from django.core.files.base import ContentFile

    return ContentFile(content)
