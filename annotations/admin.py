"""The Django admin, scoped by organization.

Superusers see everything. Staff users see and choose only the rows of the
newsrooms where they are editors or admins, so an operator can hand the admin
to a newsroom's editor without showing them anyone else's work.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.auth import get_user_model
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from annotations import models
from annotations.selectors import editor_organizations_for
from annotations.services import agreement_request

# How to reach the organization from each model the admin lists or offers.
ORG_PATHS: dict[type[Model], str] = {
    models.Organization: "pk",
    models.Membership: "organization",
    models.Taxonomy: "organization",
    models.VerdictLabel: "taxonomy__organization",
    models.Collection: "organization",
    models.Article: "organization",
    models.Assignment: "article__organization",
    models.ClaimAnnotation: "article__organization",
    models.Source: "claim__article__organization",
}


def scope(queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
    if request.user.is_superuser:
        return queryset
    organizations = editor_organizations_for(request.user)
    if queryset.model is get_user_model():
        return queryset.filter(memberships__organization__in=organizations).distinct()
    path = ORG_PATHS.get(queryset.model)
    if path is None:
        return queryset.none()
    return queryset.filter(**{f"{path}__in": organizations})


class OrgScopedAdmin(admin.ModelAdmin[Any]):
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope(super().get_queryset(request), request)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and field.queryset is not None:
            field.queryset = scope(field.queryset, request)
        return field


class OrgScopedInline(admin.TabularInline[Any, Any]):
    extra = 0

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and field.queryset is not None:
            field.queryset = scope(field.queryset, request)
        return field


class MembershipInline(OrgScopedInline):
    model = models.Membership


class VerdictLabelInline(OrgScopedInline):
    model = models.VerdictLabel


class SourceInline(OrgScopedInline):
    model = models.Source


class AssignmentInline(OrgScopedInline):
    model = models.Assignment


@admin.register(models.Organization)
class OrganizationAdmin(OrgScopedAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(models.Membership)
class MembershipAdmin(OrgScopedAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role", ("organization", RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "organization__name"]


@admin.register(models.Taxonomy)
class TaxonomyAdmin(OrgScopedAdmin):
    list_display = ["name", "organization", "is_default", "worst_rating", "best_rating"]
    inlines = [VerdictLabelInline]


@admin.register(models.Collection)
class CollectionAdmin(OrgScopedAdmin):
    list_display = ["name", "organization", "reviewers_per_article", "blind_review", "min_sources"]
    list_filter = [("organization", RelatedOnlyFieldListFilter), "blind_review"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Moving a collection to another newsroom or taxonomy would strand its
        # articles' claims and verdicts.
        return ["organization", "taxonomy"] if obj else []


@admin.register(models.Article)
class ArticleAdmin(OrgScopedAdmin):
    list_display = ["title", "collection", "version", "language", "published_at", "imported_at"]
    list_filter = [
        ("organization", RelatedOnlyFieldListFilter),
        ("collection", RelatedOnlyFieldListFilter),
        "language",
    ]
    search_fields = ["title", "url", "publisher"]
    # The text is the coordinate system of every highlight: it never changes
    # after import, and articles enter only through the import service, which
    # normalizes it. A changed text is imported as a new version.
    readonly_fields = [
        "organization",
        "collection",
        "url",
        "text",
        "html",
        "content_hash",
        "version",
        "previous_version",
    ]
    inlines = [AssignmentInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(models.Assignment)
class AssignmentAdmin(OrgScopedAdmin):
    list_display = ["article", "reviewer", "status", "submitted_at"]
    list_filter = ["status"]


@admin.register(models.ClaimAnnotation)
class ClaimAnnotationAdmin(OrgScopedAdmin):
    list_display = ["quote", "article", "reviewer", "verdict", "rating", "updated_at"]
    list_filter = [
        ("verdict", RelatedOnlyFieldListFilter),
        ("reviewer", RelatedOnlyFieldListFilter),
    ]
    search_fields = ["quote", "note"]
    # Offsets and quote are checked against the article by the services;
    # the admin edits the judgement, not the span.
    readonly_fields = ["article", "start", "end", "quote", "prefix", "suffix", "version"]
    inlines = [SourceInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Claims are made in the reader or by import_annotations, which check
        # the span against the article's text.
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # An admin edit is an edit like any other: an open form elsewhere gets
        # a conflict, and agreement is refreshed.
        obj.version += 1
        super().save_model(request, obj, form, change)
        agreement_request(obj.article_id)
