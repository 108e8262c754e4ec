"""Cursor pages over (updated_at, id): a partner syncs incrementally, never missing a change.

The cursor is the last row's (updated_at, id), opaque to the client. Rows come
in the order they last changed, so following `next` to the end, and later
starting again from the last cursor (or `updated_since`), sees every change
exactly once: a claim changed meanwhile moves past the cursor and comes again
with its new content; an unchanged claim never comes twice.

The cursor is written `<microseconds since 1970>.<id>`, which the schema can
describe exactly (a pattern): every cursor the schema allows is one the API
takes, and anything else answers 400 naming `cursor`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.plumbing import build_array_type, build_object_type
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

MAX_PAGE_SIZE = 100


def page_size_of(request: Request, *, name: str, default: int) -> int:
    """The page size asked for: a whole number from 1 to MAX_PAGE_SIZE, or 400 naming it.

    Anything else (`null`, `0`, `ten`, an empty value) is refused rather than
    quietly replaced by the default, as DRF's paginators do.
    """
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValidationError({name: [f"A whole number from 1 to {MAX_PAGE_SIZE}."]})
    return int(raw)


def page_size_parameter(name: str, default: int) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"Rows per page, 1 to {MAX_PAGE_SIZE} (default {default}).",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    }


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Up to 18 digits each: the id stays within a bigint; a time past year 9999
# (the most datetime holds) is past every claim, so its page is empty.
CURSOR = re.compile(r"^([0-9]{1,18})\.([0-9]{1,18})$")
LATEST = datetime.max.replace(tzinfo=UTC)


class SyncCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = MAX_PAGE_SIZE

    def __init__(self) -> None:
        self.next_cursor: str | None = None
        self.request: Request | None = None

    def page_size_for(self, request: Request) -> int:
        return page_size_of(request, name=self.page_size_query_param, default=self.page_size)

    @staticmethod
    def encode(updated_at: datetime | str, pk: int) -> str:
        stamp = parse_datetime(updated_at) if isinstance(updated_at, str) else updated_at
        assert stamp is not None, updated_at
        if stamp.tzinfo is None:
            # The database's time without its zone is UTC (USE_TZ).
            stamp = stamp.replace(tzinfo=UTC)
        return f"{(stamp - EPOCH) // timedelta(microseconds=1)}.{pk}"

    def decode(self, cursor: str) -> tuple[datetime, int]:
        found = CURSOR.match(cursor)
        if found is None:
            raise ValidationError({self.cursor_query_param: ["Not a cursor this API gave out."]})
        micros, pk = (int(part) for part in found.groups())
        try:
            updated_at = EPOCH + timedelta(microseconds=micros)
        except OverflowError:
            updated_at = LATEST
        return updated_at, pk

    def position(self, request: Request) -> tuple[datetime, int] | None:
        """Where the page starts: the decoded cursor, or None for the first page."""
        self.request = request
        cursor = request.query_params.get(self.cursor_query_param)
        return None if cursor is None else self.decode(cursor)

    def get_next_link(self) -> str | None:
        if self.next_cursor is None or self.request is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return build_object_type(
            properties={
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "The next page; null on the last one.",
                },
                "results": schema if schema.get("type") == "array" else build_array_type(schema),
            },
            required=["next", "results"],
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "The `next` link's cursor: where the page starts.",
                "schema": {"type": "string", "pattern": CURSOR.pattern},
            },
            page_size_parameter(self.page_size_query_param, self.page_size),
        ]


class NewestFirstPagination(CursorPagination):
    """Newest first, paged by id: unique and unchanging, so a walk never skips or repeats a row."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        return page_size_of(request, name=self.page_size_query_param, default=self.page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        cursor, _ = super().get_schema_operation_parameters(view)
        return [cursor, page_size_parameter(self.page_size_query_param, self.page_size)]
