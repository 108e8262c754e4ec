"""Throttling per API key: 429 with Retry-After (docs/api.md, "Errors and limits").

`WORKBENCH_API_RATE` requests (`600/min`: a number, then `s`, `m`, `h` or `d`)
in any window of that length, per key; a session counts per member, a request
without credentials per address; `none` turns the limit off.

The limit is a sliding log: the times of the requests admitted in the last
window. DRF's SimpleRateThrottle keeps the same log, but reads it from the
cache, adds the request and writes it back, so two gunicorn workers admitting
requests at the same moment each write back a log missing the other's, and
more requests get through than the limit allows. Here, with Redis, the whole
check is one Lua script: Redis runs a script alone, so checking and recording
a request cannot interleave with another worker's, and every worker counts the
same requests exactly. Its clock is Redis' own, so web servers whose clocks
disagree still agree on the window.

Without Redis (the embedded default, one process), the log is kept in the
local cache under a lock of this process. With Redis down, the API answers,
unthrottled, rather than failing every request (docs/operations.md, "Redis
goes away").
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from redis.commands.core import Script
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from annotations.models import ApiKey

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# KEYS[1]: the log, a sorted set of the admitted requests' times (µs).
# ARGV[1]: the limit; ARGV[2]: the window, in µs.
# Returns 0 when the request is admitted (and recorded), otherwise how many µs
# until the oldest request in the log leaves the window.
# Times are formatted with %.0f: a µs count is exact in a double, and Lua's
# own number-to-text would write it as 1.7e+15, losing the µs.
SLIDING_LOG = Script(
    None,  # type: ignore[arg-type]
    b"""
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  -- The count makes the member unique if two requests share a microsecond.
  local stamp = string.format('%.0f', now)
  redis.call('ZADD', KEYS[1], stamp, stamp .. ':' .. count)
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
""",
)

# The local log's lock: the local cache is this process's alone.
_local_lock = threading.Lock()


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """`600/min` as (600, 60); None when the limit is off (`none` or empty)."""
    if rate is None or rate.strip().lower() in ("", "none"):
        return None
    number, _, period = rate.partition("/")
    try:
        limit = int(number)
        seconds = PERIODS[period.strip()[:1]]
    except (ValueError, KeyError):
        raise ImproperlyConfigured(
            f"WORKBENCH_API_RATE={rate!r}: use requests/period, e.g. 600/min, or none"
        ) from None
    return limit, seconds


class KeyRateThrottle(BaseThrottle):
    """WORKBENCH_API_RATE requests per key; a session counts per member, others per address."""

    scope = "api"

    def __init__(self) -> None:
        # Read for each request (DRF makes a throttle per request), so a
        # changed setting applies at once, in tests too.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        self.rate = parse_rate(None if rate is None else str(rate))
        self.retry_after: float | None = None

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        # Not DRF's `throttle_api_…` keys: those hold its pickled lists, which a
        # sorted set under the same name would collide with while they last.
        return f"throttle:{self.scope}:{ident}"

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        limit, seconds = self.rate
        key = self.get_cache_key(request, view)
        try:
            wait = self._check(key, limit, seconds)
        except RedisError:
            # The counts live in Redis; with Redis down the API keeps answering
            # (unthrottled) rather than failing every request.
            logger.warning("Throttle counts unavailable (Redis down); request allowed")
            return True
        if wait is None:
            return True
        self.retry_after = wait
        return False

    def wait(self) -> float | None:
        """Seconds until the oldest request counted leaves the window (Retry-After)."""
        return self.retry_after

    def _check(self, key: str, limit: int, seconds: int) -> float | None:
        """None when the request is admitted (and counted); otherwise seconds to wait."""
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            cache_key = backend.make_and_validate_key(key)
            # Django's own Redis backend, and its connection pool: the script
            # needs the client underneath, which the cache API does not offer.
            client = backend._cache.get_client(cache_key, write=True)
            window = seconds * 1_000_000
            micros = int(SLIDING_LOG(keys=[cache_key], args=[limit, window], client=client))
            return micros / 1_000_000 if micros else None
        return self._check_locally(key, limit, seconds)

    def _check_locally(self, key: str, limit: int, seconds: int) -> float | None:
        """The same log in the local cache, for one process without Redis."""
        cache = caches["default"]
        with _local_lock:
            now = time.time()
            log: list[float] = [stamp for stamp in cache.get(key, []) if stamp > now - seconds]
            if len(log) >= limit:
                return max(1.0, min(log) + seconds - now)
            cache.set(key, [*log, now], math.ceil(seconds))
            return None
