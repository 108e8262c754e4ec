"""A new version of an article: its claims and verified claims follow the text.

Each claim is found again in the new text (anchoring.reanchor_all: position,
then exact quote with context, then an approximate quote) and moves to the new
version with its new span; its history keeps the old one. A claim that cannot
be found is an orphan: it stays on the old version, kept and listed for the
editors, never deleted. Every outcome is recorded as an AnchorChange, because a
silently edited claim in a published article is news in itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from annotations.agreement.runs import agreement_request_many
from annotations.core.anchoring import TextSelector, reanchor_all, reanchored_selector
from annotations.models import (
    AnchorChange,
    AnchorStatus,
    Article,
    Assignment,
    ClaimAnnotation,
    VerifiedClaim,
)


def _selector(row: ClaimAnnotation | VerifiedClaim) -> TextSelector:
    return TextSelector(row.start, row.end, row.quote, row.prefix, row.suffix)


def _follow(
    new: Article, rows: Sequence[ClaimAnnotation | VerifiedClaim], old_length: int
) -> list[AnchorChange]:
    anchors = reanchor_all(new.text, [_selector(r) for r in rows], old_length=old_length)
    changes = []
    for row, anchor in zip(rows, anchors, strict=True):
        change = AnchorChange(
            article=new,
            status=anchor.status,
            old_start=row.start,
            old_end=row.end,
            old_quote=row.quote,
            score=anchor.score,
        )
        if isinstance(row, ClaimAnnotation):
            change.claim = row
        else:
            change.verified = row
        selector = reanchored_selector(new.text, anchor)
        if selector is not None:
            try:
                with transaction.atomic():
                    row.article = new
                    row.start, row.end = selector.start, selector.end
                    row.quote, row.prefix, row.suffix = (
                        selector.exact,
                        selector.prefix,
                        selector.suffix,
                    )
                    row.save()
            except IntegrityError:
                # Another claim of the same reviewer landed on the same span.
                row.refresh_from_db()
                change.status = AnchorStatus.ORPHANED
            else:
                change.new_start, change.new_end, change.new_quote = (
                    selector.start,
                    selector.end,
                    selector.exact,
                )
        changes.append(change)
    return changes


def article_reanchor(new: Article) -> list[AnchorChange]:
    """Moves the previous version's claims and verified claims onto `new`."""
    old = new.previous_version
    if old is None or AnchorChange.objects.filter(article=new).exists():
        return []  # a first version, or already done (a redelivered task)
    with transaction.atomic():
        for assignment in Assignment.objects.filter(article=old):
            Assignment.objects.get_or_create(
                article=new,
                reviewer_id=assignment.reviewer_id,
                defaults={"status": assignment.status, "submitted_at": assignment.submitted_at},
            )
        claims: list[ClaimAnnotation | VerifiedClaim] = list(
            ClaimAnnotation.all_objects.filter(article=old).order_by("start", "id")
        )
        verified: list[ClaimAnnotation | VerifiedClaim] = list(
            VerifiedClaim.objects.filter(article=old).order_by("start", "id")
        )
        changes = _follow(new, claims, len(old.text)) + _follow(new, verified, len(old.text))
        AnchorChange.objects.bulk_create(changes)
        # The claims left the old version for the new one: the agreement's sums
        # take them out of one and count them in the other.
        agreement_request_many([old.pk, new.pk])
    return changes
