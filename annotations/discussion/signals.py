"""What the claims' history says happened, written to the collection's activity; and
the reviewers told when a claim made from their work is published.

Every change to a reviewer's claim or a verified claim is saved with its
history (django-simple-history), whatever path made it: the reader, the API,
adjudication, publishing. Listening to that history, rather than to each of
those paths, keeps the activity complete without the capabilities that make
the changes knowing about the discussion. A change with no person behind it
(claims moved onto a new version of their article) is not activity.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from simple_history.signals import post_create_historical_record

from annotations.core.signals import claims_created_in_bulk
from annotations.discussion.activity import activity_record, claims_marked_record
from annotations.discussion.text import plain_excerpt
from annotations.models import (
    ActivityKind,
    ClaimAnnotation,
    NotificationKind,
    VerifiedClaim,
    VerifiedStatus,
)
from annotations.notifications.services import notify


@receiver(post_create_historical_record, sender=ClaimAnnotation.history.model)
def claim_changed(
    sender: Any, instance: ClaimAnnotation, history_instance: Any, **kwargs: Any
) -> None:
    user = kwargs.get("history_user")
    if user is None:
        return
    if history_instance.history_type == "+":
        kind = ActivityKind.MARKED_CLAIM
    elif history_instance.history_type == "-" or instance.deleted_at is not None:
        kind = ActivityKind.DELETED_CLAIM
    else:
        kind = ActivityKind.CHANGED_CLAIM
    activity_record(
        kind=kind,
        actor=user,
        article=instance.article,
        claim=instance if history_instance.history_type != "-" else None,
        summary=f"“{plain_excerpt(instance.quote, 120)}” ({instance.verdict_label})",
    )


@receiver(claims_created_in_bulk, dispatch_uid="annotations.discussion_claims_in_bulk")
def claims_made_in_bulk(sender: Any, claim_ids: list[int], user: Any, **kwargs: Any) -> None:
    claims_marked_record(actor=user, claim_ids=claim_ids)


# A verified claim's status, before and after a change, names what the editor did.
def _verified_kind(before: str | None, after: str) -> str:
    if after == VerifiedStatus.PUBLISHED and before == VerifiedStatus.DRAFT:
        return ActivityKind.PUBLISHED
    if after == VerifiedStatus.CORRECTED:
        return ActivityKind.CORRECTED
    if after == VerifiedStatus.RETRACTED and before != VerifiedStatus.RETRACTED:
        return ActivityKind.RETRACTED
    return ActivityKind.SAVED_VERIFIED


@receiver(post_create_historical_record, sender=VerifiedClaim.history.model)
def verified_changed(
    sender: Any, instance: VerifiedClaim, history_instance: Any, **kwargs: Any
) -> None:
    user = kwargs.get("history_user")
    if user is None or history_instance.history_type == "-":
        return
    previous = history_instance.prev_record if history_instance.history_type == "~" else None
    kind = _verified_kind(previous.status if previous else None, instance.status)
    activity_record(
        kind=kind,
        actor=user,
        article=instance.article,
        verified=instance,
        summary=f"“{plain_excerpt(instance.claim_reviewed, 120)}” ({instance.verdict.name})",
    )
    if kind == ActivityKind.PUBLISHED:
        reviewers = {
            a.reviewer_id: a.reviewer for a in instance.annotations.select_related("reviewer")
        }
        notify(
            recipients=reviewers.values(),
            kind=NotificationKind.PUBLISHED,
            organization=instance.organization,
            text=(
                f"{user.get_username()} published “{plain_excerpt(instance.claim_reviewed, 120)}”"
                f" ({instance.verdict.name}), made from your claim."
            ),
            actor=user,
            article=instance.article,
            verified=instance,
        )
