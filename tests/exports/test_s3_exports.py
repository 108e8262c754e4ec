"""Export files in an S3-compatible bucket, as production stores them.

moto's S3-compatible server runs as a separate process on a free local port,
and the default storage is pointed at a new bucket on it for each test,
through the same django-storages backend and options that settings.py builds
from WORKBENCH_S3_*. The demo newsroom's editor may download its exports;
its reviewers and other newsrooms get a 404, and nobody reads the bucket
without a signed link.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from storages.backends.s3 import S3Storage

from annotations.exports import selection as exports_selection
from annotations.exports import services as exports
from annotations.exports import writers
from annotations.exports.views import DOWNLOAD_LINK_SECONDS
from annotations.models import ExportJob, JobStatus
from tests.conftest import demo_login, login
from workbench.settings import s3_storage

# The export runs in this process, with this test's storage, in every pass
# (with a broker, the real worker's own storage is watched by
# tests/integration/test_export_worker.py).
pytestmark = pytest.mark.usefixtures("tasks_in_process")

KEY, SECRET, REGION = "workbench-test", "workbench-test-secret", "us-east-1"
# Straight to the local server, whatever proxy the environment names.
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory) -> Iterator[str]:
    """moto's S3-compatible server for this module's tests; yields its endpoint URL."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("s3") / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if server.poll() is not None:
                    pytest.fail(f"The S3 server did not start:\n{log_path.read_text()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"The S3 server did not answer:\n{log_path.read_text()}")
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture
def bucket(s3_server, settings):
    """A new, empty bucket, and the default storage pointed at it as settings.py would."""
    name = f"exports-{uuid.uuid4().hex[:12]}"
    s3 = boto3.resource(
        "s3",
        endpoint_url=s3_server,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )
    created = s3.create_bucket(Bucket=name)
    settings.STORAGES = settings.STORAGES | {
        "default": s3_storage(
            bucket=name,
            endpoint_url=s3_server,
            region=REGION,
            access_key=KEY,
            secret_key=SECRET,
        )
    }
    assert isinstance(default_storage, S3Storage)
    return created


def keys(bucket) -> list[str]:
    return sorted(item.key for item in bucket.objects.all())


def content(bucket, key: str) -> bytes:
    return bucket.Object(key).get()["Body"].read()


def editor() -> User:
    return User.objects.get(username="editor")


def selection(demo) -> exports_selection.Selection:
    return exports_selection.Selection(organization=demo.organization)


def written(demo, export_format: str = "jsonl") -> bytes:
    """What the writer writes for the demo's published claims, straight into memory."""
    out = io.BytesIO()
    writers.WRITERS[export_format](selection(demo), out, lambda done: None)
    return out.getvalue()


def start(demo, capture, *, run: bool = True) -> ExportJob:
    """Starts a JSONL export; its task runs in-process when the job's transaction commits."""
    with capture(execute=run):
        job = exports.export_start(selection=selection(demo), export_format="jsonl", user=editor())
    job.refresh_from_db()
    return job


def test_the_export_is_stored_whole_under_the_jobs_name_and_private(
    demo, bucket, s3_server, django_capture_on_commit_callbacks
):
    job = start(demo, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.DONE
    assert job.rows > 0
    assert job.file == f"exports/demo/{job.pk}/{job.filename}"
    assert keys(bucket) == [job.file]
    assert content(bucket, job.file) == written(demo)
    assert bucket.Object(job.file).content_length == job.size
    # Only the owner holds a grant: no AllUsers or AuthenticatedUsers.
    grants = bucket.Object(job.file).Acl().grants
    assert [grant["Grantee"]["Type"] for grant in grants] == ["CanonicalUser"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        direct.open(f"{s3_server}/{bucket.name}/{job.file}")
    assert unsigned.value.code == 403


def test_the_editor_is_sent_to_a_short_lived_signed_link(
    client, demo, bucket, s3_server, django_capture_on_commit_callbacks
):
    job = start(demo, django_capture_on_commit_callbacks)
    demo_login(client, "editor")
    response = client.get(reverse("export-download", args=[job.pk]))
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]
    link = response["Location"]
    assert link.startswith(f"{s3_server}/{bucket.name}/exports/demo/{job.pk}/")
    query = parse_qs(urlsplit(link).query)
    if "X-Amz-Expires" in query:  # Signature version 4
        assert int(query["X-Amz-Expires"][0]) == DOWNLOAD_LINK_SECONDS
    else:  # Version 2: when, not how long
        assert int(query["Expires"][0]) <= time.time() + DOWNLOAD_LINK_SECONDS + 1
    with direct.open(link) as download:
        assert download.read() == written(demo)
        assert download.headers["Content-Disposition"] == f'attachment; filename="{job.filename}"'


def test_reviewers_other_newsrooms_and_strangers_never_get_a_link(
    client, demo, bucket, eve, django_capture_on_commit_callbacks
):
    job = start(demo, django_capture_on_commit_callbacks)
    url = reverse("export-download", args=[job.pk])
    login(client, eve)
    assert client.get(url).status_code == 404
    client.logout()
    demo_login(client, "reviewer1")
    assert client.get(url).status_code == 404
    client.logout()
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))


def test_expiry_deletes_the_object_and_keeps_the_job(
    client, demo, bucket, django_capture_on_commit_callbacks
):
    job = start(demo, django_capture_on_commit_callbacks)
    assert exports.exports_expire(now=timezone.now() + timedelta(days=6)) == 0
    assert keys(bucket) == [job.file]
    assert exports.exports_expire(now=timezone.now() + timedelta(days=8)) == 1
    assert keys(bucket) == []
    stored = job.file
    job.refresh_from_db()
    assert (job.status, job.expired, job.file) == (JobStatus.DONE, True, "")
    assert job.filename == Path(stored).name
    demo_login(client, "editor")
    assert client.get(reverse("export-download", args=[job.pk])).status_code == 404


class Killed(BaseException):
    """A worker killed mid-export: nothing below the task catches it."""


def test_an_export_killed_midway_leaves_no_partial_object(
    demo, bucket, monkeypatch, django_capture_on_commit_callbacks
):
    job = start(demo, django_capture_on_commit_callbacks, run=False)
    complete = written(demo)
    seen_while_writing = []

    def killed_writer(selection, out, progress):
        out.write(complete[: len(complete) // 2])
        out.flush()
        seen_while_writing.append(keys(bucket))
        raise Killed

    # Every file handed to the storage, as it was at that moment.
    saved = []
    save = S3Storage.save

    def save_spy(storage, name, content, **kwargs):
        saved.append(Path(content.name).read_bytes())
        return save(storage, name, content, **kwargs)

    monkeypatch.setattr(S3Storage, "save", save_spy)
    writer = writers.WRITERS["jsonl"]
    monkeypatch.setitem(writers.WRITERS, "jsonl", killed_writer)
    with pytest.raises(Killed):
        exports.export_run(job.pk)
    assert seen_while_writing == [[]]
    assert keys(bucket) == []
    job.refresh_from_db()
    assert (job.status, job.file) == (JobStatus.RUNNING, "")

    # The task comes back to another worker, which writes the whole file.
    monkeypatch.setitem(writers.WRITERS, "jsonl", writer)
    job = exports.export_run(job.pk)
    assert job.status == JobStatus.DONE
    assert keys(bucket) == [job.file]
    assert content(bucket, job.file) == complete

    # Killed after the object was stored but before the job was marked done:
    # the next attempt replaces the object instead of adding a second one.
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    job = exports.export_run(job.pk)
    assert keys(bucket) == [job.file]
    assert content(bucket, job.file) == complete
    assert saved == [complete, complete]
