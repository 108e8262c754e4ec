"""Members' export jobs: start one, watch it, download its file — as on the exports page."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.articles import member_user
from annotations.api.auth import request_organization
from annotations.api.pagination import NewestFirstPagination
from annotations.api.renderers import JSONRenderer
from annotations.api.schema import CLAIM_REVIEW_REF
from annotations.api.serializers import ExportCreateSerializer, ExportJobSerializer
from annotations.core.permissions import require_editor
from annotations.exports import services
from annotations.exports.selection import FILTERS, Selection
from annotations.exports.views import CONTENT_TYPES, export_file_response
from annotations.models import (
    ExportFormat,
    ExportJob,
    Organization,
    Scope,
)


def file_schema(media_type: str) -> dict[str, Any]:
    """The schema of an export file's body, by its media type.

    Files are bytes (`format: binary`), except the ClaimReview export: its
    media type is JSON's (`application/ld+json`), and OpenAPI describes a JSON
    body as the document it holds, so it is typed as that document, a list of
    ClaimReview. Typed as a binary string, the schema would say the body is one
    JSON string, which it is not.
    """
    if media_type == CONTENT_TYPES[ExportFormat.CLAIMREVIEW]:
        return {"type": "array", "items": CLAIM_REVIEW_REF}
    return {"type": "string", "format": "binary"}


def editor_newsroom(request: Request) -> Organization:
    """Exports are the editors' (the exports page's rule)."""
    organization = request_organization(request)
    require_editor(member_user(request), organization.pk)
    return organization


def newsroom_jobs(request: Request) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(organization=editor_newsroom(request)).select_related(
        "collection", "verdict"
    )


def selection_of(organization: Organization, data: dict[str, Any]) -> Selection:
    """The request's filters as an export selection; slugs are looked up in the newsroom."""
    try:
        return Selection.from_slugs(organization, **{name: data[name] for name in FILTERS})
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from None


class ExportList(GenericAPIView):
    required_scopes = {"GET": Scope.EXPORTS, "POST": Scope.EXPORTS}
    pagination_class = NewestFirstPagination
    serializer_class = ExportJobSerializer

    @extend_schema(
        summary="List export jobs",
        description="Editors only. The newsroom's export jobs, newest first.",
        responses={200: ExportJobSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(newsroom_jobs(request))
        assert page is not None
        serializer = ExportJobSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="Start an export",
        description=(
            "Editors only. Queues an export of verified claims and answers 202 with the "
            "job; poll it until `status` is `done`, then fetch `download_url`. The same "
            "checks as the exports page: a range that ends before it starts, a PDF too "
            "large to lay out, … answer 400 naming the field."
        ),
        request=ExportCreateSerializer,
        responses={202: ExportJobSerializer},
    )
    def post(self, request: Request) -> Response:
        organization = editor_newsroom(request)
        given = ExportCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        job = services.export_start(
            selection=selection_of(organization, given.validated_data),
            export_format=given.validated_data["format"],
            user=member_user(request),
        )
        location = reverse("api-v1:export-detail", args=[job.pk])
        return Response(
            ExportJobSerializer(job, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(location)},
        )


class ExportDetail(GenericAPIView):
    required_scopes = {"GET": Scope.EXPORTS}
    serializer_class = ExportJobSerializer

    @extend_schema(
        summary="Read an export job",
        description="Its status and progress, and `download_url` once the file is ready.",
        responses={200: ExportJobSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(newsroom_jobs(request), pk=pk)
        return Response(ExportJobSerializer(job, context={"request": request}).data)


class FirstRenderer(BaseContentNegotiation):
    """The file goes out as it is whatever the client accepts; errors go out as JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class ExportDownload(GenericAPIView):
    required_scopes = {"GET": Scope.EXPORTS}
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FirstRenderer

    @extend_schema(
        summary="Download an export's file",
        description=(
            "The file, as an attachment, in its format's media type. 404 while the job is "
            "not done, when it failed, and once it expired. When exports are kept in a "
            "bucket, a redirect (302) to a signed link to the file, valid for a minute."
        ),
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                response=[302],
                description="The signed link to the file in the bucket.",
            )
        ],
        responses={
            **{
                (200, media_type): OpenApiResponse(file_schema(media_type), description="The file.")
                for media_type in sorted(set(CONTENT_TYPES.values()))
            },
            302: OpenApiResponse(description="The file is in a bucket: fetch it from `Location`."),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        """The file; from a bucket, a redirect to a signed link valid for a minute."""
        job = get_object_or_404(newsroom_jobs(request), pk=pk)
        if not job.downloadable or not default_storage.exists(job.file):
            raise NotFound("This export has no file: not finished, failed or expired.")
        return export_file_response(job)
