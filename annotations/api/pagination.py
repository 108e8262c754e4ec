"""Cursor pages over (updated_at, id): a partner syncs incrementally, never missing a change.

The cursor is the last row's (updated_at, id), opaque to the client. Rows come
in the order they last changed, so following `next` to the end, and later
starting again from the last cursor (or `updated_since`), sees every change
exactly once: a claim changed meanwhile moves past the cursor and comes again
with its new content; an unchanged claim never comes twice.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.plumbing import build_array_type, build_object_type
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


class SyncCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = 100

    def __init__(self) -> None:
        self.next_cursor: str | None = None
        self.request: Request | None = None

    def page_size_for(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    @staticmethod
    def encode(updated_at: datetime | str, pk: int) -> str:
        stamp = updated_at if isinstance(updated_at, str) else updated_at.isoformat()
        raw = f"{stamp}|{pk}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[datetime, int]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            stamp, _, pk = raw.partition("|")
            updated_at = parse_datetime(stamp)
            if updated_at is None or not pk.isdigit():
                raise ValueError(raw)
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise ValidationError(
                {self.cursor_query_param: ["Not a cursor this API gave out."]}
            ) from error
        return updated_at, int(pk)

    def position(self, request: Request) -> tuple[datetime, int] | None:
        """Where the page starts: the decoded cursor, or None for the first page."""
        self.request = request
        cursor = request.query_params.get(self.cursor_query_param)
        return self.decode(cursor) if cursor else None

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
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1 to {self.max_page_size} "
                f"(default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class NewestFirstPagination(CursorPagination):
    """Newest first, paged by id: unique and unchanging, so a walk never skips or repeats a row."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
