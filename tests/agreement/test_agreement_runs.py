"""Agreement on a collection, through the database, the command and the dashboard."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from io import StringIO

import krippendorff
import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from annotations.agreement import runs as agreement_runs
from annotations.agreement.kappas import fleiss_kappa, weighted_kappa_from_confusion
from annotations.agreement.matching import Span, match_spans, unit_labels
from annotations.agreement.plain import band, headline
from annotations.agreement.reliability import pair_confusion_matrices, value_counts
from annotations.agreement.sums import from_message, to_message
from annotations.core.inputs import ArticleInput
from annotations.importing.services import article_import
from annotations.models import (
    AgreementReport,
    Article,
    ArticleAgreement,
    ClaimAnnotation,
    Collection,
    JobStatus,
    VerdictLabel,
)
from annotations.reader.services import (
    assignment_ensure,
    claim_create,
    claim_delete,
    claim_update,
    claims_added,
)
from tests.conftest import login
from tests.factories import ArticleFactory

# These tests run tasks in-process; with a broker configured, the same paths
# are covered through a real worker in tests/integration/.
in_process = pytest.mark.usefixtures("tasks_in_process")

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


def set_verdict(claim, verdict, capture) -> None:
    """The claim's reviewer gives it another verdict, as in the reader; the refresh
    that asks for runs when the save commits."""
    claim.refresh_from_db()
    with capture(execute=True):
        claim_update(
            claim=claim,
            user=claim.reviewer,
            expected_version=claim.version,
            verdict=verdict,
            rating=None,
            note="",
            sources=[],
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


def test_one_reviewer_is_named_and_said_to_be_alone(desk, alice):
    make_collection(desk, [alice], articles=2)
    results = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk)).results
    # The report used to say `reviewers: []` and "no pairable units".
    assert results["reviewers"] == ["alice"]
    assert results["reason"] == "only one reviewer"
    assert results["verdict"]["alpha"] is None
    assert results["verdict"]["reason"] == "only one reviewer"
    assert results["pairs"] == []
    assert headline(results).sentences == [
        "Only one reviewer (alice) has marked claims in these articles: "
        "there is no one to compare with yet."
    ]


def test_the_headline_says_in_words_what_the_figures_say(desk, alice, bob, carol):
    make_collection(desk, [alice, bob, carol])
    results = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk)).results
    spans = results["spans"]["pairs"]
    found = sum(2 * p["matched"] for p in spans) / sum(p["spans_a"] + p["spans_b"] for p in spans)
    sentences = headline(results).sentences
    assert (
        sentences[0] == f"Reviewers marked the same claims {round(found * 100)} times out of 100."
    )
    same = round(results["verdict"]["percent_agreement"] * 100)
    assert sentences[1].startswith(f"On claims both marked, they gave the same verdict {same}% ")
    assert band(results["verdict"]["alpha"]) in sentences[1]
    assert f"{results['disputed_count']} claims are disputed" in sentences[-1]
    # The bootstrap says what it did.
    assert results["verdict"]["ci_resamples"] == 1000
    assert 0 <= results["verdict"]["ci_undefined_resamples"] < 1000


def test_a_figure_from_too_few_claims_says_so_and_keeps_its_value(
    client, db, tasks_in_process, django_capture_on_commit_callbacks
):
    demo()
    report = run_command("--org", "demo", "--collection", "great-lakes", "--json")
    # Two pairable claims: the alpha is computed, and flagged.
    assert report["min_units"] == 10
    assert report["verdict"]["units"] == 2
    assert report["verdict"]["warning"] == "too few claims to say (n = 2)"
    assert report["verdict"]["alpha"] is not None
    assert report["pairs"][0]["warning"] == "too few claims to say (n = 2)"
    collection = Collection.objects.get(slug="great-lakes")
    editor = User.objects.get(username="editor")
    client.force_login(editor)
    page = client.get(reverse("agreement", args=[collection.pk]))
    verdicts = page.text.split("<h3>Verdicts</h3>")[1].split("</div>")[0]
    assert '<p class="big">Too few claims to say (n = 2)</p>' in verdicts
    assert "α = " not in verdicts
    assert "Same verdict" not in verdicts
    rest = page.text.split("Each reviewer against the rest")[1].split("</table>")[0]
    assert rest.count("Too few claims to say (n = 2)") == 2
    assert "0.000" not in rest
    # The threshold is the collection's, set by the editor with the next run.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("agreement-run", args=[collection.pk]), {"min_units": "2"})
    page = client.get(reverse("agreement", args=[collection.pk]))
    verdicts = page.text.split("<h3>Verdicts</h3>")[1].split("</div>")[0]
    assert "Too few claims to say" not in verdicts
    assert "α = " in verdicts
    assert 'name="min_units" min="1" max="10000" step="1" value="2"' in page.text
    report = run_command("--org", "demo", "--collection", "great-lakes", "--json")
    assert report["verdict"]["warning"] is None


def test_an_article_nobody_reviewed_says_not_reviewed(client, desk, alice, bob):
    make_collection(desk, [alice, bob], articles=3)
    untouched = ArticleFactory(collection=desk, title="Nobody has read this yet")
    assignment_ensure(article=untouched, reviewer=alice)
    results = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk)).results
    row = next(a for a in results["articles"] if a["id"] == untouched.pk)
    assert row["disagreement"] is None
    assert row["reviewed"] is False
    page = login(client, bob).get(reverse("agreement", args=[desk.pk]))
    cell = page.text.split("Nobody has read this yet")[1].split("</tr>")[0]
    assert "not reviewed" in cell
    assert "0%" not in cell


def test_the_statistics_researchers_expect_are_in_the_report(desk, alice, bob, carol):
    make_collection(desk, [alice, bob, carol])
    results = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk)).results
    rows = []
    confusion: dict = {}
    for article in desk.articles.all():
        spans = [
            Span(c.pk, c.reviewer_id, c.start, c.end, c.verdict_id, c.rating)
            for c in ClaimAnnotation.objects.filter(article=article)
        ]
        units = match_spans(spans, threshold=desk.iou_threshold).units
        labels = list(VerdictLabel.objects.filter(taxonomy=desk.taxonomy).order_by("order", "pk"))
        counts = value_counts(unit_labels(units, "verdict"), [v.pk for v in labels])
        rows += [row for row in counts if row.sum() >= 2]
        scale = list(range(desk.taxonomy.worst_rating, desk.taxonomy.best_rating + 1))
        for pair, m in pair_confusion_matrices(unit_labels(units, "rating"), scale).items():
            confusion[pair] = confusion.get(pair, 0) + m
    assert results["fleiss"]["kappa"] == pytest.approx(fleiss_kappa(np.array(rows)).kappa, 1e-12)
    assert results["fleiss"]["units"] == len(rows)
    first = results["pairs"][0]
    pair = min(confusion)
    assert first["weighted_kappa_quadratic"] == pytest.approx(
        weighted_kappa_from_confusion(confusion[pair], "quadratic").kappa, 1e-12
    )
    assert 0 < results["spans"]["unitizing"]["alpha"] < 1
    assert results["spans"]["unitizing"]["articles"] == 12


@in_process
def test_the_dashboard_lists_disputed_claims_with_their_adjudication_but_not_blind_ones(
    client, desk, alice, bob, carol, django_capture_on_commit_callbacks
):
    make_collection(desk, [alice, carol], articles=3)
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    page = login(client, bob).get(reverse("agreement", args=[desk.pk]))
    assert "Disputed claims" in page.text
    results = AgreementReport.objects.latest("finished_at").results
    unit = results["listed"]["disputed"][0]
    claim = ClaimAnnotation.objects.get(pk=unit["claims"][0])
    link = f"/articles/{claim.article_id}/adjudicate/#claim-{claim.pk}"
    assert link in page.text
    # Bob is now a reviewer of that article too, not yet submitted: its claims
    # leave the lists (and the articles table) until he submits.
    assignment_ensure(article=claim.article, reviewer=bob)
    page = client.get(reverse("agreement", args=[desk.pk]))
    assert link not in page.text
    assert f"/articles/{claim.article_id}/adjudicate/" not in page.text


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
def test_claims_changed_on_many_articles_at_once_are_refreshed_together_as_a_full_run_would(
    desk, alice, bob, carol, django_capture_on_commit_callbacks
):
    # An import: claims land on many articles, and each article's agreement is
    # asked for once, in one message, then recomputed together.
    make_collection(desk, [alice, bob, carol], articles=8)
    report = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    touched = list(desk.articles.order_by("pk").values_list("pk", flat=True)[:6])
    labels = list(VerdictLabel.objects.filter(taxonomy=desk.taxonomy).order_by("order"))
    # Carol changes her mind on every claim of six articles, written as an import writes.
    ClaimAnnotation.objects.filter(article_id__in=touched, reviewer=carol).update(
        verdict=labels[-1]
    )
    before = report.results["verdict"]["alpha"]
    with django_capture_on_commit_callbacks(execute=True) as sent:
        claims_added(article_ids=touched + touched)
    assert len(sent) == 1
    report.refresh_from_db()
    assert report.results["verdict"]["alpha"] != before
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert full.results == report.results


@in_process
def test_a_claim_changed_while_a_run_counts_is_in_that_runs_figures(
    desk, alice, bob, django_capture_on_commit_callbacks
):
    make_collection(desk, [alice, bob], articles=4)
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    # A second run is counting: its first chunk has read article 1 already...
    run = agreement_runs.report_start(collection=desk)
    first, rest = agreement_runs.chunks(run, size=2)[0], agreement_runs.chunks(run, size=2)[1:]
    partials = [agreement_runs.report_chunk(run, first)]
    # ...when alice changes her mind on a claim of article 1.
    bobs = set(
        ClaimAnnotation.objects.filter(reviewer=bob, article_id=first[0]).values_list(
            "start", "end"
        )
    )
    claim = next(
        c
        for c in ClaimAnnotation.objects.filter(reviewer=alice, article_id=first[0])
        if any(start < c.end and c.start < end for start, end in bobs)
    )
    other = VerdictLabel.objects.filter(taxonomy=desk.taxonomy).exclude(pk=claim.verdict_id)[0]
    set_verdict(claim, other, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        partials += [agreement_runs.report_chunk(run, ids) for ids in rest]
        run.refresh_from_db()
        agreement_runs.report_finish(run, partials)
    run.refresh_from_db()
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert run.results["verdict"]["units"] == full.results["verdict"]["units"]
    assert run.results == full.results
    # And the next change swaps against the right counts.
    set_verdict(
        claim,
        VerdictLabel.objects.filter(taxonomy=desk.taxonomy)[0],
        django_capture_on_commit_callbacks,
    )
    full.refresh_from_db()
    again = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert full.results == again.results


def test_a_chunks_counts_come_through_its_task_result_unchanged(desk, alice, bob):
    make_collection(desk, [alice, bob], articles=3)
    run = agreement_runs.report_start(collection=desk)
    partial = agreement_runs.report_chunk(run, agreement_runs.chunks(run)[0])
    # The task result travels as Celery's JSON: one short string, read back whole.
    message = json.loads(json.dumps(to_message(partial)))
    assert isinstance(message, str)
    assert len(message) < len(json.dumps(partial))
    assert from_message(message) == partial
    # A result from a worker of the previous release (the counts as a dict) still reads.
    assert from_message(json.loads(json.dumps(partial))) == partial


@in_process
def test_a_run_rewrites_only_the_records_of_articles_whose_claims_changed(
    desk, alice, bob, django_capture_on_commit_callbacks
):
    make_collection(desk, [alice, bob], articles=4)
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))

    def stored() -> dict[int, tuple]:
        return {
            a: (bytes(r), at)
            for a, r, at in ArticleAgreement.objects.filter(article__collection=desk).values_list(
                "article_id", "record", "computed_at"
            )
        }

    first = stored()
    assert len(first) == 4
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert stored() == first
    claim = ClaimAnnotation.objects.filter(reviewer=alice).order_by("article_id", "start")[0]
    other = VerdictLabel.objects.filter(taxonomy=desk.taxonomy).exclude(pk=claim.verdict_id)[0]
    set_verdict(claim, other, django_capture_on_commit_callbacks)
    rerun = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    now = stored()
    assert [a for a in now if now[a] != first[a]] == [claim.article_id]
    # And the report that stored none of them still swaps a change exactly.
    set_verdict(
        claim,
        VerdictLabel.objects.filter(taxonomy=desk.taxonomy).exclude(pk=other.pk)[0],
        django_capture_on_commit_callbacks,
    )
    rerun.refresh_from_db()
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert rerun.refreshed_at > rerun.finished_at
    assert rerun.results == full.results


@in_process
def test_after_a_run_that_failed_halfway_a_change_still_adds_up(
    desk, alice, bob, django_capture_on_commit_callbacks
):
    make_collection(desk, [alice, bob], articles=4)
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    bobs = list(
        ClaimAnnotation.objects.filter(reviewer=bob).values_list("article_id", "start", "end")
    )
    # Alice's claims that pair with one of Bob's: their verdicts count.
    claims = [
        c
        for c in ClaimAnnotation.objects.filter(reviewer=alice).order_by("article_id", "start")
        if any(a == c.article_id and s < c.end and c.start < e for a, s, e in bobs)
    ]
    labels = list(VerdictLabel.objects.filter(taxonomy=desk.taxonomy))

    def change(claim: ClaimAnnotation) -> None:
        claim.refresh_from_db()
        verdict = next(v for v in labels if v.pk != claim.verdict_id)
        with django_capture_on_commit_callbacks(execute=True):
            claim_update(
                claim=claim,
                user=alice,
                expected_version=claim.version,
                verdict=verdict,
                rating=None,
                note="",
                sources=[],
            )

    # A run counts its first chunk, after a change it waited for, then dies.
    run = agreement_runs.report_start(collection=desk)
    change(claims[0])
    agreement_runs.report_chunk(run, agreement_runs.chunks(run, size=2)[0])
    agreement_runs.report_fail(run.pk, "WorkerLostError: the worker died")
    # The next change on that article swaps against what the last finished report counted.
    change(claims[0])
    change(claims[-1])
    latest = agreement_runs.latest_report(desk)
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert latest.results == full.results


def paired_claim(alice, bob) -> ClaimAnnotation:
    """A claim of alice's that overlaps one of bob's: its verdict counts."""
    bobs = list(
        ClaimAnnotation.objects.filter(reviewer=bob).values_list("article_id", "start", "end")
    )
    return next(
        c
        for c in ClaimAnnotation.objects.filter(reviewer=alice).order_by("article_id", "start")
        if any(a == c.article_id and s < c.end and c.start < e for a, s, e in bobs)
    )


def another_verdict(desk, claim) -> VerdictLabel:
    claim.refresh_from_db()
    return VerdictLabel.objects.filter(taxonomy=desk.taxonomy).exclude(pk=claim.verdict_id)[0]


@in_process
def test_a_change_counted_by_a_run_that_then_failed_is_still_refreshed(
    desk, alice, bob, django_capture_on_commit_callbacks
):
    make_collection(desk, [alice, bob], articles=4)
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    claim = paired_claim(alice, bob)
    # A run is counting: the change's refresh waits for it...
    run = agreement_runs.report_start(collection=desk)
    set_verdict(claim, another_verdict(desk, claim), django_capture_on_commit_callbacks)
    # ...its chunk reads the changed claim, and the run dies.
    chunk = next(c for c in agreement_runs.chunks(run, size=2) if claim.article_id in c)
    agreement_runs.report_chunk(run, chunk)
    agreement_runs.report_fail(run.pk, "WorkerLostError: the worker died")
    # The change is still asked for: the reconciliation sends its refresh again...
    pending = agreement_runs.refreshes_pending(
        requested_before=timezone.now() + timedelta(seconds=1)
    )
    assert claim.article_id in pending
    agreement_runs.refresh_articles(pending)
    # ...and the last finished report has it.
    latest = agreement_runs.latest_report(desk)
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert latest.results == full.results


@in_process
def test_a_runs_finish_delivered_again_keeps_the_changes_refreshed_since(
    desk, alice, bob, django_capture_on_commit_callbacks
):
    make_collection(desk, [alice, bob], articles=4)
    run = agreement_runs.report_start(collection=desk)
    partials = [agreement_runs.report_chunk(run, ids) for ids in agreement_runs.chunks(run, 2)]
    run.refresh_from_db()
    agreement_runs.report_finish(run, partials)
    claim = paired_claim(alice, bob)
    set_verdict(claim, another_verdict(desk, claim), django_capture_on_commit_callbacks)
    # The worker that finished died before it acknowledged: the finish comes again.
    run.refresh_from_db()
    agreement_runs.report_finish(run, partials)
    run.refresh_from_db()
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert run.results == full.results


def test_an_articles_length_is_kept_in_characters_and_counted_when_missing(desk, alice, bob):
    make_collection(desk, [alice, bob], articles=3)
    imported = article_import(
        collection=desk,
        data=ArticleInput(title="T", text="Ça 👍🏽 va, dit-il.", url="https://news.example/e"),
    ).article
    imported.refresh_from_db()
    assert imported.text_length == len(imported.text)
    counted = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    # Rows inserted without it (a bulk insert, or from before it was kept) count the same.
    Article.objects.filter(collection=desk).update(text_length=None)
    again = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert again.results == counted.results


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
    response = login(client, bob).post(
        reverse("agreement-run", args=[desk.pk]), {"min_units": "0"}, follow=True
    )
    assert "Too few to say below: at least 1 claim." in response.text
    desk.refresh_from_db()
    assert desk.agreement_min_units == 10
    assert not AgreementReport.objects.exists()


@in_process
def test_a_deleted_article_leaves_the_figures(desk, alice, bob, django_capture_on_commit_callbacks):
    make_collection(desk, [alice, bob], articles=4)
    before = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    gone = desk.articles.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        gone.delete()
    latest = agreement_runs.latest_report(desk)
    assert latest.pk != before.pk
    assert gone.pk not in {row["id"] for row in latest.results["articles"]}
    assert latest.results["articles_count"] == 3
