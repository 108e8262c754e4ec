"""Editors start exports, watch them and download the files through the API.

The demo has two published verified claims. Exports are the editors', as on
the exports page; the Rival Gazette gets a 404 for the demo's jobs.
"""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from annotations.exports import selection
from annotations.exports import services as exports
from annotations.models import Article, ExportJob, JobStatus
from annotations.newsrooms.services import member_create, organization_create
from tests.api.conftest import key_for, keyed

LIST = "/api/v1/exports/"

# Jobs that finish here and now; with a broker the job goes to the real worker,
# and test_the_worker_writes_the_file_the_api_hands_out watches it there.
in_process = pytest.mark.usefixtures("tasks_in_process")
on_worker = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL (a real broker)"
)


def detail(pk: int) -> str:
    return f"/api/v1/exports/{pk}/"


def download(pk: int) -> str:
    return f"/api/v1/exports/{pk}/download/"


def editor_client() -> APIClient:
    return keyed(key_for("editor", "exports"))


def lines(response) -> list[dict]:
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


@in_process
def test_an_export_is_created_finishes_and_downloads(
    demo, worker_media, django_capture_on_commit_callbacks
):
    client = editor_client()

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(LIST, {"format": "jsonl", "collection": "great-lakes"}, format="json")

    assert created.status_code == 202, created.content
    job = created.json()
    assert (job["format"], job["collection"], job["audience"]) == ("jsonl", "great-lakes", "public")
    assert created["Location"].endswith(detail(job["id"]))
    done = client.get(detail(job["id"])).json()
    assert done["status"] == "done"
    assert (done["progress"], done["rows"]) == (100, 2)
    assert done["size"] > 0
    assert done["failure"] == ""
    assert done["download_url"].endswith(download(job["id"]))
    assert [j["id"] for j in client.get(LIST).json()["results"]] == [job["id"]]

    file = client.get(done["download_url"])

    assert file.status_code == 200
    assert file["Content-Disposition"].startswith("attachment")
    assert done["filename"] in file["Content-Disposition"]
    assert file["Content-Type"] == "application/x-ndjson"
    assert {c["quote"] for c in lines(file)} == {"reposition its forces", "give peace a chance"}


def test_a_job_not_done_has_no_file_yet(demo):
    # The task is sent when the request commits, which a test's transaction never does.
    client = editor_client()
    job = client.post(LIST, {"format": "csv"}, format="json").json()

    assert job["status"] == "pending"
    assert job["download_url"] is None
    response = client.get(download(job["id"]))
    assert response.status_code == 404
    assert response.json()["status"] == 404


@in_process
def test_an_expired_export_answers_404(demo, worker_media, django_capture_on_commit_callbacks):
    client = editor_client()
    with django_capture_on_commit_callbacks(execute=True):
        job = client.post(LIST, {"format": "jsonl"}, format="json").json()
    ExportJob.objects.filter(pk=job["id"]).update(expires_at="2000-01-01T00:00:00Z")
    assert exports.exports_expire() == 1

    assert client.get(detail(job["id"])).json()["download_url"] is None
    assert client.get(download(job["id"])).status_code == 404


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"format": "xlsx"}, "format"),
        ({"format": "csv", "collection": "no-such-desk"}, "collection"),
        ({"format": "csv", "verdict": "pants-on-fire"}, "verdict"),
        ({"format": "csv", "date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
        ({"format": "csv", "date_field": "created_at"}, "date_field"),
        ({"format": "csv", "audience": "everyone"}, "audience"),
    ],
)
def test_a_bad_selection_answers_400_naming_the_field(demo, sent, field):
    response = editor_client().post(LIST, sent, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert not ExportJob.objects.exists()


def test_a_verdict_filter_is_a_slug_of_the_newsroom(demo):
    response = editor_client().post(
        LIST, {"format": "csv", "verdict": "misleading", "status": "all"}, format="json"
    )

    assert response.status_code == 202, response.content
    assert response.json()["verdict"] == "misleading"
    assert ExportJob.objects.get().verdict.slug == "misleading"


def test_reviewers_get_403_and_keys_without_the_scope_too(demo):
    session = APIClient()
    session.force_login(User.objects.get(username="reviewer1"))
    scopeless = keyed(key_for("editor", "read:claims"))

    assert session.post(LIST, {"format": "csv"}, format="json").status_code == 403
    assert session.get(LIST).status_code == 403
    refused = scopeless.post(LIST, {"format": "csv"}, format="json")
    assert refused.status_code == 403
    assert "exports" in refused.json()["detail"]
    assert not ExportJob.objects.exists()


def test_another_newsroom_gets_404_for_the_jobs_and_their_files(demo):
    job = exports.export_start(
        selection=selection.Selection(organization=demo.organization),
        export_format="jsonl",
        user=User.objects.get(username="editor"),
    )
    gazette = organization_create(slug="gazette", name="Rival Gazette")
    member_create(organization=gazette, username="rival", role="editor", password="x" * 12)
    rival = keyed(key_for("rival", "exports", org="gazette"))

    assert rival.get(LIST).json()["results"] == []
    assert rival.get(detail(job.pk)).status_code == 404
    assert rival.get(download(job.pk)).status_code == 404


@on_worker
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_worker_writes_the_file_the_api_hands_out(worker_media):
    # The worker reads the database from another process: the demo is committed.
    call_command("demo", stdout=StringIO())
    assert Article.objects.filter(organization__slug="demo").exists()
    client = editor_client()

    job = client.post(LIST, {"format": "jsonl"}, format="json").json()
    deadline = time.monotonic() + 60
    while job["status"] not in (JobStatus.DONE, JobStatus.FAILED):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = client.get(detail(job["id"])).json()

    assert job["status"] == "done", job["failure"]
    file = client.get(job["download_url"])
    assert file.status_code == 200
    assert len(lines(file)) == job["rows"] == 2
