"""Reads for the reader and the queue; each takes the user it reads for."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from annotations.core.permissions import AnyUser, organizations_for
from annotations.models import (
    Article,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    Collection,
    Source,
)


def articles_for(user: AnyUser) -> QuerySet[Article]:
    """Articles of every newsroom the user belongs to, newest version first."""
    return (
        Article.objects.filter(organization__in=organizations_for(user))
        .select_related("collection", "organization")
        .order_by("collection__name", "title", "-version")
    )


def queue_for(user: AnyUser) -> QuerySet[Assignment]:
    """The user's assignments, with how many claims they have marked on each."""
    if not isinstance(user, User):
        return Assignment.objects.none()
    return (
        Assignment.objects.filter(
            reviewer=user,
            article__organization__in=organizations_for(user),
            # Only the latest version of an article is worked on.
            article__next_version__isnull=True,
        )
        .select_related("article__collection")
        .defer("article__text", "article__html")
        .annotate(
            claim_count=Count(
                "article__claims",
                filter=Q(article__claims__reviewer=user, article__claims__deleted_at__isnull=True),
            )
        )
        .order_by("status", "-created_at")
    )


def claim_for_owner(user: AnyUser, pk: int, *, deleted: bool = False) -> ClaimAnnotation | None:
    """One of the user's own claims (a deleted one for undo), or None."""
    if not isinstance(user, User):
        return None
    manager = ClaimAnnotation.all_objects if deleted else ClaimAnnotation.objects
    return (
        manager.filter(pk=pk, reviewer=user, article__organization__in=organizations_for(user))
        .select_related("article__collection__taxonomy", "verdict")
        .first()
    )


def claim_sources(claim: ClaimAnnotation) -> QuerySet[Source]:
    return claim.sources.order_by("order", "id")


@dataclass
class ArticleProgress:
    article: Article
    assignments: list[Assignment]
    claim_counts: dict[int, int]

    @property
    def submitted(self) -> int:
        return sum(1 for a in self.assignments if a.status == AssignmentStatus.SUBMITTED)


def collection_progress(collection: Collection) -> list[ArticleProgress]:
    """Each article with who is assigned, their status and how many claims they marked."""
    articles = list(collection.articles.defer("text", "html").order_by("title", "-version"))
    assignments: dict[int, list[Assignment]] = {}
    for assignment in (
        Assignment.objects.filter(article__collection=collection)
        .select_related("reviewer")
        .order_by("reviewer__username")
    ):
        assignments.setdefault(assignment.article_id, []).append(assignment)
    counts: dict[int, dict[int, int]] = {}
    for article_id, reviewer_id, n in (
        ClaimAnnotation.objects.filter(article__collection=collection)
        .values_list("article_id", "reviewer_id")
        .annotate(n=Count("id"))
    ):
        counts.setdefault(article_id, {})[reviewer_id] = n
    return [ArticleProgress(a, assignments.get(a.pk, []), counts.get(a.pk, {})) for a in articles]


@dataclass
class ReviewerProgress:
    reviewer: User
    assigned: int = 0
    submitted: int = 0
    claims: int = 0


def reviewer_progress(rows: list[ArticleProgress]) -> list[ReviewerProgress]:
    """Per reviewer: articles assigned and submitted, claims marked, in this collection."""
    totals: dict[int, ReviewerProgress] = {}
    for row in rows:
        for assignment in row.assignments:
            entry = totals.setdefault(assignment.reviewer_id, ReviewerProgress(assignment.reviewer))
            entry.assigned += 1
            entry.submitted += assignment.status == AssignmentStatus.SUBMITTED
            entry.claims += row.claim_counts.get(assignment.reviewer_id, 0)
    return sorted(totals.values(), key=lambda p: p.reviewer.username)
