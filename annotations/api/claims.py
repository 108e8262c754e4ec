"""Partner endpoints: the newsroom's published verified claims, as JSON or ClaimReview."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.auth import request_organization
from annotations.api.pagination import SyncCursorPagination
from annotations.api.renderers import ClaimReviewRenderer, JSONRenderer
from annotations.api.schema import CLAIM_REVIEW_REF
from annotations.api.serializers import ClaimFilterSerializer, VerifiedClaimSerializer
from annotations.core.prepared import PreparedQuery
from annotations.models import (
    Scope,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)
from annotations.publishing import records
from annotations.publishing import rows as published


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


# A claim row's verdict, read with it: published.Label's fields.
LABEL_COLUMNS = (
    "verdict__slug",
    "verdict__name",
    "verdict__taxonomy__best_rating",
    "verdict__taxonomy__worst_rating",
)
CLAIM_WIDTH = len(published.CLAIM_VALUES)
LABEL_END = CLAIM_WIDTH + len(LABEL_COLUMNS)


def _claim_rows(
    organization_id: int,
    *,
    pk: int | None = None,
    size: int | None = None,
    verdict: str | None = None,
    collection: str | None = None,
    status: str | None = None,
    updated_since: datetime | None = None,
    published_since: datetime | None = None,
    article_url: str | None = None,
    q: str | None = None,
    settled_before: datetime | None = None,
    after_time: datetime | None = None,
    after_id: int | None = None,
) -> QuerySet[Any]:
    """The public claims wanted, in sync order: the rows records.claim_record reads, then
    their verdict's slug, name, best and worst rating, then (PostgreSQL) their public
    sources as JSON text, so that a page is one query."""
    claims = public_claims(organization_id)
    for lookup, value in (
        ("pk", pk),
        ("verdict__slug", verdict),
        ("article__collection__slug", collection),
        ("status", status),
        ("updated_at__gte", updated_since),
        ("published_at__gte", published_since),
        ("article__url", article_url),
    ):
        if value is not None:
            claims = claims.filter(**{lookup: value})
    if q is not None:
        claims = search(claims, q)
    if settled_before is not None:
        claims = claims.filter(updated_at__lte=settled_before)
    if after_time is not None:
        # The first condition is implied by the second; it is there so that
        # PostgreSQL starts its scan of the (organization, updated_at, id)
        # index at the cursor. With the OR alone it reads every row before the
        # cursor and throws them away: 300 ms for a page half-way through
        # 100,000 claims, instead of 2 ms.
        claims = claims.filter(updated_at__gte=after_time).filter(
            Q(updated_at__gt=after_time) | Q(updated_at=after_time, pk__gt=after_id)
        )
    columns: list[Any] = [*published.CLAIM_VALUES, *LABEL_COLUMNS]
    if connection.vendor == "postgresql":
        columns.append(published.SourcesJson(public=True))
    rows = claims.order_by("updated_at", "pk").values_list(*columns)
    return rows[:size] if size is not None else rows


def _source_rows(claim_ids: list[int]) -> QuerySet[Any]:
    """The public sources of these claims, in their order."""
    sources = VerifiedSource.objects.filter(confidential=False).filter(
        published.AnyOf("claim_id", claim_ids)
    )
    return sources.order_by("order", "pk").values_list(*published.SOURCE_VALUES)


CLAIM_ROWS = PreparedQuery(_claim_rows)
SOURCE_ROWS = PreparedQuery(_source_rows)


def split_rows(
    rows: list[tuple[Any, ...]],
) -> tuple[
    list[published.ClaimRow], dict[int, published.Label], dict[int, list[published.SourceRow]]
]:
    """CLAIM_ROWS' rows as claim rows, their verdicts, and (when read with them) their sources."""
    claim_rows = [published.ClaimRow._make(row[:CLAIM_WIDTH]) for row in rows]
    labels = {
        claim.verdict_id: published.Label(*row[CLAIM_WIDTH:LABEL_END])
        for claim, row in zip(claim_rows, rows, strict=True)
    }
    sources: dict[int, list[published.SourceRow]] = {}
    if rows and len(rows[0]) > LABEL_END:
        sources = {
            claim.id: published.sources_of_json(row[LABEL_END])
            for claim, row in zip(claim_rows, rows, strict=True)
        }
    elif rows:
        sources = published.sources_by_claim(
            SOURCE_ROWS.rows({}, claim_ids=[claim.id for claim in claim_rows])
        )
    return claim_rows, labels, sources


class ClaimViewBase(GenericAPIView):
    required_scopes = {"GET": Scope.READ_CLAIMS}
    renderer_classes = [JSONRenderer, ClaimReviewRenderer]
    serializer_class = VerifiedClaimSerializer

    def documents(
        self, fixed: dict[str, Any], **wanted: Any
    ) -> tuple[list[published.ClaimRow], list[dict[str, Any]]]:
        """The claims' rows and documents: one prepared query on PostgreSQL (two elsewhere)."""
        organization = request_organization(self.request)
        rows, labels, sources = split_rows(
            CLAIM_ROWS.rows(fixed, organization_id=organization.pk, **wanted)
        )
        ctx = records.Context.of(organization, public=True, labels=labels)
        if self.request.accepted_renderer.format == ClaimReviewRenderer.format:
            return rows, [records.claim_review(ctx, row) for row in rows]
        return rows, [records.claim_record(ctx, row, sources.get(row.id, [])) for row in rows]


class ClaimList(ClaimViewBase):
    pagination_class = SyncCursorPagination

    def wanted(self) -> dict[str, Any]:
        """The request's filters, validated, and where its page starts."""
        filters = ClaimFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        wanted = dict(filters.validated_data)
        lag = settings.WORKBENCH_API_SYNC_LAG_SECONDS
        if lag:
            # A change saved a moment ago may not be committed yet; one that
            # commits after a partner's page would land behind its cursor.
            # Listing only settled changes means no sync ever misses one.
            wanted["settled_before"] = timezone.now() - timedelta(seconds=lag)
        paginator = self.paginator
        assert isinstance(paginator, SyncCursorPagination)
        position = paginator.position(self.request)
        if position is not None:
            wanted["after_time"], wanted["after_id"] = position
        return wanted

    @extend_schema(
        summary="List published verified claims",
        description=(
            "The newsroom's public claims — published, corrected and retracted — in the "
            "order they last changed. To sync, follow `next` to the end, keep the last "
            "claim's `updated_at`, and start from it next time with `updated_since`. "
            "`?format=claimreview` (or `Accept: application/ld+json`) gives each claim as "
            "schema.org ClaimReview."
        ),
        parameters=[ClaimFilterSerializer],
        responses={
            (200, "application/json"): VerifiedClaimSerializer(many=True),
            # One claim's document: drf-spectacular makes it the page of them.
            (200, "application/ld+json"): OpenApiResponse(response=CLAIM_REVIEW_REF),
        },
    )
    def get(self, request: Request) -> Response:
        paginator = self.paginator
        assert isinstance(paginator, SyncCursorPagination)
        size = paginator.page_size_for(request)
        # One extra row says whether there is a next page.
        rows, documents = self.documents({"size": size + 1}, **self.wanted())
        if len(documents) > size:
            documents = documents[:size]
            last = rows[size - 1]
            paginator.next_cursor = paginator.encode(last.updated_at, last.id)
        return paginator.get_paginated_response(documents)


class ClaimDetail(ClaimViewBase):
    @extend_schema(
        summary="Retrieve a published verified claim",
        responses={
            (200, "application/json"): VerifiedClaimSerializer,
            (200, "application/ld+json"): OpenApiResponse(response=CLAIM_REVIEW_REF),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        _rows, documents = self.documents({}, pk=pk)
        if not documents:
            raise Http404
        return Response(documents[0])
