"""The activity of a collection: who commented, requested, changed, published, and when."""

from __future__ import annotations

from django.contrib.auth.models import User

from annotations.discussion.text import plain_excerpt
from annotations.models import (
    Activity,
    ActivityKind,
    Article,
    ClaimAnnotation,
    Thread,
    VerifiedClaim,
)

SUMMARY_MAX = 300


def activity_record(
    *,
    kind: str,
    actor: User | None,
    article: Article,
    claim: ClaimAnnotation | None = None,
    verified: VerifiedClaim | None = None,
    thread: Thread | None = None,
    summary: str = "",
) -> Activity:
    """One line of the collection's activity, in the caller's transaction."""
    return Activity.objects.create(
        organization_id=article.organization_id,
        collection_id=article.collection_id,
        article=article,
        actor=actor,
        kind=kind,
        claim=claim,
        verified=verified,
        thread=thread,
        summary=activity_summary(summary),
    )


def activity_summary(text: str) -> str:
    """An activity line's summary: one line, at most SUMMARY_MAX characters."""
    text = " ".join(text.split())
    if len(text) > SUMMARY_MAX:
        text = text[: SUMMARY_MAX - 1].rstrip() + "…"
    return text


def claims_marked_record(*, actor: User, claim_ids: list[int]) -> None:
    """A line for each claim a person made in bulk (the members' API), in one insert."""
    claims = ClaimAnnotation.objects.filter(pk__in=claim_ids).select_related("article", "verdict")
    Activity.objects.bulk_create(
        Activity(
            organization_id=claim.article.organization_id,
            collection_id=claim.article.collection_id,
            article=claim.article,
            actor=actor,
            kind=ActivityKind.MARKED_CLAIM,
            claim=claim,
            summary=activity_summary(
                f"“{plain_excerpt(claim.quote, 120)}” ({claim.verdict_label})"
            ),
        )
        for claim in claims
    )
