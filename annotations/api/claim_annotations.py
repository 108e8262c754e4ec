"""Members' claim annotations: the reader's highlights, through the same services and
under the same rules as the browser (blind review, assignments, owners, versions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.articles import member_user
from annotations.api.auth import request_organization
from annotations.api.errors import Conflict
from annotations.api.serializers import (
    MAX_BULK_ANNOTATIONS,
    AnnotationBulkResultSerializer,
    AnnotationBulkSerializer,
    AnnotationCreateSerializer,
    AnnotationFilterSerializer,
    AnnotationListSerializer,
    AnnotationSerializer,
    AnnotationUpdateSerializer,
    ClaimSourceSerializer,
)
from annotations.core.inputs import AnnotationInput, SourceInput
from annotations.core.permissions import membership_for, sees_all_claims
from annotations.importing.claims import claims_create_many
from annotations.models import (
    Article,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    Scope,
    Source,
    VerdictLabel,
)
from annotations.reader import services

NOT_ASSIGNED = "You are not assigned to this article."
SUBMITTED = "You have submitted this article; ask an editor to reopen it to make changes."


def claims_with_sources() -> QuerySet[ClaimAnnotation]:
    return ClaimAnnotation.objects.select_related("reviewer", "verdict").prefetch_related(
        Prefetch("sources", Source.objects.order_by("order", "id"))
    )


def sees_all(request: Request, article: Article) -> bool:
    """Whether blind review lets this member see everyone's claims on the article."""
    membership = membership_for(member_user(request), article.organization_id)
    assignment = Assignment.objects.filter(article=article, reviewer=member_user(request)).first()
    return sees_all_claims(membership, article, assignment)


def newsroom_article(request: Request, pk: int) -> Article | None:
    return (
        Article.objects.filter(organization=request_organization(request), pk=pk)
        .select_related("collection__taxonomy")
        .first()
    )


def verdict_of(article: Article, slug: str | None) -> VerdictLabel | None:
    """A verdict slug of the article's collection; None keeps the claim “to check”."""
    if slug is None or slug == "":
        return None
    return services.verdict_by_slug(taxonomy=article.collection.taxonomy, slug=slug)


def source_inputs(sources: Iterable[Mapping[str, Any]]) -> list[SourceInput]:
    return [SourceInput(**source) for source in sources]


class AnnotationList(GenericAPIView):
    required_scopes = {"GET": Scope.READ_ANNOTATIONS, "POST": Scope.WRITE_ANNOTATIONS}
    serializer_class = AnnotationSerializer

    @extend_schema(
        summary="List an article's claim annotations",
        operation_id="annotations_list",
        description=(
            "Under blind review a reviewer sees only their own claims until they submit "
            "the article (`sees_all` says which); editors not reviewing it see everyone's."
        ),
        parameters=[AnnotationFilterSerializer],
        responses={200: AnnotationListSerializer},
    )
    def get(self, request: Request) -> Response:
        filters = AnnotationFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        article = newsroom_article(request, filters.validated_data["article"])
        if article is None:
            raise Http404
        everyone = sees_all(request, article)
        claims = claims_with_sources().filter(article=article).order_by("start", "end", "id")
        if not everyone:
            claims = claims.filter(reviewer=member_user(request))
        return Response(
            {
                "article": article.pk,
                "sees_all": everyone,
                "results": AnnotationSerializer(claims, many=True).data,
            }
        )

    @extend_schema(
        summary="Create a claim annotation",
        description=(
            "Highlights `text[start:end]` of an article you are assigned to and have not "
            "submitted. `quote` must be exactly that text; `verdict` is a slug of the "
            "collection's taxonomy, or null to keep the claim “to check”; sources need "
            "http(s) addresses."
        ),
        request=AnnotationCreateSerializer,
        responses={201: AnnotationSerializer},
    )
    def post(self, request: Request) -> Response:
        given = AnnotationCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        article = newsroom_article(request, data["article"])
        if article is None:
            raise ValidationError({"article": ["No article of your newsroom has this id."]})
        user = member_user(request)
        # What the browser's reader checks before it calls the service.
        assignment = Assignment.objects.filter(article=article, reviewer=user).first()
        if assignment is None:
            raise PermissionDenied(NOT_ASSIGNED)
        if assignment.status == AssignmentStatus.SUBMITTED:
            raise PermissionDenied(SUBMITTED)
        claim = services.claim_create(
            article=article,
            reviewer=user,
            start=data["start"],
            end=data["end"],
            quote=data["quote"],
            verdict=verdict_of(article, data["verdict"]),
            rating=data["rating"],
            note=data["note"],
            sources=source_inputs(data["sources"]),
        )
        return Response(
            AnnotationSerializer(claims_with_sources().get(pk=claim.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class AnnotationBulk(GenericAPIView):
    required_scopes = {"POST": Scope.WRITE_ANNOTATIONS}
    serializer_class = AnnotationBulkResultSerializer

    @extend_schema(
        summary="Create many claim annotations at once",
        operation_id="annotations_bulk_create",
        description=(
            f"Up to {MAX_BULK_ANNOTATIONS:,} claims in one request, each as for one create, "
            "checked by the same rules. All or nothing: if any item is invalid, nothing is "
            "stored and the answer is 400, `fields` naming each problem as "
            "`annotations.<index>.<field>`. Every article named must be one you are assigned "
            "to and have not submitted, else 403 naming the items. An item on exactly the "
            "span of a claim of yours already there is not an error: its outcome is "
            "`present`, and that claim is returned as it is, so that a request sent again "
            "changes nothing. 201 when at least one claim was created, 200 when all were "
            "present; `results` has one entry per item, in their order."
        ),
        request=AnnotationBulkSerializer,
        responses={201: AnnotationBulkResultSerializer, 200: AnnotationBulkResultSerializer},
    )
    def post(self, request: Request) -> Response:
        given = AnnotationBulkSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        items = given.validated_data["annotations"]
        user = member_user(request)
        articles = {
            article.pk: article
            for article in Article.objects.filter(
                organization=request_organization(request),
                pk__in={item["article"] for item in items},
            ).select_related("collection__taxonomy")
        }
        statuses = dict(
            Assignment.objects.filter(reviewer=user, article__in=list(articles)).values_list(
                "article_id", "status"
            )
        )
        # What the single create checks, item by item. An article that is not the
        # newsroom's is one nobody here is assigned to: the same answer, which
        # does not tell whether it exists.
        refused = []
        for index, item in enumerate(items):
            state = statuses.get(item["article"])
            if state is None:
                refused.append(f"annotations[{index}]: {NOT_ASSIGNED}")
            elif state == AssignmentStatus.SUBMITTED:
                refused.append(f"annotations[{index}]: {SUBMITTED}")
        if refused:
            more = f" And {len(refused) - 10:,} more." if len(refused) > 10 else ""
            raise PermissionDenied(" ".join(refused[:10]) + more)
        outcomes = claims_create_many(
            reviewer=user,
            items=[
                (
                    articles[item["article"]],
                    AnnotationInput(
                        article_url="",
                        reviewer=user.get_username(),
                        start=item["start"],
                        end=item["end"],
                        quote=item["quote"],
                        verdict=item["verdict"] or None,
                        rating=item["rating"],
                        note=item["note"],
                        sources=source_inputs(item["sources"]),
                    ),
                )
                for item in items
            ],
        )
        claims = claims_with_sources().in_bulk([claim_id for claim_id, _ in outcomes])
        created = sum(1 for _, new in outcomes if new)
        return Response(
            {
                "created": created,
                "present": len(outcomes) - created,
                "results": [
                    {
                        "index": index,
                        "outcome": "created" if new else "present",
                        "annotation": AnnotationSerializer(claims[claim_id]).data,
                    }
                    for index, (claim_id, new) in enumerate(outcomes)
                ],
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AnnotationDetail(GenericAPIView):
    required_scopes = {
        "GET": Scope.READ_ANNOTATIONS,
        "PATCH": Scope.WRITE_ANNOTATIONS,
        "DELETE": Scope.WRITE_ANNOTATIONS,
    }
    serializer_class = AnnotationSerializer

    def visible(self, pk: int) -> ClaimAnnotation:
        """The claim, if this member may see it; otherwise (another newsroom's, hidden
        by blind review, deleted) a 404, as for a claim that does not exist."""
        claim = (
            claims_with_sources()
            .select_related("article__collection__taxonomy")
            .filter(pk=pk, article__organization=request_organization(self.request))
            .first()
        )
        if claim is None:
            raise Http404
        if claim.reviewer_id != self.request.user.pk and not sees_all(self.request, claim.article):
            raise Http404
        return claim

    @extend_schema(summary="Read a claim annotation", responses={200: AnnotationSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(AnnotationSerializer(self.visible(pk)).data)

    @extend_schema(
        summary="Change a claim annotation",
        description=(
            "Only the reviewer who made the claim, before they submit the article. Send the "
            "`version` you read: if the claim changed since, nothing is written and the "
            "answer is 409 with the stored claim in `current`. Fields left out stay as they "
            "are; `sources`, when given, replaces the list."
        ),
        request=AnnotationUpdateSerializer,
        responses={200: AnnotationSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        claim = self.visible(pk)
        given = AnnotationUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        verdict = verdict_of(claim.article, data["verdict"]) if "verdict" in data else claim.verdict
        sources = (
            data["sources"]
            if "sources" in data
            else ClaimSourceSerializer(claim.sources.all(), many=True).data
        )
        try:
            services.claim_update(
                claim=claim,
                user=member_user(request),
                expected_version=data["version"],
                verdict=verdict,
                rating=data.get("rating", claim.rating),
                note=data.get("note", claim.note),
                sources=source_inputs(sources),
            )
        except services.ClaimConflict as conflict:
            current = claims_with_sources().get(pk=conflict.current.pk)
            raise Conflict(
                f"The claim is at version {current.version}, not {data['version']}: "
                "someone changed it since you read it. Read it again, then retry.",
                current=AnnotationSerializer(current).data,
            ) from None
        return Response(AnnotationSerializer(claims_with_sources().get(pk=claim.pk)).data)

    @extend_schema(
        summary="Delete a claim annotation",
        description="Only the reviewer who made the claim, before they submit the article.",
        responses={204: None},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.claim_delete(claim=self.visible(pk), user=member_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
