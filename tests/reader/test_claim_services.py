"""The services behind the reader and the collection page: claims, reviews, assignments.

Every rule here is one a reviewer or an editor runs into: a save that would
overwrite someone else's, a claim changed after submitting, an article given
to the same person twice.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from annotations.core.inputs import SourceInput
from annotations.models import Assignment, AssignmentStatus, ClaimAnnotation, Role, Source
from annotations.newsrooms import services as newsrooms_services
from annotations.newsrooms.services import collection_ensure
from annotations.reader import services
from annotations.reader.services import ClaimConflict, assignment_ensure
from tests.conftest import _member
from tests.factories import ArticleFactory
from tests.reader.conftest import mark


def verdict(collection, slug: str):
    return collection.taxonomy.labels.get(slug=slug)


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


@pytest.fixture
def dave(planet):
    return _member(planet, "dave", Role.REVIEWER)


@pytest.fixture
def alices(article, alice) -> Assignment:
    """Alice's assignment to the article."""
    return assignment_ensure(article=article, reviewer=alice)


@pytest.fixture
def claim(article, alice, alices) -> ClaimAnnotation:
    return mark(article, alice, "reposition its forces", note="Words, not deeds.")


# Optimistic locking ----------------------------------------------------------------


def test_a_save_from_a_stale_version_raises_a_conflict_carrying_the_newer_claim(claim, alice, desk):
    first_tab = services.claim_update(
        claim=ClaimAnnotation.objects.get(pk=claim.pk),
        user=alice,
        expected_version=1,
        verdict=verdict(desk, "misleading"),
        rating=None,
        note="Checked in the first tab.",
        sources=[SourceInput(url="https://un.example/first", stance="refutes")],
    )
    assert first_tab.version == 2

    with pytest.raises(ClaimConflict) as excinfo:
        services.claim_update(
            claim=ClaimAnnotation.objects.get(pk=claim.pk),
            user=alice,
            expected_version=1,
            verdict=verdict(desk, "false"),
            rating=1,
            note="Typed in the second tab.",
            sources=[SourceInput(url="https://un.example/second")],
        )

    newer = excinfo.value.current
    assert (newer.version, newer.note) == (2, "Checked in the first tab.")
    assert newer.verdict.slug == "misleading"
    # Nothing of the stale save is written: not the fields, not the sources.
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.note, stored.rating) == (2, "Checked in the first tab.", None)
    assert stored.verdict.slug == "misleading"
    assert list(Source.objects.filter(claim=claim).values_list("url", flat=True)) == [
        "https://un.example/first"
    ]


def test_a_save_from_the_current_version_replaces_verdict_note_and_sources(claim, alice, desk):
    services.claim_update(
        claim=claim,
        user=alice,
        expected_version=1,
        verdict=None,
        rating=None,
        note="",
        sources=[SourceInput(url="https://un.example/old")],
    )
    updated = services.claim_update(
        claim=claim,
        user=alice,
        expected_version=2,
        verdict=verdict(desk, "mostly-false"),
        rating=2,
        note="The army moved north, not out.",
        sources=[
            SourceInput(url="https://un.example/a", stance="refutes"),
            SourceInput(url="https://un.example/b", stance="context"),
        ],
    )
    assert updated.version == 3
    assert (updated.verdict.slug, updated.rating, updated.note) == (
        "mostly-false",
        2,
        "The army moved north, not out.",
    )
    assert [(s.url, s.stance) for s in updated.sources.order_by("order")] == [
        ("https://un.example/a", "refutes"),
        ("https://un.example/b", "context"),
    ]


@pytest.mark.parametrize("who", ["carol", "bob"])
def test_only_the_reviewer_who_made_a_claim_can_update_it(request, claim, desk, who):
    other = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.claim_update(
            claim=claim,
            user=other,
            expected_version=1,
            verdict=verdict(desk, "true"),
            rating=5,
            note="Not mine to change.",
            sources=[],
        )
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.verdict, stored.note) == (1, None, "Words, not deeds.")


def test_an_update_with_a_rating_out_of_range_is_refused_and_nothing_changes(claim, alice):
    with pytest.raises(ValidationError) as excinfo:
        services.claim_update(
            claim=claim,
            user=alice,
            expected_version=1,
            verdict=None,
            rating=9,
            note="Changed.",
            sources=[],
        )
    assert errors_of(excinfo)["rating"] == ["Rating 9 is outside 1–5."]
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.note, stored.rating) == (1, "Words, not deeds.", None)


# Delete and undo -------------------------------------------------------------------


def test_a_deleted_claim_disappears_and_restore_brings_it_back(claim, alice, article):
    services.claim_delete(claim=claim, user=alice)
    assert not ClaimAnnotation.objects.filter(pk=claim.pk).exists()
    assert not ClaimAnnotation.objects.filter(article=article).exists()

    restored = services.claim_restore(claim=claim, user=alice)
    assert restored.deleted_at is None
    assert list(ClaimAnnotation.objects.filter(article=article)) == [restored]
    assert restored.note == "Words, not deeds."


def test_only_the_reviewer_who_made_a_claim_can_delete_or_restore_it(claim, alice, carol):
    with pytest.raises(PermissionDenied):
        services.claim_delete(claim=claim, user=carol)
    assert ClaimAnnotation.objects.filter(pk=claim.pk).exists()

    services.claim_delete(claim=claim, user=alice)
    with pytest.raises(PermissionDenied):
        services.claim_restore(claim=claim, user=carol)
    assert not ClaimAnnotation.objects.filter(pk=claim.pk).exists()


def test_undo_is_refused_when_the_same_passage_was_marked_again_meanwhile(claim, alice, article):
    services.claim_delete(claim=claim, user=alice)
    again = mark(article, alice, "reposition its forces")
    with pytest.raises(ValidationError) as excinfo:
        services.claim_restore(claim=claim, user=alice)
    assert errors_of(excinfo)["quote"] == [
        "You already marked exactly this passage; edit that claim instead."
    ]
    assert list(ClaimAnnotation.objects.filter(article=article)) == [again]


# Rules on creating claims ------------------------------------------------------------


def test_it_refuses_new_claims_on_a_submitted_assignment(article, alice, alices):
    alices.status = AssignmentStatus.SUBMITTED
    alices.save()
    with pytest.raises(ValidationError) as excinfo:
        mark(article, alice, "give peace a chance")
    assert errors_of(excinfo)["reviewer"] == [
        "You have submitted this article; ask an editor to reopen it to make changes."
    ]
    assert not ClaimAnnotation.objects.exists()


def test_it_refuses_to_update_or_delete_a_claim_once_submitted(claim, alice, alices, desk):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=True)
    with pytest.raises(ValidationError) as excinfo:
        services.claim_update(
            claim=claim,
            user=alice,
            expected_version=1,
            verdict=verdict(desk, "false"),
            rating=1,
            note="Too late.",
            sources=[],
        )
    assert "ask an editor to reopen it" in " ".join(excinfo.value.messages)
    with pytest.raises(ValidationError):
        services.claim_delete(claim=claim, user=alice)
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.note, stored.verdict) == (1, "Words, not deeds.", None)


def test_marking_exactly_the_same_passage_twice_is_refused(claim, article, alice):
    with pytest.raises(ValidationError) as excinfo:
        mark(article, alice, "reposition its forces")
    assert errors_of(excinfo)["quote"] == [
        "You already marked exactly this passage; edit that claim instead."
    ]
    assert ClaimAnnotation.objects.filter(reviewer=alice).count() == 1


def test_overlapping_passages_and_another_reviewers_same_passage_are_allowed(
    claim, article, alice, carol
):
    assignment_ensure(article=article, reviewer=carol)
    mark(article, alice, "would reposition its forces")
    mark(article, carol, "reposition its forces")
    assert ClaimAnnotation.objects.filter(article=article).count() == 3


def test_it_rejects_a_quote_that_does_not_match_the_offsets(article, alice, alices):
    start = article.text.index("reposition its forces")
    with pytest.raises(ValidationError) as excinfo:
        services.claim_create(
            article=article,
            reviewer=alice,
            start=start,
            end=start + len("reposition its forces"),
            quote="withdraw its forces",
            verdict=None,
            rating=None,
        )
    assert errors_of(excinfo)["quote"] == [
        f"The text at {start}–{start + 21} is “reposition its forces”, not “withdraw its forces”."
    ]
    assert not ClaimAnnotation.objects.exists()


def test_it_rejects_source_urls_that_are_not_http_and_stores_nothing(article, alice, alices):
    with pytest.raises(ValidationError) as excinfo:
        mark(
            article,
            alice,
            "give peace a chance",
            sources=[
                SourceInput(url="https://ok.example/"),
                SourceInput(url="javascript:alert(1)"),
            ],
        )
    assert errors_of(excinfo)["sources[1].url"] == [
        "'javascript:alert(1)' is not an http(s) address."
    ]
    assert not ClaimAnnotation.objects.exists()
    assert not Source.objects.exists()


def test_it_rejects_other_orgs_verdicts(article, alice, alices, gazette):
    theirs = newsrooms_services.taxonomy_ensure_default(organization=gazette).labels.get(
        slug="false"
    )
    with pytest.raises(ValidationError) as excinfo:
        mark(article, alice, "give peace a chance", verdict=theirs)
    assert errors_of(excinfo)["verdict"] == ["“False” is not a verdict of this collection."]
    assert not ClaimAnnotation.objects.exists()


def test_a_first_claim_puts_the_assignment_in_progress(claim, alices):
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.IN_PROGRESS


# Submitting and reopening -------------------------------------------------------------


def test_submit_asks_for_confirmation_while_claims_are_still_to_check(claim, alice, alices):
    with pytest.raises(ValidationError) as excinfo:
        services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    assert errors_of(excinfo)["unchecked"] == ["1 claim(s) are still to check. Submit anyway?"]
    alices.refresh_from_db()
    assert (alices.status, alices.submitted_at) == (AssignmentStatus.IN_PROGRESS, None)

    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=True)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED
    assert alices.submitted_at is not None


def test_submit_needs_no_confirmation_when_every_claim_has_a_verdict(article, alice, alices, desk):
    mark(article, alice, "give peace a chance", verdict=verdict(desk, "unverifiable"))
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED


def test_only_the_assigned_reviewer_can_submit(alices, carol, bob):
    for other in (carol, bob):
        with pytest.raises(PermissionDenied):
            services.assignment_submit(assignment=alices, user=other, confirm_unchecked=True)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.ASSIGNED


def test_only_editors_can_reopen_a_submitted_review(claim, alice, alices, carol):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=True)
    for reviewer in (alice, carol):
        with pytest.raises(PermissionDenied):
            services.assignment_reopen(assignment=alices, user=reviewer)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED


def test_reopening_puts_the_review_back_in_progress_and_allows_changes_again(
    claim, article, alice, alices, bob
):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=True)
    services.assignment_reopen(assignment=alices, user=bob)
    alices.refresh_from_db()
    assert (alices.status, alices.submitted_at) == (AssignmentStatus.IN_PROGRESS, None)
    mark(article, alice, "give peace a chance")
    assert ClaimAnnotation.objects.filter(reviewer=alice).count() == 2


def test_reopening_a_review_without_claims_puts_it_back_to_assigned(alice, alices, bob):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    services.assignment_reopen(assignment=alices, user=bob)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.ASSIGNED


# Assigning reviewers -----------------------------------------------------------------


def assigned(collection) -> dict[str, list[str]]:
    """Article title → reviewers' usernames."""
    result: dict[str, list[str]] = {a.title: [] for a in collection.articles.all()}
    for title, username in Assignment.objects.filter(article__collection=collection).values_list(
        "article__title", "reviewer__username"
    ):
        result[title].append(username)
    return {title: sorted(names) for title, names in result.items()}


def load(collection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for names in assigned(collection).values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.fixture
def three_articles(desk):
    return [ArticleFactory(collection=desk, title=f"Story {i}") for i in range(3)]


def test_auto_assign_gives_every_article_n_reviewers_balanced_by_load(
    desk, three_articles, alice, carol, dave, bob
):
    made = services.assignments_auto(collection=desk, user=bob, per_article=2)
    assert made == 6
    by_article = assigned(desk)
    assert all(len(names) == 2 == len(set(names)) for names in by_article.values()), by_article
    assert load(desk) == {"alice": 2, "carol": 2, "dave": 2}  # never bob, the editor


def test_auto_assign_is_idempotent(desk, three_articles, alice, carol, dave, bob):
    services.assignments_auto(collection=desk, user=bob, per_article=2)
    before = assigned(desk)
    assert services.assignments_auto(collection=desk, user=bob, per_article=2) == 0
    assert assigned(desk) == before
    assert Assignment.objects.count() == 6


def test_auto_assign_keeps_existing_assignments_and_never_assigns_anyone_twice(
    desk, three_articles, alice, carol, dave, bob
):
    first = three_articles[0]
    assignment_ensure(article=first, reviewer=alice)
    assignment_ensure(article=first, reviewer=carol)
    assignment_ensure(article=three_articles[1], reviewer=dave)
    made = services.assignments_auto(collection=desk, user=bob, per_article=2)
    assert made == 3
    by_article = assigned(desk)
    assert by_article["Story 0"] == ["alice", "carol"]
    assert "dave" in by_article["Story 1"]
    assert all(len(names) == 2 == len(set(names)) for names in by_article.values()), by_article


def test_auto_assign_never_picks_an_articles_own_reviewer_again_even_when_least_busy(
    planet, desk, alice, carol, dave, bob
):
    other_desk, _ = collection_ensure(organization=planet, slug="sport")
    for _ in range(2):
        story = ArticleFactory(collection=other_desk)
        assignment_ensure(article=story, reviewer=alice)
        assignment_ensure(article=story, reviewer=carol)
    fresh = ArticleFactory(collection=desk, title="Fresh story")
    assignment_ensure(article=fresh, reviewer=dave)  # dave: the least busy, already on it
    assert services.assignments_auto(collection=desk, user=bob, per_article=2) == 1
    names = assigned(desk)["Fresh story"]
    assert len(names) == 2
    assert names[0] in {"alice", "carol"}
    assert names[1] == "dave"


def test_auto_assign_prefers_reviewers_with_fewer_open_assignments(
    planet, desk, alice, carol, dave, bob
):
    other_desk, _ = collection_ensure(organization=planet, slug="sport")
    busy = [ArticleFactory(collection=other_desk) for _ in range(2)]
    for story in busy:
        assignment_ensure(article=story, reviewer=alice)  # alice: 2 open
        Assignment.objects.create(
            article=story, reviewer=carol, status=AssignmentStatus.SUBMITTED
        )  # submitted work is not load
    ArticleFactory(collection=desk, title="Fresh story")
    services.assignments_auto(collection=desk, user=bob, per_article=2)
    assert assigned(desk) == {"Fresh story": ["carol", "dave"]}


def test_auto_assign_uses_the_collections_reviewers_per_article_by_default(
    desk, three_articles, alice, carol, dave, bob
):
    desk.reviewers_per_article = 1
    desk.save()
    assert services.assignments_auto(collection=desk, user=bob) == 3
    assert load(desk) == {"alice": 1, "carol": 1, "dave": 1}


def test_only_editors_can_assign_automatically(desk, three_articles, alice, carol):
    with pytest.raises(PermissionDenied):
        services.assignments_auto(collection=desk, user=alice, per_article=2)
    assert not Assignment.objects.exists()


def test_assigning_by_hand_keeps_a_reviewer_who_already_has_claims(
    claim, article, alice, carol, dave, bob
):
    assignment_ensure(article=article, reviewer=carol)
    services.assignment_set(article=article, reviewers=[dave], user=bob)
    assert assigned(article.collection)[article.title] == ["alice", "dave"]


def test_assigning_by_hand_refuses_people_from_another_newsroom(article, alice, eve, bob):
    assignment_ensure(article=article, reviewer=alice)
    with pytest.raises(ValidationError) as excinfo:
        services.assignment_set(article=article, reviewers=[eve], user=bob)
    assert errors_of(excinfo)["reviewers"] == ["Not members of this newsroom: eve."]
    assert assigned(article.collection)[article.title] == ["alice"]


def test_only_editors_can_assign_by_hand(article, alice, carol):
    with pytest.raises(PermissionDenied):
        services.assignment_set(article=article, reviewers=[carol], user=alice)
    assert not Assignment.objects.exists()
