"""Adjudication and publishing: reviewers' claims become the newsroom's verified claims.

Every check before any write, one transaction per change, optimistic locking
on edits, and every change recorded in the claim's history
(django-simple-history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
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
    ClaimAnnotation,
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


def verified_publish(*, claim: VerifiedClaim, editor: User) -> VerifiedClaim:
    require_editor(editor, claim.organization_id)
    if claim.status != VerifiedStatus.DRAFT:
        return claim
    needed = claim.article.collection.min_sources
    have = independent_sources(claim)
    if have < needed:
        raise ValidationError(
            {"sources": f"Publishing needs {needed} independent source(s); this claim has {have}."}
        )
    with transaction.atomic():
        current = VerifiedClaim.objects.select_for_update().get(pk=claim.pk)
        current.status = VerifiedStatus.PUBLISHED
        current.published_at = timezone.now()
        current.version += 1
        current._history_user = editor  # type: ignore[attr-defined]
        current.save()
        # Written with the change, sent once it commits.
        webhooks_notify(claim=current, event=WebhookEvent.PUBLISHED)
    return current


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
    errors: dict[str, str] = {}
    if claim.status not in {VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED}:
        errors["__all__"] = "Only a published claim can be corrected."
    if not note.strip():
        errors["note"] = "A correction needs a public note saying what changed and why."
    _check(claim.article, judgement, errors)
    if errors:
        raise ValidationError(errors)
    assert judgement.verdict is not None
    with transaction.atomic():
        current = VerifiedClaim.objects.select_for_update().get(pk=claim.pk)
        if expected_version is not None and current.version != expected_version:
            raise VerifiedConflict(current)
        current.claim_reviewed = judgement.claim_reviewed.strip()
        current.verdict = judgement.verdict
        current.rating = judgement.rating
        current.summary = judgement.summary.strip()
        current.claimant = judgement.claimant.strip()
        current.claim_date = judgement.claim_date
        current.status = VerifiedStatus.CORRECTED
        current.public_note = note.strip()
        current.version += 1
        current._history_user = editor  # type: ignore[attr-defined]
        current.save()
        sources_store(current, judgement.sources)
        Correction.objects.create(
            claim=current, kind=CorrectionKind.CORRECTION, note=note.strip(), editor=editor
        )
        webhooks_notify(claim=current, event=WebhookEvent.CORRECTED)
    return current


def verified_retract(*, claim: VerifiedClaim, editor: User, note: str) -> VerifiedClaim:
    """Withdraws a published claim; it stays visible, marked retracted."""
    require_editor(editor, claim.organization_id)
    if claim.status == VerifiedStatus.DRAFT:
        raise ValidationError({"__all__": "A draft is not public; edit or delete it instead."})
    if claim.status == VerifiedStatus.RETRACTED:
        return claim
    if not note.strip():
        raise ValidationError({"note": "A retraction needs a public note saying why."})
    with transaction.atomic():
        current = VerifiedClaim.objects.select_for_update().get(pk=claim.pk)
        current.status = VerifiedStatus.RETRACTED
        current.public_note = note.strip()
        current.version += 1
        current._history_user = editor  # type: ignore[attr-defined]
        current.save()
        Correction.objects.create(
            claim=current, kind=CorrectionKind.RETRACTION, note=note.strip(), editor=editor
        )
        webhooks_notify(claim=current, event=WebhookEvent.RETRACTED)
    return current


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
