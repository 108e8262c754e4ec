"""JSON out with orjson, JSON in with a size limit."""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from django.utils.encoding import force_str
from django.utils.functional import Promise
from rest_framework import parsers, renderers
from rest_framework.exceptions import ParseError

from annotations.api.errors import PayloadTooLarge


def _default(value: Any) -> Any:
    if isinstance(value, Promise):
        return force_str(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, written by orjson: a page of 100 claims in a fraction of the time."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default)


class ClaimReviewRenderer(JSONRenderer):
    """schema.org ClaimReview JSON-LD: `?format=claimreview` or `Accept: application/ld+json`."""

    media_type = "application/ld+json"
    format = "claimreview"


class JSONParser(parsers.JSONParser):
    """Refuses a body over WORKBENCH_API_MAX_BODY_BYTES with 413, before reading it all."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.WORKBENCH_API_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is over {limit:,} bytes.")
        if not body:
            return {}
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise ParseError(f"The body is not valid JSON: {error}") from error
