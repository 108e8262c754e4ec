"""Adjudication and publishing: reviewers' claims become the newsroom's verified claims.

Every check before any write, one transaction per change, optimistic locking
on edits, and every change recorded in the claim's history
(django-simple-history).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotations.core.anchoring import SpanError, selector_for
from annotations.core.inputs import SourceInput, sources_store, validate_sources
from annotations.core.permissions import require_editor
from annotations.models import (
    Article,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    ClaimantKind,
    Correction,
    CorrectionKind,
    Lineage,
    Taxonomy,
    VerdictLabel,
    VerifiedClaim,
    VerifiedStatus,
    WebhookEvent,
)
from annotations.webhooks.services import webhooks_notify

# Google's ClaimReview guidance: the claim as reviewed should be short.
CLAIM_REVIEWED_HINT = 75

CLAIM_REVIEWED_MAX = 2000


class VerifiedConflict(Exception):
    """The verified claim changed since the editor loaded it."""

    def __init__(self, current: VerifiedClaim) -> None:
        super().__init__(f"Verified claim {current.pk} is at version {current.version}.")
        self.current = current


def _lineage(
    annotations: Sequence[ClaimAnnotation], verdict: VerdictLabel, start: int, end: int
) -> str:
    reviewers = {a.reviewer_id for a in annotations}
    if len(reviewers) < 2:
        return Lineage.SINGLE_REVIEWER
    same = all(a.verdict_id == verdict.pk and (a.start, a.end) == (start, end) for a in annotations)
    return Lineage.UNANIMOUS if same else Lineage.ADJUDICATED


@dataclass(frozen=True)
class Judgement:
    """What an editor settles for one claim."""

    start: int
    end: int
    claim_reviewed: str
    verdict: VerdictLabel | None
    rating: int | None = None
    summary: str = ""
    claimant: str = ""
    # What ClaimReview types the claimant as (ClaimantKind): the editor says.
    claimant_kind: str = ClaimantKind.PERSON
    claim_date: date | None = None
    sources: Sequence[SourceInput] = ()
    annotation_ids: Sequence[int] = ()


def verdict_in(taxonomy: Taxonomy, verdict: VerdictLabel) -> VerdictLabel | None:
    """The same verdict in another collection's taxonomy: itself, or the label with its slug."""
    if verdict.taxonomy_id == taxonomy.pk:
        return verdict
    return VerdictLabel.objects.filter(taxonomy=taxonomy, slug=verdict.slug).first()


def _check(article: Article, judgement: Judgement, errors: dict[str, str]) -> None:
    taxonomy = article.collection.taxonomy
    try:
        selector_for(article.text, judgement.start, judgement.end)
    except SpanError as exc:
        errors[exc.field] = str(exc)
    if judgement.verdict is None:
        errors["verdict"] = "A verified claim needs a verdict."
    elif judgement.verdict.taxonomy_id != taxonomy.pk:
        errors["verdict"] = f"“{judgement.verdict.name}” is not a verdict of this collection."
    rating = judgement.rating
    if rating is not None and not taxonomy.worst_rating <= rating <= taxonomy.best_rating:
        errors["rating"] = (
            f"Rating {rating} is outside {taxonomy.worst_rating}–{taxonomy.best_rating}."
        )
    if judgement.claimant_kind not in ClaimantKind.values:
        errors["claimant_kind"] = f"Use one of: {', '.join(ClaimantKind.values)}."
    text = judgement.claim_reviewed.strip()
    if not text:
        errors["claim_reviewed"] = "Write the claim as reviewed."
    elif len(text) > CLAIM_REVIEWED_MAX:
        errors["claim_reviewed"] = f"Longer than {CLAIM_REVIEWED_MAX} characters."
    validate_sources(judgement.sources, errors)


def verified_claim_save(
    *,
    article: Article,
    editor: User,
    judgement: Judgement,
    claim: VerifiedClaim | None = None,
    expected_version: int | None = None,
) -> VerifiedClaim:
    """Creates a verified claim from an adjudication, or edits a draft."""
    require_editor(editor, article.organization_id)
    errors: dict[str, str] = {}
    _check(article, judgement, errors)
    annotations = list(
        ClaimAnnotation.objects.filter(article=article, pk__in=judgement.annotation_ids)
    )
    if len(annotations) != len(set(judgement.annotation_ids)):
        errors["annotations"] = "Some of these reviewers' claims are not on this article."
    if claim is not None and claim.status != VerifiedStatus.DRAFT:
        errors["__all__"] = "A published claim changes only through a correction."
    if errors:
        raise ValidationError(errors)
    assert judgement.verdict is not None
    selector = selector_for(article.text, judgement.start, judgement.end)
    try:
        with transaction.atomic():
            if claim is None:
                current = VerifiedClaim(organization_id=article.organization_id, article=article)
            else:
                current = VerifiedClaim.objects.select_for_update().get(pk=claim.pk)
                if expected_version is not None and current.version != expected_version:
                    raise VerifiedConflict(current)
                current.version += 1
            current.start, current.end = selector.start, selector.end
            current.quote, current.prefix, current.suffix = (
                selector.exact,
                selector.prefix,
                selector.suffix,
            )
            current.claim_reviewed = judgement.claim_reviewed.strip()
            current.claimant = judgement.claimant.strip()
            current.claimant_kind = judgement.claimant_kind
            current.claim_date = judgement.claim_date
            current.verdict = judgement.verdict
            current.rating = judgement.rating
            current.summary = judgement.summary.strip()
            current.lineage = _lineage(annotations, judgement.verdict, selector.start, selector.end)
            current.editor = editor
            current._history_user = editor  # type: ignore[attr-defined]
            current.save()
            current.annotations.set(annotations)
            sources_store(current, judgement.sources)
    except IntegrityError:
        existing = VerifiedClaim.objects.filter(
            article=article, start=selector.start, end=selector.end
        ).first()
        if claim is None and existing is not None:
            # Two editors settled the same passage at once: the first one stands.
            raise VerifiedConflict(existing) from None
        raise ValidationError(
            {"start": "This passage already has a verified claim; edit that one."}
        ) from None
    return current


def independent_sources(claim: VerifiedClaim) -> int:
    """Sources from different websites: two pages of one site count once."""
    return len({urlsplit(s.url).hostname for s in claim.sources.all()})


def open_reviews(article: Article) -> list[str]:
    """Who is still reviewing the article (assigned, not submitted), by name."""
    return list(
        Assignment.objects.filter(article=article)
        .exclude(status=AssignmentStatus.SUBMITTED)
        .order_by("reviewer__username")
        .values_list("reviewer__username", flat=True)
    )


# What publishing, correcting and retracting change: applied the same way to the
# preview an editor confirms and to the claim itself.
PUBLIC_FIELDS = (
    "claim_reviewed",
    "verdict",
    "rating",
    "summary",
    "claimant",
    "claimant_kind",
    "claim_date",
    "status",
    "public_note",
    "published_at",
)


@dataclass(frozen=True)
class Plan:
    """What a publication, correction or retraction will make of a claim, before it is made.

    `claim` is an unsaved copy, exactly as partners will receive it (the public
    page, ClaimReview, the API, webhooks): what the editor is asked to confirm.
    """

    action: str
    claim: VerifiedClaim
    note: str = ""
    # A correction's sources, stored with it.
    sources: Sequence[SourceInput] | None = None
    # Who is still reviewing the article: a published claim reaches them too.
    open_reviews: tuple[str, ...] = ()

    @property
    def question(self) -> str:
        if not self.open_reviews:
            return ""
        names = list(self.open_reviews)
        return (
            f"{_names(names)} {'has' if len(names) == 1 else 'have'} not submitted a review "
            "of this article yet. A published claim is public at once, to partners and to "
            "them too: publish anyway?"
        )


def _planned(claim: VerifiedClaim, **changes: Any) -> VerifiedClaim:
    planned = copy.copy(claim)
    for name, value in changes.items():
        setattr(planned, name, value)
    return planned


def plan_publish(claim: VerifiedClaim) -> Plan:
    """A draft as it will be published; refused when it lacks independent sources."""
    if claim.status != VerifiedStatus.DRAFT:
        raise ValidationError({"__all__": "Only a draft can be published."})
    needed = claim.article.collection.min_sources
    have = independent_sources(claim)
    if have < needed:
        raise ValidationError(
            {"sources": f"Publishing needs {needed} independent source(s); this claim has {have}."}
        )
    planned = _planned(claim, status=VerifiedStatus.PUBLISHED, published_at=timezone.now())
    return Plan("publish", planned, open_reviews=tuple(open_reviews(claim.article)))


def plan_correct(claim: VerifiedClaim, *, note: str, judgement: Judgement) -> Plan:
    """A published claim as the correction will make it, with its public note."""
    errors: dict[str, str] = {}
    if claim.status not in {VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED}:
        errors["__all__"] = "Only a published claim can be corrected."
    if not public_note(note):
        errors["note"] = "A correction needs a public note saying what changed and why."
    _check(claim.article, judgement, errors)
    if errors:
        raise ValidationError(errors)
    planned = _planned(
        claim,
        claim_reviewed=judgement.claim_reviewed.strip(),
        verdict=judgement.verdict,
        rating=judgement.rating,
        summary=judgement.summary.strip(),
        claimant=judgement.claimant.strip(),
        claimant_kind=judgement.claimant_kind,
        claim_date=judgement.claim_date,
        status=VerifiedStatus.CORRECTED,
        public_note=public_note(note),
    )
    return Plan("correct", planned, note=public_note(note), sources=judgement.sources)


def plan_retract(claim: VerifiedClaim, *, note: str) -> Plan:
    """A published claim as the retraction will show it: still there, marked retracted."""
    if claim.status == VerifiedStatus.DRAFT:
        raise ValidationError({"__all__": "A draft is not public; edit or delete it instead."})
    if claim.status == VerifiedStatus.RETRACTED:
        raise ValidationError({"__all__": "This claim is retracted already."})
    if not public_note(note):
        raise ValidationError({"note": "A retraction needs a public note saying why."})
    planned = _planned(claim, status=VerifiedStatus.RETRACTED, public_note=public_note(note))
    return Plan("retract", planned, note=public_note(note))


def _carry_out(plan: Plan, *, editor: User, expected_version: int | None = None) -> VerifiedClaim:
    """Makes the planned change, recorded and told to partners, in one transaction."""
    events = {
        "publish": WebhookEvent.PUBLISHED,
        "correct": WebhookEvent.CORRECTED,
        "retract": WebhookEvent.RETRACTED,
    }
    kinds = {"correct": CorrectionKind.CORRECTION, "retract": CorrectionKind.RETRACTION}
    with transaction.atomic():
        current = VerifiedClaim.objects.select_for_update().get(pk=plan.claim.pk)
        if expected_version is not None and current.version != expected_version:
            raise VerifiedConflict(current)
        for name in PUBLIC_FIELDS:
            setattr(current, name, getattr(plan.claim, name))
        current.version += 1
        current._history_user = editor  # type: ignore[attr-defined]
        current.save()
        if plan.sources is not None:
            sources_store(current, plan.sources)
        if plan.action in kinds:
            Correction.objects.create(
                claim=current, kind=kinds[plan.action], note=plan.note, editor=editor
            )
        # Written with the change, sent once it commits.
        webhooks_notify(claim=current, event=events[plan.action])
    return current


def verified_publish(
    *, claim: VerifiedClaim, editor: User, confirm_open_reviews: bool = False
) -> VerifiedClaim:
    """Publishes a draft. A published claim is public at once: partners, the public page,
    and the reviewers still reviewing the article all see it. So while reviews of the
    article are open, publishing needs `confirm_open_reviews`, and is refused naming
    who has not submitted.
    """
    require_editor(editor, claim.organization_id)
    if claim.status != VerifiedStatus.DRAFT:
        return claim
    plan = plan_publish(claim)
    if plan.open_reviews and not confirm_open_reviews:
        raise ValidationError({"open_reviews": plan.question}, code="open_reviews")
    return _carry_out(plan, editor=editor)


def verified_correct(
    *,
    claim: VerifiedClaim,
    editor: User,
    note: str,
    judgement: Judgement,
    expected_version: int | None = None,
) -> VerifiedClaim:
    """Changes a published claim, with a public note in the corrections log."""
    require_editor(editor, claim.organization_id)
    plan = plan_correct(claim, note=note, judgement=judgement)
    return _carry_out(plan, editor=editor, expected_version=expected_version)


def verified_retract(*, claim: VerifiedClaim, editor: User, note: str) -> VerifiedClaim:
    """Withdraws a published claim; it stays visible, marked retracted."""
    require_editor(editor, claim.organization_id)
    if claim.status == VerifiedStatus.RETRACTED:
        return claim
    return _carry_out(plan_retract(claim, note=note), editor=editor)


def judgement_reusing(
    judgement: Judgement, *, earlier: VerifiedClaim, taxonomy: Taxonomy
) -> Judgement:
    """A claim checked before, reused in one click: its verdict (the same slug in this
    collection's taxonomy), its rating and its sources first; the editor's own summary
    wins, and sources the editor chose that it lacks are kept after its own."""
    verdict = verdict_in(taxonomy, earlier.verdict)
    if verdict is None:
        raise ValidationError(
            {
                "verdict": f"“{earlier.verdict.name}” is not a verdict of this collection; "
                "choose one by hand."
            }
        )
    reused = [
        SourceInput(
            url=s.url,
            title=s.title,
            publisher=s.publisher,
            quote=s.quote,
            stance=s.stance,
            confidential=s.confidential,
        )
        for s in earlier.sources.order_by("order", "pk")
    ]
    known = {s.url for s in reused}
    return replace(
        judgement,
        verdict=verdict,
        rating=earlier.rating if earlier.rating is not None else verdict.rating,
        sources=reused + [s for s in judgement.sources if s.url not in known],
        summary=judgement.summary.strip() or earlier.summary,
    )


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# "Correction:" or "Retraction:" typed at the start of a note: every page that
# shows the note already says which it is.
NOTE_LABEL = re.compile(r"^\s*(correction|retraction)\s*[:\-–—]\s*", re.IGNORECASE)


def public_note(note: str) -> str:
    """A correction's or retraction's public note as shown: trimmed, labelled once."""
    return NOTE_LABEL.sub("", note.strip(), count=1).strip()
