"""Reviewers' work: assignments, and the claims they mark with verdicts and sources.

Each service validates everything before it writes anything, and writes in
one transaction: a rejected input leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from annotations.agreement.runs import (
    agreement_mark_requested,
    agreement_request,
    agreement_request_many,
)
from annotations.core.anchoring import SpanError, TextSelector, selector_for
from annotations.core.inputs import SourceInput, sources_store, unstorable, validate_sources
from annotations.core.permissions import require_editor
from annotations.models import (
    Article,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    Collection,
    Membership,
    Role,
    Taxonomy,
    VerdictLabel,
)

DUPLICATE_SPAN = "You already marked exactly this passage; edit that claim instead."
SUBMITTED_LOCK = "You have submitted this article; ask an editor to reopen it to make changes."


def assignment_ensure(*, article: Article, reviewer: User) -> Assignment:
    assignment, _ = Assignment.objects.get_or_create(article=article, reviewer=reviewer)
    return assignment


def assignment_submit(*, assignment: Assignment, user: User, confirm_unchecked: bool) -> Assignment:
    """Marks a reviewer's work on an article done; blind review lifts for them.

    Claims still "to check" need `confirm_unchecked`, so nobody submits open
    work by accident.
    """
    if assignment.reviewer_id != user.pk:
        raise PermissionDenied("Only the assigned reviewer can submit.")
    if assignment.status == AssignmentStatus.SUBMITTED:
        return assignment
    unchecked = ClaimAnnotation.objects.filter(
        article=assignment.article_id, reviewer=user, verdict__isnull=True
    ).count()
    if unchecked and not confirm_unchecked:
        raise ValidationError(
            {"unchecked": f"{unchecked} claim(s) are still to check. Submit anyway?"}
        )
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = timezone.now()
    assignment.save(update_fields=["status", "submitted_at"])
    return assignment


def assignment_reopen(*, assignment: Assignment, user: User) -> Assignment:
    require_editor(user, assignment.article.organization_id)
    has_claims = ClaimAnnotation.objects.filter(
        article=assignment.article_id, reviewer=assignment.reviewer_id
    ).exists()
    assignment.status = AssignmentStatus.IN_PROGRESS if has_claims else AssignmentStatus.ASSIGNED
    assignment.submitted_at = None
    assignment.save(update_fields=["status", "submitted_at"])
    return assignment


def _reviewers(organization_id: int) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organization_id=organization_id, memberships__role=Role.REVIEWER
    ).order_by("username")


def assignments_auto(*, collection: Collection, user: User, per_article: int | None = None) -> int:
    """Gives every article of the collection `per_article` reviewers, least loaded first.

    Load is a reviewer's open (not submitted) assignments in the newsroom. An
    article's existing reviewers count towards its total; nobody is assigned
    twice. Returns how many assignments were made.
    """
    require_editor(user, collection.organization_id)
    wanted = per_article or collection.reviewers_per_article
    reviewers = list(_reviewers(collection.organization_id))
    if not reviewers:
        raise ValidationError({"reviewers": "This newsroom has no reviewers to assign."})
    load = dict.fromkeys((r.pk for r in reviewers), 0)
    open_counts = (
        Assignment.objects.filter(article__organization_id=collection.organization_id)
        .exclude(status=AssignmentStatus.SUBMITTED)
        .values_list("reviewer_id")
        .annotate(n=Count("id"))
    )
    for reviewer_id, n in open_counts:
        if reviewer_id in load:
            load[reviewer_id] = n
    current: dict[int, set[int]] = {}
    for article_id, reviewer_id in Assignment.objects.filter(
        article__collection=collection
    ).values_list("article_id", "reviewer_id"):
        current.setdefault(article_id, set()).add(reviewer_id)

    new: list[Assignment] = []
    # Only the latest version of each article is reviewed.
    latest = collection.articles.filter(next_version__isnull=True).order_by("pk")
    for article_id in latest.values_list("pk", flat=True):
        have = current.get(article_id, set())
        candidates = sorted(
            (r for r in reviewers if r.pk not in have), key=lambda r: (load[r.pk], r.username)
        )
        for reviewer in candidates[: max(0, wanted - len(have))]:
            new.append(Assignment(article_id=article_id, reviewer=reviewer))
            load[reviewer.pk] += 1
    Assignment.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def assignment_set(*, article: Article, reviewers: Sequence[User], user: User) -> None:
    """Assigns exactly these reviewers by hand.

    A reviewer who already has claims on the article keeps the assignment:
    unassigning them would hide their work.
    """
    require_editor(user, article.organization_id)
    members = set(
        Membership.objects.filter(organization_id=article.organization_id).values_list(
            "user_id", flat=True
        )
    )
    outsiders = [r.get_username() for r in reviewers if r.pk not in members]
    if outsiders:
        raise ValidationError(
            {"reviewers": f"Not members of this newsroom: {', '.join(outsiders)}."}
        )
    wanted = {r.pk for r in reviewers}
    with transaction.atomic():
        keep_with_work = set(
            ClaimAnnotation.objects.filter(article=article).values_list("reviewer_id", flat=True)
        )
        Assignment.objects.filter(article=article).exclude(reviewer__in=wanted).exclude(
            reviewer__in=keep_with_work
        ).delete()
        for reviewer in reviewers:
            assignment_ensure(article=article, reviewer=reviewer)


def _check_judgement(
    *,
    article: Article,
    verdict: VerdictLabel | None,
    rating: int | None,
    note: str,
    sources: Sequence[SourceInput],
    errors: dict[str, str],
) -> None:
    """Checks what a reviewer decided about a claim: verdict, rating, note, sources."""
    taxonomy = article.collection.taxonomy
    if verdict is not None and verdict.taxonomy_id != taxonomy.pk:
        errors["verdict"] = f"“{verdict.name}” is not a verdict of this collection."
    if rating is not None and not taxonomy.worst_rating <= rating <= taxonomy.best_rating:
        errors["rating"] = (
            f"Rating {rating} is outside {taxonomy.worst_rating}–{taxonomy.best_rating}."
        )
    if len(note) > settings.WORKBENCH_MAX_NOTE_CHARS:
        errors["note"] = (
            f"The note is longer than {settings.WORKBENCH_MAX_NOTE_CHARS:,} characters."
        )
    elif unstorable(note):
        errors["note"] = "Contains a NUL or an unpaired surrogate character."
    validate_sources(sources, errors)


def _locked_reason(*, article: Article, reviewer: User) -> str | None:
    """Why this reviewer may not change their claims on this article now, if they may not."""
    if Assignment.objects.filter(
        article=article, reviewer=reviewer, status=AssignmentStatus.SUBMITTED
    ).exists():
        return SUBMITTED_LOCK
    return None


class ClaimFacts(Protocol):
    """What the claim checks need to know from the database.

    The reader asks it claim by claim, a query each (StoredFacts); a bulk
    import loads it for a whole batch in a few queries (importing.claims).
    The rules that use it are the same: claim_errors.
    """

    def is_member(self, reviewer: User, article: Article) -> bool: ...

    def locked_reason(self, reviewer: User, article: Article) -> str | None: ...

    def span_taken(self, reviewer: User, article: Article, start: int, end: int) -> bool: ...


class StoredFacts:
    """The facts as stored now, one query each."""

    def is_member(self, reviewer: User, article: Article) -> bool:
        return Membership.objects.filter(
            user=reviewer, organization=article.organization_id
        ).exists()

    def locked_reason(self, reviewer: User, article: Article) -> str | None:
        return _locked_reason(article=article, reviewer=reviewer)

    def span_taken(self, reviewer: User, article: Article, start: int, end: int) -> bool:
        return ClaimAnnotation.objects.filter(
            article=article, reviewer=reviewer, start=start, end=end
        ).exists()


def claim_errors(
    *,
    article: Article,
    reviewer: User,
    start: int,
    end: int,
    quote: str,
    verdict: VerdictLabel | None,
    rating: int | None,
    note: str,
    sources: Sequence[SourceInput],
    facts: ClaimFacts,
) -> tuple[TextSelector | None, dict[str, str]]:
    """Every check a new claim must pass, and the selectors it would be stored with.

    The one set of rules for a new claim, whoever makes it: the reader, the
    API and a bulk import. Returns the problems by field (none: it may be
    stored); the sources' addresses are normalized in place (validate_sources).
    """
    errors: dict[str, str] = {}
    selector = None
    try:
        selector = selector_for(article.text, start, end)
    except SpanError as exc:
        errors[exc.field] = str(exc)
    if selector is not None and selector.exact != quote:
        errors["quote"] = (
            f"The text at {start}–{end} is “{selector.exact[:80]}”, not “{quote[:80]}”."
        )
    _check_judgement(
        article=article, verdict=verdict, rating=rating, note=note, sources=sources, errors=errors
    )
    if not facts.is_member(reviewer, article):
        errors["reviewer"] = f"{reviewer} is not a member of this newsroom."
    elif locked := facts.locked_reason(reviewer, article):
        errors["reviewer"] = locked
    elif selector is not None and facts.span_taken(reviewer, article, selector.start, selector.end):
        errors["quote"] = DUPLICATE_SPAN
    return selector, errors


def claim_create(
    *,
    article: Article,
    reviewer: User,
    start: int,
    end: int,
    quote: str,
    verdict: VerdictLabel | None,
    rating: int | None,
    note: str = "",
    sources: Sequence[SourceInput] = (),
) -> ClaimAnnotation:
    """Stores one reviewer's highlight, checked against the article's own text."""
    selector, errors = claim_errors(
        article=article,
        reviewer=reviewer,
        start=start,
        end=end,
        quote=quote,
        verdict=verdict,
        rating=rating,
        note=note,
        sources=sources,
        facts=StoredFacts(),
    )
    if errors:
        raise ValidationError(errors)
    assert selector is not None

    try:
        with transaction.atomic():
            claim = ClaimAnnotation.objects.create(
                article=article,
                reviewer=reviewer,
                start=selector.start,
                end=selector.end,
                quote=selector.exact,
                prefix=selector.prefix,
                suffix=selector.suffix,
                verdict=verdict,
                rating=rating,
                note=note,
            )
            sources_store(claim, sources)
            Assignment.objects.filter(
                article=article, reviewer=reviewer, status=AssignmentStatus.ASSIGNED
            ).update(status=AssignmentStatus.IN_PROGRESS)
            agreement_request(article.pk)
    except IntegrityError:
        # The same highlight was saved a moment ago (a double click, two tabs).
        raise ValidationError({"quote": DUPLICATE_SPAN}) from None
    return claim


class ClaimConflict(Exception):
    """The claim changed since the user loaded it; `current` is what is stored now."""

    def __init__(self, current: ClaimAnnotation) -> None:
        super().__init__(f"Claim {current.pk} is at version {current.version}.")
        self.current = current


def _require_owner(claim: ClaimAnnotation, user: User) -> None:
    if claim.reviewer_id != user.pk:
        raise PermissionDenied("Only the reviewer who made a claim can change it.")
    if locked := _locked_reason(article=claim.article, reviewer=user):
        raise ValidationError({"__all__": locked})


def claim_update(
    *,
    claim: ClaimAnnotation,
    user: User,
    expected_version: int,
    verdict: VerdictLabel | None,
    rating: int | None,
    note: str,
    sources: Sequence[SourceInput],
) -> ClaimAnnotation:
    """Changes a claim's verdict, rating, note and sources.

    Optimistic locking: if someone saved the claim since `expected_version`,
    nothing is written and ClaimConflict carries the newer claim.
    """
    _require_owner(claim, user)
    errors: dict[str, str] = {}
    _check_judgement(
        article=claim.article,
        verdict=verdict,
        rating=rating,
        note=note,
        sources=sources,
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = ClaimAnnotation.objects.select_for_update().get(pk=claim.pk)
        if current.version != expected_version:
            raise ClaimConflict(current)
        current.verdict = verdict
        current.rating = rating
        current.note = note
        current.version += 1
        current._history_user = user  # type: ignore[attr-defined]
        current.save()
        sources_store(current, sources)
        agreement_request(current.article_id)
    return current


def _set_deleted(claim: ClaimAnnotation, user: User, deleted: bool) -> ClaimAnnotation:
    _require_owner(claim, user)
    try:
        with transaction.atomic():
            current = ClaimAnnotation.all_objects.select_for_update().get(pk=claim.pk)
            if (current.deleted_at is not None) == deleted:
                return current  # already so: nothing to do, no new version
            current.deleted_at = timezone.now() if deleted else None
            current.version += 1
            current._history_user = user  # type: ignore[attr-defined]
            current.save()
            agreement_request(current.article_id)
    except IntegrityError:
        # Restoring a passage the reviewer has marked again since.
        raise ValidationError({"quote": DUPLICATE_SPAN}) from None
    return current


def claim_delete(*, claim: ClaimAnnotation, user: User) -> None:
    """Deletes a claim, in a way that `claim_restore` can undo."""
    _set_deleted(claim, user, deleted=True)


def claim_restore(*, claim: ClaimAnnotation, user: User) -> ClaimAnnotation:
    """Undoes a delete."""
    return _set_deleted(claim, user, deleted=False)


def verdict_by_slug(*, taxonomy: Taxonomy, slug: str) -> VerdictLabel:
    """The taxonomy's verdict with this slug; an unknown slug names the ones there are."""
    verdict = VerdictLabel.objects.filter(taxonomy=taxonomy, slug=slug).first()
    if verdict is None:
        slugs = VerdictLabel.objects.filter(taxonomy=taxonomy).values_list("slug", flat=True)
        raise unknown_verdict(slug, slugs)
    return verdict


def unknown_verdict(slug: str, slugs: Iterable[str]) -> ValidationError:
    """The error for a verdict slug that is not one of the taxonomy's `slugs` (in order)."""
    return ValidationError({"verdict": f"Unknown verdict {slug!r}; use one of {', '.join(slugs)}."})


def claims_written(*, article_ids: Iterable[int]) -> None:
    """Claims were written in bulk on these articles, in the caller's transaction: their
    agreement is marked as asked for there, so that it is refreshed even if the
    writer dies before claims_added sends the refresh."""
    agreement_mark_requested(article_ids)


def claims_added(*, article_ids: Iterable[int]) -> None:
    """Claims were added to these articles in bulk (an import): each article's agreement
    is asked for once, however many claims it got, rather than once per claim.

    In one transaction and a few queries, however many articles; their
    refreshes are sent when it commits, many articles to a message, and run
    together (agreement.runs.refresh_articles).
    """
    with transaction.atomic():
        agreement_request_many(article_ids)
