"""The API keys page: newsroom admins create keys (secret shown once) and revoke them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from annotations import selectors
from annotations.api import keys
from annotations.models import ApiKey, Membership, Organization, Scope
from annotations.views import HtmxHttpRequest


class MemberField(forms.ModelChoiceField[Membership]):
    def label_from_instance(self, obj: Membership) -> str:
        return f"{obj.user.get_username()} ({obj.get_role_display()})"


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Who will use it, e.g. “Partner site” or “Newsletter bot”."
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, initial=[Scope.READ_CLAIMS]
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: the key works until this day is over.",
    )
    member = MemberField(
        queryset=Membership.objects.none(),
        label="Acts as",
        empty_label=None,
        help_text="The key can do what this member may do, within its scopes.",
    )

    # The service's field names, as this form calls them.
    FIELDS = {"user": "member", "expires_at": "expires_on"}

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member = self.fields["member"]
        assert isinstance(member, forms.ModelChoiceField)
        member.queryset = organization.memberships.filter(user__is_active=True).select_related(
            "user"
        )
        expires_on = self.fields["expires_on"]
        expires_on.widget.attrs["min"] = timezone.localdate().isoformat()

    def add_service_errors(self, error: ValidationError) -> None:
        for field, messages_ in error.message_dict.items():
            name = self.FIELDS.get(field, field)
            self.add_error(name if name in self.fields else None, messages_)


def _admin_organization(request: HtmxHttpRequest, slug: str) -> Organization:
    # Not an admin there, or no such newsroom: the same 404, as on the editors' pages.
    return get_object_or_404(selectors.admin_organizations_for(request.user), slug=slug)


@require_http_methods(["GET", "POST"])
@login_required
# The answer to a successful POST holds a secret: no cache, no back-button copy.
@never_cache
def api_keys_page(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    organization = _admin_organization(request, slug)
    own = organization.memberships.filter(user=request.user).first()
    form = ApiKeyForm(request.POST or None, organization=organization, initial={"member": own})
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            expires_on = data["expires_on"]
            try:
                new_key = keys.api_key_create(
                    organization=organization,
                    user=data["member"].user,
                    name=data["name"],
                    scopes=data["scopes"],
                    expires_at=keys.expires_at_end_of(expires_on) if expires_on else None,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
        if new_key is None:
            status = 422
        else:
            # The secret is shown in this answer only, never after a redirect
            # or a reload: it is not kept anywhere to show again.
            form = ApiKeyForm(organization=organization, initial={"member": own})
            status = 201
    template = "annotations/api_keys.html"
    return render(
        request,
        f"{template}#api-keys" if request.htmx else template,
        {
            "organization": organization,
            "form": form,
            "new_key": new_key,
            "keys": ApiKey.objects.filter(organization=organization).select_related("user"),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def api_key_revoke(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET asks to confirm; POST revokes."""
    organization = _admin_organization(request, slug)
    key = get_object_or_404(
        ApiKey.objects.filter(organization=organization).select_related("user"), pk=pk
    )
    if request.method == "POST":
        if key.revoked_at is None:
            keys.api_key_revoke(key=key)
            messages.success(
                request,
                f"Revoked “{key.name}” ({key.display}): it can no longer be used.",
            )
        return redirect("api-keys", slug=organization.slug)
    return render(
        request, "annotations/api_keys_revoke.html", {"organization": organization, "key": key}
    )
