"""The reader through the Django test client, after a claim is marked: editing,
deleting and undoing, submitting under blind review, and an editor reopening a review.
"""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from annotations.models import Assignment, AssignmentStatus, ClaimAnnotation
from annotations.reader import services
from tests.html import claim_quotes
from tests.reader.conftest import HTMX, as_user, claim_post, mark, reader_url, verdict
from tests.reader.pages import (
    claim_form,
    form_errors,
    form_values,
    highlights,
    mark_classes,
    oob_paragraphs,
    posts_to,
)

# Editing, deleting, undoing -----------------------------------------------------------


def test_edit_opens_the_form_filled_with_the_claim(article, alice, claim):
    response = as_user(alice).get(reverse("claim-edit", args=[claim.pk]), headers=HTMX)
    assert response.status_code == 200
    assert "Edit claim" in response.text
    assert claim_form(response.text)["hx-post"] == reverse("claim-update", args=[claim.pk])
    shown = form_values(response.text)
    assert shown["quote"] == ["reposition its forces"]
    assert shown["version"] == ["1"]
    assert shown["verdict"] == [str(claim.verdict_id)]
    assert shown["rating"] == ["2"]
    assert shown["note"] == ["Words, not deeds."]
    assert shown["source_url"] == ["https://un.example/report"]
    assert shown["source_title"] == ["UN report"]
    assert shown["source_stance"] == ["refutes"]


def test_updating_a_claim_with_htmx_redraws_it(article, alice, claim):
    response = as_user(alice).post(
        reverse("claim-update", args=[claim.pk]),
        claim_post(
            article,
            "reposition its forces",
            version="1",
            verdict=str(verdict(article, "false").pk),
            rating="1",
            note="Satellite images show no movement.",
        ),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Claim updated." in response.text
    assert f"v{verdict(article, 'false').pk}" in mark_classes(response.text, claim.pk)[0]
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.verdict.slug, stored.rating, stored.note) == (
        2,
        "false",
        1,
        "Satellite images show no movement.",
    )
    assert not stored.sources.exists()  # the form sent no source rows: removed


@pytest.mark.parametrize("who", ["carol", "bob", "eve"])
@pytest.mark.parametrize("action", ["edit", "update", "delete", "restore"])
def test_someone_elses_claim_answers_404_to_every_claim_url(request, article, claim, who, action):
    client = as_user(request.getfixturevalue(who))
    if action == "restore":
        services.claim_delete(claim=claim, user=claim.reviewer)
    url = reverse(f"claim-{action}", args=[claim.pk])
    if action == "edit":
        response = client.get(url, headers=HTMX)
    else:
        response = client.post(
            url,
            claim_post(article, "reposition its forces", version="1", note="Hijacked."),
            headers=HTMX,
        )
    assert response.status_code == 404
    assert "Words, not deeds." not in response.text
    stored = ClaimAnnotation.all_objects.get(pk=claim.pk)
    assert stored.note == "Words, not deeds."
    assert (stored.deleted_at is not None) == (action == "restore")


def test_a_stale_update_answers_409_with_the_newer_version_and_keeps_what_was_typed(
    article, alice, claim
):
    # Another tab saved first.
    services.claim_update(
        claim=claim,
        user=alice,
        expected_version=1,
        verdict=verdict(article, "mostly-false"),
        rating=2,
        note="Checked in the other tab.",
        sources=[],
    )
    client = as_user(alice)
    mine = claim_post(
        article,
        "reposition its forces",
        version="1",
        verdict=str(verdict(article, "false").pk),
        rating="1",
        note="My own reading.",
        source_url=["https://mine.example/"],
        source_title=["Mine"],
        source_quote=[""],
        source_stance=["refutes"],
    )
    response = client.post(reverse("claim-update", args=[claim.pk]), mine, headers=HTMX)

    assert response.status_code == 409
    assert "This claim changed while you were editing it" in response.text
    assert "version 2" in response.text
    assert "Mostly false" in response.text
    assert "Checked in the other tab." in response.text
    shown = form_values(response.text)
    assert shown["note"] == ["My own reading."]
    assert shown["verdict"] == [mine["verdict"]]
    assert shown["rating"] == ["1"]
    assert shown["source_url"] == ["https://mine.example/"]
    assert shown["version"] == ["2"]  # saving again knowingly replaces the newer version
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.note) == (2, "Checked in the other tab.")

    mine["version"] = shown["version"][0]
    again = client.post(reverse("claim-update", args=[claim.pk]), mine, headers=HTMX)
    assert again.status_code == 200
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.note, stored.verdict.slug) == (3, "My own reading.", "false")
    assert [s.url for s in stored.sources.all()] == ["https://mine.example/"]


def test_a_rejected_update_changes_nothing_and_keeps_what_was_typed(article, alice, claim):
    response = as_user(alice).post(
        reverse("claim-update", args=[claim.pk]),
        claim_post(
            article,
            "reposition its forces",
            version="1",
            note="Changed my mind.",
            source_url=["data:text/html,hi"],
            source_title=[""],
            source_quote=[""],
            source_stance=["context"],
        ),
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "'data:text/html,hi' is not an http(s) address." in form_errors(response.text)
    assert form_values(response.text)["note"] == ["Changed my mind."]
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.note) == (1, "Words, not deeds.")
    assert [s.url for s in stored.sources.all()] == ["https://un.example/report"]


def test_delete_then_undo_through_the_reader(article, alice, claim):
    client = as_user(alice)
    deleted = client.post(reverse("claim-delete", args=[claim.pk]), headers=HTMX)
    assert deleted.status_code == 200
    assert "Claim deleted." in deleted.text
    assert posts_to(deleted.text, reverse("claim-restore", args=[claim.pk]))  # Undo
    assert oob_paragraphs(deleted.text) == [0]
    assert claim.pk not in highlights(deleted.text)
    assert claim_quotes(deleted.text) == []
    assert not ClaimAnnotation.objects.filter(pk=claim.pk).exists()
    assert claim.pk not in highlights(client.get(reader_url(article)).text)

    restored = client.post(reverse("claim-restore", args=[claim.pk]), headers=HTMX)
    assert restored.status_code == 200
    assert "Claim restored." in restored.text
    assert highlights(restored.text) == {claim.pk: "reposition its forces"}
    assert claim_quotes(restored.text) == ["reposition its forces"]
    assert ClaimAnnotation.objects.get(pk=claim.pk).note == "Words, not deeds."


def test_undo_is_refused_when_the_passage_was_marked_again_meanwhile(article, alice, claim):
    client = as_user(alice)
    client.post(reverse("claim-delete", args=[claim.pk]), headers=HTMX)
    client.post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "reposition its forces"),
        headers=HTMX,
    )
    response = client.post(reverse("claim-restore", args=[claim.pk]), headers=HTMX)
    assert response.status_code == 409
    assert "You already marked exactly this passage" in unescape(response.text)
    assert claim_quotes(client.get(reader_url(article)).text) == ["reposition its forces"]
    assert not ClaimAnnotation.objects.filter(pk=claim.pk).exists()


def test_delete_without_javascript_goes_back_to_the_reader_with_a_message(article, alice, claim):
    response = as_user(alice).post(reverse("claim-delete", args=[claim.pk]), follow=True)
    assert response.redirect_chain == [(reader_url(article), 302)]
    assert "Claim deleted." in response.text
    assert claim_quotes(response.text) == []


def test_a_claim_cannot_be_deleted_after_submitting(article, alice, alices, claim):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    response = as_user(alice).post(reverse("claim-delete", args=[claim.pk]), headers=HTMX)
    assert response.status_code == 409
    assert "ask an editor to reopen it" in response.text
    assert ClaimAnnotation.objects.filter(pk=claim.pk).exists()


# Submitting and blind review ----------------------------------------------------------


def test_submitting_with_claims_to_check_asks_first_then_submits(article, alice, alices):
    mark(article, alice, "give peace a chance")
    client = as_user(alice)
    url = reverse("assignment-submit", args=[article.pk])

    asked = client.post(url, headers=HTMX)
    assert asked.status_code == 422
    assert "1 claim(s) are still to check. Submit anyway?" in asked.text
    assert "Submit anyway" in asked.text
    assert 'name="confirm" value="1"' in asked.text
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.IN_PROGRESS

    done = client.post(url, {"confirm": "1"}, headers=HTMX)
    assert done.status_code == 200
    assert done["HX-Redirect"] == reader_url(article)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED
    page = client.get(reader_url(article))
    assert "Submitted. You can now see the other reviewers' claims." in unescape(page.text)
    assert "Submit my review" not in page.text


def test_submitting_without_javascript_redirects_to_the_reader(article, alice, alices, claim):
    response = as_user(alice).post(reverse("assignment-submit", args=[article.pk]))
    assert response.status_code == 302
    assert response["Location"] == reader_url(article)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED


def test_only_an_assigned_reviewer_can_submit(article, carol):
    response = as_user(carol).post(
        reverse("assignment-submit", args=[article.pk]), {"confirm": "1"}
    )
    assert response.status_code == 404
    assert not Assignment.objects.filter(status=AssignmentStatus.SUBMITTED).exists()


def test_under_blind_review_a_reviewer_sees_others_claims_only_after_submitting(
    article, alice, carol, alices, carols
):
    own = mark(article, alice, "give peace a chance", verdict=verdict(article, "true"))
    theirs = mark(article, carol, "reposition its forces", note="Carol's private note.")
    client = as_user(alice)

    blind = client.get(reader_url(article)).text
    assert claim_quotes(blind) == ["give peace a chance"]
    assert set(highlights(blind)) == {own.pk}
    assert "Carol's private note." not in unescape(blind)
    assert "Blind review" in blind

    client.post(reverse("assignment-submit", args=[article.pk]))
    seeing = client.get(reader_url(article)).text
    assert claim_quotes(seeing) == ["reposition its forces", "give peace a chance"]
    assert set(highlights(seeing)) == {own.pk, theirs.pk}
    assert "Carol's private note." in unescape(seeing)
    # Carol has not submitted: she still sees only her own.
    assert claim_quotes(as_user(carol).get(reader_url(article)).text) == ["reposition its forces"]


def test_without_blind_review_reviewers_see_each_others_claims_at_once(
    desk, article, alice, carol, alices, carols
):
    desk.blind_review = False
    desk.save()
    mark(article, carol, "reposition its forces")
    page = as_user(alice).get(reader_url(article)).text
    assert claim_quotes(page) == ["reposition its forces"]


# Reopening -------------------------------------------------------------------------


def test_an_editor_reopens_a_submitted_review_from_the_reader(article, alice, alices, bob):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    editor = as_user(bob)
    page = editor.get(reader_url(article)).text
    reopen = reverse("assignment-reopen", args=[alices.pk])
    assert posts_to(page, reopen)

    response = editor.post(reopen, follow=True)
    assert response.redirect_chain == [(reader_url(article), 302)]
    assert "Reopened alice's review." in unescape(response.text)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.ASSIGNED
    # And alice can mark claims again.
    again = as_user(alice).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "give peace a chance"),
        headers=HTMX,
    )
    assert again.status_code == 200


def test_a_reviewer_cannot_reopen_a_review(article, alice, alices, carol):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    for reviewer in (alice, carol):
        response = as_user(reviewer).post(reverse("assignment-reopen", args=[alices.pk]))
        assert response.status_code == 403
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED


def test_another_newsroom_cannot_reopen_our_reviews(article, alice, alices, eve):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    response = as_user(eve).post(reverse("assignment-reopen", args=[alices.pk]))
    assert response.status_code == 404
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED


def test_reopening_never_redirects_off_site(article, alice, alices, bob):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    response = as_user(bob).post(
        reverse("assignment-reopen", args=[alices.pk]), {"next": "//evil.example/phish"}
    )
    assert response.status_code == 302
    assert response["Location"] == reader_url(article)
