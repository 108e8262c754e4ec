"""Verified claims read as plain rows: what exports, the partner API and webhooks are made from.

A page of claims is one query (its sources one more, or read in the same
statement in PostgreSQL); building model objects was four fifths of an
export's time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from django.db import NotSupportedError
from django.db.models import (
    BooleanField,
    DateTimeField,
    F,
    Func,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce

from annotations.models import SourceArchive, VerifiedClaim, VerifiedSource

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType


class ClaimRow(NamedTuple):
    """A verified claim as the writers read it; dates and times already ISO 8601 text."""

    id: int
    claim_reviewed: str
    claimant: str
    claim_date: str | None
    verdict_id: int
    rating: int | None
    summary: str
    status: str
    lineage: str
    public_note: str
    published_at: str | None
    updated_at: str
    created_at: str
    quote: str
    prefix: str
    suffix: str
    start: int
    end: int
    article_title: str
    article_url: str
    article_publisher: str
    article_published_at: str | None
    article_version: int
    article_content_hash: str
    claimant_kind: str
    # The article's author(s), "; " between them (ClaimReview's appearance).
    article_author: str


CLAIM_COLUMNS = (
    "pk",
    "claim_reviewed",
    "claimant",
    "claim_date",
    "verdict_id",
    "rating",
    "summary",
    "status",
    "lineage",
    "public_note",
    "published_at",
    "updated_at",
    "created_at",
    "quote",
    "prefix",
    "suffix",
    "start",
    "end",
    "article__title",
    "article__url",
    "article__publisher",
    "article__published_at",
    "article__version",
    "article__content_hash",
    "claimant_kind",
    "article__author",
)


class SourceRow(NamedTuple):
    url: str
    title: str
    publisher: str
    quote: str
    stance: str
    confidential: bool
    # The newsroom's archive of the address (archiving): when its latest capture was
    # taken (ISO 8601 text, UTC) and the SHA-256 of what it received; None and "" if none.
    archived_at: str | None
    archive_sha256: str


class Label(NamedTuple):
    slug: str
    name: str
    best: int
    worst: int


SOURCE_COLUMNS = ("claim_id", "url", "title", "publisher", "quote", "stance", "confidential")


class IsoFormat(Func):
    """A date or datetime column as the text Python's isoformat() gives it, UTC for a datetime.

    In PostgreSQL the database writes the text: Django loads each timestamptz
    through a Python function (to set its zone), and with isoformat() after it
    that was a sixth of a JSONL export's time. Other databases (SQLite) load
    the value as usual and isoformat() it, so the text is the same on both.
    """

    arity = 1
    output_field = TextField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        is_datetime = isinstance(self.get_source_expressions()[0].output_field, DateTimeField)
        template = self.sql("%(expressions)s", is_datetime=is_datetime)
        return self.as_sql(compiler, connection, template=template, **extra_context)

    @staticmethod
    def sql(column: str, *, is_datetime: bool = True) -> str:
        """PostgreSQL's SQL for the column as isoformat() gives it."""
        if is_datetime:
            # isoformat() leaves out a fraction of a second that is zero; so does the replace.
            return (
                f"replace(to_char({column} AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || '+00:00'"
            )
        return f"to_char({column}, 'YYYY-MM-DD')"

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> _AsSqlType:
        if connection.vendor != "postgresql":
            # The column itself; get_db_converters makes the text.
            return compiler.compile(self.get_source_expressions()[0])
        return super().as_sql(compiler, connection, function, template, arg_joiner, **extra_context)

    def get_db_converters(self, connection: BaseDatabaseWrapper) -> list[Callable[..., Any]]:
        if connection.vendor == "postgresql":
            return []
        source = self.get_source_expressions()[0]
        return [
            *connection.ops.get_db_converters(source),
            *source.get_db_converters(connection),
            _isoformat_converter,
        ]


def _isoformat_converter(value: date | None, expression: Any, connection: Any) -> str | None:
    return value.isoformat() if value is not None else None


# The date and time columns of CLAIM_COLUMNS, read as ISO 8601 text.
ISO_COLUMNS = frozenset(
    {"claim_date", "published_at", "updated_at", "created_at", "article__published_at"}
)

CLAIM_VALUES = tuple(IsoFormat(c) if c in ISO_COLUMNS else c for c in CLAIM_COLUMNS)


def _archived(column: str) -> Subquery:
    """A source's archive's `column`: the newsroom's archive of its address, if one is kept."""
    kept = SourceArchive.objects.filter(
        organization_id=OuterRef("claim__organization_id"), url=OuterRef("url")
    ).exclude(warc="")
    return Subquery(kept.values(column)[:1])


# What a source row reads: its columns, then its archive's time (as ISO 8601 text) and hash.
SOURCE_VALUES = (
    *SOURCE_COLUMNS,
    IsoFormat(_archived("archived_at")),
    Coalesce(_archived("content_hash"), Value("")),
)


class AnyOf(Func):
    """`column IN (ids)`; in PostgreSQL `column = ANY(ids)`, the ids one array parameter.

    A parameter per id cost more than the query: Django prepares each one and
    psycopg parses (and, the query being that long, does not cache) the SQL.
    """

    output_field = BooleanField()

    def __init__(self, column: str, ids: list[int]) -> None:
        super().__init__(F(column))
        self.ids = ids

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> _AsSqlType:
        column, params = compiler.compile(self.get_source_expressions()[0])
        placeholders = ", ".join(["%s"] * len(self.ids))
        return f"{column} IN ({placeholders})", (*params, *self.ids)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        column, params = compiler.compile(self.get_source_expressions()[0])
        # psycopg sends a list as an array.
        array: Any = self.ids
        return f"{column} = ANY(%s)", (*params, array)


def page_rows(
    claims: QuerySet[VerifiedClaim], sources: QuerySet[VerifiedSource]
) -> tuple[list[ClaimRow], dict[int, list[SourceRow]]]:
    """One page (an already sliced queryset) of claims as rows, with their sources.

    Two queries whatever the page's size (in PostgreSQL, exports and the partner
    API read the sources in the claims' statement, SourcesJson). Dates and times
    come as ISO 8601 text (ISO_COLUMNS), as the exports write them.
    """
    page = list(map(ClaimRow._make, claims.values_list(*CLAIM_VALUES)))
    if not page:
        return page, {}
    rows = sources.filter(AnyOf("claim_id", [row.id for row in page]))
    return page, sources_by_claim(rows.values_list(*SOURCE_VALUES))


class SourcesJson(Func):
    """PostgreSQL: a claim's sources (only the public ones, for `public`) as JSON text.

    `[[url, title, publisher, quote, stance, confidential], …]`, SourceRow's
    fields, in the sources' order: read in the claim's own row, a page of
    claims is one statement, and Python parses one text per claim (orjson)
    rather than receiving a row per source.
    """

    output_field = TextField()

    def __init__(self, *, public: bool) -> None:
        super().__init__(F("pk"))
        self.public = public

    def as_sql(self, *args: Any, **kwargs: Any) -> _AsSqlType:
        raise NotSupportedError("SourcesJson is PostgreSQL's: elsewhere read the sources apart.")

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        quote = connection.ops.quote_name
        columns = ", ".join(f"s.{quote(column)}" for column in SOURCE_COLUMNS[1:])
        # The archive's time as isoformat() writes it, and its hash (SOURCE_VALUES).
        columns += f", {IsoFormat.sql('w.archived_at')}, coalesce(w.content_hash, '')"
        public = " AND NOT s.confidential" if self.public else ""
        # Names from the models, the claim's id compiled by Django; no value in the text.
        template = (
            f"(SELECT coalesce(json_agg(json_build_array({columns}) "  # noqa: S608
            f"ORDER BY s.{quote('order')}, s.id), '[]')::text "
            f"FROM {quote(VerifiedSource._meta.db_table)} s "
            f"JOIN {quote(VerifiedClaim._meta.db_table)} sc ON sc.id = s.claim_id "
            f"LEFT JOIN {quote(SourceArchive._meta.db_table)} w "
            "ON w.organization_id = sc.organization_id AND w.url = s.url AND w.warc <> '' "
            f"WHERE s.claim_id = %(expressions)s{public})"
        )
        return super().as_sql(compiler, connection, template=template, **extra_context)


def sources_of_json(text: str) -> list[SourceRow]:
    """SourcesJson's text as a claim's list of SourceRow."""
    return list(map(SourceRow._make, orjson.loads(text)))


def sources_by_claim(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[SourceRow]]:
    """Rows of SOURCE_COLUMNS, in their order, as each claim's list of SourceRow."""
    by_claim: dict[int, list[SourceRow]] = defaultdict(list)
    make = SourceRow._make
    for source in rows:
        by_claim[source[0]].append(make(source[1:]))
    return by_claim


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def row_of(claim: VerifiedClaim) -> ClaimRow:
    """A claim (saved or not: a preview) as the row exports read; the same text for dates
    and times as the database gives them (IsoFormat)."""
    article = claim.article

    def utc(value: datetime | None) -> str | None:
        return _iso(value.astimezone(UTC)) if value is not None else None

    return ClaimRow(
        id=claim.pk,
        claim_reviewed=claim.claim_reviewed,
        claimant=claim.claimant,
        claim_date=_iso(claim.claim_date),
        verdict_id=claim.verdict_id,
        rating=claim.rating,
        summary=claim.summary,
        status=claim.status,
        lineage=claim.lineage,
        public_note=claim.public_note,
        published_at=utc(claim.published_at),
        updated_at=utc(claim.updated_at) or "",
        created_at=utc(claim.created_at) or "",
        quote=claim.quote,
        prefix=claim.prefix,
        suffix=claim.suffix,
        start=claim.start,
        end=claim.end,
        article_title=article.title,
        article_url=article.url,
        article_publisher=article.publisher,
        article_published_at=utc(article.published_at),
        article_version=article.version,
        article_content_hash=article.content_hash,
        claimant_kind=claim.claimant_kind,
        article_author=article.author,
    )
