"""What articles add to a collection's agreement figures.

The arithmetic lives in the pure modules beside this one: batch.py counts a
batch of articles at once (matching spans into units, then every count the
figures need), reliability.py, kappas.py and unitizing.py compute the
figures. This module reads the claims from the database and stores what a
later refresh needs; sums.py adds the counts up, and summary.py turns the
sums into the report `compute_agreement --json` prints.

A *partial* (Partial) is plain JSON: counts and matrices that add up, plus a
few per-article entries (the articles table, the unit rows the bootstrap
resamples, the claims listed under the headline) that a refresh replaces.
Each article's claims are also kept as a compact *record* (ArticleAgreement),
so that when its claims change, its old counts can be recounted exactly,
taken out of the sums and the new ones put in.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import MD5, Coalesce, Left, Length
from django.utils import timezone
from psycopg import sql

from annotations.agreement import batch
from annotations.models import (
    Article,
    ArticleAgreement,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    Collection,
    MatchMode,
    VerdictLabel,
)

Partial = dict[str, Any]

VERSION = batch.VERSION
# How an article's stored record is laid out (its header says so): 4 leaves out
# the report it was counted for (a report keeps its records' digests instead, so a
# run stores only the records that changed).
RECORD_VERSION = 4
# An article's row in the sums: batch.count's figures, then its record's digest.
ARTICLE_FIGURES = 8
# Hex digits of a record's MD5 a report keeps with the article's counts.
DIGEST_LENGTH = 16


@dataclass(frozen=True)
class Scale:
    """The categories values are counted in: a collection's verdicts and ratings."""

    verdicts: tuple[int, ...]
    verdict_names: dict[int, str]
    ratings: tuple[int, ...]

    @property
    def key(self) -> list[list[int]]:
        """How counts record the scale they were counted in."""
        return [list(self.verdicts), list(self.ratings)]

    @property
    def positions(self) -> batch.Scale:
        return batch.Scale(self.verdicts, self.ratings)

    @classmethod
    def of(cls, collection: Collection) -> Scale:
        taxonomy = collection.taxonomy
        labels = list(VerdictLabel.objects.filter(taxonomy=taxonomy).order_by("order", "pk"))
        return cls(
            verdicts=tuple(label.pk for label in labels),
            verdict_names={label.pk: label.name for label in labels},
            ratings=tuple(range(taxonomy.worst_rating, taxonomy.best_rating + 1)),
        )


# Reading ----------------------------------------------------------------------------------


def _packed(query: sql.Composed, columns: int) -> np.ndarray:
    """Rows of bigints PostgreSQL packed into one value (string_agg of int8send), read by
    numpy in one go: no Python object per value or per row. The value comes in binary
    (Django's cursors ask for text: hex, twice the bytes, encoded and decoded). The
    query carries its values as literals: a statement with parameters would be planned
    generically (plan_cache_mode, workbench/settings.py)."""
    with (
        connection.cursor() as wrapper,
        connection.wrap_database_errors,
        psycopg.Cursor(wrapper.connection) as cursor,
    ):
        cursor.execute(query, binary=True)
        row = cursor.fetchone()
    data = row[0] if row and row[0] is not None else b""
    return np.frombuffer(data, dtype=">i8").astype(np.int64).reshape(-1, columns)


def _span_rows(collection: Collection, low: int, high: int) -> np.ndarray:
    """(article, id, reviewer, start, end, verdict, rating) of the claims on the
    collection's articles with ids from low to high."""
    if connection.vendor == "postgresql":
        query = sql.SQL(
            "SELECT string_agg(int8send(c.article_id::int8) || int8send(c.id::int8) || "
            'int8send(c.reviewer_id::int8) || int8send(c.start::int8) || int8send(c."end"::int8) '
            "|| int8send(COALESCE(c.verdict_id, -1)::int8) "
            "|| int8send(COALESCE(c.rating, -1)::int8), "
            "''::bytea) FROM {} c JOIN {} a ON a.id = c.article_id "
            # Live claims only, as ClaimAnnotation.objects (a deleted claim waits for its undo).
            # The range on both tables: on the claims' alone, PostgreSQL reads every
            # article of the collection to join them.
            "WHERE a.collection_id = {collection} AND a.id BETWEEN {low} AND {high} "
            "AND c.article_id BETWEEN {low} AND {high} AND c.deleted_at IS NULL"
        ).format(
            sql.Identifier(ClaimAnnotation._meta.db_table),
            sql.Identifier(Article._meta.db_table),
            collection=sql.Literal(int(collection.pk)),
            low=sql.Literal(int(low)),
            high=sql.Literal(int(high)),
        )
        return _packed(query, batch.COLUMNS)
    rows = ClaimAnnotation.objects.filter(
        article__collection=collection, article_id__gte=low, article_id__lte=high
    ).values_list("article_id", "id", "reviewer_id", "start", "end", "verdict_id", "rating")
    return np.array(
        [
            [a, i, r, s, e, batch.MISSING if v is None else v, batch.MISSING if g is None else g]
            for a, i, r, s, e, v, g in rows.order_by()
        ],
        dtype=np.int64,
    ).reshape(-1, batch.COLUMNS)


def _assignment_rows(collection: Collection, low: int, high: int) -> np.ndarray:
    """(article, reviewer, submitted) of the assignments to the collection's articles
    with ids from low to high."""
    if connection.vendor == "postgresql":
        query = sql.SQL(
            "SELECT string_agg(int8send(s.article_id::int8) || int8send(s.reviewer_id::int8) "
            "|| int8send((s.status = {submitted})::int::int8), ''::bytea) "
            "FROM {} s JOIN {} a ON a.id = s.article_id "
            "WHERE a.collection_id = {collection} AND a.id BETWEEN {low} AND {high} "
            "AND s.article_id BETWEEN {low} AND {high}"
        ).format(
            sql.Identifier(Assignment._meta.db_table),
            sql.Identifier(Article._meta.db_table),
            submitted=sql.Literal(str(AssignmentStatus.SUBMITTED)),
            collection=sql.Literal(int(collection.pk)),
            low=sql.Literal(int(low)),
            high=sql.Literal(int(high)),
        )
        return _packed(query, 3)
    rows = Assignment.objects.filter(
        article__collection=collection, article_id__gte=low, article_id__lte=high
    ).values_list("article_id", "reviewer_id", "status")
    return np.array(
        [[a, r, s == AssignmentStatus.SUBMITTED] for a, r, s in rows.order_by()],
        dtype=np.int64,
    ).reshape(-1, 3)


def _load(
    collection: Collection, article_ids: Sequence[int]
) -> tuple[batch.Spans, tuple[np.ndarray, np.ndarray], list[batch.ArticleInfo]]:
    """Claims, reviewers and articles of these articles of the collection, in three queries.

    Each query asks for the range of ids (a run's chunks are runs of the
    collection's ids in order) rather than a list of hundreds of them, and
    what falls in the range but is not asked for is dropped here.
    """
    wanted = np.unique(np.asarray(article_ids, dtype=np.int64))
    if not wanted.size:
        empty = np.zeros(0, dtype=np.int64)
        return batch.Spans.from_rows(np.zeros((0, batch.COLUMNS))), (empty, empty), []
    low, high = int(wanted[0]), int(wanted[-1])
    asked = set(wanted.tolist())
    found = [
        row
        for row in collection.articles.filter(pk__gte=low, pk__lte=high)
        .order_by("pk")
        # Stored when the article was saved; counted here for a row inserted without it.
        .values_list("pk", "title", Coalesce("text_length", Length("text")))
        if row[0] in asked
    ]
    ids = np.asarray([pk for pk, _, _ in found], dtype=np.int64)
    rows = _span_rows(collection, low, high)
    spans = batch.Spans.from_rows(rows[np.isin(rows[:, batch.ARTICLE], ids)])
    assigned = _assignment_rows(collection, low, high)
    assigned = assigned[np.isin(assigned[:, 0], ids)]
    submitted = set(assigned[assigned[:, 2] == 1, 0].tolist())
    marked = set(np.unique(spans.article).tolist())
    articles = [
        batch.ArticleInfo(pk, title, length or 0, pk in marked or pk in submitted)
        for pk, title, length in found
    ]
    return spans, (assigned[:, 0], assigned[:, 1]), articles


# Counting and storing ---------------------------------------------------------------------


def counts_of(
    spans: batch.Spans,
    everyone: tuple[np.ndarray, np.ndarray],
    articles: Sequence[batch.ArticleInfo],
    *,
    scale: Scale,
    mode: str,
    threshold: float,
) -> Partial:
    units = batch.match_units(spans, exact=mode == MatchMode.EXACT, threshold=threshold)
    partial = batch.count(spans, units, everyone=everyone, articles=articles, scale=scale.positions)
    partial["scale"] = scale.key
    return partial


def compute_articles(
    *,
    collection: Collection,
    article_ids: Sequence[int],
    mode: str,
    threshold: float,
    scale: Scale | None = None,
    answer: bool = True,
) -> Partial:
    """These articles' counts; each article's record is stored for later refreshes,
    and its digest kept with the article's counts, so that a refresh takes a record
    out of only the sums that counted it (record_counts).

    The requests for a refresh these counts answer are cleared (`answer`), or, for
    a run's chunk, listed in the counts under "asked": the run answers them when it
    has finished (answer_requests), and a run that fails leaves them asked for.
    """
    scale = scale or Scale.of(collection)
    # The requests as they stand before the claims are read: those are answered by
    # this count. One made since (a change this read may have missed) has another
    # value by the time they are answered, and stays.
    wanted = set(article_ids)
    asked: dict[int, datetime] = {
        article_id: requested_at
        for article_id, requested_at in _agreement_rows(collection, wanted, mode, threshold)
        .filter(requested_at__isnull=False)
        .values_list("article_id", "requested_at")
        if article_id in wanted and requested_at is not None
    }
    spans, everyone, articles = _load(collection, article_ids)
    partial = counts_of(spans, everyone, articles, scale=scale, mode=mode, threshold=threshold)
    records = _records(spans, everyone, articles, scale)
    for article_id, _, digest in records:
        partial["articles"][str(article_id)].append(digest)
    _store_records(collection, records, mode=mode, threshold=threshold)
    if answer:
        answer_requests(asked, mode=mode, threshold=threshold)
    else:
        partial["asked"] = {str(a): at.isoformat() for a, at in asked.items()}
    return partial


def _agreement_rows(
    collection: Collection, article_ids: set[int], mode: str, threshold: float
) -> QuerySet[ArticleAgreement]:
    """The stored agreement rows of these articles of the collection, asked for as a
    range of ids (a run's chunks are runs of the collection's ids) rather than a list
    of hundreds; the caller drops what falls in the range but was not asked for."""
    low, high = min(article_ids, default=0), max(article_ids, default=0)
    return ArticleAgreement.objects.filter(
        # The range on the articles too: a join on the collection alone reads all of
        # its articles.
        article_id__in=collection.articles.filter(pk__gte=low, pk__lte=high).values("pk"),
        article_id__gte=low,
        article_id__lte=high,
        match_mode=mode,
        iou_threshold=threshold,
    ).order_by()


def answer_requests(
    asked: dict[int, datetime] | dict[str, str], *, mode: str, threshold: float
) -> None:
    """Clears the requests for a refresh that a count read before them: those whose
    time is still the one read (a request made since stays, and its refresh counts
    the change)."""
    by_time: dict[datetime, list[int]] = {}
    for article_id, requested_at in asked.items():
        at = datetime.fromisoformat(requested_at) if isinstance(requested_at, str) else requested_at
        by_time.setdefault(at, []).append(int(article_id))
    for requested_at, same in by_time.items():
        ArticleAgreement.objects.filter(
            article_id__in=same,
            match_mode=mode,
            iou_threshold=threshold,
            requested_at=requested_at,
        ).update(requested_at=None)


def counted_digest(total: Partial | None, article_id: int) -> str | None:
    """The digest of the record these sums counted for the article (its row's entry
    after the figures batch.count gives); None if they did not count it."""
    row = (total or {}).get("articles", {}).get(str(article_id))
    return row[ARTICLE_FIGURES] if row and len(row) > ARTICLE_FIGURES else None


def _scale_code(scale: Scale) -> int:
    """A number standing for the scale a record was counted in."""
    return zlib.crc32(json.dumps(scale.key).encode())


def record_digest(record: bytes | memoryview) -> str:
    """What a report keeps of each article's record: the same digest PostgreSQL's
    md5() gives, shortened."""
    return hashlib.md5(record, usedforsecurity=False).hexdigest()[:DIGEST_LENGTH]


def _records(
    spans: batch.Spans,
    everyone: tuple[np.ndarray, np.ndarray],
    articles: Sequence[batch.ArticleInfo],
    scale: Scale,
) -> list[tuple[int, bytes, str]]:
    """What a refresh needs to count each article again exactly as it was counted, with
    its digest:
    little-endian int64s, a header (layout, scale, the text's length, whether
    reviewed, how many reviewers), the reviewers, then six columns per claim."""
    ids = [a.id for a in articles]
    if not ids:
        return []
    # The claims' columns as bytes, all articles at once; each record takes its slice.
    claims = np.ascontiguousarray(spans.rows()[:, 1:], dtype="<i8").tobytes()
    width = (batch.COLUMNS - 1) * 8
    bounds = np.searchsorted(spans.article, [*ids, np.iinfo(np.int64).max]).tolist()
    ev_article, ev_reviewer = everyone
    order = np.lexsort((ev_reviewer, ev_article))
    ev_article, ev_reviewer = ev_article[order], ev_reviewer[order]
    ev_bounds = np.searchsorted(ev_article, [*ids, np.iinfo(np.int64).max]).tolist()
    ev_reviewer = ev_reviewer.tolist()
    code = _scale_code(scale)
    records = []
    for i, info in enumerate(articles):
        reviewers = sorted(set(ev_reviewer[ev_bounds[i] : ev_bounds[i + 1]]))
        header = [RECORD_VERSION, code, info.length, int(info.reviewed), len(reviewers)]
        head = struct.pack(f"<{len(header) + len(reviewers)}q", *header, *reviewers)
        record = head + claims[bounds[i] * width : bounds[i + 1] * width]
        records.append((info.id, record, record_digest(record)))
    return records


def _store_records(
    collection: Collection,
    records: list[tuple[int, bytes, str]],
    *,
    mode: str,
    threshold: float,
) -> None:
    """Writes the records that changed since they were last stored (a run over a
    collection whose claims did not change writes none)."""
    if not records:
        return
    stored = _stored_digests(collection, {a for a, _, _ in records}, mode, threshold)
    changed = [(a, r) for a, r, digest in records if stored.get(a) != digest]
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy_records(changed, mode=mode, threshold=threshold, now=now)
        elif changed:
            # An upsert, so that a run and a refresh computing the same article at
            # the same moment both succeed; the later one wins.
            ArticleAgreement.objects.bulk_create(
                [
                    ArticleAgreement(
                        article_id=article,
                        match_mode=mode,
                        iou_threshold=threshold,
                        record=record,
                        computed_at=now,
                    )
                    for article, record in changed
                ],
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["article", "match_mode", "iou_threshold"],
                update_fields=["record", "computed_at"],
            )


def _stored_digests(
    collection: Collection, article_ids: set[int], mode: str, threshold: float
) -> dict[int, str]:
    """The digests of these articles' stored records (PostgreSQL works them out
    itself; the records are not sent)."""
    rows = _agreement_rows(collection, article_ids, mode, threshold).filter(record__isnull=False)
    if connection.vendor == "postgresql":
        return dict(
            rows.annotate(digest=Left(MD5("record"), DIGEST_LENGTH)).values_list(
                "article_id", "digest"
            )
        )
    return {a: record_digest(r) for a, r in rows.values_list("article_id", "record") if r}


def _copy_records(
    records: list[tuple[int, bytes]], *, mode: str, threshold: float, now: datetime
) -> None:
    """The same upsert on PostgreSQL: a binary COPY into a scratch table, then one INSERT."""
    if not records:
        return
    table = sql.Identifier(ArticleAgreement._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.connection.cursor()
        raw.execute(
            "CREATE TEMP TABLE agreement_records (article_id bigint, record bytea) ON COMMIT DROP"
        )
        with raw.copy(
            "COPY agreement_records (article_id, record) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "bytea"])
            for row in records:
                copy.write_row(row)
        raw.execute(
            sql.SQL(
                "INSERT INTO {} (article_id, match_mode, iou_threshold, record, computed_at, "
                "requested_at) SELECT article_id, %s, %s, record, %s, NULL "
                "FROM agreement_records ORDER BY article_id "
                "ON CONFLICT (article_id, match_mode, iou_threshold) DO UPDATE SET "
                "record = EXCLUDED.record, computed_at = EXCLUDED.computed_at"
            ).format(table),
            [mode, threshold, now],
        )
        raw.execute("DROP TABLE agreement_records")


def _columns(spans: batch.Spans) -> list[np.ndarray]:
    return [
        spans.article,
        spans.id,
        spans.reviewer,
        spans.start,
        spans.end,
        spans.verdict,
        spans.rating,
    ]


def record_counts(
    article_id: int,
    record: bytes | memoryview | None,
    *,
    scale: Scale,
    mode: str,
    threshold: float,
    digest: str | None,
) -> Partial | None:
    """An article's counts as a stored record had them, if they are the counts in a
    report's sums (the report keeps each article's record `digest`); None if the
    record is of another layout or scale, or was stored since (a run that counted
    it again, or failed): then the sums are added up again."""
    if not record or digest is None:
        return None
    data = bytes(record)
    if record_digest(data) != digest:
        return None
    values = np.frombuffer(data, dtype="<i8").astype(np.int64)
    if len(values) < 5 or values[0] != RECORD_VERSION or values[1] != _scale_code(scale):
        return None
    length, reviewed, n = int(values[2]), bool(values[3]), int(values[4])
    reviewers = values[5 : 5 + n]
    rows = values[5 + n :].reshape(-1, batch.COLUMNS - 1)
    rows = np.concatenate([np.full((len(rows), 1), article_id, dtype=np.int64), rows], axis=1)
    spans = batch.Spans.from_rows(rows)
    everyone = (np.full(len(reviewers), article_id, dtype=np.int64), reviewers)
    info = batch.ArticleInfo(article_id, "", length, reviewed)
    return counts_of(spans, everyone, [info], scale=scale, mode=mode, threshold=threshold)
