"""`/healthz`: can this process reach what it needs? For compose and load balancers.

    {"status": "ok", "mode": "queue", "database": "ok", "broker": "ok", "worker": "ok"}

`status` is "ok", "degraded" (no worker answers: pages and saves work, background
work waits) or "error" (the database or the broker is unreachable). An error
answers 503; ok and degraded answer 200, so a proxy keeps sending requests to a
web process that can serve them. Without a broker (the embedded default) tasks
run in-process: `mode`, `broker` and `worker` say "in-process".

A part that is down reads "error: <what went wrong>": the cause under the
library's wrapper (kombu calls everything OperationalError), so that an operator
can tell a broker that is down or restarting (ConnectionRefusedError) from one
that does not answer (TimeoutError), wrong credentials (AccessRefused) or a
wrong host name (gaierror). The same words for RabbitMQ (amqp://) and Redis.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection
from kombu.exceptions import OperationalError as KombuOperationalError

IN_PROCESS = "in-process"
# Pages ask whether the broker is up at most this often per process, so the
# "background work is delayed" notice costs a page nothing most of the time.
BROKER_CHECK_SECONDS = 5.0

_broker_checked: tuple[float, str, bool] | None = None


def _cause(exc: BaseException) -> BaseException:
    """What actually went wrong under kombu's and redis-py's wrappers."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    # A socket's own error says it best (refused, reset, timed out, unknown host);
    # else the first that is not kombu's catch-all OperationalError. Errors further
    # down the chain can be unrelated leftovers (an empty pool's IndexError).
    for candidate in chain:
        if isinstance(candidate, OSError):
            return candidate
    for candidate in chain:
        if not isinstance(candidate, KombuOperationalError):
            return candidate
    return exc


def _failure(exc: BaseException) -> str:
    # Any failure means "down"; its class says why, without leaking addresses.
    return f"error: {_cause(exc).__class__.__name__}"


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return _failure(exc)
    return "ok"


def broker_status() -> str:
    if not settings.CELERY_BROKER_URL:
        return IN_PROCESS
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as broker:
            # One attempt, no pause: a health check answers at once.
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    except Exception as exc:
        return _failure(exc)
    return "ok"


def worker_status() -> str:
    """ "ok" when a worker answers a ping within a second, "missing" when none does."""
    if not settings.CELERY_BROKER_URL:
        return IN_PROCESS
    from workbench.celery import app

    try:
        replies = app.control.ping(timeout=1.0, limit=1)
    except Exception as exc:
        return _failure(exc)
    return "ok" if replies else "missing"


def background_delayed() -> bool:
    """Is the broker unreachable, so that work queued now waits? Cached per process."""
    global _broker_checked
    if not settings.CELERY_BROKER_URL:
        return False
    now = time.monotonic()
    url = settings.CELERY_BROKER_URL
    if (
        _broker_checked is None
        or _broker_checked[1] != url
        or now - _broker_checked[0] > (BROKER_CHECK_SECONDS)
    ):
        _broker_checked = (now, url, broker_status() != "ok")
    return _broker_checked[2]


def background_notice(request: HttpRequest) -> dict[str, Any]:
    """Template context: `background_delayed`, checked only by pages that show it."""
    # A callable: the template calls it only where the notice is rendered.
    return {"background_delayed": background_delayed}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = database_status(), broker_status()
    # Without a broker no worker can be asked.
    worker = worker_status() if broker in ("ok", IN_PROCESS) else "unknown"
    if database != "ok" or broker.startswith("error"):
        status, code = "error", 503
    elif worker not in ("ok", IN_PROCESS):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body = {
        "status": status,
        "mode": IN_PROCESS if broker == IN_PROCESS else "queue",
        "database": database,
        "broker": broker,
        "worker": worker,
    }
    return JsonResponse(body, status=code)
