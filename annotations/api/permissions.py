"""Scopes: what a key may do. A member's session may do what their role allows."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from annotations.models import ApiKey


class HasScope(permissions.BasePermission):
    """The view names the scope each method needs: `required_scopes = {"GET": "read:claims"}`.

    Roles still apply on top: a key acts as its member, and the services check
    what that member may do (blind review, editors only, …).
    """

    message = "This API key lacks the scope this request needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if not isinstance(request.auth, ApiKey):
            return True  # a session: the member's role decides, in the services
        method = request.method or "GET"
        if not hasattr(view, method.lower()):
            return True  # the view answers 405 and says which methods it has
        needed = scope_for(view, method)
        if needed is None:
            return False
        if needed not in request.auth.scopes:
            self.message = f"This API key lacks the “{needed}” scope this request needs."
            return False
        return True


def scope_for(view: Any, method: str) -> str | None:
    scopes: dict[str, str] = getattr(view, "required_scopes", {})
    if method in ("HEAD", "OPTIONS"):
        method = "GET"
    return scopes.get(method)
