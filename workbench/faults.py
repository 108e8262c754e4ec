"""Errors a user meets outside any view, each answered with a page that says what to do.

A database that is down or restarting answers 503 "try again in a moment".

Not a 500 with a traceback, and not a hang: psycopg fails at once when
PostgreSQL refuses connections, and Django reconnects on the next request once
it is back (CONN_HEALTH_CHECKS), so the web processes never need a restart.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils.html import escape
from django.views import defaults

from annotations.core.inputs import MAX_SOURCES

logger = logging.getLogger(__name__)

DETAIL = "The database is unavailable; try again in a moment."
# Long enough for PostgreSQL to restart; a browser or partner script that
# honours it does not hammer a database on its way back.
RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


def plain_error(status: int, title: str, detail: str, footnote: str) -> HttpResponse:
    context = {"title": title, "detail": detail, "footnote": footnote}
    return HttpResponse(render_to_string("plain_error.html", context), status=status)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503: the API's error document under /api/, a plain page elsewhere."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        body = {"status": 503, "code": "database_unavailable", "detail": DETAIL}
        response = JsonResponse(body, status=503)
    else:
        # Rendered without the request: the page must not need the database
        # (no user, no session) to say that the database is down.
        response = plain_error(
            503, "Try again in a moment", DETAIL, "Nothing you saved before is lost."
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turns a database connection failure in a view into the 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning("Database unavailable: %s %s: %s", request.method, request.path, exception)
        return database_unavailable(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the same 503 for a database failure outside a view (in a middleware)."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return database_unavailable(request)
    return defaults.server_error(request)


def too_many_fields(request: HttpRequest) -> HttpResponse:
    """A form that sent more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS: nothing is read.

    From htmx, the message goes into the form's alert (`.form-alert` in the
    element the request targets), and the form stays as it was typed; from a
    plain form, a page saying so (going back keeps what was typed).
    """
    detail = (
        f"This form sent more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields, more "
        f"than any form here needs (a claim has at most {MAX_SOURCES} sources), so nothing "
        "was saved. Remove the extra rows and save again."
    )
    target = request.headers.get("HX-Target")
    if request.headers.get("HX-Request") and target:
        response = HttpResponse(escape(detail), status=422)
        response["HX-Retarget"] = f"#{target} .form-alert"
        response["HX-Reswap"] = "innerHTML"
        return response
    if request.path.startswith("/api/"):
        body = {"status": 400, "code": "too_many_fields", "detail": detail}
        return JsonResponse(body, status=400)
    return plain_error(400, "Too many fields", detail, "Go back: what you typed is still there.")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a form body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 that says so, and
    one with too many fields a message in the form."""
    if isinstance(exception, TooManyFieldsSent):
        return too_many_fields(request)
    if not isinstance(exception, RequestDataTooBig):
        return defaults.bad_request(request, exception)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    detail = (
        f"What you sent is larger than the {filesizeformat(limit)} a form may hold, "
        "so nothing was saved."
    )
    if request.path.startswith("/api/"):
        body = {"status": 413, "code": "too_large", "detail": detail}
        return JsonResponse(body, status=413)
    return plain_error(
        413,
        "Too large to send",
        detail,
        "Go back, shorten it (a long text can be uploaded as a file) and send it again.",
    )
