"""Many new rows of one model, written the database's own bulk way.

An import writes a few thousand claims, their sources and their history rows
per batch. `bulk_create` spends most of its time in Python, making an
instance of each row and then building the statement value by value: a
2,000-claim INSERT took 5 times as long as the COPY of the same rows
(measured in bench.imports' database). Here a row is its fields' values by
name; the fields it leaves out take their model defaults, the auto_now ones
the time of the insert, as bulk_create would give them; and the rows go to
PostgreSQL's COPY FROM STDIN or SQLite's executemany, inside the caller's
transaction. The database checks them as for any insert (constraints,
foreign keys).

Only plain fields are written this way (text, numbers, booleans, dates, and
foreign keys as ids). A model with another kind of field, or another
database, goes through bulk_create, so nothing is written in a form its field
would not have written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

# The fields whose Python value is the value the database takes (a date on
# SQLite aside, converted as its field converts it).
PLAIN_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.BooleanField,
    models.CharField,
    models.DateTimeField,
    models.ForeignKey,
    models.IntegerField,
    models.TextField,
)


def rows_insert(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, ids: bool
) -> list[int]:
    """Inserts `rows` (field attnames to values) of `model`; returns their new primary
    keys when `ids`, in order (else an empty list)."""
    if not rows:
        return []
    alias = router.db_for_write(model)
    connection = connections[alias]
    pk = model._meta.pk
    assert pk is not None
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if connection.vendor not in ("postgresql", "sqlite") or not all(
        isinstance(f, PLAIN_FIELDS) for f in fields
    ):
        made = model._default_manager.bulk_create([model(**row) for row in rows])
        return [obj.pk for obj in made] if ids else []
    keys = _new_keys(connection, model, len(rows)) if ids else []
    # Every row names the same fields: those are read from it in one step; the
    # others take their defaults, the same for every row, or the time for auto_now.
    given = list(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError(f"{model.__name__} rows must all name the same fields")
    by_name = {f.attname: f for f in fields}
    now = timezone.now()
    rest = [f for f in fields if f.attname not in given]
    fields = [*([pk] if ids else []), *(by_name[name] for name in given), *rest]
    constants = tuple(_default(f, now) for f in rest)
    read = itemgetter(*given) if len(given) > 1 else (lambda row: (row[given[0]],))
    adapted = [
        index
        for index, f in enumerate(fields)
        if connection.vendor == "sqlite" and isinstance(f, models.DateTimeField)
    ]

    def values(index: int, row: Mapping[str, Any]) -> tuple[Any, ...]:
        made = (*((keys[index],) if ids else ()), *read(row), *constants)
        if not adapted:
            return made
        # SQLite keeps a date as Django's text for it.
        out = list(made)
        for position in adapted:
            out[position] = connection.ops.adapt_datetimefield_value(out[position])
        return tuple(out)

    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    # The driver's cursor, its errors raised as Django's (IntegrityError, DataError…).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for index, row in enumerate(rows):
                    copy.write_row(values(index, row))
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})",  # noqa: S608  (our names)
                [values(index, row) for index, row in enumerate(rows)],
            )
    return keys


def _default(field: models.Field[Any, Any], now: Any) -> Any:
    """What a field left out of a row gets: the time of the insert for auto_now and
    auto_now_add, else its default."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


def _new_keys(connection: Any, model: type[models.Model], count: int) -> list[int]:
    """`count` primary keys for new rows, taken as the database takes them for an insert."""
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), pk.column, count],
            )
            return [key for (key,) in cursor.fetchall()]
        # SQLite: the write lock is held from the transaction's first statement
        # (transaction_mode IMMEDIATE), so nobody else numbers rows meanwhile; an
        # AUTOINCREMENT key never reuses one that was taken, even if deleted since.
        column, quoted = connection.ops.quote_name(pk.column), connection.ops.quote_name(table)
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        taken = cursor.fetchone()
        cursor.execute(f"SELECT max({column}) FROM {quoted}")  # noqa: S608  (our names)
        (highest,) = cursor.fetchone()
        last = max(taken[0] if taken else 0, highest or 0)
        return list(range(last + 1, last + 1 + count))
