"""Members import articles by URL: start a job of addresses, then follow it — the
collection page's "Import by URL" and `import_articles --url`, through the same service."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.articles import member_user
from annotations.api.auth import request_organization
from annotations.api.pagination import NewestFirstPagination
from annotations.api.schema import http_url
from annotations.api.serializers import JsonBody, slug
from annotations.core.permissions import require_editor
from annotations.importing.by_url import fetch_job_start
from annotations.models import Collection, FetchJob, Scope

RESULT_STATUSES = ["created", "new version", "unchanged", "failed"]


class FetchCreateSerializer(JsonBody):
    collection = slug(help_text="The slug of a collection of your newsroom.")
    urls = serializers.ListField(
        child=http_url(),
        min_length=1,
        max_length=settings.WORKBENCH_FETCH_MAX_URLS,
        help_text="The articles' http(s) addresses, fetched in this order. Each is "
        "checked before anything is queued: one that cannot be fetched answers 400.",
    )


class FetchResultSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The address, as it was fetched (normalized).")
    status = serializers.ChoiceField(choices=RESULT_STATUSES)
    article = serializers.IntegerField(
        allow_null=True, help_text="The article version stored (or already there); null if failed."
    )
    error = serializers.CharField(allow_blank=True, help_text="Why it failed, in words.")


class FetchJobSerializer(serializers.ModelSerializer):
    collection: serializers.SlugRelatedField[Collection] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    progress = serializers.IntegerField(source="percent", help_text="Percent done, 0 to 100.")
    results = FetchResultSerializer(many=True, help_text="One per address done, in order.")

    class Meta:
        model = FetchJob
        fields = [
            "id",
            "collection",
            "status",
            "progress",
            "total",
            "processed",
            "created",
            "new_versions",
            "unchanged",
            "failed",
            "urls",
            "results",
            "failure",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


def newsroom_fetches(request: Request) -> QuerySet[FetchJob]:
    """Imports by URL are the editors' (the collection page's rule)."""
    organization = request_organization(request)
    require_editor(member_user(request), organization.pk)
    return FetchJob.objects.filter(organization=organization).select_related("collection")


class FetchList(GenericAPIView):
    required_scopes = {"GET": Scope.READ_ARTICLES, "POST": Scope.WRITE_ARTICLES}
    pagination_class = NewestFirstPagination
    serializer_class = FetchJobSerializer

    @extend_schema(
        summary="List imports by URL",
        description="Editors only. The newsroom's imports by URL, newest first.",
        responses={200: FetchJobSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(newsroom_fetches(request))
        assert page is not None
        return self.get_paginated_response(FetchJobSerializer(page, many=True).data)

    @extend_schema(
        summary="Import articles by URL",
        description=(
            "Editors only. Queues the fetch of these addresses into a collection and "
            "answers 202 with the job; poll it until `status` is `done`. Each page's "
            "article text and metadata (title, authors, site name, dates, language) are "
            "extracted; the same address again is the same article, and a changed text "
            "its next version. Each address that failed says why in `results`."
        ),
        request=FetchCreateSerializer,
        responses={202: FetchJobSerializer},
    )
    def post(self, request: Request) -> Response:
        organization = request_organization(request)
        user = member_user(request)
        require_editor(user, organization.pk)
        given = FetchCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data: dict[str, Any] = given.validated_data
        collection = Collection.objects.filter(
            organization=organization, slug=data["collection"]
        ).first()
        if collection is None:
            raise ValidationError({"collection": ["No collection of your newsroom has this slug."]})
        try:
            job = fetch_job_start(collection=collection, user=user, urls=data["urls"])
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        location = reverse("api-v1:fetch-detail", args=[job.pk])
        return Response(
            FetchJobSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(location)},
        )


class FetchDetail(GenericAPIView):
    required_scopes = {"GET": Scope.READ_ARTICLES}
    serializer_class = FetchJobSerializer

    @extend_schema(
        summary="Read an import by URL",
        description="Its status and progress, and how each address went.",
        responses={200: FetchJobSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(newsroom_fetches(request), pk=pk)
        return Response(FetchJobSerializer(job).data)
