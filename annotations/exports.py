"""Exports of verified claims: which claims, and the writers for each format.

A writer reads the claims in pages by primary key (keyset pagination, each
page's sources with it) and writes as it goes, so memory stays flat however
many claims there are; in PostgreSQL the CSV's lines are written by COPY.
The same writers serve the Celery job (tasks.run_export, through
`export_run`) and the `export_claims` command.

Field names are part of the contract with partners; README.md documents them.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import NotSupportedError, connection, connections, transaction
from django.db.models import (
    BooleanField,
    DateTimeField,
    F,
    Func,
    Prefetch,
    QuerySet,
    TextField,
)
from django.db.models.functions import Least
from django.urls import reverse
from django.utils import timezone
from isal import isal_zlib

from annotations import services
from annotations.models import (
    Article,
    ClaimAnnotation,
    Collection,
    ExportAudience,
    ExportFormat,
    ExportJob,
    ExportStatusFilter,
    JobStatus,
    Organization,
    Source,
    Taxonomy,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

logger = logging.getLogger(__name__)

CHUNK = 2000
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_FIRST = frozenset("=+-@\t\r")
WEB_ANNOTATION_CONTEXT = [
    "http://www.w3.org/ns/anno.jsonld",
    {"workbench": "https://github.com/fact-check-workbench/ns#"},
]
# Words that make a claimant an organization in ClaimReview's itemReviewed.author.
ORGANIZATION_WORDS = re.compile(
    r"\b(alliance|party|ministry|government|army|council|commission|agency|company|bank|"
    r"union|association|organi[sz]ation|movement|front|committee|office|department|police|"
    r"rebels|group|institute|university|newspaper|news|times|post|tv|radio|inc|ltd|"
    r"corporation|foundation|campaign)\b|\([A-Z0-9]{2,}\)",
    re.IGNORECASE,
)
SUFFIXES: dict[str, str] = {
    ExportFormat.CSV: ".zip",
    ExportFormat.JSONL: ".jsonl",
    ExportFormat.CLAIMREVIEW: ".jsonld",
    ExportFormat.WEBANNOTATION: ".jsonl",
    ExportFormat.REPORT_HTML: ".html",
    ExportFormat.REPORT_PDF: ".pdf",
}

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Selection:
    """Which verified claims an export holds, and for whom."""

    organization: Organization
    collection: Collection | None = None
    status: str = ExportStatusFilter.PUBLISHED
    verdict: VerdictLabel | None = None
    date_field: str = "published_at"
    date_from: date | None = None
    date_to: date | None = None
    audience: str = ExportAudience.PUBLIC

    @classmethod
    def of(cls, job: ExportJob) -> Selection:
        return cls(
            organization=job.organization,
            collection=job.collection,
            status=job.status_filter,
            verdict=job.verdict,
            date_field=job.date_field,
            date_from=job.date_from,
            date_to=job.date_to,
            audience=job.audience,
        )

    @property
    def public(self) -> bool:
        return self.audience == ExportAudience.PUBLIC

    def claims(self) -> QuerySet[VerifiedClaim]:
        claims = VerifiedClaim.objects.filter(organization=self.organization)
        if self.collection is not None:
            claims = claims.filter(article__collection=self.collection)
        if self.status == ExportStatusFilter.PUBLISHED:
            claims = claims.filter(status__in=[VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED])
        elif self.status != ExportStatusFilter.ALL:
            claims = claims.filter(status=self.status)
        if self.verdict is not None:
            claims = claims.filter(verdict=self.verdict)
        if self.date_from is not None:
            claims = claims.filter(**{f"{self.date_field}__date__gte": self.date_from})
        if self.date_to is not None:
            claims = claims.filter(**{f"{self.date_field}__date__lte": self.date_to})
        return claims.order_by("pk")

    def sources(self) -> QuerySet[VerifiedSource]:
        sources = VerifiedSource.objects.order_by("order", "pk")
        return sources.filter(confidential=False) if self.public else sources

    def annotations(self) -> QuerySet[ClaimAnnotation]:
        """Reviewers' claims on the articles in scope (the Web Annotation export)."""
        claims = ClaimAnnotation.objects.filter(article__organization=self.organization)
        if self.collection is not None:
            claims = claims.filter(article__collection=self.collection)
        return claims.order_by("pk")


def selection_check(selection: Selection) -> None:
    """Refuses a selection that cannot be right, naming the field."""
    errors = {}
    if selection.collection and selection.collection.organization_id != selection.organization.pk:
        errors["collection"] = "Not a collection of this newsroom."
    if selection.date_field not in {"published_at", "updated_at"}:
        errors["date_field"] = "Use published_at or updated_at."
    if selection.date_from and selection.date_to and selection.date_from > selection.date_to:
        errors["date_to"] = "The range ends before it starts."
    if selection.status not in ExportStatusFilter.values:
        errors["status"] = f"Use one of: {', '.join(ExportStatusFilter.values)}."
    if selection.audience not in ExportAudience.values:
        errors["audience"] = f"Use one of: {', '.join(ExportAudience.values)}."
    if (
        selection.verdict
        and selection.verdict.taxonomy.organization_id != selection.organization.pk
    ):
        errors["verdict"] = "Not a verdict of this newsroom."
    if errors:
        raise ValidationError(errors)


def pdf_check(selection: Selection, export_format: str) -> None:
    """A PDF report has a size limit: WeasyPrint lays out the whole document in memory."""
    if export_format != ExportFormat.REPORT_PDF:
        return
    limit = settings.WORKBENCH_REPORT_PDF_MAX_CLAIMS
    claims = selection.claims().count()
    if claims > limit:
        raise ValidationError(
            {
                "format": f"A PDF report holds at most {limit:,} claims and this one has "
                f"{claims:,}: narrow the selection, or choose the HTML report."
            }
        )


def pages(queryset: QuerySet[Any], *prefetch: Any) -> Iterator[list[Any]]:
    """The rows in pages of CHUNK by primary key, each page with its prefetches."""
    last = 0
    while True:
        page = list(queryset.filter(pk__gt=last).prefetch_related(*prefetch)[:CHUNK])
        if not page:
            return
        yield page
        last = page[-1].pk


def verified_pages(selection: Selection) -> Iterator[list[VerifiedClaim]]:
    """Model rows, for the report; the other writers read plain rows (claim_pages)."""
    claims = selection.claims().select_related("verdict__taxonomy", "article", "organization")
    return pages(claims, Prefetch("sources", queryset=selection.sources()))


# Plain rows -------------------------------------------------------------------------
#
# The file writers read tuples, not model instances: building five model
# objects per claim, and a queryset per claim's sources, was four fifths of an
# export's time. A page of claims is one query, its sources one more.


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
)


class SourceRow(NamedTuple):
    url: str
    title: str
    publisher: str
    quote: str
    stance: str
    confidential: bool


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
    return page, sources_by_claim(rows.values_list(*SOURCE_COLUMNS))


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
        public = " AND NOT s.confidential" if self.public else ""
        # Names from the models, the claim's id compiled by Django; no value in the text.
        template = (
            f"(SELECT coalesce(json_agg(json_build_array({columns}) "  # noqa: S608
            f"ORDER BY s.{quote('order')}, s.id), '[]')::text "
            f"FROM {quote(VerifiedSource._meta.db_table)} s "
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


def claim_pages(
    selection: Selection, *, with_sources: bool = True
) -> Iterator[tuple[list[ClaimRow], dict[int, list[SourceRow]]]]:
    """Pages of claims as plain rows, with each claim's sources (in their order).

    Without sources (ClaimReview has none), the sources are never queried.
    Read ahead (`read_ahead`): the next page is read while this one is written.
    """
    return read_ahead(_claim_pages(selection, with_sources=with_sources))


def read_ahead[T](items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """`items`, made in a thread of their own while the caller works on the last ones.

    Reading a page waits on PostgreSQL, and making its rows holds the GIL for
    less than writing them: in a thread, the database and the writer work at
    once, on two cores. The thread has its own database connection, closed
    when it ends, so it cannot see what the caller has not committed: inside
    a transaction (a test's), the items are made here, one after the other.
    """
    if connection.in_atomic_block:
        yield from items
        return
    made: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def hand(item: Any) -> bool:
        """Puts the item on the queue; False once the caller has stopped taking them."""
        while not stop.is_set():
            try:
                made.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not hand(item):
                    return
            hand(end)
        except BaseException as exc:  # handed to the caller, raised there
            hand(exc)
        finally:
            # A generator stopped early is closed here, in the thread whose
            # connection it uses (its transaction ends), before the connection is.
            close = getattr(items, "close", None)
            if close is not None:
                close()
            connections.close_all()

    thread = threading.Thread(target=make, name="export-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := made.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _claim_pages(
    selection: Selection, *, with_sources: bool
) -> Iterator[tuple[list[ClaimRow], dict[int, list[SourceRow]]]]:
    claims = selection.claims()
    sources = selection.sources() if with_sources else VerifiedSource.objects.none()
    # PostgreSQL reads the sources in the claims' statement (SourcesJson).
    in_json = with_sources and connection.vendor == "postgresql"
    values = (*CLAIM_VALUES, SourcesJson(public=selection.public)) if in_json else ()
    last = 0
    while True:
        window = claims.filter(pk__gt=last)[:CHUNK]
        if in_json:
            rows = list(window.values_list(*values))
            page = [ClaimRow._make(row[:-1]) for row in rows]
            by_claim = {row[0]: sources_of_json(row[-1]) for row in rows}
        else:
            page, by_claim = page_rows(window, sources)
        if not page:
            return
        yield page, by_claim
        last = page[-1].id


@dataclass(frozen=True)
class Context:
    """What every record of one export shares, worked out once."""

    public: bool
    organization_name: str
    labels: dict[int, Label]
    corrections_url: str
    # The public page's URL around the claim's id.
    url_head: str
    url_tail: str

    @classmethod
    def of(cls, selection: Selection, labels: dict[int, Label] | None = None) -> Context:
        """The selection's context; `labels` when the caller has read them already."""
        organization = selection.organization
        head, tail, corrections = _public_urls(organization.slug, settings.WORKBENCH_PUBLIC_URL)
        if labels is None:
            labels = {
                label.pk: Label(
                    label.slug, label.name, label.taxonomy.best_rating, label.taxonomy.worst_rating
                )
                for label in VerdictLabel.objects.filter(
                    taxonomy__organization=organization
                ).select_related("taxonomy")
            }
        return cls(
            public=selection.public,
            organization_name=organization.name,
            labels=labels,
            corrections_url=corrections,
            url_head=head,
            url_tail=tail,
        )

    def claim_url(self, claim_id: int) -> str:
        return f"{self.url_head}{claim_id}{self.url_tail}"


def public_url(path: str) -> str:
    return settings.WORKBENCH_PUBLIC_URL.rstrip("/") + path


@functools.lru_cache(maxsize=1024)
def _public_urls(slug: str, base: str) -> tuple[str, str, str]:
    """A newsroom's claim page URL around the claim's id, and its corrections log's URL.

    `base` is WORKBENCH_PUBLIC_URL, part of the cache key; the URLs never change
    otherwise, and the API asks for them on every request.
    """
    placeholder = 999999999
    head, tail = public_url(reverse("public-claim", args=[slug, placeholder])).split(
        str(placeholder)
    )
    return head, tail, public_url(reverse("corrections-log", args=[slug]))


# An article without a URL is named by its text's SHA-256; import_annotations
# finds it again by that (services.ARTICLE_URN).
ARTICLE_URN = services.ARTICLE_URN


def article_source(url: str, content_hash: str) -> str:
    return url or f"{ARTICLE_URN}{content_hash}"


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def source_record(source: SourceRow, *, public: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "url": source.url,
        "title": source.title,
        "publisher": source.publisher,
        "quote": source.quote,
        "stance": source.stance,
    }
    if not public:
        record["confidential"] = source.confidential
    return record


def claim_record(ctx: Context, row: ClaimRow, sources: list[SourceRow]) -> dict[str, Any]:
    """One verified claim as JSONL writes it (README: "Exports")."""
    label = ctx.labels[row.verdict_id]
    public = ctx.public
    return {
        "id": row.id,
        "url": f"{ctx.url_head}{row.id}{ctx.url_tail}",
        "claim_reviewed": row.claim_reviewed,
        "claimant": row.claimant,
        "claim_date": row.claim_date,
        "verdict": label.slug,
        "verdict_name": label.name,
        "rating": row.rating,
        "best_rating": label.best,
        "worst_rating": label.worst,
        "summary": row.summary,
        "status": row.status,
        "lineage": row.lineage,
        "public_note": row.public_note,
        "published_at": row.published_at,
        "updated_at": row.updated_at,
        "article": {
            "title": row.article_title,
            "url": row.article_url,
            "publisher": row.article_publisher,
            "published_at": row.article_published_at,
            "version": row.article_version,
        },
        "quote": row.quote,
        "start": row.start,
        "end": row.end,
        # Confidential ones are not even read for an export meant for outside.
        "sources": [source_record(s, public=public) for s in sources],
    }


def claimant_type(claimant: str) -> str:
    return "Organization" if ORGANIZATION_WORDS.search(claimant) else "Person"


def claim_review(ctx: Context, row: ClaimRow) -> dict[str, Any]:
    """schema.org ClaimReview, as Google's fact-check markup guidance asks for it."""
    label = ctx.labels[row.verdict_id]
    rating: dict[str, Any] = {"@type": "Rating", "alternateName": label.name}
    if row.rating is not None:
        # Only an ordinal verdict has a place on the scale.
        rating |= {"ratingValue": row.rating, "bestRating": label.best, "worstRating": label.worst}
    if row.summary:
        rating["ratingExplanation"] = row.summary
    appearance: dict[str, Any] = {"@type": "CreativeWork"}
    if row.article_url:
        appearance["url"] = row.article_url
    if row.article_title:
        appearance["headline"] = row.article_title
    if row.article_published_at:
        # The date of a UTC time: the first 10 characters of its ISO text.
        appearance["datePublished"] = row.article_published_at[:10]
    item: dict[str, Any] = {"@type": "Claim", "appearance": [appearance]}
    if row.claimant:
        item["author"] = {"@type": claimant_type(row.claimant), "name": row.claimant}
    if row.claim_date:
        item["datePublished"] = row.claim_date
    if row.article_published_at:
        # The article is the earliest appearance the workbench knows, with its date.
        item["firstAppearance"] = appearance
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": ctx.claim_url(row.id),
        "claimReviewed": row.claim_reviewed,
        "author": {
            "@type": "Organization",
            "name": ctx.organization_name,
            "url": ctx.corrections_url,
        },
        "datePublished": row.published_at[:10] if row.published_at else None,
        "reviewRating": rating,
        "itemReviewed": item,
    }
    if row.status == VerifiedStatus.CORRECTED:
        review["dateModified"] = row.updated_at[:10]
    return review


def _selectors(quote: str, prefix: str, suffix: str, start: int, end: int) -> list[dict[str, Any]]:
    return [
        {"type": "TextQuoteSelector", "exact": quote, "prefix": prefix, "suffix": suffix},
        {"type": "TextPositionSelector", "start": start, "end": end},
    ]


def _source_bodies(sources: list[Any], *, public: bool) -> list[dict[str, Any]]:
    bodies = []
    for source in sources:
        body = {
            "type": "SpecificResource",
            "purpose": "linking",
            "source": source.url,
            "workbench:title": source.title,
            "workbench:publisher": source.publisher,
            "workbench:quote": source.quote,
            "workbench:stance": source.stance,
        }
        if not public:
            body["workbench:confidential"] = source.confidential
        bodies.append(body)
    return bodies


def web_annotation(claim: ClaimAnnotation, *, public: bool) -> dict[str, Any]:
    """A reviewer's claim as a W3C Web Annotation; import_annotations reads it back."""
    body: list[dict[str, Any]] = []
    if claim.verdict is not None:
        body.append(
            {
                "type": "TextualBody",
                "purpose": "assessing",
                "value": claim.verdict.name,
                "workbench:verdict": claim.verdict.slug,
            }
        )
    if claim.rating is not None:
        body.append({"type": "TextualBody", "purpose": "classifying", "value": str(claim.rating)})
    if claim.note:
        body.append({"type": "TextualBody", "purpose": "commenting", "value": claim.note})
    body += _source_bodies(list(claim.sources.all()), public=public)
    article = claim.article
    return {
        "@context": WEB_ANNOTATION_CONTEXT,
        "id": public_url(f"/annotations/claims/{claim.pk}"),
        "type": "Annotation",
        "motivation": "assessing",
        "workbench:kind": "claim",
        "creator": {"type": "Person", "nickname": claim.reviewer.get_username()},
        "created": _iso(claim.created_at),
        "modified": _iso(claim.updated_at),
        "target": {
            "source": article_source(article.url, article.content_hash),
            "selector": _selectors(claim.quote, claim.prefix, claim.suffix, claim.start, claim.end),
        },
        "body": body,
    }


def verified_annotation(ctx: Context, row: ClaimRow, sources: list[SourceRow]) -> dict[str, Any]:
    """A verified claim as a W3C Web Annotation, by the newsroom."""
    label = ctx.labels[row.verdict_id]
    body: list[dict[str, Any]] = [
        {
            "type": "TextualBody",
            "purpose": "assessing",
            "value": label.name,
            "workbench:verdict": label.slug,
        },
        {"type": "TextualBody", "purpose": "describing", "value": row.claim_reviewed},
    ]
    if row.rating is not None:
        body.append({"type": "TextualBody", "purpose": "classifying", "value": str(row.rating)})
    if row.summary:
        body.append({"type": "TextualBody", "purpose": "commenting", "value": row.summary})
    body += _source_bodies(sources, public=ctx.public)
    return {
        "@context": WEB_ANNOTATION_CONTEXT,
        "id": ctx.claim_url(row.id),
        "type": "Annotation",
        "motivation": "assessing",
        "workbench:kind": "verified-claim",
        "workbench:status": row.status,
        "creator": {"type": "Organization", "name": ctx.organization_name},
        "created": row.created_at,
        "modified": row.updated_at,
        "target": {
            "source": article_source(row.article_url, row.article_content_hash),
            "selector": _selectors(row.quote, row.prefix, row.suffix, row.start, row.end),
        },
        "body": body,
    }


# Writers ------------------------------------------------------------------------------


CSV_CLAIM_FIELDS = (
    "id",
    "url",
    "claim_reviewed",
    "claimant",
    "claim_date",
    "verdict",
    "verdict_name",
    "rating",
    "best_rating",
    "worst_rating",
    "summary",
    "status",
    "lineage",
    "public_note",
    "published_at",
    "updated_at",
    "article_title",
    "article_url",
    "quote",
    "start",
    "end",
    "source_count",
    "sources",
)
CSV_SOURCE_FIELDS = ("claim_id", "position", "url", "title", "publisher", "quote", "stance")


def _dumps(record: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: a fifth of the standard library's time)."""
    return orjson.dumps(record)


def write_jsonl(selection: Selection, out: IO[bytes], progress: Progress) -> int:
    ctx = Context.of(selection)
    rows = 0
    for page, sources in claim_pages(selection):
        lines = [_dumps(claim_record(ctx, row, sources.get(row.id, []))) for row in page]
        out.write(b"\n".join(lines) + b"\n")
        rows += len(page)
        progress(rows)
    return rows


def write_claimreview(selection: Selection, out: IO[bytes], progress: Progress) -> int:
    """A JSON array of ClaimReview nodes, each with its @context."""
    ctx = Context.of(selection)
    rows = 0
    out.write(b"[\n")
    for page, _sources in claim_pages(selection, with_sources=False):
        text = b",\n".join(_dumps(claim_review(ctx, row)) for row in page)
        out.write((b",\n" if rows else b"") + text)
        rows += len(page)
        progress(rows)
    out.write(b"\n]\n")
    return rows


def write_csv(selection: Selection, out: IO[bytes], progress: Progress) -> int:
    """A zip of claims.csv (a row per claim) and sources.csv (a row per source).

    The lines come as CSV text: written by PostgreSQL's COPY there
    (`_csv_copied`), made here on other databases (`_csv_made`), the same
    bytes either way. The claims' lines are compressed in a thread of their
    own while the next are read (zlib lets go of the GIL); the sources' wait
    in a temporary file until claims.csv is complete.
    """
    lines = _csv_copied if connection.vendor == "postgresql" else _csv_made
    rows = 0
    with (
        tempfile.TemporaryFile() as sources_file,
        # Level 1: most of the size saved at a fraction of the default's time.
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
    ):
        with (
            archive.open("claims.csv", "w", force_zip64=True) as raw,
            written_behind(_deflated_fast(raw)) as write,
        ):
            # A byte-order mark, so that spreadsheets read the file as UTF-8.
            write(("\ufeff" + _csv_text([CSV_CLAIM_FIELDS])).encode())
            for claim_lines, claims in lines(selection, sources_file):
                write(claim_lines)
                rows += claims
                progress(rows)
        sources_file.seek(0)
        with archive.open("sources.csv", "w", force_zip64=True) as raw:
            _deflated_fast(raw)
            raw.write(("\ufeff" + _csv_text([CSV_SOURCE_FIELDS])).encode())
            shutil.copyfileobj(sources_file, raw, 1 << 20)
    return rows


# Pages of claims.csv's lines, with how many claims each holds; the sources'
# lines written to the file given, complete when the pages end.
CsvLines = Callable[[Selection, IO[bytes]], Iterator[tuple[bytes, int]]]


def _csv_made(selection: Selection, sources_file: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """CSV lines made here from plain rows (claim_pages).

    Each page of each file is made as one string and encoded once: a write per
    row through a TextIOWrapper into the zip cost more than making the rows.
    A row is one f-string: the numbers, dates and choices go in as they are
    (they never need quotes nor start a formula), the free text through
    _csv_text_cell.
    """
    ctx = Context.of(selection)
    # The verdict's cells, before and after the claim's rating, made once per export.
    labels = {
        pk: (
            f"{_csv_text_cell(label.slug)},{_csv_text_cell(label.name)}",
            f"{_csv_number(label.best)},{_csv_number(label.worst)}",
        )
        for pk, label in ctx.labels.items()
    }
    head, tail = ctx.url_head, ctx.url_tail
    text, number = _csv_text_cell, _csv_number
    for page, sources in claim_pages(selection):
        claim_lines = []
        source_lines = []
        for row in page:
            shown = sources.get(row.id, [])
            listed = " | ".join(f"{s.title or s.url} <{s.url}> ({s.stance})" for s in shown)
            verdict, scale = labels[row.verdict_id]
            claim_lines.append(
                f"{row.id},{text(f'{head}{row.id}{tail}')},"
                f"{text(row.claim_reviewed)},{text(row.claimant)},"
                f"{row.claim_date or ''},{verdict},{number(row.rating)},{scale},"
                f"{text(row.summary)},"
                f"{row.status},{row.lineage},{text(row.public_note)},"
                f"{row.published_at or ''},{row.updated_at},"
                f"{text(row.article_title)},{text(row.article_url)},"
                f"{text(row.quote)},{row.start},{row.end},"
                f"{len(shown)},{text(listed)}\r\n"
            )
            source_lines += [
                f"{row.id},{position},{text(s.url)},{text(s.title)},"
                f"{text(s.publisher)},{text(s.quote)},{s.stance}\r\n"
                for position, s in enumerate(shown, start=1)
            ]
        sources_file.write("".join(source_lines).encode())
        yield "".join(claim_lines).encode(), len(page)


# In PostgreSQL the database writes the CSV: COPY ... TO STDOUT (FORMAT csv)
# quotes a cell exactly when csv.writer does (a comma, a double quote, a
# carriage return or a line feed in it), once an empty text is NULL (COPY
# quotes an empty string) and a formula has its leading quote. PostgreSQL
# makes the rows, in two server processes (claims, sources), while this one
# compresses them: where making the rows here held the one GIL.
COPY_PAGE = 5 * CHUNK


def _csv_cell_sql(column: str) -> str:
    """SQL for a free-text cell as _csv_text_cell makes it, the quotes left to COPY."""
    firsts = ", ".join(f"chr({ord(c)})" for c in sorted(FORMULA_FIRST))
    return (
        f"CASE WHEN left({column}, 1) IN ({firsts}) THEN chr(39) || {column} "
        f"ELSE nullif({column}, '') END"
    )


def _csv_copy_sql(selection: Selection, selected: str) -> tuple[str, str]:
    """The SELECTs of claims' and of sources' lines, in CSV_*_FIELDS' order.

    `selected` is the SQL of the claims' ids. The claims' statement takes as
    parameters the public URL's head and tail, then the page's bounds (the
    last id before it, its own last id) and `selected`'s parameters; the
    sources' statement the page's bounds and `selected`'s parameters.
    """
    # Only our tables' names and SQL of our own go into the text; values are parameters.
    q = connection.ops.quote_name
    claim, article, label, taxonomy, source = (
        q(model._meta.db_table)
        for model in (VerifiedClaim, Article, VerdictLabel, Taxonomy, VerifiedSource)
    )
    cell = _csv_cell_sql
    public = "AND NOT x.confidential" if selection.public else ""
    listed = "coalesce(nullif(x.title, ''), x.url) || ' <' || x.url || '> (' || x.stance || ')'"
    claims = f"""
        SELECT c.id, %s || c.id || %s, {cell("c.claim_reviewed")},
            {cell("c.claimant")}, {IsoFormat.sql("c.claim_date", is_datetime=False)},
            {cell("v.slug")}, {cell("v.name")}, c.rating, t.best_rating, t.worst_rating,
            {cell("c.summary")}, nullif(c.status, ''), nullif(c.lineage, ''),
            {cell("c.public_note")}, {IsoFormat.sql("c.published_at")},
            {IsoFormat.sql("c.updated_at")}, {cell("a.title")}, {cell("a.url")},
            {cell("c.quote")}, c.start, c."end", coalesce(s.count, 0), {cell("s.listed")}
        FROM {claim} c
        JOIN {article} a ON a.id = c.article_id
        JOIN {label} v ON v.id = c.verdict_id
        JOIN {taxonomy} t ON t.id = v.taxonomy_id
        LEFT JOIN LATERAL (
            SELECT count(*) AS count,
                string_agg({listed}, ' | ' ORDER BY x."order", x.id) AS listed
            FROM {source} x WHERE x.claim_id = c.id {public}
        ) s ON true
        WHERE c.id > %s AND c.id <= %s AND c.id IN ({selected})
        ORDER BY c.id
    """  # noqa: S608
    sources = f"""
        SELECT x.claim_id,
            row_number() OVER (PARTITION BY x.claim_id ORDER BY x."order", x.id),
            {cell("x.url")}, {cell("x.title")}, {cell("x.publisher")}, {cell("x.quote")},
            nullif(x.stance, '')
        FROM {source} x
        WHERE x.claim_id > %s AND x.claim_id <= %s AND x.claim_id IN ({selected}) {public}
        ORDER BY x.claim_id, x."order", x.id
    """  # noqa: S608
    return claims, sources


class _CsvCopy:
    """The COPY statements of one CSV export, a page of claims (and their sources) at a time.

    Pages of COPY_PAGE claims by id: the statements stay short whatever the
    export's size (a statement_timeout holds), and the progress is written
    between pages.
    """

    def __init__(self, selection: Selection) -> None:
        head, tail, _ = _public_urls(selection.organization.slug, settings.WORKBENCH_PUBLIC_URL)
        # The claim's URL, never empty; a formula's quote in front if need be.
        self.url = ("'" + head if head[:1] in FORMULA_FIRST else head, tail)
        self.claims = selection.claims()
        selected, self.params = self.claims.order_by().values("pk").query.sql_with_params()
        self.claims_sql, self.sources_sql = _csv_copy_sql(selection, selected)

    def pages(self) -> Iterator[tuple[int, int]]:
        """Each page's bounds: the last id before it, and its own last id."""
        last = 0
        while True:
            after = self.claims.filter(pk__gt=last).values_list("pk", flat=True)
            ends = list(after[COPY_PAGE - 1 : COPY_PAGE]) or list(after.reverse()[:1])
            if not ends:
                return
            yield last, ends[0]
            last = ends[0]

    def claim_lines(self, cursor: Any, after: int, through: int) -> tuple[bytes, int]:
        page = io.BytesIO()
        count = _copy_into(page, cursor, self.claims_sql, (*self.url, after, through, *self.params))
        return page.getvalue(), count

    def source_lines(self, out: IO[bytes], cursor: Any, after: int, through: int) -> None:
        _copy_into(out, cursor, self.sources_sql, (after, through, *self.params))


def _csv_copied(selection: Selection, sources_file: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """CSV lines as PostgreSQL's COPY writes them, with csv.writer's line ends.

    Outside a transaction, the claims are copied in a thread with a connection
    of its own (read_ahead), and their sources in another (in_background), in
    one snapshot: the two files hold the same claims however editors change
    them meanwhile. Inside a transaction (a test's), whose rows no other
    connection sees, a page's claims then its sources on this connection.
    """
    copy = _CsvCopy(selection)
    if connection.in_atomic_block:
        with connection.cursor() as wrapper:
            wrapper.execute(COPY_SETTINGS)
            for after, through in copy.pages():
                yield copy.claim_lines(wrapper.cursor, after, through)
                copy.source_lines(sources_file, wrapper.cursor, after, through)
        return
    yield from read_ahead(_csv_copied_in_snapshot(copy, sources_file))


# For the COPYs, in their transaction: PostgreSQL's JIT compiler took longer
# to compile a page's statement than to run it.
COPY_SETTINGS = "SET LOCAL jit = off"


def _csv_copied_in_snapshot(copy: _CsvCopy, sources_file: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """The claims' lines, in a read-only snapshot shared with the sources' COPYs."""

    def copy_sources(stop: threading.Event) -> None:
        with transaction.atomic(), connection.cursor() as wrapper:
            _snapshot_begin(wrapper, snapshot)
            for after, through in copy.pages():
                if stop.is_set():
                    return
                copy.source_lines(sources_file, wrapper.cursor, after, through)

    with transaction.atomic(), connection.cursor() as wrapper:
        snapshot = _snapshot_begin(wrapper)
        with in_background(copy_sources, "export-sources") as check:
            for after, through in copy.pages():
                check()
                yield copy.claim_lines(wrapper.cursor, after, through)


def _snapshot_begin(cursor: Any, snapshot: str | None = None) -> str:
    """Begins a read-only snapshot, the one given (pg_export_snapshot) or a new one; its id."""
    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    if snapshot is not None:
        cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
    cursor.execute(COPY_SETTINGS)
    if snapshot is None:
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = str(cursor.fetchone()[0])
    return snapshot


def _copy_into(out: IO[bytes], cursor: Any, query: str, params: tuple[Any, ...]) -> int:
    """Writes the rows of `query` as COPY writes CSV, ending each with CRLF; returns how many.

    COPY ends a row with a line feed and sends each row in a message of its
    own (the protocol's rule), so the line feed ending each message, and only
    it, becomes csv.writer's carriage return and line feed: a line feed inside
    a quoted cell stays as it is, as csv.writer leaves it.
    """
    rows = 0
    batch: list[bytes | memoryview] = []
    add = batch.append
    with (
        # psycopg's errors as Django's, as from any other query.
        connection.wrap_database_errors,
        cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)", params) as copy,
    ):
        for row in copy:
            add(row[:-1])
            add(b"\r\n")
            if len(batch) >= 4096:
                out.write(b"".join(batch))
                rows += len(batch) // 2
                batch.clear()
    out.write(b"".join(batch))
    return rows + len(batch) // 2


@contextlib.contextmanager
def in_background(
    work: Callable[[threading.Event], None], name: str
) -> Iterator[Callable[[], None]]:
    """`work(stop)` in a thread with its own database connection, while the block runs.

    The block gets a `check()` that raises the work's error as soon as there
    is one. Leaving the block waits for the work and raises its error, if
    any; leaving it on an error sets `stop` (the work ends early) and waits
    too, so that the thread never outlives the block.
    """
    stop = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work(stop)
        except BaseException as exc:  # raised in the caller
            failed.append(exc)
        finally:
            connections.close_all()

    def check() -> None:
        if failed:
            raise failed[0]

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield check
    except BaseException:
        stop.set()
        thread.join()
        if failed and failed[0] is not sys.exception():
            logger.warning("%s failed too", name, exc_info=failed[0])
        raise
    thread.join()
    check()


def _deflated_fast(member: IO[bytes]) -> IO[bytes]:
    """A zip member opened for writing, its deflate done by ISA-L rather than zlib.

    The same format, read by any unzip, in about half the time of zlib's level
    1 and a little smaller: compressing was a third of a CSV export's time.
    zipfile has no way to choose the compressor; its own, made when the
    member is opened, is replaced before the first byte (if it ever moves,
    the member keeps zlib's: slower, the same file).
    """
    if getattr(member, "_compressor", None) is not None:
        member._compressor = isal_zlib.compressobj(  # type: ignore[attr-defined]
            1, isal_zlib.DEFLATED, -15
        )
    return member


@contextlib.contextmanager
def written_behind(out: IO[bytes], depth: int = 2) -> Iterator[Callable[[bytes], None]]:
    """A `write` that hands the bytes to a thread writing them to `out`, in order.

    For a compressing file (a zip member): the compression runs while the
    caller makes the next bytes. An error in the thread is raised here, by the
    next write or on leaving the block.
    """
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
    failed: list[BaseException] = []

    def drain() -> None:
        while (data := pending.get()) is not None:
            if not failed:
                try:
                    out.write(data)
                except BaseException as exc:  # raised in the caller
                    failed.append(exc)

    thread = threading.Thread(target=drain, name="export-write-behind", daemon=True)
    thread.start()

    def write(data: bytes) -> None:
        if failed:
            raise failed[0]
        pending.put(data)

    try:
        yield write
    finally:
        pending.put(None)
        thread.join()
    if failed:
        raise failed[0]


def _csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as CSV text, byte for byte as csv.writer's default dialect writes them.

    Rows of two cells or more: csv.writer quotes a row's only cell when empty.

    csv.writer copies every character through a buffer of 4 bytes per
    character; quoting only the cells that need it, with str methods, takes
    under half its time, and an export is mostly long cells of plain text.
    """
    return "".join([",".join(map(_csv_cell, row)) + "\r\n" for row in rows])


# What makes csv.writer (QUOTE_MINIMAL) quote a cell.
CSV_QUOTED = re.compile(r'[",\r\n]')


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if CSV_QUOTED.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def _csv_text_cell(text: str | None) -> str:
    """Free text as a cell, quoted if need be, as csv.writer would (_csv_cell).

    A cell a spreadsheet would run as a formula (it starts with one of
    FORMULA_FIRST) is made plain text with a leading quote. One call per
    cell: an export makes millions of them.
    """
    if not text:
        return ""
    if text[0] in FORMULA_FIRST:
        text = "'" + text
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def _csv_number(value: int | None) -> str:
    return "" if value is None else str(value)


def write_webannotation(selection: Selection, out: IO[bytes], progress: Progress) -> int:
    """Reviewers' claims, then verified claims, one W3C Web Annotation per line."""
    rows = 0
    annotations = (
        selection.annotations()
        .select_related("verdict", "reviewer", "article")
        .defer("article__text", "article__html")
    )
    source_rows = Source.objects.order_by("order", "pk")
    if selection.public:
        source_rows = source_rows.filter(confidential=False)
    for page in pages(annotations, Prefetch("sources", queryset=source_rows)):
        out.write(
            b"".join(_dumps(web_annotation(c, public=selection.public)) + b"\n" for c in page)
        )
        rows += len(page)
        progress(rows)
    ctx = Context.of(selection)
    for page, sources in claim_pages(selection):
        lines = (_dumps(verified_annotation(ctx, row, sources.get(row.id, []))) for row in page)
        out.write(b"\n".join(lines) + b"\n")
        rows += len(page)
        progress(rows)
    return rows


def _report(selection: Selection, out: IO[bytes], progress: Progress, *, pdf: bool) -> int:
    from annotations import reports

    counted = 0

    def claims() -> Iterator[VerifiedClaim]:
        nonlocal counted
        for page in verified_pages(selection):
            yield from page
            counted += len(page)
            progress(counted)

    html = reports.render_report_html(
        organization=selection.organization,
        collection=selection.collection,
        claims=claims(),
        generated_at=timezone.now(),
        public=selection.public,
    )
    if pdf:
        reports.write_report_pdf(html, out)  # type: ignore[arg-type]
    else:
        out.write(html.encode("utf-8"))
    return counted


WRITERS: dict[str, Callable[[Selection, IO[bytes], Progress], int]] = {
    ExportFormat.CSV: write_csv,
    ExportFormat.JSONL: write_jsonl,
    ExportFormat.CLAIMREVIEW: write_claimreview,
    ExportFormat.WEBANNOTATION: write_webannotation,
    ExportFormat.REPORT_HTML: lambda s, o, p: _report(s, o, p, pdf=False),
    ExportFormat.REPORT_PDF: lambda s, o, p: _report(s, o, p, pdf=True),
}


def count(selection: Selection, export_format: str) -> int:
    """How many records the export will hold: its progress bar's 100%."""
    total = selection.claims().count()
    if export_format == ExportFormat.WEBANNOTATION:
        total += selection.annotations().count()
    return total


def filename(job: ExportJob) -> str:
    scope = job.collection.slug if job.collection else "all"
    stamp = job.created_at.strftime("%Y%m%d-%H%M")
    return f"{job.organization.slug}-{scope}-{job.format}-{stamp}{SUFFIXES[job.format]}"


# The job ------------------------------------------------------------------------------


def temp_dir() -> Path:
    path = Path(settings.WORKBENCH_EXPORT_TMP)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_run(job_id: int) -> ExportJob:
    """Writes a job's file; safe to run again after a worker died in the middle.

    The file is written to a temporary file first and handed to the storage
    only when complete, under a name of its own; a second attempt clears what
    a killed first one left behind, so a job ends with exactly one file.
    """
    job = ExportJob.objects.select_related("organization", "collection", "verdict").get(pk=job_id)
    if job.status == JobStatus.DONE:
        return job
    selection = Selection.of(job)
    total = count(selection, job.format)
    ExportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        heartbeat_at=timezone.now(),
        total=total,
        processed=0,
        failure="",
    )
    prefix = f"export-{job.pk}-"
    for stale in temp_dir().glob(prefix + "*"):
        stale.unlink(missing_ok=True)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(
            processed=Least(done, F("total")), heartbeat_at=timezone.now()
        )

    handle, path = tempfile.mkstemp(prefix=prefix, dir=temp_dir())
    try:
        with os.fdopen(handle, "wb") as out:
            rows = WRITERS[job.format](selection, out, progress)
        name = f"exports/{job.organization.slug}/{job.pk}/{filename(job)}"
        # What an earlier, killed attempt may have saved under this name.
        if default_storage.exists(name):
            default_storage.delete(name)
        with open(path, "rb") as complete:
            stored = default_storage.save(name, File(complete))
        size = default_storage.size(stored)
    finally:
        Path(path).unlink(missing_ok=True)
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE,
        file=stored,
        filename=filename(job),
        rows=rows,
        size=size,
        processed=Least(rows, F("total")),
        finished_at=now,
        expires_at=now + timedelta(days=settings.WORKBENCH_EXPORT_DAYS),
    )
    job.refresh_from_db()
    return job


def export_fail(job_id: int, reason: str) -> None:
    ExportJob.objects.filter(pk=job_id).exclude(status=JobStatus.DONE).update(
        status=JobStatus.FAILED, failure=reason, finished_at=timezone.now()
    )


def exports_expire(now: datetime | None = None) -> int:
    """Deletes the files of exports past their expiry; the jobs stay, marked expired."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(expired=False, expires_at__lt=now).exclude(file=""):
        if default_storage.exists(job.file):
            default_storage.delete(job.file)
        ExportJob.objects.filter(pk=job.pk).update(expired=True, file="")
        expired += 1
    return expired


def export_start(*, selection: Selection, export_format: str, user: Any) -> ExportJob:
    """Queues an export; the file is written by a worker (in-process without a broker)."""
    from annotations import tasks

    services.require_editor(user, selection.organization.pk)
    if export_format not in ExportFormat.values:
        raise ValidationError({"format": f"Use one of: {', '.join(ExportFormat.values)}."})
    selection_check(selection)
    pdf_check(selection, export_format)
    with transaction.atomic():
        job = ExportJob.objects.create(
            organization=selection.organization,
            collection=selection.collection,
            created_by=user,
            format=export_format,
            audience=selection.audience,
            status_filter=selection.status,
            verdict=selection.verdict,
            date_field=selection.date_field,
            date_from=selection.date_from,
            date_to=selection.date_to,
        )
        services.enqueue(tasks.run_export, job.pk)
    return job
