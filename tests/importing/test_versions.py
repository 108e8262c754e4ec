"""A changed article arrives: its claims follow the text, and editors see what changed."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command
from django.urls import reverse

from annotations import tasks
from annotations.models import AnchorChange, Article, ClaimAnnotation, VerifiedClaim
from annotations.reader.services import assignment_ensure, claim_create
from annotations.verification.services import Judgement, verified_claim_save
from tests.conftest import login

URL = "https://news.example/walikale"
V1 = (
    "Officers doubted that the convoy would leave before Friday.\n"
    "The rebels said they would reposition their forces from Walikale.\n"
    "A spokesman said the move would give peace a chance."
)
# The first line replaced (a deletion, and an edit before the other claims),
# and an edit inside a claim.
V2 = (
    "Update: the army has not commented.\n"
    "The rebels said they would reposition their forces from Walikale.\n"
    "A spokesman said the move would truly give peace a chance."
)


def import_text(tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(json.dumps({"title": "Walikale", "url": URL, "text": text}) + "\n")
    call_command(
        "import_articles",
        "--org",
        "planet",
        "--collection",
        "politics",
        str(path),
        stdout=StringIO(),
    )


def mark(article, reviewer, phrase):
    start = article.text.index(phrase)
    return claim_create(
        article=article,
        reviewer=reviewer,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        verdict=None,
        rating=None,
    )


def test_claims_follow_a_new_version_and_orphans_stay(
    tmp_path, desk, alice, bob, django_capture_on_commit_callbacks
):
    import_text(tmp_path, "v1.jsonl", V1)
    v1 = Article.objects.get(url=URL)
    assignment_ensure(article=v1, reviewer=alice)
    moved = mark(v1, alice, "reposition their forces")
    edited = mark(v1, alice, "the move would give peace a chance")
    orphan = mark(v1, alice, "the convoy would leave before Friday")
    start = v1.text.index("reposition their forces")
    verified = verified_claim_save(
        article=v1,
        editor=bob,
        judgement=Judgement(
            start=start,
            end=start + len("reposition their forces"),
            claim_reviewed="Rebels will reposition their forces",
            verdict=desk.taxonomy.labels.get(slug="misleading"),
        ),
    )

    with django_capture_on_commit_callbacks() as sent:
        import_text(tmp_path, "v2.jsonl", V2)
    assert len(sent) == 1  # the import sends the re-anchoring task when it commits
    v2 = Article.objects.get(url=URL, version=2)
    # Run the task's body here, whether or not a broker is configured.
    assert tasks.reanchor_version(v2.pk) == 4

    changes = {c.old_quote: c for c in AnchorChange.objects.filter(article=v2, claim__isnull=False)}
    assert changes["reposition their forces"].status == "moved"
    assert changes["the move would give peace a chance"].status == "edited"
    assert changes["the convoy would leave before Friday"].status == "orphaned"

    moved.refresh_from_db()
    assert (moved.article, v2.text[moved.start : moved.end]) == (v2, "reposition their forces")
    edited.refresh_from_db()
    assert edited.article == v2
    assert edited.quote == v2.text[edited.start : edited.end]
    assert "truly give peace a chance" in edited.quote
    orphan.refresh_from_db()
    assert orphan.article == v1  # kept, never deleted
    verified.refresh_from_db()
    assert verified.article == v2
    assert v2.text[verified.start : verified.end] == "reposition their forces"
    # The reviewer keeps working on the new version.
    assert v2.assignments.filter(reviewer=alice).exists()
    # The history keeps where the claim was before.
    assert [h.article_id for h in moved.history.order_by("history_date")] == [v1.pk, v2.pk]

    page = login_as(bob)
    response = page.get(reverse("version-changes", args=[v2.pk]))
    assert response.status_code == 200
    assert "Orphaned" in response.text
    assert "the convoy would leave before Friday" in response.text


def login_as(user):
    from django.test import Client

    return login(Client(), user)


def test_reimporting_the_same_version_moves_nothing(tmp_path, desk, alice):
    import_text(tmp_path, "v1.jsonl", V1)
    import_text(tmp_path, "again.jsonl", V1)
    assert Article.objects.filter(url=URL).count() == 1
    assert not AnchorChange.objects.exists()
    assert not ClaimAnnotation.objects.exists()
    assert not VerifiedClaim.objects.exists()


def test_agreement_after_a_new_version_counts_each_claim_once(
    tmp_path, desk, alice, carol, tasks_in_process, django_capture_on_commit_callbacks
):
    from annotations.agreement import runs as agreement_runs

    import_text(tmp_path, "v1.jsonl", V1)
    v1 = Article.objects.get(url=URL)
    for reviewer in (alice, carol):
        assignment_ensure(article=v1, reviewer=reviewer)
        mark(v1, reviewer, "reposition their forces")
        mark(v1, reviewer, "the move would give peace a chance")
    with django_capture_on_commit_callbacks(execute=True):
        report = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert report.results["units_total"] == 2
    # The new version arrives and the claims move onto it; the old one keeps none.
    with django_capture_on_commit_callbacks(execute=True):
        import_text(tmp_path, "v2.jsonl", V2)
    report.refresh_from_db()
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert full.results["units_total"] == 2
    assert report.results == full.results
