"""Agreement on a collection, through the database, the command and the dashboard."""

from __future__ import annotations

import json
import random
from io import StringIO

import krippendorff
import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.agreement import runs as agreement_runs
from annotations.models import AgreementReport, ClaimAnnotation, JobStatus, VerdictLabel
from annotations.reader.services import assignment_ensure, claim_create, claim_delete, claim_update
from tests.conftest import login
from tests.factories import ArticleFactory

# These tests run tasks in-process; with a broker configured, the same paths
# are covered through a real worker in tests/integration/.
in_process = pytest.mark.skipif(
    bool(settings.CELERY_BROKER_URL), reason="tasks go to a real broker; see tests/integration"
)

WORDS = (
    "the",
    "army",
    "said",
    "rebels",
    "would",
    "withdraw",
    "from",
    "the",
    "town",
    "before",
    "talks",
    "resumed",
    "in",
    "the",
    "capital",
)


def demo() -> None:
    call_command("demo", stdout=StringIO())


def run_command(*args: str) -> dict:
    out = StringIO()
    call_command("compute_agreement", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_command_prints_the_report_as_json(db):
    demo()
    report = run_command("--org", "demo", "--collection", "great-lakes", "--json")
    assert report["reviewers"] == ["reviewer1", "reviewer2"]
    # Both mark "reposition its forces" and "give peace a chance": two pairable units.
    assert report["units"] == 2
    assert report["verdict"]["metric"] == "nominal"
    assert report["rating"]["metric"] == "ordinal"
    assert report["rating"]["alpha"] is None
    assert report["rating"]["reason"] == "no pairable units"
    assert report["verdict"]["percent_agreement"] == 0.5
    pair = report["pairs"][0]
    assert (pair["a"], pair["b"], pair["units"], pair["percent_agreement"]) == (
        "reviewer1",
        "reviewer2",
        2,
        0.5,
    )
    # reviewer1 marked 4 claims, reviewer2 3, two in common.
    assert report["spans"]["pairs"][0]["f1"] == pytest.approx(2 * 2 / (4 + 3))
    # Same value as the reference package on the same two units.
    misleading = VerdictLabel.objects.get(taxonomy__organization__slug="demo", slug="misleading").pk
    unverifiable = VerdictLabel.objects.get(
        taxonomy__organization__slug="demo", slug="unverifiable"
    ).pk
    reference = krippendorff.alpha(
        reliability_data=np.array([[misleading, misleading], [misleading, unverifiable]], float),
        level_of_measurement="nominal",
    )
    assert report["verdict"]["alpha"] == pytest.approx(reference, abs=1e-9)
    assert AgreementReport.objects.get().status == JobStatus.DONE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--collection", "nowhere"], "No collection 'nowhere'"),
        (["--collection", "great-lakes", "--iou", "2"], "outside (0, 1]"),
        (["--collection", "great-lakes", "--match", "fuzzy"], "invalid choice"),
    ],
)
def test_the_command_refuses_bad_arguments(db, args, message):
    demo()
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace("]", r"\]")):
        call_command("compute_agreement", "--org", "demo", *args, stdout=StringIO())


def make_collection(desk, reviewers, articles: int = 12, seed: int = 7):
    """Articles where three reviewers mark nearly the same spans, with some disagreement."""
    rng = random.Random(seed)
    labels = list(VerdictLabel.objects.filter(taxonomy=desk.taxonomy).order_by("order"))
    for n in range(articles):
        text = " ".join(rng.choice(WORDS) for _ in range(120))
        article = ArticleFactory(collection=desk, text=text, url=f"https://news.example/a{n}")
        starts = [i for i, ch in enumerate(text) if i == 0 or text[i - 1] == " "]
        for reviewer in reviewers:
            assignment_ensure(article=article, reviewer=reviewer)
        for k in range(6):
            for reviewer in reviewers:
                if rng.random() < 0.15:
                    continue  # this reviewer missed the claim
                shift = rng.choice([0, 0, 1])  # boundaries sometimes a word off
                start = starts[k * 15 + shift]
                end = starts[k * 15 + 4 + shift] - 1
                verdict = labels[k % 3] if rng.random() < 0.8 else rng.choice(labels)
                claim_create(
                    article=article,
                    reviewer=reviewer,
                    start=start,
                    end=end,
                    quote=text[start:end],
                    verdict=verdict,
                    rating=verdict.rating,
                )


def test_the_result_does_not_depend_on_the_number_of_chunks(desk, alice, bob, carol):
    make_collection(desk, [alice, bob, carol])
    results = []
    for size in (1, 5, 100):
        report = agreement_runs.report_start(collection=desk)
        results.append(agreement_runs.report_run_here(report, chunk_size=size).results)
    assert results[0] == results[1] == results[2]
    assert results[0]["units"] > 30
    assert 0 < results[0]["verdict"]["alpha"] < 1
    low, high = results[0]["verdict"]["ci"]
    assert low <= results[0]["verdict"]["alpha"] <= high


def test_overlap_matching_finds_units_that_exact_matching_misses(desk, alice, bob, carol):
    make_collection(desk, [alice, bob, carol])
    overlap = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    exact = agreement_runs.report_run_here(
        agreement_runs.report_start(collection=desk, mode="exact")
    )
    assert overlap.results["spans"]["f1_mean"] > exact.results["spans"]["f1_mean"]
    assert overlap.results["units"] > exact.results["units"]


def test_one_reviewer_gives_an_undefined_alpha_with_a_reason(desk, alice):
    make_collection(desk, [alice], articles=2)
    results = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk)).results
    assert results["verdict"]["alpha"] is None
    assert results["verdict"]["reason"] == "no pairable units"
    assert results["pairs"] == []


@in_process
def test_a_changed_claim_refreshes_the_collections_figures(
    desk, alice, bob, django_capture_on_commit_callbacks
):
    make_collection(desk, [alice, bob], articles=3)
    report = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    before = report.results["verdict"]["percent_agreement"]
    # Alice now agrees with Bob on every unit they share.
    bobs = {
        (c.article_id, c.start): c.verdict for c in ClaimAnnotation.objects.filter(reviewer=bob)
    }
    # Tasks run in-process here; they are sent when each save commits.
    with django_capture_on_commit_callbacks(execute=True) as sent:
        for claim in ClaimAnnotation.objects.filter(reviewer=alice):
            verdict = bobs.get((claim.article_id, claim.start))
            if verdict is not None and verdict != claim.verdict:
                claim_update(
                    claim=claim,
                    user=alice,
                    expected_version=claim.version,
                    verdict=verdict,
                    rating=claim.rating,
                    note="",
                    sources=[],
                )
    assert sent
    report.refresh_from_db()
    assert report.results["verdict"]["percent_agreement"] > before
    assert report.refreshed_at > report.finished_at
    # Swapping each changed article's part of the sums gives exactly what a full run gives.
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert full.results == report.results


@in_process
def test_an_article_emptied_of_claims_leaves_the_figures_as_a_full_run_would(
    desk, alice, bob, django_capture_on_commit_callbacks
):
    make_collection(desk, [alice, bob], articles=4)
    report = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    emptied = desk.articles.order_by("pk")[1]
    units_before = report.results["units"]
    with django_capture_on_commit_callbacks(execute=True):
        for claim in ClaimAnnotation.objects.filter(article=emptied):
            claim_delete(claim=claim, user=claim.reviewer)
    report.refresh_from_db()
    assert report.results["units"] < units_before
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert full.results == report.results


@in_process
def test_the_dashboard_shows_the_figures_to_editors_only(
    client, desk, alice, bob, carol, eve, django_capture_on_commit_callbacks
):
    make_collection(desk, [alice, carol], articles=3)
    url = reverse("agreement", args=[desk.pk])
    page = login(client, bob).get(url)
    assert page.status_code == 200
    assert "No agreement has been computed" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            reverse("agreement-run", args=[desk.pk]), {"match": "overlap", "iou": "0.5"}
        )
    assert started.status_code == 302
    page = client.get(url)
    # Tasks run in-process here, so the run has finished.
    assert "α = " in page.text
    assert "<svg" in page.text
    assert "Cohen&#x27;s kappa per pair" in page.text
    assert "alice" in page.text
    assert "carol" in page.text
    for outsider in (alice, eve):
        client.logout()
        assert login(client, outsider).get(url).status_code == 404


def test_a_failed_run_says_why_and_can_be_rerun(client, desk, bob):
    report = agreement_runs.report_start(collection=desk)
    agreement_runs.report_fail(report.pk, "OperationalError: the database went away")
    page = login(client, bob).get(reverse("agreement", args=[desk.pk]))
    assert "The last run failed: OperationalError: the database went away" in page.text
    client.post(reverse("agreement-run", args=[desk.pk]))
    assert "The last run failed" not in client.get(reverse("agreement", args=[desk.pk])).text


def test_a_bad_threshold_from_the_form_is_refused(client, desk, bob):
    response = login(client, bob).post(
        reverse("agreement-run", args=[desk.pk]), {"iou": "7"}, follow=True
    )
    assert "Iou threshold 7.0: use a number above 0 and at most 1." in response.text
    assert not AgreementReport.objects.exists()
