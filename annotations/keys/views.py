"""The API keys page: a newsroom's admins make, list and revoke keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from annotations.core.http import HtmxHttpRequest
from annotations.core.permissions import admin_organizations_for
from annotations.keys import services as keys
from annotations.keys.forms import ApiKeyForm
from annotations.keys.services import api_key_create, expires_at_end_of
from annotations.models import ApiKey, Organization


def _admin_organization(request: HtmxHttpRequest, slug: str) -> Organization:
    # Not an admin there, or no such newsroom: the same 404, as on the editors' pages.
    return get_object_or_404(admin_organizations_for(request.user), slug=slug)


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
                new_key = api_key_create(
                    organization=organization,
                    user=data["member"].user,
                    name=data["name"],
                    scopes=data["scopes"],
                    expires_at=expires_at_end_of(expires_on) if expires_on else None,
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
    template = "annotations/keys/api_keys.html"
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
        request, "annotations/keys/api_keys_revoke.html", {"organization": organization, "key": key}
    )
