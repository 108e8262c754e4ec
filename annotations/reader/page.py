"""What the reader shows one user on one article: their access, the claims, the form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.safestring import SafeString

from annotations.core.http import HtmxHttpRequest
from annotations.core.inputs import MAX_SOURCES
from annotations.core.permissions import (
    is_editor,
    membership_for,
    sees_all_claims,
    sees_published_claims,
)
from annotations.models import (
    Article,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    Membership,
    Stance,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)
from annotations.reader.forms import ClaimForm
from annotations.reader.rendering import ClaimListView, ClaimLook, ClaimRow, render_claim_list
from annotations.reader.selectors import articles_for


@dataclass
class Access:
    """Who the user is on this article: their membership and the article's assignments."""

    article: Article
    membership: Membership
    # Every assignment on the article, by reviewer name: the legend's order.
    assignments: list[Assignment]

    @property
    def assignment(self) -> Assignment | None:
        return next((a for a in self.assignments if a.reviewer_id == self.membership.user_id), None)

    @property
    def can_write(self) -> bool:
        assignment = self.assignment
        return assignment is not None and assignment.status != AssignmentStatus.SUBMITTED

    @property
    def sees_all(self) -> bool:
        return sees_all_claims(self.membership, self.article, self.assignment)

    @property
    def is_editor(self) -> bool:
        return is_editor(self.membership)


def access_for(request: HtmxHttpRequest, article: Article) -> Access:
    membership = membership_for(request.user, article.organization_id)
    if membership is None:
        raise Http404
    assignments = list(
        article.assignments.select_related("reviewer").order_by("reviewer__username")
    )
    return Access(article, membership, assignments)


@dataclass
class Reader:
    """Everything the reader shows for one user and one article."""

    access: Access
    claims: list[ClaimRow]
    # One colour index per reviewer for the legend, the list and the highlights.
    reviewer_index: dict[int, int] = field(default_factory=dict)
    reviewer_names: dict[int, str] = field(default_factory=dict)

    @property
    def article(self) -> Article:
        return self.access.article

    @property
    def membership(self) -> Membership:
        return self.access.membership

    @property
    def assignment(self) -> Assignment | None:
        return self.access.assignment

    @property
    def can_write(self) -> bool:
        return self.access.can_write

    @property
    def sees_all(self) -> bool:
        return self.access.sees_all

    @property
    def is_editor(self) -> bool:
        return self.access.is_editor

    def looks(self) -> list[ClaimLook]:
        viewer = self.membership.user_id
        return [
            ClaimLook(
                id=c.id,
                start=c.start,
                end=c.end,
                verdict_id=c.verdict_id,
                reviewer_index=self.reviewer_index.get(c.reviewer_id, 0),
                own=c.reviewer_id == viewer,
            )
            for c in self.claims
        ]

    def claim_items(self, labels: list[VerdictLabel]) -> SafeString:
        return render_claim_list(
            self.claims,
            ClaimListView(
                verdict_names={label.pk: label.name for label in labels},
                reviewer_names=self.reviewer_names,
                reviewer_index=self.reviewer_index,
                viewer_id=self.membership.user_id,
                can_write=self.can_write,
                sees_all=self.sees_all,
                edit_url=reverse("claim-edit", args=[0]),
                delete_url=reverse("claim-delete", args=[0]),
            ),
        )


def reader_for(request: HtmxHttpRequest, access: Access) -> Reader:
    claims = ClaimAnnotation.objects.filter(article=access.article).order_by("start", "end", "id")
    if not access.sees_all:
        claims = claims.filter(reviewer=request.user)
    claims = claims.annotate(source_count=Count("sources"))
    rows = [ClaimRow(*values) for values in claims.values_list(*ClaimRow.FIELDS)]
    names = {a.reviewer_id: a.reviewer.get_username() for a in access.assignments}
    # Claims imported from another tool may come from someone not assigned.
    missing = {row.reviewer_id for row in rows} - names.keys()
    if missing:
        names |= dict(
            User.objects.filter(pk__in=missing).values_list("pk", "username").order_by("username")
        )
    index = {reviewer_id: i for i, reviewer_id in enumerate(names)}
    return Reader(access, rows, index, names)


def article_or_404(request: HtmxHttpRequest, pk: int) -> Article:
    # Another newsroom's article is a 404, the same as one that does not exist.
    return get_object_or_404(
        articles_for(request.user).select_related("collection__taxonomy"), pk=pk
    )


def claim_form(reader: Reader | Access, **kwargs: Any) -> ClaimForm:
    return ClaimForm(taxonomy=reader.article.collection.taxonomy, **kwargs)


def form_context(access: Access, **extra: Any) -> dict[str, Any]:
    """What the claim form needs: the article, its verdicts, the stances."""
    return {
        "article": access.article,
        "labels": list(access.article.collection.taxonomy.labels.order_by("order")),
        "stances": Stance.choices,
        "max_sources": MAX_SOURCES,
        **extra,
    }


def page_context(reader: Reader, **extra: Any) -> dict[str, Any]:
    context = form_context(reader.access, reader=reader, **extra)
    context["claim_items"] = reader.claim_items(context["labels"])
    context["legend"] = (
        [(a, reader.reviewer_index.get(a.reviewer_id, 0) % 6) for a in reader.access.assignments]
        if reader.is_editor
        else []
    )
    return context


def published_claims(access: Access) -> list[VerifiedClaim] | None:
    """The article's published verified claims, for those who may see them now.

    Editors always; a reviewer once their own assignment is submitted, so that
    the desk's verdicts cannot steer a review still in progress.
    """
    if not sees_published_claims(access.membership, access.article, access.assignment):
        return None
    return list(
        VerifiedClaim.objects.filter(article=access.article)
        .exclude(status=VerifiedStatus.DRAFT)
        .select_related("verdict")
        .prefetch_related(Prefetch("sources", VerifiedSource.objects.order_by("order", "pk")))
        .order_by("start", "end")
    )
