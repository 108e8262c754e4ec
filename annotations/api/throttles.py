"""Throttling per API key: 429 with Retry-After (README: "Partner API")."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from annotations.models import ApiKey


class KeyRateThrottle(SimpleRateThrottle):
    """WORKBENCH_API_RATE requests per key; a session counts per member, others per address."""

    scope = "api"

    def get_rate(self) -> str | None:
        rate = super().get_rate()
        return None if rate in (None, "none", "") else rate

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
