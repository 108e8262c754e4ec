"""A real `celery -A workbench worker` on the broker in CELERY_BROKER_URL.

Runs when CELERY_BROKER_URL is set (CI sets it, with PostgreSQL). The worker
is a separate process that reads the same test database, so the test commits
its rows (transactional_db) and checks what the worker wrote.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from annotations import tasks
from annotations.models import Article, ImportJob
from tests.worker import wait_until_idle

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL (a real broker)"
    ),
]


def test_a_task_result_comes_back_through_the_broker(celery_worker):
    assert tasks.ping.delay().get(timeout=60) == "pong"


@pytest.mark.django_db(transaction=True)
def test_the_worker_imports_an_upload_job_into_the_database(worker_media, desk, bob):
    names = [
        default_storage.save(
            "imports/t/0000-walikale.txt", ContentFile(b"Walikale\n\nRebels withdraw.")
        ),
        default_storage.save(
            "imports/t/0001-broken.txt", ContentFile(b"No blank line\nafter title")
        ),
    ]
    job = ImportJob.objects.create(
        organization=desk.organization, collection=desk, created_by=bob, files=names, total=2
    )
    outcome = tasks.run_import_job.delay(job.pk).get(timeout=60)
    assert outcome["created"] == 1
    assert outcome["errors"] == ["broken.txt:2: the title must be followed by a blank line"]
    job.refresh_from_db()
    assert (job.status, job.processed, job.total) == ("done", 2, 2)
    article = Article.objects.get(collection=desk)
    assert (article.title, article.text) == ("Walikale", "Rebels withdraw.")
    # The uploads are removed once they are in the database.
    assert not any(default_storage.exists(name) for name in names)


@pytest.mark.django_db(transaction=True)
def test_an_agreement_run_fans_out_on_the_worker_and_adds_up(
    celery_worker, desk, alice, bob, carol
):
    from annotations.agreement import runs as agreement_runs
    from tests.agreement.test_agreement_runs import make_collection

    make_collection(desk, [alice, bob, carol], articles=6)
    here = agreement_runs.report_run_here(
        agreement_runs.report_start(collection=desk), chunk_size=2
    )
    report = agreement_runs.report_start(collection=desk)
    tasks.agreement_run.delay(report.pk).get(timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if report.is_finished:
            break
        time.sleep(0.2)
    assert report.status == "done", report.failure
    assert report.processed == report.total == 6
    assert report.results == here.results


@pytest.mark.django_db(transaction=True)
def test_a_changed_claim_refreshes_agreement_on_the_worker(celery_worker, desk, alice, bob):
    from annotations.agreement import runs as agreement_runs
    from annotations.models import ClaimAnnotation, VerdictLabel
    from annotations.reader.services import claim_update
    from tests.agreement.test_agreement_runs import make_collection

    make_collection(desk, [alice, bob], articles=2)
    # The refreshes each new claim asked for, done with before the run.
    wait_until_idle()
    report = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    first_refresh = report.refreshed_at
    claim = ClaimAnnotation.objects.filter(reviewer=alice).first()
    other = VerdictLabel.objects.filter(taxonomy=desk.taxonomy).exclude(pk=claim.verdict_id).first()
    claim_update(
        claim=claim,
        user=alice,
        expected_version=claim.version,
        verdict=other,
        rating=None,
        note="changed my mind",
        sources=[],
    )
    # Debounced by a couple of seconds, then the worker refreshes the figures.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if report.refreshed_at != first_refresh:
            break
        time.sleep(0.2)
    assert report.refreshed_at != first_refresh
    wait_until_idle()
    report.refresh_from_db()
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert report.results["verdict"] == full.results["verdict"]


@pytest.mark.django_db(transaction=True)
def test_an_imports_articles_are_refreshed_together_on_the_worker(
    celery_worker, desk, alice, bob, carol
):
    from annotations.agreement import runs as agreement_runs
    from annotations.models import ClaimAnnotation, VerdictLabel
    from annotations.reader.services import claims_added
    from tests.agreement.test_agreement_runs import make_collection

    make_collection(desk, [alice, bob, carol], articles=5)
    # The refreshes each new claim asked for, done with before the run.
    wait_until_idle()
    report = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    first_refresh = report.refreshed_at
    touched = list(desk.articles.order_by("pk").values_list("pk", flat=True)[:4])
    last = VerdictLabel.objects.filter(taxonomy=desk.taxonomy).order_by("order").last()
    # Claims written as an import writes them, then their agreement asked for once.
    ClaimAnnotation.objects.filter(article_id__in=touched, reviewer=carol).update(verdict=last)
    claims_added(article_ids=touched)
    wait_until_idle()
    report.refresh_from_db()
    assert report.refreshed_at != first_refresh
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert report.results == full.results
