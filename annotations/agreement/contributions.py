"""What articles add to a collection's agreement figures, their sums, and the report.

The arithmetic lives in the pure modules beside this one: batch.py counts a
batch of articles at once (matching spans into units, then every count the
figures need), reliability.py, kappas.py and unitizing.py compute the
figures. This module reads the claims from the database, stores what a later
refresh needs, adds sums together and summarizes them as the report
`compute_agreement --json` prints.

A *partial* (Partial) is plain JSON: counts and matrices that add up, plus a
few per-article entries (the articles table, the unit rows the bootstrap
resamples, the claims listed under the headline) that a refresh replaces.
Each article's claims are also kept as a compact *record* (ArticleAgreement),
so that when its claims change, its old counts can be recounted exactly,
taken out of the sums and the new ones put in.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models.functions import Length
from django.utils import timezone
from psycopg import sql

from annotations.agreement import batch
from annotations.agreement.kappas import fleiss_kappa, weighted_kappa_from_confusion
from annotations.agreement.matching import PairCounts, Reviewer, mean_f1
from annotations.agreement.packing import is_packed, merge_rows, swap_rows, unpack_rows
from annotations.agreement.reliability import (
    ONE_REVIEWER,
    alpha_from_coincidences,
    alpha_interval_from_value_counts,
    coincidences_from_value_counts,
    kappa_from_confusion,
    percent_agreement_from_coincidences,
    reviewer_agreement_from_coincidences,
)
from annotations.agreement.unitizing import UnitizingCounts, unitizing_alpha_from_counts
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

BOOTSTRAP_RESAMPLES = 1000
VERSION = batch.VERSION
# How an article's stored record is laid out (its header says so): 3 added the
# report it was counted for.
RECORD_VERSION = 3
# Keyed by article, replaced (not added) when an article is counted again.
PER_ARTICLE = ("articles",)
PACKED = ("verdict_counts", "rating_counts", "disputed", "single")
MATRICES = ("confusion", "rating_confusion", "rest")
COUNTS = ("unmatched", "reviewers")
NUMBERS = ("units", "span_units", "disputed_count", "single_count")


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


def _span_rows(collection: Collection, low: int, high: int) -> np.ndarray:
    """(article, id, reviewer, start, end, verdict, rating) of the claims on the
    collection's articles with ids from low to high."""
    claims = ClaimAnnotation.objects.filter(
        article__collection=collection, article_id__gte=low, article_id__lte=high
    ).order_by()
    if connection.vendor == "postgresql":
        # The database packs the rows into one value of big-endian bigints and
        # numpy reads it in one go: no Python object per value or per row.
        query = sql.SQL(
            "SELECT string_agg(int8send(c.article_id::int8) || int8send(c.id::int8) || "
            'int8send(c.reviewer_id::int8) || int8send(c.start::int8) || int8send(c."end"::int8) '
            "|| int8send(COALESCE(c.verdict_id, -1)::int8) "
            "|| int8send(COALESCE(c.rating, -1)::int8), "
            "''::bytea) FROM {} c JOIN {} a ON a.id = c.article_id "
            # Live claims only, as ClaimAnnotation.objects (a deleted claim waits for its undo).
            "WHERE a.collection_id = %s AND c.article_id BETWEEN %s AND %s "
            "AND c.deleted_at IS NULL"
        ).format(
            sql.Identifier(ClaimAnnotation._meta.db_table),
            sql.Identifier(Article._meta.db_table),
        )
        with connection.cursor() as cursor:
            cursor.execute(query, [collection.pk, low, high])
            row = cursor.fetchone()
        data = row[0] if row and row[0] is not None else b""
        return np.frombuffer(data, dtype=">i8").astype(np.int64).reshape(-1, batch.COLUMNS)
    rows = list(
        claims.values_list(
            "article_id", "id", "reviewer_id", "start", "end", "verdict_id", "rating"
        )
    )
    return np.array(
        [
            [a, i, r, s, e, batch.MISSING if v is None else v, batch.MISSING if g is None else g]
            for a, i, r, s, e, v, g in rows
        ],
        dtype=np.int64,
    ).reshape(-1, batch.COLUMNS)


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
        .values_list("pk", "title", Length("text"))
        if row[0] in asked
    ]
    ids = np.asarray([pk for pk, _, _ in found], dtype=np.int64)
    rows = _span_rows(collection, low, high)
    spans = batch.Spans.from_rows(rows[np.isin(rows[:, batch.ARTICLE], ids)])
    assigned = np.asarray(
        Assignment.objects.filter(
            article__collection=collection, article_id__gte=low, article_id__lte=high
        )
        .order_by()
        .values_list("article_id", "reviewer_id", "status"),
        dtype=object,
    ).reshape(-1, 3)
    mine = np.isin(assigned[:, 0].astype(np.int64), ids)
    assigned = assigned[mine]
    submitted = {int(a) for a, _, s in assigned if s == AssignmentStatus.SUBMITTED}
    marked = set(np.unique(spans.article).tolist())
    articles = [
        batch.ArticleInfo(pk, title, length or 0, pk in marked or pk in submitted)
        for pk, title, length in found
    ]
    everyone = (
        assigned[:, 0].astype(np.int64),
        assigned[:, 1].astype(np.int64),
    )
    return spans, everyone, articles


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
    report_id: int,
    scale: Scale | None = None,
) -> Partial:
    """These articles' counts; each article's record is stored for later refreshes of
    the report they are counted for (a record counted for another report is not
    swapped out of this one's sums: record_counts)."""
    scale = scale or Scale.of(collection)
    # The requests for a refresh as they stand before the claims are read: those
    # are answered by this count. One made since (a change this read may have
    # missed) has another value by the time the records are stored, and stays.
    asked: dict[int, datetime] = dict(
        ArticleAgreement.objects.filter(
            article_id__in=article_ids,
            match_mode=mode,
            iou_threshold=threshold,
            requested_at__isnull=False,
        ).values_list("article_id", "requested_at")  # type: ignore[arg-type]
    )
    spans, everyone, articles = _load(collection, article_ids)
    partial = counts_of(spans, everyone, articles, scale=scale, mode=mode, threshold=threshold)
    _store_records(
        spans,
        everyone,
        articles,
        scale=scale,
        mode=mode,
        threshold=threshold,
        report_id=report_id,
        asked=asked,
    )
    return partial


def _scale_code(scale: Scale) -> int:
    """A number standing for the scale a record was counted in."""
    return zlib.crc32(json.dumps(scale.key).encode())


def _record(
    spans: batch.Spans,
    reviewers: Sequence[int],
    info: batch.ArticleInfo,
    scale: Scale,
    report_id: int,
) -> bytes:
    """What a refresh needs to count this article again exactly as it was counted:
    little-endian int64s, a header (layout, scale, the report it was counted for,
    the text's length, whether reviewed, how many reviewers), the reviewers, then
    six columns per claim."""
    header = [
        RECORD_VERSION,
        _scale_code(scale),
        report_id,
        info.length,
        int(info.reviewed),
        len(reviewers),
    ]
    columns = spans.rows()[:, 1:]
    return (
        np.concatenate([np.asarray([*header, *reviewers], dtype=np.int64), columns.reshape(-1)])
        .astype("<i8")
        .tobytes()
    )


def _store_records(
    spans: batch.Spans,
    everyone: tuple[np.ndarray, np.ndarray],
    articles: Sequence[batch.ArticleInfo],
    *,
    scale: Scale,
    mode: str,
    threshold: float,
    report_id: int,
    asked: dict[int, datetime],
) -> None:
    ids = [a.id for a in articles]
    if not ids:
        return
    bounds = np.searchsorted(spans.article, [*ids, np.iinfo(np.int64).max])
    ev_article, ev_reviewer = everyone
    order = np.lexsort((ev_reviewer, ev_article))
    ev_article, ev_reviewer = ev_article[order], ev_reviewer[order]
    ev_bounds = np.searchsorted(ev_article, [*ids, np.iinfo(np.int64).max])
    columns = _columns(spans)
    records = []
    for i, info in enumerate(articles):
        part = batch.Spans(*(column[bounds[i] : bounds[i + 1]] for column in columns))
        reviewers = sorted(set(ev_reviewer[ev_bounds[i] : ev_bounds[i + 1]].tolist()))
        records.append((info.id, _record(part, reviewers, info, scale, report_id)))
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy_records(records, mode=mode, threshold=threshold, now=now)
        else:
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
                    for article, record in records
                ],
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["article", "match_mode", "iou_threshold"],
                update_fields=["record", "computed_at"],
            )
        # What was asked for before the claims were read is answered; a request
        # that came in since stays, and its refresh will count the change.
        by_time: dict[datetime, list[int]] = {}
        for article_id, requested_at in asked.items():
            by_time.setdefault(requested_at, []).append(article_id)
        for requested_at, same in by_time.items():
            ArticleAgreement.objects.filter(
                article_id__in=same,
                match_mode=mode,
                iou_threshold=threshold,
                requested_at=requested_at,
            ).update(requested_at=None)


def _copy_records(
    records: list[tuple[int, bytes]], *, mode: str, threshold: float, now: datetime
) -> None:
    """The same upsert on PostgreSQL: COPY into a scratch table, then one INSERT."""
    table = sql.Identifier(ArticleAgreement._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.connection.cursor()
        raw.execute(
            "CREATE TEMP TABLE agreement_records (article_id bigint, record bytea) ON COMMIT DROP"
        )
        with raw.copy("COPY agreement_records (article_id, record) FROM STDIN") as copy:
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
    report_id: int,
) -> Partial | None:
    """An article's counts as a stored record had them in the sums of report `report_id`;
    None if the record is of another layout or scale, or was counted for another
    report (a run that counted it since, or failed): then the sums are added up again."""
    if not record:
        return None
    values = np.frombuffer(bytes(record), dtype="<i8").astype(np.int64)
    if (
        len(values) < 6
        or values[0] != RECORD_VERSION
        or values[1] != _scale_code(scale)
        or values[2] != report_id
    ):
        return None
    length, reviewed, n = int(values[3]), bool(values[4]), int(values[5])
    reviewers = values[6 : 6 + n]
    rows = values[6 + n :].reshape(-1, batch.COLUMNS - 1)
    rows = np.concatenate([np.full((len(rows), 1), article_id, dtype=np.int64), rows], axis=1)
    spans = batch.Spans.from_rows(rows)
    everyone = (np.full(len(reviewers), article_id, dtype=np.int64), reviewers)
    info = batch.ArticleInfo(article_id, "", length, reviewed)
    return counts_of(spans, everyone, [info], scale=scale, mode=mode, threshold=threshold)


# Adding up --------------------------------------------------------------------------------


def empty_partial() -> Partial:
    return {
        "v": VERSION,
        "pairs": {},
        "confusion": {},
        "rating_confusion": {},
        "rest": {},
        "unmatched": {},
        "reviewers": {},
        "verdict_counts": {},
        "rating_counts": {},
        "articles": {},
        "disputed": {},
        "single": {},
        "units": 0,
        "span_units": 0,
        "disputed_count": 0,
        "single_count": 0,
        "unitizing": [0, 0, 0, 0, 0.0],
    }


def _add_matrix(target: dict[str, Any], key: str, matrix: list[list[int]], sign: int) -> None:
    counts = np.asarray(matrix, dtype=np.int64)
    if key in target:
        target[key] = (np.asarray(target[key], dtype=np.int64) + sign * counts).tolist()
    else:
        target[key] = (sign * counts).tolist()


def add(total: Partial, part: Partial, sign: int = 1) -> Partial:
    """Adds a partial sum to another (in place); sign=-1 takes it out.

    Everything additive is a count, so taking an article's old counts out and
    putting its new ones in gives the same total as adding every article up
    again: that is how a changed claim refreshes a collection in a moment. The
    per-article entries are taken out, or replaced.
    """
    for key, (m, a, b) in part["pairs"].items():
        old = total["pairs"].get(key, [0, 0, 0])
        total["pairs"][key] = [old[0] + sign * m, old[1] + sign * a, old[2] + sign * b]
    for field in MATRICES:
        for key, matrix in part[field].items():
            _add_matrix(total[field], key, matrix, sign)
    for field in COUNTS:
        for key, n in part[field].items():
            value = total[field].get(key, 0) + sign * n
            if value:
                total[field][key] = value
            else:
                total[field].pop(key, None)
    for field in NUMBERS:
        total[field] += sign * part[field]
    total["unitizing"] = [
        x + sign * y for x, y in zip(total["unitizing"], part["unitizing"], strict=True)
    ]
    articles = [int(a) for a in part["articles"]]
    for field in PER_ARTICLE:
        for key in part["articles"]:
            total[field].pop(key, None)
        if sign > 0:
            total[field].update(part[field])
    for field in PACKED:
        width = _width(part[field], total[field])
        if not width:
            continue
        new = part[field] if sign > 0 else None
        total[field] = swap_rows(total[field], width, np.asarray(articles), new)
    return total


def _width(*values: Any) -> int:
    for value in values:
        if is_packed(value):
            return int(value["width"])
    return 0


def merge(partials: Iterable[Partial]) -> Partial:
    """Adds partial sums of disjoint sets of articles together; the order does not matter."""
    total = empty_partial()
    seen: set[frozenset[int]] = set()
    packed: dict[str, list[Any]] = {field: [] for field in PACKED}
    for partial in partials:
        # A chunk delivered twice (acks_late after a worker died) counts once.
        covers = frozenset(int(a) for a in partial["articles"])
        if covers and covers in seen:
            continue
        seen.add(covers)
        for field in PACKED:
            packed[field].append(partial[field])
        # The packed rows are merged once, below, rather than chunk by chunk.
        add(total, {**partial, **{field: {} for field in PACKED}})
        if "scale" in partial:
            total["scale"] = partial["scale"]
    for field in PACKED:
        total[field] = merge_rows(packed[field], _width(*packed[field]))
    return total


def pack(total: Partial, scale: Scale) -> Partial:
    """The sums as a report stores them."""
    return total | {"scale": scale.key, "v": VERSION}


def usable(total: Partial | None, scale: Scale) -> bool:
    """Whether stored sums are in this layout and scale (else they are added up again)."""
    return total is not None and total.get("v") == VERSION and total.get("scale") == scale.key


# The report -------------------------------------------------------------------------------


def _alpha(counts: np.ndarray, metric: str, min_units: int) -> dict[str, Any]:
    point = alpha_from_coincidences(coincidences_from_value_counts(counts), metric)  # type: ignore[arg-type]
    interval = alpha_interval_from_value_counts(
        counts,
        metric,  # type: ignore[arg-type]
        resamples=BOOTSTRAP_RESAMPLES,
    )
    units = len(counts)
    return {
        "alpha": point.alpha,
        "metric": metric,
        "reason": point.reason,
        "units": units,
        "warning": too_few(units, min_units),
        "ci": [interval.low, interval.high] if interval.low is not None else None,
        "ci_confidence": interval.confidence,
        "ci_resamples": interval.resamples,
        "ci_undefined_resamples": interval.undefined_resamples,
        "pairable_values": point.pairable_values,
    }


def too_few(units: int, min_units: int) -> str | None:
    """The warning a figure from too few units carries; None when there are enough."""
    return f"too few claims to say (n = {units:,})" if units < min_units else None


def summarize(
    total: Partial,
    *,
    scale: Scale,
    names: dict[int, str],
    mode: str,
    threshold: float,
    min_units: int = 10,
) -> dict[str, Any]:
    """The report: the same document for the dashboard, the command, the report and the API."""

    def name(reviewer: str | int) -> str:
        return names.get(int(reviewer), str(reviewer))

    verdicts = unpack_rows(total["verdict_counts"], len(scale.verdicts))[1]
    ratings = unpack_rows(total["rating_counts"], len(scale.ratings))[1]
    pair_counts: dict[tuple[Reviewer, Reviewer], PairCounts] = {}
    for key, values in total["pairs"].items():
        a, b = key.split(":")
        pair_counts[(int(a), int(b))] = PairCounts(*values)
    span_pairs = []
    pairs = []
    for (a, b), counts in sorted(pair_counts.items()):
        span_pairs.append(
            {
                "a": name(a),
                "b": name(b),
                "matched": counts.matched,
                "spans_a": counts.spans_a,
                "spans_b": counts.spans_b,
                "precision": counts.precision,
                "recall": counts.recall,
                "f1": counts.f1,
            }
        )
        matrix = np.asarray(total["confusion"].get(f"{a}:{b}", [[0]]))
        kappa = kappa_from_confusion(matrix) if matrix.size > 1 else None
        both = int(matrix.sum())
        rated = np.asarray(total["rating_confusion"].get(f"{a}:{b}", [[0]]))
        linear = weighted_kappa_from_confusion(rated, "linear") if rated.size > 1 else None
        quadratic = weighted_kappa_from_confusion(rated, "quadratic") if rated.size > 1 else None
        pairs.append(
            {
                "a": name(a),
                "b": name(b),
                "span_f1": counts.f1,
                "units": both,
                "kappa": kappa.kappa if kappa else None,
                "kappa_reason": kappa.reason if kappa else "no units labelled by both",
                "percent_agreement": float(np.trace(matrix)) / both if both else None,
                "warning": too_few(both, min_units),
                "rating_units": int(rated.sum()),
                "weighted_kappa_linear": linear.kappa if linear else None,
                "weighted_kappa_quadratic": quadratic.kappa if quadratic else None,
                "weighted_kappa_reason": (linear.reason if linear else "no ratings on this scale"),
                "rating_warning": too_few(int(rated.sum()), min_units),
            }
        )
    size = len(scale.verdicts)
    pooled = np.zeros((size, size), dtype=np.int64)
    for matrix in total["confusion"].values():
        m = np.asarray(matrix, dtype=np.int64).reshape(size, size)
        pooled += m + m.T
    rest = reviewer_agreement_from_coincidences(
        {int(r): np.asarray(m, dtype=np.float64) for r, m in total["rest"].items()}
    )
    reviewer_ids = sorted(int(r) for r in total["reviewers"])
    verdict = _alpha(verdicts, "nominal", min_units)
    verdict["percent_agreement"] = percent_agreement_from_coincidences(
        coincidences_from_value_counts(verdicts)
    ).agreement
    rating = _alpha(ratings, "ordinal", min_units)
    if len(reviewer_ids) == 1:
        # Not "no pairable units": say why there is nothing to pair.
        for block in (verdict, rating):
            if block["alpha"] is None:
                block["reason"] = ONE_REVIEWER
    fleiss = fleiss_kappa(verdicts) if size else None
    unitizing = unitizing_alpha_from_counts(UnitizingCounts(*total["unitizing"]))
    matched = sum(c.matched for c in pair_counts.values())
    marked = sum(c.spans_a + c.spans_b for c in pair_counts.values())
    articles = sorted(total["articles"].values(), key=lambda a: (-a[2], a[1], a[0]))
    return {
        "match": mode,
        "iou": threshold if mode == MatchMode.OVERLAP else None,
        "min_units": min_units,
        "articles_count": len(articles),
        "units": len(verdicts),
        "units_total": total["units"],
        "reviewers": [name(r) for r in reviewer_ids],
        "reason": ONE_REVIEWER if len(reviewer_ids) == 1 else None,
        "spans": {
            "f1_mean": mean_f1(pair_counts),
            # Of the claims two reviewers of one article marked, the share both marked.
            "found_together": 2 * matched / marked if marked else None,
            "units": total["span_units"],
            "warning": too_few(total["span_units"], min_units),
            "pairs": span_pairs,
            "unitizing": {
                "alpha": unitizing.alpha,
                "reason": unitizing.reason,
                "articles": int(total["unitizing"][0]),
            },
        },
        "verdict": verdict,
        "rating": rating,
        "fleiss": {
            "kappa": fleiss.kappa if fleiss else None,
            "reason": fleiss.reason if fleiss else "no verdicts in the taxonomy",
            "units": fleiss.units if fleiss else 0,
            "observed_agreement": fleiss.observed_agreement if fleiss else None,
            "expected_agreement": fleiss.expected_agreement if fleiss else None,
            "warning": too_few(fleiss.units if fleiss else 0, min_units),
        },
        "pairs": pairs,
        "confusion": {
            "labels": [scale.verdict_names[v] for v in scale.verdicts],
            "matrix": pooled.tolist(),
        },
        "reviewer_agreement": [
            {
                "reviewer": name(r),
                "pairs": result.pairs,
                "agreement": result.agreement,
                "alpha": result.alpha.alpha,
                "warning": too_few(result.pairs, min_units),
            }
            for r, result in sorted(rest.items())
        ],
        "unmatched": {
            name(r): n for r, n in sorted((int(r), n) for r, n in total["unmatched"].items())
        },
        "disputed_count": total["disputed_count"],
        "single_count": total["single_count"],
        "articles": [
            {
                "id": a[0],
                "title": a[1],
                # None: nobody has reviewed it yet (not "0% disagreement").
                "disagreement": a[2] if a[6] else None,
                "units": a[3],
                "disputed": a[4],
                "reviewers": a[5],
                "reviewed": a[6],
                "single": a[7],
            }
            for a in articles
        ],
        # The claims behind the headline: for the articles with the most
        # disagreement, each disputed unit's claim ids, and the claims marked
        # by one reviewer only.
        "listed": _listed(total, articles),
    }


LISTED_ARTICLES = 50


def _listed(total: Partial, articles: list[list[Any]]) -> dict[str, Any]:
    top = [a[0] for a in articles[:LISTED_ARTICLES]]
    ids, rows = unpack_rows(total["disputed"], 2)
    keep = np.isin(ids, top)
    units: dict[int, list[tuple[int, list[int]]]] = {}
    for article, unit, claim in zip(
        ids[keep].tolist(), rows[keep, 0].tolist(), rows[keep, 1].tolist(), strict=True
    ):
        group = units.setdefault(article, [])
        if not group or group[-1][0] != unit:
            group.append((unit, []))
        group[-1][1].append(claim)
    ids, rows = unpack_rows(total["single"], 1)
    keep = np.isin(ids, top)
    alone: dict[int, list[int]] = {}
    for article, claim in zip(ids[keep].tolist(), rows[keep, 0].tolist(), strict=True):
        alone.setdefault(article, []).append(claim)
    return {
        "disputed": [
            {"article": a, "claims": claims} for a in top for _, claims in units.get(a, [])
        ],
        "single": [{"article": a, "claim": c} for a in top for c in alone.get(a, [])],
    }


def reviewer_names(collection: Collection) -> dict[int, str]:
    from django.contrib.auth.models import User

    return dict(
        User.objects.filter(memberships__organization_id=collection.organization_id).values_list(
            "pk", "username"
        )
    )
