"""Partner endpoints: the newsroom's published verified claims, as JSON or ClaimReview."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import exports
from annotations.api.auth import request_organization
from annotations.api.pagination import SyncCursorPagination
from annotations.api.renderers import ClaimReviewRenderer, JSONRenderer
from annotations.api.serializers import ClaimFilterSerializer, VerifiedClaimSerializer
from annotations.models import ExportAudience, Scope, VerifiedClaim, VerifiedStatus

CLAIMREVIEW_LIST = {
    "type": "object",
    "properties": {
        "next": {"type": "string", "format": "uri", "nullable": True},
        "results": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["next", "results"],
}


def public_claims(organization_id: int) -> QuerySet[VerifiedClaim]:
    """Claims the newsroom has made public: published, corrected, and retracted ones."""
    return VerifiedClaim.objects.filter(organization_id=organization_id).exclude(
        status=VerifiedStatus.DRAFT
    )


def search(claims: QuerySet[VerifiedClaim], words: str) -> QuerySet[VerifiedClaim]:
    if connection.vendor == "postgresql":
        vector = SearchVector("claim_reviewed", "summary", "quote", config="simple")
        return claims.annotate(search=vector).filter(
            search=SearchQuery(words, config="simple", search_type="websearch")
        )
    found = Q()
    for word in words.split():
        found &= Q(claim_reviewed__icontains=word) | Q(summary__icontains=word)
    return claims.filter(found)


class ClaimViewBase(GenericAPIView):
    required_scopes = {"GET": Scope.READ_CLAIMS}
    renderer_classes = [JSONRenderer, ClaimReviewRenderer]
    serializer_class = VerifiedClaimSerializer

    def render_rows(self, claims: QuerySet[VerifiedClaim]) -> list[dict[str, Any]]:
        """The claims as documents: two queries (claims, their public sources)."""
        organization = request_organization(self.request)
        selection = exports.Selection(organization=organization, audience=ExportAudience.PUBLIC)
        rows, sources = exports.page_rows(claims, selection.sources())
        self.rows = rows
        ctx = exports.Context.of(selection)
        if self.request.accepted_renderer.format == ClaimReviewRenderer.format:
            return [exports.claim_review(ctx, row) for row in rows]
        return [exports.claim_record(ctx, row, sources.get(row.id, [])) for row in rows]


class ClaimList(ClaimViewBase):
    pagination_class = SyncCursorPagination

    def get_queryset(self) -> QuerySet[VerifiedClaim]:
        organization = request_organization(self.request)
        filters = ClaimFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        claims = public_claims(organization.pk)
        if "verdict" in wanted:
            claims = claims.filter(verdict__slug=wanted["verdict"])
        if "collection" in wanted:
            claims = claims.filter(article__collection__slug=wanted["collection"])
        if "status" in wanted:
            claims = claims.filter(status=wanted["status"])
        if "updated_since" in wanted:
            claims = claims.filter(updated_at__gte=wanted["updated_since"])
        if "published_since" in wanted:
            claims = claims.filter(published_at__gte=wanted["published_since"])
        if "article_url" in wanted:
            claims = claims.filter(article__url=wanted["article_url"])
        if "q" in wanted:
            claims = search(claims, wanted["q"])
        lag = settings.WORKBENCH_API_SYNC_LAG_SECONDS
        if lag:
            # A change saved a moment ago may not be committed yet; one that
            # commits after a partner's page would land behind its cursor.
            # Listing only settled changes means no sync ever misses one.
            claims = claims.filter(updated_at__lte=timezone.now() - timedelta(seconds=lag))
        return claims

    @extend_schema(
        summary="List published verified claims",
        description=(
            "The newsroom's public claims — published, corrected and retracted — in the "
            "order they last changed. To sync, follow `next` to the end, keep the last "
            "`next` cursor (or the last `updated_at`), and start from it next time. "
            "`?format=claimreview` (or `Accept: application/ld+json`) gives each claim as "
            "schema.org ClaimReview."
        ),
        parameters=[ClaimFilterSerializer],
        responses={
            (200, "application/json"): VerifiedClaimSerializer(many=True),
            (200, "application/ld+json"): OpenApiResponse(response=CLAIMREVIEW_LIST),
        },
    )
    def get(self, request: Request) -> Response:
        paginator = self.paginator
        assert isinstance(paginator, SyncCursorPagination)
        page = paginator.page_of(self.get_queryset(), request)
        size = paginator.page_size_for(request)
        documents = self.render_rows(page)
        if len(documents) > size:
            documents = documents[:size]
            last = self.rows[size - 1]
            paginator.next_cursor = paginator.encode(last.updated_at, last.id)
        return paginator.get_paginated_response(documents)


class ClaimDetail(ClaimViewBase):
    @extend_schema(
        summary="Retrieve a published verified claim",
        responses={
            (200, "application/json"): VerifiedClaimSerializer,
            (200, "application/ld+json"): OpenApiResponse(response=OpenApiTypes.OBJECT),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        organization = request_organization(request)
        documents = self.render_rows(public_claims(organization.pk).filter(pk=pk))
        if not documents:
            raise Http404
        return Response(documents[0])
