"""New claims written in bulk, with all a claim saved on its own comes with.

What claim_create writes for one claim (reader.services), written here for a
batch of claims already checked (importing.claims): the claims with their
selectors, their sources in order, the history row django-simple-history
keeps for each, and the assignments they start or make.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from simple_history.models import HistoricalRecords

from annotations.core.anchoring import TextSelector
from annotations.core.inputs import SourceInput
from annotations.core.signals import claims_created_in_bulk
from annotations.importing.rows import rows_insert
from annotations.models import Assignment, AssignmentStatus, ClaimAnnotation, Source


@dataclass(frozen=True, slots=True)
class NewClaim:
    """A checked claim, as it is stored (its selectors from the article's text)."""

    article_id: int
    reviewer_id: int
    selector: TextSelector
    verdict_id: int | None
    rating: int | None
    note: str
    sources: Sequence[SourceInput]


def history_user() -> User | None:
    """Whom django-simple-history records as making a claim saved on its own: the user
    of the request under way (its middleware sets it), none for a command or a worker."""
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if isinstance(user, User) and user.is_authenticated else None


def claims_write(
    claims: Sequence[NewClaim],
    *,
    assignments: Mapping[tuple[int, int], tuple[int, str]],
    assign: bool,
) -> list[int]:
    """Stores checked claims with their sources, history rows and assignments; returns
    the claims' ids, in order. The caller holds the transaction.

    `assignments` are those already stored, (article id, reviewer id) to (id,
    status); with `assign`, a reviewer without one on an article gets one.
    """
    now = timezone.now()
    rows = [
        {
            "article_id": claim.article_id,
            "reviewer_id": claim.reviewer_id,
            "start": claim.selector.start,
            "end": claim.selector.end,
            "quote": claim.selector.exact,
            "prefix": claim.selector.prefix,
            "suffix": claim.selector.suffix,
            "verdict_id": claim.verdict_id,
            "rating": claim.rating,
            "note": claim.note,
            "created_at": now,
            "updated_at": now,
        }
        for claim in claims
    ]
    ids = rows_insert(ClaimAnnotation, rows, ids=True)
    # As core.inputs.sources_store stores a claim's sources: in their order.
    rows_insert(
        Source,
        [
            {
                "claim_id": claim_id,
                "order": order,
                "url": source.url,
                "title": source.title,
                "publisher": source.publisher,
                "quote": source.quote,
                "stance": source.stance,
                "confidential": source.confidential,
                "archived_url": source.archived_url,
            }
            for claim_id, claim in zip(ids, claims, strict=True)
            for order, source in enumerate(claim.sources)
        ],
        ids=False,
    )
    # The history row django-simple-history writes when a claim is saved on its
    # own: type "+", every tracked field, the user of the request under way
    # (none for a command or a worker), no change reason, dated when the claim
    # was made. Its bulk_history_create makes the same rows, one instance each.
    history: Any = ClaimAnnotation.history.model
    user = history_user()
    tracked = {field.attname for field in history.tracked_fields}
    # What the claims' rows took from the model's defaults (their version…).
    defaults = {
        field.attname: field.get_default()
        for field in ClaimAnnotation._meta.concrete_fields
        if field.attname in tracked and not field.primary_key
    }
    rows_insert(
        history,
        [
            {
                **defaults,
                **{name: value for name, value in row.items() if name in tracked},
                "id": claim_id,
                "history_date": now,
                "history_user_id": user.pk if user is not None else None,
                "history_change_reason": None,
                "history_type": "+",
            }
            for claim_id, row in zip(ids, rows, strict=True)
        ],
        ids=False,
    )
    if user is not None:
        claims_created_in_bulk.send(sender=ClaimAnnotation, claim_ids=ids, user=user)
    # A reviewer's first claim on an article starts their assignment. An import
    # assigns a member not yet assigned: this is how a newsroom brings its
    # history in from another tool.
    pairs = {(claim.article_id, claim.reviewer_id) for claim in claims}
    started = [
        assignments[pair][0]
        for pair in pairs
        if pair in assignments and assignments[pair][1] == AssignmentStatus.ASSIGNED
    ]
    if started:
        Assignment.objects.filter(pk__in=started, status=AssignmentStatus.ASSIGNED).update(
            status=AssignmentStatus.IN_PROGRESS
        )
    if assign and (new := sorted(pairs - assignments.keys())):
        Assignment.objects.bulk_create(
            Assignment(
                article_id=article_id, reviewer_id=reviewer_id, status=AssignmentStatus.IN_PROGRESS
            )
            for article_id, reviewer_id in new
        )
    return ids
