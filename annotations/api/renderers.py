"""JSON out with orjson."""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from django.utils.encoding import force_str
from django.utils.functional import Promise
from rest_framework import exceptions, renderers
from rest_framework.negotiation import DefaultContentNegotiation


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


class ContentNegotiation(DefaultContentNegotiation):
    """An unknown `?format=` is a bad parameter (400 naming it), not a missing page (404)."""

    def select_renderer(
        self, request: Any, renderers: Any, format_suffix: str | None = None
    ) -> tuple[renderers.BaseRenderer, str]:
        name = self.settings.URL_FORMAT_OVERRIDE
        if name and request.query_params.get(name, None) == "":
            # DRF would read an empty `?format=` as no format at all.
            raise exceptions.ValidationError({name: ["Give a format, or leave the parameter out."]})
        chosen: tuple[renderers.BaseRenderer, str] = super().select_renderer(
            request, renderers, format_suffix
        )
        return chosen

    def filter_renderers(
        self, renderers: Iterable[renderers.BaseRenderer], format: str
    ) -> list[renderers.BaseRenderer]:
        offered = list(renderers)
        found = [renderer for renderer in offered if renderer.format == format]
        if not found:
            known = ", ".join(str(renderer.format) for renderer in offered)
            raise exceptions.ValidationError({"format": [f"Unknown format; use {known}."]})
        return found
