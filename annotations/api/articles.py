"""Members' articles: list and read them, and import one through the same service as
a paste in the browser or a file given to `manage.py import_articles`."""

from __future__ import annotations

from typing import Any

import nh3
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.auth import request_organization
from annotations.api.pagination import NewestFirstPagination
from annotations.api.serializers import (
    ArticleFilterSerializer,
    ArticleImportResultSerializer,
    ArticleImportSerializer,
    ArticleSerializer,
    ArticleSummarySerializer,
)
from annotations.core.inputs import ArticleInput, ParseError
from annotations.core.permissions import require_editor
from annotations.importing import services
from annotations.importing.parsers import parse_html
from annotations.models import Article, Collection, Scope


def member_user(request: Request) -> User:
    """The member the request acts as (a key acts as its maker)."""
    assert isinstance(request.user, User)
    return request.user


def newsroom_articles(request: Request) -> QuerySet[Article]:
    return Article.objects.filter(organization=request_organization(request)).select_related(
        "collection"
    )


def article_input(data: dict[str, Any]) -> ArticleInput:
    """The import service's input, as a JSONL line makes it: the HTML is sanitized, and
    without a text the text is extracted from the HTML, as for an uploaded .html file."""
    html = data.get("html") or ""
    fields = {
        name: data.get(name) or "" for name in ("title", "url", "publisher", "author", "language")
    }
    if (data.get("text") or "").strip():
        return ArticleInput(
            text=data["text"],
            html=nh3.clean(html) if html else "",
            published_at=data.get("published_at"),
            **fields,
        )
    try:
        page = parse_html(html.encode())
    except ParseError as error:
        raise ValidationError({"html": [error.message]}) from None
    # What the caller gave wins over what the page says about itself.
    return ArticleInput(
        text=page.text,
        html=page.html,
        published_at=data.get("published_at") or page.published_at,
        **{name: value or getattr(page, name) for name, value in fields.items()},
    )


class ArticleList(GenericAPIView):
    required_scopes = {"GET": Scope.READ_ARTICLES, "POST": Scope.WRITE_ARTICLES}
    pagination_class = NewestFirstPagination
    serializer_class = ArticleSummarySerializer

    def get_queryset(self) -> QuerySet[Article]:
        filters = ArticleFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        articles = newsroom_articles(self.request).defer("text", "html")
        if collection := filters.validated_data.get("collection"):
            articles = articles.filter(collection__slug=collection)
        return articles

    @extend_schema(
        summary="List articles",
        description=(
            "Every version of your newsroom's articles, newest first, without their text "
            "(read one article for it). Follow `next` for the next page."
        ),
        parameters=[ArticleFilterSerializer],
        responses={200: ArticleSummarySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        return self.get_paginated_response(ArticleSummarySerializer(page, many=True).data)

    @extend_schema(
        summary="Import an article",
        description=(
            "Editors only. Imports one article into a collection, as a paste in the "
            "browser does: the same text again is `unchanged` (200); a changed text for a "
            "URL already in the collection becomes its next version, and the reviewers' "
            "claims follow it there."
        ),
        request=ArticleImportSerializer,
        responses={
            201: ArticleImportResultSerializer,
            200: OpenApiResponse(
                ArticleImportResultSerializer, description="Unchanged: already the latest text."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        organization = request_organization(request)
        require_editor(member_user(request), organization.pk)
        given = ArticleImportSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        collection = Collection.objects.filter(
            organization=organization, slug=data["collection"]
        ).first()
        if collection is None:
            raise ValidationError({"collection": ["No collection of your newsroom has this slug."]})
        outcome = services.article_import(collection=collection, data=article_input(data))
        unchanged = outcome.status == services.ImportStatus.UNCHANGED
        return Response(
            {"status": str(outcome.status), "article": ArticleSerializer(outcome.article).data},
            status=status.HTTP_200_OK if unchanged else status.HTTP_201_CREATED,
        )


class ArticleDetail(GenericAPIView):
    required_scopes = {"GET": Scope.READ_ARTICLES}
    serializer_class = ArticleSerializer

    def get_queryset(self) -> QuerySet[Article]:
        return newsroom_articles(self.request)

    @extend_schema(
        summary="Read an article",
        description="One article version with its `text`, which claims' offsets count in.",
        responses={200: ArticleSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ArticleSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)
