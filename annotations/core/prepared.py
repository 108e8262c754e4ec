"""Hot API queries compiled to SQL once per shape, then run with new parameters.

Building and compiling a queryset costs the API more than running it: for a
claim by id, the ORM took about 1.5 ms to write SQL that PostgreSQL answers in
0.25 ms. A PreparedQuery builds its queryset once per *shape* (which filters
are present, the page size) with sentinel values, finds where each sentinel
landed among the SQL's parameters, and from then on only substitutes values.

Only on PostgreSQL, where the rows the driver returns are what the ORM would
return for these columns (no Python converters); elsewhere it simply runs the
queryset. If a sentinel cannot be found (a lookup transformed its value), that
shape is never prepared and always goes through the ORM: slower, never wrong.

PostgreSQL then plans each statement once per connection too: `prepared_cursor`
sends it as a server-side prepared statement (Django's psycopg cursors bind
on the client and never prepare). Planning the claims page took 0.8 ms of
PostgreSQL's CPU on every request, longer than running it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet

_NOT_PREPARABLE = object()

# Shapes kept per query: page sizes times filter combinations could otherwise grow
# without bound. The common ones come first and stay; rare ones are compiled each time.
MAX_SHAPES = 256


def _sentinel(value: Any, index: int) -> Any:
    """A value of the same type as `value`, distinct from anything a request sends."""
    if isinstance(value, bool):
        raise TypeError("booleans cannot be told apart by position")
    if isinstance(value, int):
        return -7_000_000_001 - index
    if isinstance(value, str):
        return f"\x1fsentinel-{index}\x1f"
    if isinstance(value, datetime):
        return datetime(1901, 1, 1, tzinfo=UTC) + timedelta(seconds=index + 1)
    if isinstance(value, list):
        # An array parameter (exports.AnyOf): its sentinel is a one-element list.
        return [-7_000_000_001 - index]
    raise TypeError(f"no sentinel for {type(value).__name__}")


class PreparingCursor(psycopg.Cursor[Any]):
    """psycopg's server-side binding cursor, preparing every statement it runs."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs["prepare"] = True
        return super().execute(query, params, **kwargs)


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor whose statements PostgreSQL prepares: parsed and planned once per connection.

    Server-side binding, as psycopg's own Cursor does; wrapped like any Django
    cursor, so database errors are Django's (the 503 of workbench.faults) and
    the statements are counted where queries are logged. Elsewhere, a plain cursor.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    with connection.wrap_database_errors:
        # What connection.cursor() does first: reconnect if the server went away.
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        raw: Any = PreparingCursor(connection.connection)
    wrapped = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with wrapped as cursor:
        yield cursor


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        # build(**values) -> a values_list queryset; the same keys give the same SQL.
        self.build = build
        self.shapes: dict[Hashable, Any] = {}

    def rows(self, fixed: dict[str, Any], **values: Any) -> list[tuple[Any, ...]]:
        """The rows of build(**fixed, **values); `fixed` are part of the shape (a LIMIT)."""
        if connection.vendor != "postgresql":
            return list(self.build(**fixed, **values))
        key = (tuple(sorted(fixed.items())), tuple(sorted(values)))
        prepared = self.shapes.get(key)
        if prepared is None:
            prepared = self._prepare(fixed, values)
            if len(self.shapes) < MAX_SHAPES:
                self.shapes[key] = prepared
        if prepared is _NOT_PREPARABLE:
            return list(self.build(**fixed, **values))
        sql, slots = prepared
        params = [values[name] if name is not None else constant for name, constant in slots]
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows

    def _prepare(self, fixed: dict[str, Any], values: dict[str, Any]) -> Any:
        try:
            sentinels = {
                name: _sentinel(value, i) for i, (name, value) in enumerate(values.items())
            }
        except TypeError:
            return _NOT_PREPARABLE
        sql, params = self.build(**fixed, **sentinels).query.sql_with_params()
        by_value = {_key(sentinel): name for name, sentinel in sentinels.items()}
        slots = []
        for param in params:
            name = by_value.get(_key(param))
            slots.append((name, None if name is not None else param))
        if {name for name, _ in slots if name is not None} != set(values):
            return _NOT_PREPARABLE
        return sql, slots


def _key(value: Any) -> Any:
    """A hashable stand-in for a parameter, to find sentinels by value."""
    if isinstance(value, list):
        return ("list", tuple(value))
    if isinstance(value, int | str | datetime):
        return (type(value).__name__, value)
    return ("other", id(value))
