"""One error format for every error the API answers (README: “Partner API”).

    {"status": 400, "code": "invalid", "detail": "…", "fields": {"verdict": ["…"]}}

`fields` is there only for field errors. A 429 also carries `Retry-After`.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from annotations.api.renderers import JSONRenderer
from annotations.api.schema import add_components

# Every operation may answer these; the schema says so (postprocess_errors).
COMMON_ERRORS = {
    "400": "Bad request: `fields` names what is wrong.",
    "401": "No credentials, or an unknown, revoked or expired API key.",
    "403": "The key lacks the scope, or the member's role does not allow it.",
    "404": "Not found in your newsroom.",
    "406": "None of the media types the request accepts (`Accept`) is one this operation "
    "answers with.",
    "429": "Too many requests: wait `Retry-After` seconds.",
    "503": "The database is unavailable (restarting, say): try again in a moment.",
}
# Only operations that read a body answer these.
BODY_ERRORS = {
    "413": "The request body is too large.",
    "415": "The body is not JSON (`Content-Type: application/json`).",
}
# Not the API's answer but the web server's, before the request reaches it:
# gunicorn refuses a request line (method, address and query) over 4,094
# bytes, its `limit_request_line`, with an HTML page. A long filter (an
# `article_url` of many escaped characters) can get there.
URI_TOO_LONG = {
    "description": "The address with its query is longer than the web server accepts "
    "(gunicorn: a request line of 4,094 bytes). Its page, not the API's error document.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before the next request.",
        "schema": {"type": "integer", "minimum": 1},
        "required": True,
    }
}


class Conflict(exceptions.APIException):
    """409. `current`, when given, is what is stored now; the body carries it as `current`."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Someone changed this since you read it: read it again, then retry."
    default_code = "conflict"

    def __init__(self, detail: str | None = None, *, current: Any = None) -> None:
        super().__init__(detail)
        self.current = current


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable; try again in a moment."
    default_code = "database_unavailable"


class ErrorSerializer(serializers.Serializer):
    """Documents the error body; never used to validate input."""

    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


def _field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flattens DRF's nested error detail into `{"sources.0.url": ["…"]}`."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            fields |= _field_errors(value, name)
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, value in enumerate(detail):
            fields |= _field_errors(value, f"{prefix}.{index}" if prefix else str(index))
    elif isinstance(detail, list):
        if detail:
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def _dotted(name: str) -> str:
    """A service's `sources[0].url` as DRF names it, `sources.0.url`; `__all__` as DRF's own."""
    if name == "__all__":
        return "non_field_errors"
    return re.sub(r"\[(\d+)\]", r".\1", name)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            {_dotted(name): messages for name, messages in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found in your newsroom.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, OperationalError | InterfaceError):
        # PostgreSQL is down or restarting (workbench/faults.py says the same for pages).
        exc = DatabaseUnavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a 500: Django's handler logs it
    request = context.get("request")
    if request is not None:
        # The error document is JSON even when the request asked for another
        # representation (`?format=claimreview`): that is what the schema says.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    body: dict[str, Any] = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        body |= {
            "code": "invalid",
            "detail": "Some fields are not valid: see `fields`.",
            "fields": _field_errors(exc.detail),
        }
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        body |= {
            "code": codes if isinstance(codes, str) else exc.default_code,
            "detail": str(exc.detail),
        }
        if isinstance(exc, Conflict) and exc.current is not None:
            body["current"] = exc.current
    response.data = body
    return response


def postprocess_errors(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Adds the common error responses to every operation of the schema, and the
    components the views name without a serializer (annotations/api/schema.py)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "detail": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["status", "code", "detail"],
        },
    )
    add_components(result)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            responses = operation.setdefault("responses", {})
            errors = COMMON_ERRORS | (BODY_ERRORS if "requestBody" in operation else {})
            for code, description in errors.items():
                responses.setdefault(code, {"description": description, "content": error})
            responses["429"].setdefault("headers", RETRY_AFTER)
            responses.setdefault("414", URI_TOO_LONG)
            if method in ("put", "patch", "delete"):
                responses.setdefault(
                    "409",
                    {"description": "A stale `version`: read again, retry.", "content": error},
                )
    return result


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for a URL no route matches (`/api/v1/claims/-1/`): the API's error
    document under /api/, the site's page elsewhere. Installed as `handler404`."""
    if request.path.startswith("/api/"):
        body = {"status": 404, "code": "not_found", "detail": "No such address in this API."}
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)
