"""Who is calling: an API key (`Authorization: Bearer wb_…`) or a logged-in member's session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from annotations.core.permissions import organizations_for
from annotations.keys.services import KEY_PREFIX, api_key_check
from annotations.models import ApiKey, Organization


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer wb_<prefix>_<secret>` (or `X-Api-Key: wb_…`).

    The request then acts as the key's member, and `request.auth` is the ApiKey.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        secret = request.META.get("HTTP_X_API_KEY", "")
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not secret and header:
            keyword, _, value = header.partition(" ")
            if keyword.lower() != self.keyword.lower() or not value.startswith(KEY_PREFIX):
                return None  # another scheme: let the others try
            secret = value.strip()
        if not secret:
            return None
        key = api_key_check(secret)
        if key is None:
            raise exceptions.AuthenticationFailed("This API key is unknown, revoked or expired.")
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return f'{self.keyword} realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "annotations.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "wb_<prefix>_<secret>",
            "description": "An API key created by a newsroom admin (README: “Partner API”).",
        }


def request_organization(request: Request) -> Organization:
    """The newsroom a request works in.

    A key belongs to one newsroom. A member with a session names it with
    `?organization=<slug>` when they belong to more than one.
    """
    if isinstance(request.auth, ApiKey):
        return request.auth.organization
    cached = getattr(request, "_workbench_organization", None)
    if isinstance(cached, Organization):
        return cached
    organizations = organizations_for(request.user).order_by("slug")
    slug = request.query_params.get("organization")
    if slug:
        organization = organizations.filter(slug=slug).first()
        if organization is None:
            raise exceptions.NotFound("No newsroom of yours has this slug.")
    else:
        found = list(organizations[:2])
        if not found:
            raise exceptions.PermissionDenied("You are not a member of any newsroom.")
        if len(found) > 1:
            raise exceptions.ValidationError(
                {"organization": ["You belong to several newsrooms: name one with ?organization="]}
            )
        organization = found[0]
    request._workbench_organization = organization  # type: ignore[attr-defined]
    return organization
