"""Exports of verified claims: the command's arguments, the jobs started from the page,
who may download them, their expiry, and the limits on reports. What each format
holds: test_export_formats.py."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from annotations.exports import selection as exports
from annotations.exports import services
from annotations.models import ExportJob, JobStatus, VerifiedClaim
from tests.conftest import demo_login, login
from tests.exports.conftest import editor

# Tests that watch a job finish here and now; with a broker the job goes to the
# real worker instead, and tests/integration/test_export_worker.py watches it.
in_process = pytest.mark.usefixtures("tasks_in_process")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "invalid choice: 'xml'"),
        (["--format", "jsonl", "--verdict", "nonsense"], "Unknown verdict 'nonsense'"),
        (["--format", "jsonl", "--from", "2026-13-01"], "not a date like"),
        (["--format", "jsonl", "--from", "2026-03-02", "--to", "2026-03-01"], "ends before"),
        (["--format", "jsonl", "--collection", "nope"], "No collection 'nope'"),
    ],
)
def test_the_command_refuses_bad_arguments(desk, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "export_claims",
            "--org",
            "demo",
            "--out",
            str(tmp_path / "x"),
            *args,
            stderr=io.StringIO(),
        )
    assert not (tmp_path / "x").exists()


def start(selection: exports.Selection, export_format: str, capture) -> ExportJob:
    """Starts an export; its task runs (in-process) when the job's transaction commits."""
    with capture(execute=True):
        job = services.export_start(selection=selection, export_format=export_format, user=editor())
    job.refresh_from_db()
    return job


@in_process
def test_the_editor_exports_from_the_page_and_downloads_the_file(
    client, desk, worker_media, django_capture_on_commit_callbacks
):
    demo_login(client, "editor")
    page = client.get(reverse("exports", args=["demo"]))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("exports", args=["demo"]),
            {
                "format": "jsonl",
                "status": "published",
                "date_field": "published_at",
                "audience": "public",
            },
        )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.status == JobStatus.DONE  # in-process here; tests/integration use a worker
    assert (job.rows, job.total, job.percent) == (3, 3, 100)
    listing = client.get(reverse("exports", args=["demo"]))
    assert f"Download {job.filename}" in listing.text
    download = client.get(reverse("export-download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert len(b"".join(download.streaming_content).splitlines()) == 3


def test_a_bad_date_range_is_refused_with_the_field_named(client, desk):
    demo_login(client, "editor")
    response = client.post(
        reverse("exports", args=["demo"]),
        {
            "format": "csv",
            "status": "published",
            "date_field": "published_at",
            "date_from": "2026-03-02",
            "date_to": "2026-03-01",
            "audience": "public",
        },
    )
    assert response.status_code == 400
    assert "The range ends before it starts." in response.text
    assert not ExportJob.objects.exists()


def test_reviewers_and_other_newsrooms_get_a_404(client, desk, eve, worker_media):
    job = services.export_start(
        selection=exports.Selection(organization=desk.organization),
        export_format="jsonl",
        user=editor(),
    )
    demo_login(client, "reviewer1")
    assert client.get(reverse("exports", args=["demo"])).status_code == 404
    assert client.get(reverse("export-download", args=[job.pk])).status_code == 404
    client.logout()
    login(client, eve)
    assert client.get(reverse("exports", args=["demo"])).status_code == 404
    assert client.get(reverse("export-status", args=[job.pk])).status_code == 404
    assert client.get(reverse("export-download", args=[job.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("export-download", args=[job.pk])).status_code == 302  # log in


@in_process
def test_a_failed_export_shows_its_reason(
    client, desk, settings, tmp_path, worker_media, django_capture_on_commit_callbacks
):
    # A misconfigured temporary folder: a file stands where it should be.
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings.WORKBENCH_EXPORT_TMP = blocked
    job = start(
        exports.Selection(organization=desk.organization),
        "jsonl",
        django_capture_on_commit_callbacks,
    )
    assert job.status == JobStatus.FAILED
    assert "FileExistsError" in job.failure
    page = demo_login(client, "editor").get(reverse("exports", args=["demo"]))
    assert "The export failed: FileExistsError" in page.text


@in_process
def test_expired_exports_lose_their_file_and_keep_their_record(
    client, desk, worker_media, django_capture_on_commit_callbacks
):
    job = start(
        exports.Selection(organization=desk.organization),
        "jsonl",
        django_capture_on_commit_callbacks,
    )
    assert default_storage.exists(job.file)
    assert services.exports_expire(now=timezone.now() + timedelta(days=6)) == 0
    assert services.exports_expire(now=timezone.now() + timedelta(days=8)) == 1
    stored = job.file
    job.refresh_from_db()
    assert job.expired
    assert not default_storage.exists(stored)
    demo_login(client, "editor")
    assert client.get(reverse("export-download", args=[job.pk])).status_code == 404
    assert "expired" in client.get(reverse("exports", args=["demo"])).text


def test_the_public_page_of_a_claim_shows_published_ones_without_confidential_sources(client, desk):
    published = VerifiedClaim.objects.get(verdict__slug="mostly-true")
    page = client.get(reverse("public-claim", args=["demo", published.pk]))
    assert page.status_code == 200
    assert "roads.example/atlas" in page.text
    assert "tipster.example" not in page.text
    draft = VerifiedClaim.objects.get(status="draft")
    assert client.get(reverse("public-claim", args=["demo", draft.pk])).status_code == 404
    assert client.get(reverse("public-claim", args=["other", published.pk])).status_code == 404


def test_celery_beat_runs_the_expiry_every_hour():
    from annotations import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["exports-expire"]
    assert entry["schedule"] == 3600
    assert entry["task"] == tasks.exports_expire.name


def test_a_pdf_report_too_large_to_lay_out_is_refused_before_it_starts(desk, tmp_path, settings):
    settings.WORKBENCH_REPORT_PDF_MAX_CLAIMS = 2
    with pytest.raises(
        CommandError, match="A PDF report holds at most 2 claims and this one has 3"
    ):
        call_command(
            "export_claims",
            "--org",
            "demo",
            "--format",
            "report-pdf",
            "--out",
            str(tmp_path / "r.pdf"),
        )
    with pytest.raises(ValidationError, match="choose the HTML report"):
        services.export_start(
            selection=exports.Selection(organization=desk.organization),
            export_format="report-pdf",
            user=editor(),
        )
    assert not ExportJob.objects.exists()


def test_the_command_writes_a_spreadsheet_under_a_csv_name_and_a_zip_under_a_zip_one(
    desk, tmp_path
):
    call_command(
        "export_claims", "--org", "demo", "--format", "csv", "--out", str(tmp_path / "claims.csv")
    )
    call_command(
        "export_claims",
        "--org",
        "demo",
        "--format",
        "csv-zip",
        "--out",
        str(tmp_path / "claims.zip"),
    )
    assert (tmp_path / "claims.csv").read_bytes().startswith("\ufeffclaim_reviewed".encode())
    assert zipfile.is_zipfile(tmp_path / "claims.zip")
