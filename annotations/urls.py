"""The browser's pages: each capability's own URLs, under one root (no namespace)."""

from __future__ import annotations

from django.urls import include, path

CAPABILITIES = (
    "desk",
    "reader",
    "importing",
    "agreement",
    "verification",
    "publishing",
    "exports",
    "keys",
    "webhooks",
    "discussion",
    "notifications",
    "archiving",
    "watching",
)

urlpatterns = [path("", include(f"annotations.{name}.urls")) for name in CAPABILITIES]
