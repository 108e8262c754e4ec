"""The Django admin, scoped by organization.

Superusers see everything. Staff users see and choose only the rows of the
newsrooms where they are editors or admins, so an operator can hand the admin
to a newsroom's editor without showing them anyone else's work.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from annotations import models
from annotations.agreement.runs import agreement_request
from annotations.core.permissions import (
    admin_organizations_for,
    editor_organizations_for,
    membership_change_refusal,
    others_claims_hidden,
)
from annotations.keys.services import api_key_revoke

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
    models.ApiKey: "organization",
    models.Webhook: "organization",
    models.WebhookDelivery: "webhook__organization",
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
    queryset = queryset.filter(**{f"{path}__in": organizations})
    # Blind review holds here as on every page: an editor reviewing an article
    # sees no one else's claims on it until they submit.
    if queryset.model is models.ClaimAnnotation:
        return others_claims_hidden(request.user, queryset)
    if queryset.model is models.Source:
        return others_claims_hidden(
            request.user, queryset, article_path="claim__article", reviewer_path="claim__reviewer"
        )
    return queryset


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
    """Memberships shown on their newsroom's page: to read. They are changed one at a
    time on the Memberships page, where each change is checked (MembershipAdmin)."""

    model = models.Membership

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


class VerdictLabelInline(OrgScopedInline):
    model = models.VerdictLabel


class SourceInline(OrgScopedInline):
    model = models.Source


class AssignmentInline(OrgScopedInline):
    model = models.Assignment


@admin.register(models.Organization)
class OrganizationAdmin(OrgScopedAdmin):
    """Editors may look; a newsroom's admins change it; only operators (superusers) add
    or delete newsrooms."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if request.user.is_superuser or obj is None:
            return True
        return admin_organizations_for(request.user).filter(pk=obj.pk).exists()

    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


class MembershipForm(forms.ModelForm[models.Membership]):
    """Refuses what core.permissions refuses: roles are never raised from below."""

    actor: Any = None

    class Meta:
        model = models.Membership
        fields = ["user", "organization", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organization, member = data.get("organization"), data.get("user")
        if organization is not None and self.actor is not None:
            refusal = membership_change_refusal(
                self.actor,
                organization_id=organization.pk,
                member_id=member.pk if member is not None else None,
                role=data.get("role"),
            )
            if refusal is None and self.instance.pk is not None:
                # Changing a membership also takes it from where it was.
                refusal = membership_change_refusal(
                    self.actor,
                    organization_id=self.instance.organization_id,
                    member_id=self.instance.user_id,
                )
            if refusal is not None:
                raise forms.ValidationError(refusal)
        return data


@admin.register(models.Membership)
class MembershipAdmin(OrgScopedAdmin):
    """Only a newsroom's admins change its memberships, never their own, never to a role
    above their own (core.permissions.membership_change_refusal); editors may look."""

    form = MembershipForm
    list_display = ["user", "organization", "role"]
    list_filter = ["role", ("organization", RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "organization__name"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def _may_change(self, request: HttpRequest, obj: models.Membership | None) -> bool:
        if obj is None:
            return bool(request.user.is_superuser) or admin_organizations_for(request.user).exists()
        refusal = membership_change_refusal(
            request.user, organization_id=obj.organization_id, member_id=obj.user_id
        )
        return refusal is None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self._may_change(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_change(request, obj)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "organization" and field is not None and not request.user.is_superuser:
            # A membership is made only in a newsroom the user administers.
            field.queryset = admin_organizations_for(request.user)
        return field

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Checked once more as it is written, whatever the form let through.
        refusal = membership_change_refusal(
            request.user, organization_id=obj.organization_id, member_id=obj.user_id, role=obj.role
        )
        if refusal is not None:
            raise PermissionDenied(refusal)
        super().save_model(request, obj, form, change)


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


@admin.register(models.ApiKey)
class ApiKeyAdmin(OrgScopedAdmin):
    """Keys are made with their secret shown once (the API keys page or
    create_api_key), so the admin only lists them and revokes them."""

    list_display = [
        "name",
        "display",
        "organization",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("organization", RelatedOnlyFieldListFilter)]
    search_fields = ["name", "prefix"]
    # The hashed secret is left out: it is of no use to read and would only
    # help someone trying to guess the secret offline.
    exclude = ["hashed_secret"]
    readonly_fields = [
        "organization",
        "name",
        "display",
        "scopes",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Like the API keys page: only a newsroom's admins see its keys.
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(organization__in=admin_organizations_for(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="key")
    def display(self, obj: models.ApiKey) -> str:
        return obj.display

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[models.ApiKey]) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key{'s' if revoked != 1 else ''}.")


class WebhookAdminBase(OrgScopedAdmin):
    """To look at: webhooks are registered, changed and deleted by a newsroom's
    admins on its Webhooks page, through the services that check the role."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Like the Webhooks page: only a newsroom's admins see its webhooks.
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        path = ORG_PATHS[queryset.model]
        return queryset.filter(**{f"{path}__in": admin_organizations_for(request.user)})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Webhook)
class WebhookAdmin(WebhookAdminBase):
    list_display = ["url", "organization", "active", "created_at"]
    list_filter = [("organization", RelatedOnlyFieldListFilter), "active"]
    # The signing secret is shown on the Webhooks page, not here.
    exclude = ["secret"]


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(WebhookAdminBase):
    list_display = ["pk", "event", "webhook", "status", "attempts", "response_status", "created_at"]
    list_filter = ["status", "event"]


class SuperuserOnly(admin.ModelAdmin[Any]):
    """People and their permissions are the operators' (superusers'): a newsroom's
    staff could otherwise make themselves superusers, staff of everything, or reset
    the password of an admin of another newsroom. Newsrooms manage their members'
    roles through Memberships."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


class OperatorsUserAdmin(SuperuserOnly, UserAdmin[User]):
    pass


class OperatorsGroupAdmin(SuperuserOnly, GroupAdmin):
    pass


for _model, _admin in ((User, OperatorsUserAdmin), (Group, OperatorsGroupAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
