"""Reads for adjudication: reviewers' claims matched into units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from annotations.agreement.matching import Span, match_spans
from annotations.models import Article, ClaimAnnotation, VerifiedClaim
from annotations.verification.context import Marked, UnitContext, unit_context
from annotations.verification.similar import Suggestion, similar_claims_many


@dataclass
class AdjudicationUnit:
    """Reviewers' claims on the same passage, side by side."""

    index: int
    start: int
    end: int
    claims: list[ClaimAnnotation]
    verified: VerifiedClaim | None = None
    # (value, url, title, stance) of each source on offer: a reviewer's source
    # by its id, or one the verified claim holds that no reviewer gave (reused
    # from a claim checked before) as "v<id>".
    sources: list[tuple[str, str, str, str]] = field(default_factory=list)
    # Where it stands in the article, every reviewer's span marked.
    context: UnitContext | None = None
    # The newsroom's earlier verified claims worded like this one.
    suggestions: list[Suggestion] = field(default_factory=list)
    # What its form shows (adjudication_views._unit_form).
    form: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """What the unit claims, in the words similar claims are looked up by."""
        return self.verified.claim_reviewed if self.verified else self.claims[0].quote

    @property
    def status(self) -> str:
        if len(self.claims) < 2:
            return "single"
        verdicts = {c.verdict_id for c in self.claims}
        return "unanimous" if len(verdicts) == 1 and None not in verdicts else "disputed"


def adjudication_units(
    article: Article, threshold: float | None = None, *, exclude_articles: Sequence[int] = ()
) -> list[AdjudicationUnit]:
    """Every reviewer's claims on an article, matched into units as the agreement engine does.

    Claims checked before are suggested for each unit, except from
    `exclude_articles` (those the editor is still reviewing).
    """
    claims = list(
        ClaimAnnotation.objects.filter(article=article)
        .select_related("verdict", "reviewer")
        .prefetch_related("sources")
        .order_by("start", "end", "id")
    )
    by_id = {c.pk: c for c in claims}
    matching = match_spans(
        [Span(c.pk, c.reviewer_id, c.start, c.end, c.verdict_id, c.rating) for c in claims],
        threshold=threshold if threshold is not None else article.collection.iou_threshold,
    )
    units: list[AdjudicationUnit] = []
    for unit in sorted(matching.units, key=lambda u: (u.start, u.end)):
        members = [
            by_id[span.id] for _, span in sorted(unit.spans.items(), key=lambda kv: str(kv[0]))
        ]
        members.sort(key=lambda c: c.reviewer.username)
        units.append(AdjudicationUnit(len(units), unit.start, unit.end, members))
    verified = list(article.verified_claims.prefetch_related("sources"))
    for item in units:
        item.verified = next(
            (v for v in verified if v.start < item.end and item.start < v.end), None
        )
        seen: set[str] = set()
        for claim in item.claims:
            for source in claim.sources.all():
                if source.url not in seen:
                    seen.add(source.url)
                    item.sources.append((str(source.pk), source.url, source.title, source.stance))
        if item.verified is not None:
            for kept in item.verified.sources.all():
                if kept.url not in seen:
                    seen.add(kept.url)
                    item.sources.append((f"v{kept.pk}", kept.url, kept.title, kept.stance))
        marks = [
            Marked(n, c.start, c.end, c.reviewer.get_username())
            for n, c in enumerate(item.claims, start=1)
        ]
        item.context = unit_context(article.text, item.start, item.end, marks)
    found = similar_claims_many(
        organization_id=article.organization_id,
        texts=[u.text for u in units],
        exclude_articles=exclude_articles,
        exclude_claims=[[u.verified.pk] if u.verified else [] for u in units],
    )
    for item, suggestions in zip(units, found, strict=True):
        item.suggestions = suggestions
    return units
