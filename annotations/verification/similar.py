"""Claims checked before: a newsroom's verified claims worded like a new one.

A claim that went round once comes round again. When an editor adjudicates,
or a reviewer marks a claim in the reader, the newsroom's earlier verified
claims with similar wording are offered, so that their verdict and sources
can be reused in one click.

How alike is word similarity: the share of the new text's trigrams found in
the best-matching run of words of an earlier claim, so that a reviewer's
short quote finds the longer claim it is part of. On PostgreSQL that is
pg_trgm's word_similarity, its candidates found by the GIN trigram index of
migration 0008. SQLite has no pg_trgm: there the newsroom's claims are scored
in Python with rapidfuzz's token_set_ratio (1.0 when every word of the new
text is in the earlier claim: the same idea), fast enough for an embedded
install.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import OperationalError, connection, transaction
from django.db.models import Prefetch, QuerySet
from psycopg.errors import QueryCanceled
from rapidfuzz import fuzz, process, utils

from annotations.models import VerifiedClaim, VerifiedSource, VerifiedStatus

logger = logging.getLogger(__name__)

# How many suggestions a claim gets, and how alike they must be (0–1): 0.6 is
# pg_trgm's default word_similarity_threshold, which the PostgreSQL query
# uses; the fallback's rapidfuzz score is cut at the same point.
LIMIT = 5

MIN_SIMILARITY = 0.6

# PostgreSQL gives up on suggestions after this long (see _ranked_postgres).
TIMEOUT_MS = 250

# A quote longer than this is cut: the claim as reviewed is short, and a long
# query costs trigrams without improving the ranking.
MAX_QUERY = 300


@dataclass(frozen=True)
class Suggestion:
    claim: VerifiedClaim
    similarity: float

    @property
    def percent(self) -> int:
        return round(self.similarity * 100)

    @property
    def reusable(self) -> bool:
        """A retracted claim is shown as a warning, not offered for reuse."""
        return self.claim.status != VerifiedStatus.RETRACTED


@dataclass(frozen=True)
class Scope:
    """Which of a newsroom's verified claims may be suggested."""

    organization_id: int
    public_only: bool = False
    exclude_articles: tuple[int, ...] = ()

    def queryset(self) -> QuerySet[VerifiedClaim]:
        claims = VerifiedClaim.objects.filter(organization_id=self.organization_id)
        if self.public_only:
            claims = claims.exclude(status=VerifiedStatus.DRAFT)
        if self.exclude_articles:
            claims = claims.exclude(article_id__in=self.exclude_articles)
        return claims


def _query_text(text: str) -> str:
    return " ".join(text.split())[:MAX_QUERY]


def nearest(scope: Scope, text: str, limit: int) -> QuerySet[VerifiedClaim, tuple[int, float]]:
    """PostgreSQL: (id, word similarity) of the most alike claims, most alike first.

    `claim_reviewed %> text` is pg_trgm's word-similarity test (at least
    pg_trgm.word_similarity_threshold, 0.6 by default, of the text's trigrams
    in some run of the claim's words), answered by the GIN index; only those
    few candidates are then scored and sorted.
    """
    return (
        scope.queryset()
        .filter(claim_reviewed__trigram_word_similar=text)
        .annotate(similarity=TrigramWordSimilarity(text, "claim_reviewed"))
        .order_by("-similarity", "pk")
        .values_list("pk", "similarity")[:limit]
    )


def _ranked_postgres(scope: Scope, text: str, limit: int) -> list[tuple[int, float]]:
    # A text made only of words most claims share ("took place in") makes
    # thousands of candidates; past TIMEOUT_MS the help is not worth the wait,
    # and the page shows no suggestions rather than showing late.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{TIMEOUT_MS}ms"])
    try:
        with transaction.atomic():
            return [(pk, float(score)) for pk, score in nearest(scope, text, limit)]
    except OperationalError as exc:
        if not isinstance(exc.__cause__, QueryCanceled):
            raise
        logger.warning("Similar claims: gave up after %s ms on %r", TIMEOUT_MS, text[:80])
        return []
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [previous])


def fuzzy_rank(choices: Mapping[int, str], text: str, limit: int) -> list[tuple[int, float]]:
    """SQLite: the most alike of these texts, by rapidfuzz's token_set_ratio, most alike first."""
    matches = process.extract(
        text,
        choices,
        scorer=fuzz.token_set_ratio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=MIN_SIMILARITY * 100,
    )
    return [(pk, score / 100) for _, score, pk in matches]


def _ranked_fuzzy(scope: Scope, texts: Sequence[str], limit: int) -> list[list[tuple[int, float]]]:
    choices = dict(scope.queryset().values_list("pk", "claim_reviewed").order_by("pk").iterator())
    return [fuzzy_rank(choices, text, limit) if text else [] for text in texts]


def similar_claims_many(
    *,
    organization_id: int,
    texts: Sequence[str],
    public_only: bool = False,
    exclude_articles: Sequence[int] = (),
    exclude_claims: Sequence[Sequence[int]] = (),
    limit: int = LIMIT,
) -> list[list[Suggestion]]:
    """For each text, the most similar verified claims of this newsroom, most alike first.

    `exclude_claims[i]` are left out of the i-th list (a unit's own verified
    claim is not a suggestion for itself).
    """
    queries = [_query_text(t) for t in texts]
    excluded = [
        set(exclude_claims[i]) if i < len(exclude_claims) else set() for i in range(len(texts))
    ]
    scope = Scope(organization_id, public_only, tuple(exclude_articles))
    # Ask for a few more, so that excluded claims leave the list full.
    wanted = [limit + len(e) for e in excluded]
    if connection.vendor == "postgresql":
        ranked = [
            _ranked_postgres(scope, q, n) if q else [] for q, n in zip(queries, wanted, strict=True)
        ]
    elif any(queries):
        ranked = _ranked_fuzzy(scope, queries, max(wanted))
    else:
        ranked = [[] for _ in queries]
    ranked = [
        [(pk, score) for pk, score in rows if pk not in excluded[i]][:limit]
        for i, rows in enumerate(ranked)
    ]
    ids = {pk for rows in ranked for pk, _ in rows}
    found = (
        VerifiedClaim.objects.select_related("verdict", "article")
        .prefetch_related(
            Prefetch("sources", queryset=VerifiedSource.objects.order_by("order", "pk"))
        )
        .in_bulk(ids)
    )
    return [[Suggestion(found[pk], score) for pk, score in rows if pk in found] for rows in ranked]


def similar_claims(
    *,
    organization_id: int,
    text: str,
    public_only: bool = False,
    exclude_articles: Sequence[int] = (),
    exclude_claims: Sequence[int] = (),
    limit: int = LIMIT,
) -> list[Suggestion]:
    """The most similar verified claims of this newsroom to one text."""
    return similar_claims_many(
        organization_id=organization_id,
        texts=[text],
        public_only=public_only,
        exclude_articles=exclude_articles,
        exclude_claims=[exclude_claims],
        limit=limit,
    )[0]
