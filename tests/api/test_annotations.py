"""Reviewers' claims through the API: the reader's rules, with a key.

The demo article is under blind review. reviewer1 (4 claims) and reviewer2
(3 claims) are assigned and have not submitted: each sees only their own. The
editor is not assigned and sees everyone's. The Rival Gazette sees nothing.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from annotations.models import Assignment, ClaimAnnotation
from annotations.newsrooms.services import member_create, organization_create
from annotations.reader.services import assignment_submit
from tests.api.conftest import key_for, keyed

LIST = "/api/v1/annotations/"
READ_WRITE = "read:annotations,write:annotations"
PHRASE = "concrete action"


def detail(pk: int) -> str:
    return f"/api/v1/annotations/{pk}/"


def client_of(username: str, scopes: str = READ_WRITE):
    return keyed(key_for(username, scopes))


def new_claim(demo_article, **changes) -> dict:
    start = demo_article.text.index(PHRASE)
    return {
        "article": demo_article.pk,
        "start": start,
        "end": start + len(PHRASE),
        "quote": PHRASE,
        "verdict": "misleading",
        "note": "No action yet.",
        "sources": [
            {"url": "https://acled.example/drc", "title": "ACLED", "stance": "refutes"},
            {"url": "https://tipster.example/", "confidential": True},
        ],
    } | changes


def listed(client, article) -> dict:
    response = client.get(LIST, {"article": article.pk})
    assert response.status_code == 200, response.content
    return response.json()


def test_blind_review_shows_reviewers_only_their_own_until_they_submit(demo):
    one, two, editor = client_of("reviewer1"), client_of("reviewer2"), client_of("editor")

    mine = listed(one, demo)
    theirs = listed(two, demo)
    everyone = listed(editor, demo)

    assert mine["sees_all"] is False
    assert {c["reviewer"] for c in mine["results"]} == {"reviewer1"}
    assert len(mine["results"]) == 4
    assert {c["reviewer"] for c in theirs["results"]} == {"reviewer2"}
    assert everyone["sees_all"] is True
    assert len(everyone["results"]) == 7
    hidden = next(c for c in everyone["results"] if c["reviewer"] == "reviewer1")
    assert two.get(detail(hidden["id"])).status_code == 404
    assert editor.get(detail(hidden["id"])).json() == hidden

    reviewer2 = User.objects.get(username="reviewer2")
    assignment = Assignment.objects.get(article=demo, reviewer=reviewer2)
    assignment_submit(assignment=assignment, user=reviewer2, confirm_unchecked=True)

    assert len(listed(two, demo)["results"]) == 7
    assert two.get(detail(hidden["id"])).status_code == 200


def test_a_reviewer_creates_reads_updates_and_deletes_a_claim(demo):
    client = client_of("reviewer1")

    created = client.post(LIST, new_claim(demo), format="json")

    assert created.status_code == 201, created.content
    claim = created.json()
    assert (claim["quote"], claim["reviewer"], claim["verdict"]) == (
        PHRASE,
        "reviewer1",
        "misleading",
    )
    assert claim["status"] == "checked"
    assert claim["version"] == 1
    assert [s["stance"] for s in claim["sources"]] == ["refutes", "context"]
    assert claim["sources"][1]["confidential"] is True
    assert claim["suffix"] == demo.text[claim["end"] : claim["end"] + 32]
    assert client.get(detail(claim["id"])).json() == claim

    changed = client.patch(
        detail(claim["id"]), {"version": 1, "verdict": None, "rating": None}, format="json"
    )

    assert changed.status_code == 200, changed.content
    assert changed.json()["status"] == "to_check"
    assert changed.json()["version"] == 2
    assert changed.json()["note"] == "No action yet.", "what the PATCH leaves out stays"
    assert len(changed.json()["sources"]) == 2

    deleted = client.delete(detail(claim["id"]))

    assert deleted.status_code == 204
    assert client.get(detail(claim["id"])).status_code == 404
    assert ClaimAnnotation.all_objects.get(pk=claim["id"]).deleted_at is not None


def test_a_claim_without_a_verdict_is_to_check(demo):
    response = client_of("reviewer2").post(
        LIST, new_claim(demo, verdict=None, sources=[]), format="json"
    )

    assert response.status_code == 201, response.content
    assert (response.json()["verdict"], response.json()["status"]) == (None, "to_check")


def test_a_stale_version_answers_409_with_the_stored_claim(demo):
    client = client_of("reviewer1")
    claim = client.post(LIST, new_claim(demo), format="json").json()
    first = client.patch(detail(claim["id"]), {"version": 1, "note": "First."}, format="json")
    assert first.status_code == 200

    stale = client.patch(detail(claim["id"]), {"version": 1, "note": "Second."}, format="json")

    assert stale.status_code == 409
    body = stale.json()
    assert body["code"] == "conflict"
    assert "version 2" in body["detail"]
    assert body["current"]["version"] == 2
    assert body["current"]["note"] == "First."
    assert ClaimAnnotation.objects.get(pk=claim["id"]).note == "First."


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end": 10_000_000}, "end"),
        ({"start": 5, "end": 5}, "end"),
        ({"quote": "something else"}, "quote"),
        ({"verdict": "pants-on-fire"}, "verdict"),
        ({"rating": 9}, "rating"),
        ({"sources": [{"url": "javascript:alert(1)"}]}, "sources.0.url"),
        ({"sources": [{"url": "https://a.example/", "stance": "maybe"}]}, "sources.0.stance"),
        ({"article": 999_999}, "article"),
    ],
)
def test_a_bad_claim_answers_400_naming_the_field(demo, changes, field):
    before = ClaimAnnotation.all_objects.count()

    response = client_of("reviewer1").post(LIST, new_claim(demo, **changes), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert ClaimAnnotation.all_objects.count() == before


def test_the_same_passage_twice_is_refused(demo):
    client = client_of("reviewer1")
    assert client.post(LIST, new_claim(demo), format="json").status_code == 201

    again = client.post(LIST, new_claim(demo), format="json")

    assert again.status_code == 400
    assert "quote" in again.json()["fields"]


def test_only_assigned_reviewers_who_have_not_submitted_create_claims(demo):
    editor = client_of("editor").post(LIST, new_claim(demo), format="json")
    reviewer1 = User.objects.get(username="reviewer1")
    assignment = Assignment.objects.get(article=demo, reviewer=reviewer1)
    assignment_submit(assignment=assignment, user=reviewer1, confirm_unchecked=True)
    submitted = client_of("reviewer1").post(LIST, new_claim(demo), format="json")

    assert editor.status_code == 403
    assert "not assigned" in editor.json()["detail"]
    assert submitted.status_code == 403
    assert "submitted" in submitted.json()["detail"]


def test_only_the_owner_changes_a_claim(demo):
    owner = client_of("reviewer1")
    claim = owner.post(LIST, new_claim(demo), format="json").json()

    # reviewer2 cannot even see it under blind review; the editor sees it, may not change it.
    hidden = client_of("reviewer2").patch(detail(claim["id"]), {"version": 1}, format="json")
    refused = client_of("editor").patch(
        detail(claim["id"]), {"version": 1, "note": "Editor's words"}, format="json"
    )
    not_deleted = client_of("editor").delete(detail(claim["id"]))

    assert hidden.status_code == 404
    assert refused.status_code == 403
    assert not_deleted.status_code == 403
    assert ClaimAnnotation.objects.get(pk=claim["id"]).note == "No action yet."


def test_a_key_without_the_scope_gets_403_naming_it(demo):
    reader = client_of("reviewer1", "read:annotations")
    claim = ClaimAnnotation.objects.filter(reviewer__username="reviewer1").first()

    created = reader.post(LIST, new_claim(demo), format="json")
    changed = reader.patch(detail(claim.pk), {"version": claim.version}, format="json")
    listing = client_of("reviewer1", "read:articles").get(LIST, {"article": demo.pk})

    assert created.status_code == 403
    assert "write:annotations" in created.json()["detail"]
    assert changed.status_code == 403
    assert listing.status_code == 403
    assert "read:annotations" in listing.json()["detail"]


def test_the_list_needs_an_article(demo):
    response = client_of("editor").get(LIST)

    assert response.status_code == 400
    assert "article" in response.json()["fields"]


def test_a_body_over_the_limit_answers_413(demo, settings):
    settings.WORKBENCH_API_MAX_BODY_BYTES = 1_000

    response = client_of("reviewer1").post(LIST, new_claim(demo, note="n" * 2_000), format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_another_newsroom_gets_404_and_never_the_claims(demo):
    gazette = organization_create(slug="gazette", name="Rival Gazette")
    member_create(organization=gazette, username="rival", role="editor", password="x" * 12)
    rival = keyed(key_for("rival", READ_WRITE, org="gazette"))
    claim = ClaimAnnotation.objects.filter(reviewer__username="reviewer1").first()

    answers = [
        rival.get(LIST, {"article": demo.pk}),
        rival.get(detail(claim.pk)),
        rival.patch(detail(claim.pk), {"version": claim.version, "note": "x"}, format="json"),
        rival.delete(detail(claim.pk)),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert not any(claim.quote in a.content.decode() for a in answers)
    created = rival.post(LIST, new_claim(demo), format="json")
    assert created.status_code == 400
    assert "article" in created.json()["fields"]
    claim.refresh_from_db()
    assert claim.deleted_at is None


# Many claims at once -------------------------------------------------------------------

BULK = "/api/v1/annotations/bulk/"
PHRASES = ("concrete action", "backed by Rwanda", "EU sanctions", "press release")


def bulk_of(demo_article, *phrases: str, **changes) -> dict:
    return {"annotations": [new_claim_at(demo_article, phrase, **changes) for phrase in phrases]}


def new_claim_at(demo_article, phrase: str, **changes) -> dict:
    start = demo_article.text.index(phrase)
    return new_claim(demo_article, start=start, end=start + len(phrase), quote=phrase) | changes


def test_a_reviewer_creates_many_claims_at_once(demo, django_capture_on_commit_callbacks):
    from tests.importing.test_bulk_claims import refreshes_sent

    client = client_of("reviewer1")
    before = ClaimAnnotation.objects.filter(reviewer__username="reviewer1").count()

    with refreshes_sent() as sent, django_capture_on_commit_callbacks(execute=True):
        response = client.post(BULK, bulk_of(demo, *PHRASES), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["present"]) == (4, 0)
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert {r["outcome"] for r in body["results"]} == {"created"}
    assert [r["annotation"]["quote"] for r in body["results"]] == list(PHRASES)
    assert body["results"][0]["annotation"]["reviewer"] == "reviewer1"
    assert [s["stance"] for s in body["results"][2]["annotation"]["sources"]] == [
        "refutes",
        "context",
    ]
    assert ClaimAnnotation.objects.filter(reviewer__username="reviewer1").count() == before + 4
    assert sent == {demo.pk: 1}, "one agreement request for the article, not one per claim"
    first = ClaimAnnotation.objects.get(pk=body["results"][0]["annotation"]["id"])
    assert first.history.get().history_type == "+"
    # The collection's activity says who marked them, as for claims made one by one.
    from annotations.models import Activity

    marked = Activity.objects.filter(kind="marked_claim", actor__username="reviewer1")
    assert sorted(marked.values_list("claim_id", flat=True)) == sorted(
        r["annotation"]["id"] for r in body["results"]
    )


def test_sending_the_same_claims_again_answers_present_with_the_stored_ones(demo):
    client = client_of("reviewer1")
    first = client.post(BULK, bulk_of(demo, *PHRASES[:2]), format="json").json()

    again = client.post(BULK, bulk_of(demo, *PHRASES[:3]), format="json")

    assert again.status_code == 201
    body = again.json()
    assert [r["outcome"] for r in body["results"]] == ["present", "present", "created"]
    assert [r["annotation"]["id"] for r in body["results"][:2]] == [
        r["annotation"]["id"] for r in first["results"]
    ]
    assert client.post(BULK, bulk_of(demo, *PHRASES[:3]), format="json").status_code == 200


def test_one_bad_item_stores_nothing_and_names_every_problem(demo):
    before = ClaimAnnotation.all_objects.count()
    body = bulk_of(demo, *PHRASES)
    body["annotations"][1]["quote"] = "something else"
    body["annotations"][2]["end"] = 10_000_000
    body["annotations"][3]["verdict"] = "pants-on-fire"

    response = client_of("reviewer1").post(BULK, body, format="json")

    assert response.status_code == 400, response.content
    fields = response.json()["fields"]
    assert set(fields) == {"annotations.1.quote", "annotations.2.end", "annotations.3.verdict"}
    assert "Unknown verdict 'pants-on-fire'" in fields["annotations.3.verdict"][0]
    assert ClaimAnnotation.all_objects.count() == before


def test_an_invalid_shape_answers_400_naming_the_item(demo):
    body = bulk_of(demo, *PHRASES[:2])
    body["annotations"][1]["start"] = "twelve"

    shape = client_of("reviewer1").post(BULK, body, format="json")
    empty = client_of("reviewer1").post(BULK, {"annotations": []}, format="json")

    assert shape.status_code == 400
    assert "annotations.1.start" in shape.json()["fields"]
    assert empty.status_code == 400
    assert "annotations" in empty.json()["fields"]


def test_more_than_the_limit_is_refused(demo):
    from annotations.api.serializers import MAX_BULK_ANNOTATIONS

    one = new_claim_at(demo, PHRASES[0], sources=[], note="")
    response = client_of("reviewer1").post(
        BULK, {"annotations": [one] * (MAX_BULK_ANNOTATIONS + 1)}, format="json"
    )

    assert response.status_code == 400
    assert "no more than 500" in response.json()["fields"]["annotations"][0]


def test_articles_not_assigned_or_submitted_are_refused_with_their_index(demo):
    reviewer2 = User.objects.get(username="reviewer2")
    assignment = Assignment.objects.get(article=demo, reviewer=reviewer2)
    assignment_submit(assignment=assignment, user=reviewer2, confirm_unchecked=True)
    before = ClaimAnnotation.all_objects.count()

    editor = client_of("editor").post(BULK, bulk_of(demo, *PHRASES[:2]), format="json")
    submitted = client_of("reviewer2").post(BULK, bulk_of(demo, PHRASES[0]), format="json")
    unknown = bulk_of(demo, *PHRASES[:2])
    unknown["annotations"][1]["article"] = 999_999
    elsewhere = client_of("reviewer1").post(BULK, unknown, format="json")

    assert editor.status_code == 403
    assert "annotations[0]: You are not assigned" in editor.json()["detail"]
    assert "annotations[1]: You are not assigned" in editor.json()["detail"]
    assert submitted.status_code == 403
    assert "annotations[0]: You have submitted" in submitted.json()["detail"]
    assert elsewhere.status_code == 403
    assert "annotations[1]: You are not assigned" in elsewhere.json()["detail"]
    assert "annotations[0]" not in elsewhere.json()["detail"]
    assert ClaimAnnotation.all_objects.count() == before


def test_bulk_needs_the_write_scope(demo):
    response = client_of("reviewer1", "read:annotations").post(
        BULK, bulk_of(demo, PHRASES[0]), format="json"
    )

    assert response.status_code == 403
    assert "write:annotations" in response.json()["detail"]


def test_another_reviewers_span_is_not_present_to_you(demo):
    # Blind review: reviewer2 marks what reviewer1 marked; they get a claim of their
    # own, never reviewer1's claim (nor a hint that it exists).
    client_of("reviewer1").post(BULK, bulk_of(demo, PHRASES[1]), format="json")

    response = client_of("reviewer2").post(BULK, bulk_of(demo, PHRASES[1]), format="json")

    assert response.status_code == 201
    result = response.json()["results"][0]
    assert result["outcome"] == "created"
    assert result["annotation"]["reviewer"] == "reviewer2"
