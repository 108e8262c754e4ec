"""The CSV export: a zip of claims.csv and sources.csv, written by COPY in PostgreSQL."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max
from isal import isal_zlib

from annotations.exports.reading import (
    CHUNK,
    Progress,
    claim_pages,
    in_background,
    read_ahead,
    written_behind,
)
from annotations.exports.selection import Selection
from annotations.models import (
    Article,
    SourceArchive,
    Taxonomy,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
)
from annotations.publishing.records import public_urls
from annotations.publishing.rows import IsoFormat

if TYPE_CHECKING:
    pass


# A spreadsheet runs a cell starting with one of these as a formula; Excel and
# LibreOffice also take the full-width forms (＝＋－＠) typed with East Asian
# input methods.
FORMULA_FIRST = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")

# claims.csv's columns, as a spreadsheet user reads them: the claim and its quote
# first, the offsets last; times in UTC to the second ("2026-11-28 23:59:59"),
# which every spreadsheet reads as a date and time.
CSV_CLAIM_FIELDS = (
    "claim_reviewed",
    "quote",
    "verdict",
    "verdict_name",
    "rating",
    "best_rating",
    "worst_rating",
    "summary",
    "claimant",
    "claim_date",
    "status",
    "lineage",
    "public_note",
    "published_at",
    "updated_at",
    "article_title",
    "article_url",
    "url",
    "id",
    "source_count",
    "sources",
    "start",
    "end",
)

CSV_SOURCE_FIELDS = (
    "claim_id",
    "position",
    "url",
    "title",
    "publisher",
    "quote",
    "stance",
    # The newsroom's archive of the source: when it was taken (UTC), and its SHA-256.
    "archived_at",
    "archive_sha256",
)


def sheet_time(iso: str | None) -> str:
    """An ISO 8601 UTC time (ClaimRow's text) as spreadsheets read it: "2026-11-28 23:59:59"."""
    return iso[:19].replace("T", " ") if iso else ""


def _sheet_time_sql(column: str) -> str:
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"


def write_csv_zip(selection: Selection, out: IO[bytes], progress: Progress) -> int:
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


# The sheet's columns for each source, numbered: source_1_url, source_1_title, …
SHEET_SOURCE_FIELDS = ("url", "title", "publisher", "quote", "stance")


def write_csv_sheet(selection: Selection, out: IO[bytes], progress: Progress) -> int:
    """One CSV file, what a spreadsheet opens: a row per claim, its sources in columns.

    The columns of claims.csv (the zip's), with each source's url, title,
    publisher, quote and stance in numbered columns (as many as the claim
    with the most sources has) in place of the joined list, before the
    offsets. UTF-8 with a byte-order mark, CRLF, formulas neutralised.
    """
    most = (
        selection.sources()
        .filter(claim__in=selection.claims().values("pk"))
        # Without the sources' order, which would group by each source.
        .order_by()
        .values("claim")
        .annotate(n=Count("pk"))
        .aggregate(most=Max("n"))["most"]
        or 0
    )
    base = [f for f in CSV_CLAIM_FIELDS if f not in {"sources", "start", "end"}]
    heading = [
        *base,
        *(f"source_{i}_{field}" for i in range(1, most + 1) for field in SHEET_SOURCE_FIELDS),
        "start",
        "end",
    ]
    ctx = selection.context()
    head, tail = ctx.url_head, ctx.url_tail
    text = _csv_text_cell
    rows = 0
    out.write(("\ufeff" + _csv_text([heading])).encode())
    for page, sources in claim_pages(selection):
        lines = []
        for row in page:
            label = ctx.labels[row.verdict_id]
            shown = sources.get(row.id, [])
            cells = [
                text(row.claim_reviewed),
                text(row.quote),
                text(label.slug),
                text(label.name),
                _csv_number(row.rating),
                str(label.best),
                str(label.worst),
                text(row.summary),
                text(row.claimant),
                row.claim_date or "",
                row.status,
                row.lineage,
                text(row.public_note),
                sheet_time(row.published_at),
                sheet_time(row.updated_at),
                text(row.article_title),
                text(row.article_url),
                text(f"{head}{row.id}{tail}"),
                str(row.id),
                str(len(shown)),
            ]
            for s in shown:
                cells += [text(s.url), text(s.title), text(s.publisher), text(s.quote), s.stance]
            cells += [""] * (len(SHEET_SOURCE_FIELDS) * (most - len(shown)))
            cells += [str(row.start), str(row.end)]
            lines.append(",".join(cells) + "\r\n")
        out.write("".join(lines).encode())
        rows += len(page)
        progress(rows)
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
    ctx = selection.context()
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
                f"{text(row.claim_reviewed)},{text(row.quote)},"
                f"{verdict},{number(row.rating)},{scale},"
                f"{text(row.summary)},{text(row.claimant)},{row.claim_date or ''},"
                f"{row.status},{row.lineage},{text(row.public_note)},"
                f"{sheet_time(row.published_at)},{sheet_time(row.updated_at)},"
                f"{text(row.article_title)},{text(row.article_url)},"
                f"{text(f'{head}{row.id}{tail}')},{row.id},"
                f"{len(shown)},{text(listed)},{row.start},{row.end}\r\n"
            )
            source_lines += [
                f"{row.id},{position},{text(s.url)},{text(s.title)},"
                f"{text(s.publisher)},{text(s.quote)},{s.stance},"
                f"{sheet_time(s.archived_at)},{s.archive_sha256}\r\n"
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
    claim, article, label, taxonomy, source, archive = (
        q(model._meta.db_table)
        for model in (VerifiedClaim, Article, VerdictLabel, Taxonomy, VerifiedSource, SourceArchive)
    )
    cell = _csv_cell_sql
    public = "AND NOT x.confidential" if selection.public else ""
    listed = "coalesce(nullif(x.title, ''), x.url) || ' <' || x.url || '> (' || x.stance || ')'"
    claims = f"""
        SELECT {cell("c.claim_reviewed")}, {cell("c.quote")},
            {cell("v.slug")}, {cell("v.name")}, c.rating, t.best_rating, t.worst_rating,
            {cell("c.summary")}, {cell("c.claimant")},
            {IsoFormat.sql("c.claim_date", is_datetime=False)},
            nullif(c.status, ''), nullif(c.lineage, ''), {cell("c.public_note")},
            {_sheet_time_sql("c.published_at")}, {_sheet_time_sql("c.updated_at")},
            {cell("a.title")}, {cell("a.url")}, %s || c.id || %s, c.id,
            coalesce(s.count, 0), {cell("s.listed")}, c.start, c."end"
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
            nullif(x.stance, ''), {_sheet_time_sql("w.archived_at")}, nullif(w.content_hash, '')
        FROM {source} x
        JOIN {claim} xc ON xc.id = x.claim_id
        LEFT JOIN {archive} w
            ON w.organization_id = xc.organization_id AND w.url = x.url AND w.warc <> ''
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
        head, tail, _ = public_urls(selection.organization.slug, settings.WORKBENCH_PUBLIC_URL)
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
