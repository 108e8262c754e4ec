"""Reads about a newsroom: its collections and the members who can be assigned work."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from annotations.core.permissions import AnyUser, organizations_for
from annotations.models import AssignmentStatus, Collection


def collections_for(user: AnyUser) -> QuerySet[Collection]:
    return (
        Collection.objects.filter(organization__in=organizations_for(user))
        .select_related("organization")
        .annotate(article_count=Count("articles", distinct=True))
        .order_by("organization__name", "name")
    )


def reviewers_of(organization_id: int) -> QuerySet[User]:
    """Members who can be assigned articles, with their open workload."""
    return (
        User.objects.filter(memberships__organization_id=organization_id)
        .annotate(
            open_assignments=Count(
                "assignments",
                filter=~Q(assignments__status=AssignmentStatus.SUBMITTED)
                & Q(assignments__article__organization_id=organization_id),
            )
        )
        .order_by("username")
    )
