"""Throttling per API key: 429 with Retry-After (README: "Partner API")."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from annotations.models import ApiKey

logger = logging.getLogger(__name__)


class KeyRateThrottle(SimpleRateThrottle):
    """WORKBENCH_API_RATE requests per key; a session counts per member, others per address."""

    scope = "api"

    def get_rate(self) -> str | None:
        rate = super().get_rate()
        return None if rate in (None, "none", "") else rate

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError:
            # The counts live in Redis; with Redis down the API keeps answering
            # (unthrottled) rather than failing every request.
            logger.warning("Throttle counts unavailable (Redis down); request allowed")
            return True

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
