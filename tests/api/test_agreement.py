"""Editors start agreement runs and read their figures through the API.

The figures are the same document `compute_agreement --json` prints. Like the
dashboard, they are the editors' (they name reviewers): reviewer1 gets a 403,
and the Rival Gazette a 404 for the demo's collection.
"""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from rest_framework.test import APIClient

from annotations.models import AgreementReport, Article, JobStatus
from annotations.newsrooms.services import member_create, organization_create
from tests.api.conftest import key_for, keyed

URL = "/api/v1/collections/great-lakes/agreement/"
SCOPES = "read:agreement,write:agreement"

# Runs that finish here and now; with a broker the run goes to the real worker,
# and test_a_run_on_the_worker_finishes_and_is_read_back watches it there.
in_process = pytest.mark.usefixtures("tasks_in_process")
on_worker = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL (a real broker)"
)


def editor_client() -> APIClient:
    return keyed(key_for("editor", SCOPES))


def command_json() -> dict:
    out = StringIO()
    call_command(
        "compute_agreement", "--org", "demo", "--collection", "great-lakes", "--json", stdout=out
    )
    return json.loads(out.getvalue())


@in_process
def test_an_editor_starts_a_run_and_reads_the_commands_document(
    demo, django_capture_on_commit_callbacks
):
    client = editor_client()
    assert client.get(URL).json()["results"] is None, "nothing computed yet"

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(URL, {"match": "overlap", "iou": 0.5}, format="json")

    assert started.status_code == 202, started.content
    assert started["Location"].endswith(URL)
    run = started.json()
    assert run["status"] == JobStatus.PENDING
    answer = client.get(URL).json()
    assert answer["running"] is None
    assert answer["report"]["id"] == run["id"]
    assert answer["report"]["status"] == "done"
    assert answer["report"]["progress"] == 100
    assert answer["results"]["reviewers"] == ["reviewer1", "reviewer2"]
    assert answer["results"] == command_json()


def test_a_run_under_way_shows_its_progress_and_a_second_start_is_the_same_run(demo):
    # No worker takes the run here (its task is sent when the request commits,
    # and a test's transaction never does), so it stays pending.
    client = editor_client()

    first = client.post(URL, {}, format="json")
    second = client.post(URL, {"match": "exact"}, format="json")

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["id"] == first.json()["id"]
    assert AgreementReport.objects.count() == 1
    answer = client.get(URL).json()
    assert answer["running"]["status"] == "pending"
    assert answer["running"]["progress"] == 0
    assert answer["results"] is None


def test_a_start_while_an_older_run_is_under_way_answers_with_that_run(demo):
    # A run asked for earlier is still pending although a newer one has finished
    # (runs finish out of order when a worker picks up the later one first).
    client = editor_client()
    older = client.post(URL, {}, format="json").json()
    newer = AgreementReport.objects.create(
        organization=Article.objects.first().organization,
        collection=AgreementReport.objects.get().collection,
        status=JobStatus.DONE,
        results={},
    )

    again = client.post(URL, {"unknown": [1]}, format="json")

    assert again.status_code == 202, again.content
    assert again.json()["id"] == older["id"] != newer.pk
    assert client.get(URL).json()["running"]["id"] == older["id"]
    assert AgreementReport.objects.count() == 2


def test_bad_parameters_answer_400_naming_them(demo):
    client = editor_client()

    for sent, field in (({"match": "fuzzy"}, "match"), ({"iou": 1.5}, "iou")):
        response = client.post(URL, sent, format="json")
        assert response.status_code == 400
        assert field in response.json()["fields"]
    assert not AgreementReport.objects.exists()


def test_reviewers_get_403_like_on_the_dashboard(demo):
    with pytest.raises(ValidationError, match="agreement"):
        key_for("reviewer1", "read:agreement")
    key = keyed(key_for("reviewer1", "read:claims"))
    session = APIClient()
    session.force_login(User.objects.get(username="reviewer1"))

    assert key.get(URL).status_code == 403
    assert session.get(URL).status_code == 403
    assert session.post(URL, {}, format="json").status_code == 403
    assert not AgreementReport.objects.exists()


def test_a_key_without_the_scope_gets_403_naming_it(demo):
    reader = keyed(key_for("editor", "read:agreement"))

    response = reader.post(URL, {}, format="json")

    assert response.status_code == 403
    assert "write:agreement" in response.json()["detail"]
    assert keyed(key_for("editor", "write:agreement")).get(URL).status_code == 403


def test_another_newsroom_gets_404(demo):
    gazette = organization_create(slug="gazette", name="Rival Gazette")
    member_create(organization=gazette, username="rival", role="editor", password="x" * 12)
    rival = keyed(key_for("rival", SCOPES, org="gazette"))

    assert rival.get(URL).status_code == 404
    assert rival.post(URL, {}, format="json").status_code == 404
    assert not AgreementReport.objects.exists()


@on_worker
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_run_on_the_worker_finishes_and_is_read_back(celery_worker):
    # The worker reads the database from another process: the demo is committed.
    call_command("demo", stdout=StringIO())
    assert Article.objects.filter(organization__slug="demo").exists()
    client = editor_client()

    started = client.post(URL, {}, format="json")
    assert started.status_code == 202
    deadline = time.monotonic() + 60
    answer = client.get(URL).json()
    while answer["report"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = client.get(URL).json()

    assert answer["report"] is not None, answer["running"]
    assert answer["report"]["id"] == started.json()["id"]
    assert answer["results"] == command_json()
