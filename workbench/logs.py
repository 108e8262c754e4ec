"""Structured logs with request ids, carried from a request into the tasks it queues.

Every request gets an id (the client's `X-Request-ID` when it is a sane token,
else a new one), sent back in the `X-Request-ID` response header and put on
every log record made while the request is handled. A task queued during the
request carries the id in a message header; the worker puts it back in place
while the task runs, with the task's name and id, so one grep for the id
finds the request and everything the workers did for it.

`settings.LOGGING` wires `ContextFilter` into the console handler and picks
`JsonFormatter` (production) or a text format with `%(context)s` (development); README: "Logs
and request ids".
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.core.signals import request_finished

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# The Celery message header the id travels in.
TASK_HEADER = "request_id"
# Only ids that are safe to write into a log line or a header as they are: a
# client's id with a newline in it could forge log lines.
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
current_task_id: ContextVar[str | None] = ContextVar("task_id", default=None)
current_task_name: ContextVar[str | None] = ContextVar("task_name", default=None)


def request_id_from(incoming: str | None) -> str:
    """The client's id when it is a sane token, otherwise a new one."""
    if incoming and SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each request an id, for its log lines, its tasks and the response header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Django logs "Not Found: /x" and other 4xx lines after the last
        # middleware has returned, and a streamed response is written later
        # still: the id is cleared when the response is closed, not here.
        request_finished.connect(forget_request_id, dispatch_uid="workbench.logs")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id_from(request.headers.get(HEADER))
        current_request_id.set(rid)
        response = self.get_response(request)
        response[HEADER] = rid
        return response


def forget_request_id(**kwargs: Any) -> None:
    current_request_id.set(None)


class ContextFilter(logging.Filter):
    """Puts the request id, and the task's name and id inside a task, on every record.

    Attach it to a handler (not a logger), so that records propagated from
    every logger pass through it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        rid, tid, name = current_request_id.get(), current_task_id.get(), current_task_name.get()
        parts = [f"req={rid or '-'}"]
        if tid:
            parts.append(f"task={name}[{tid}]")
        # Extra attributes, as `extra=` would set them: the formatters read them.
        record.__dict__.update(request_id=rid, task_id=tid, task_name=name, context=" ".join(parts))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what a log collector indexes without parsing rules."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if getattr(record, "task_id", None):
            entry["task_id"] = getattr(record, "task_id", None)
            entry["task_name"] = getattr(record, "task_name", None)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # A message can hold anything; default=str keeps one odd value from losing the line.
        return json.dumps(entry, ensure_ascii=False, default=str)


# Celery ---------------------------------------------------------------------------

# Tokens to put back what a task replaced, by task id: an in-process (eager)
# task runs inside the request, which keeps its id once the task is done.
_tokens: dict[str, tuple[Token[str | None], ...]] = {}


def on_before_task_publish(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    rid = current_request_id.get()
    if rid and headers is not None:
        headers.setdefault(TASK_HEADER, rid)


def on_task_prerun(task_id: str, task: Any, **kwargs: Any) -> None:
    # In a worker the id comes from the message; in-process, the request's is still set.
    rid = getattr(task.request, TASK_HEADER, None) or current_request_id.get()
    _tokens[task_id] = (
        current_request_id.set(rid if isinstance(rid, str) and SANE_ID.fullmatch(rid) else None),
        current_task_id.set(task_id),
        current_task_name.set(task.name),
    )


def on_task_postrun(task_id: str, **kwargs: Any) -> None:
    tokens = _tokens.pop(task_id, None)
    if tokens is None:
        return
    rid_token, id_token, name_token = tokens
    current_task_name.reset(name_token)
    current_task_id.reset(id_token)
    current_request_id.reset(rid_token)


def on_setup_logging(**kwargs: Any) -> None:
    """The worker logs with Django's LOGGING (and this filter) instead of Celery's own setup."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


def connect_celery() -> None:
    from celery import signals

    signals.before_task_publish.connect(on_before_task_publish, weak=False)
    signals.task_prerun.connect(on_task_prerun, weak=False)
    signals.task_postrun.connect(on_task_postrun, weak=False)
    signals.setup_logging.connect(on_setup_logging, weak=False)
