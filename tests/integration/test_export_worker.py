"""Exports on a real `celery worker`: written in the background, and retried when a worker dies.

Runs when CELERY_BROKER_URL is set (CI sets it, with PostgreSQL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from annotations import tasks
from annotations.exports import services as exports
from annotations.models import (
    Article,
    ExportJob,
    JobStatus,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
)
from tests.conftest import demo_login
from tests.worker import database_url, start_worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL (a real broker)"
    ),
]


@pytest.fixture
def demo(transactional_db) -> Article:
    call_command("demo", stdout=StringIO())
    return Article.objects.get(organization__slug="demo")


def wait_for(job: ExportJob, condition, timeout: float = 60) -> ExportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if condition(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"export {job.pk} stayed {job.status}, {job.processed}/{job.total}")


def test_the_worker_writes_an_export_the_editor_downloads(client, demo, worker_media):
    demo_login(client, "editor")
    response = client.post(
        reverse("exports", args=["demo"]),
        {
            "format": "claimreview",
            "status": "published",
            "date_field": "published_at",
            "audience": "public",
        },
    )
    assert response.status_code == 302
    job = wait_for(ExportJob.objects.get(), lambda j: j.is_finished)
    assert job.status == JobStatus.DONE, job.failure
    assert job.rows == 2
    download = client.get(reverse("export-download", args=[job.pk]))
    reviews = json.loads(b"".join(download.streaming_content))
    assert {r["@type"] for r in reviews} == {"ClaimReview"}


def many_claims(article: Article, count: int) -> None:
    """`count` published verified claims with three sources each, stored in bulk."""
    editor = User.objects.get(username="editor")
    label = VerdictLabel.objects.get(taxonomy__organization=article.organization, slug="false")
    now = timezone.now()
    claims = VerifiedClaim.objects.bulk_create(
        VerifiedClaim(
            organization=article.organization,
            article=article,
            start=i,
            end=i + 1,
            quote=article.text[i],
            claim_reviewed=f"Claim number {i} about the road to Kisangani",
            verdict=label,
            rating=label.rating,
            lineage="single",
            editor=editor,
            status="published",
            published_at=now,
        )
        for i in range(1000, 1000 + count)
    )
    VerifiedSource.objects.bulk_create(
        VerifiedSource(claim=c, order=n, url=f"https://src{n}.example/{c.pk}", title=f"S{n}")
        for c in claims
        for n in range(3)
    )


def test_a_worker_killed_mid_export_is_retried_and_leaves_one_complete_file(
    demo, tmp_path, settings
):
    # A text long enough for thousands of distinct one-character spans.
    Article.objects.filter(pk=demo.pk).update(text=demo.text * 20)
    demo.refresh_from_db()
    many_claims(demo, 30_000)
    total = VerifiedClaim.objects.filter(status__in=["published", "corrected"]).count()
    media, scratch = tmp_path / "media", tmp_path / "scratch"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    # Its own queue, so that only these workers take the job; a message a dead
    # worker held comes back after 3 s (the visibility timeout) to the next one.
    queue = f"export-kill-{os.getpid()}"
    # The job, silent since its worker was killed, is taken over after 2 s.
    env = {
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "WORKBENCH_JOB_STALE_SECONDS": "2",
        "WORKBENCH_EXPORT_TMP": str(scratch),
    }
    job = ExportJob.objects.create(
        organization=demo.organization,
        format="jsonl",
        created_by=demo.organization.memberships.first().user,
    )
    url = database_url()
    logs = [(tmp_path / f"worker{n}.log").open("w") for n in (1, 2)]
    first = start_worker(url, media, logs[0], queue=queue, env=env)
    second: subprocess.Popen[bytes] | None = None
    try:
        tasks.run_export.apply_async([job.pk], queue=queue)
        # Mid-export: running, some pages written, not finished.
        wait_for(job, lambda j: j.status == JobStatus.RUNNING and j.processed >= 2000)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING
        assert job.processed < total
        time.sleep(3.5)  # the dead worker's message is now past its visibility timeout
        second = start_worker(url, media, logs[1], queue=queue, env=env)
        job = wait_for(job, lambda j: j.is_finished, timeout=120)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        for log in logs:
            log.close()

    assert job.status == JobStatus.DONE, job.failure
    assert job.attempts == 2
    files = [p for p in (media / "exports").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [job.filename]
    lines = files[0].read_bytes().splitlines()
    assert len(lines) == job.rows == total
    assert len({json.loads(line)["id"] for line in lines}) == total
    # Nothing left behind by the killed attempt.
    assert list(Path(scratch).iterdir()) == []
    assert exports.exports_expire() == 0
