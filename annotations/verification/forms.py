"""What editors post: a unit's judgement on the adjudication page, and a published
claim's correction or retraction."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from annotations.core.inputs import SourceInput
from annotations.models import (
    Article,
    ClaimAnnotation,
    ClaimantKind,
    Source,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
)
from annotations.verification.services import Judgement


class IdField(forms.Field):
    """A posted id, or None when it is missing or not a number (it then matches nothing)."""

    def to_python(self, value: Any) -> int | None:
        text = str(value or "")
        return int(text) if text.isdigit() else None


class SourceChoicesField(forms.Field):
    """The sources ticked: a reviewer's source by its id, or "v<id>" for one the
    verified claim already holds (reused from a claim checked before)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        return [str(v) for v in value or [] if str(v).isdigit() or str(v)[1:].isdigit()]


def source_input(source: Source | VerifiedSource) -> SourceInput:
    return SourceInput(
        url=source.url,
        title=source.title,
        publisher=source.publisher,
        quote=source.quote,
        stance=source.stance,
        confidential=source.confidential,
    )


class JudgementForm(forms.Form):
    """One unit of the adjudication page: whose span, whose verdict (or the editor's own),
    the claim as reviewed, what we found, and which of the reviewers' sources."""

    unit = IdField(required=False)
    # The version the editor's page showed; 0 when it showed no verified claim.
    version = IdField(required=False)
    # A reviewer's claim whose span is taken, or "saved" (the verified claim's own).
    span_from = forms.CharField(required=False)
    # A reviewer's claim whose verdict is taken, or "own".
    verdict_from = forms.CharField(required=False)
    own_verdict = IdField(required=False)
    rating = IdField(required=False)
    claim_reviewed = forms.CharField(required=False, strip=False)
    summary = forms.CharField(required=False, strip=False)
    claimant = forms.CharField(required=False, strip=False)
    claimant_kind = forms.ChoiceField(choices=ClaimantKind.choices, required=False)
    claim_date = forms.DateField(
        required=False, error_messages={"invalid": "Use a date like 2025-03-22."}
    )
    sources = SourceChoicesField(required=False)
    # A claim checked before whose verdict, rating and sources are taken in one click.
    reuse = IdField(required=False)

    def judgement(
        self,
        *,
        article: Article,
        unit_claims: list[ClaimAnnotation],
        verified: VerifiedClaim | None = None,
    ) -> Judgement:
        """The judgement posted for a unit of these reviewers' claims on the article,
        whose verified claim (if it has one) is `verified`.

        Raises ValidationError naming the field when the form is not valid.
        """
        if not self.is_valid():
            raise ValidationError(
                {name: [str(m) for m in messages] for name, messages in self.errors.items()}
            )
        data = self.cleaned_data
        by_id = {c.pk: c for c in unit_claims}
        span: ClaimAnnotation | VerifiedClaim | None
        if data["span_from"] == "saved":
            span = verified
        else:
            span = by_id.get(int(data["span_from"]) if data["span_from"].isdigit() else 0)
        verdict: VerdictLabel | None
        if data["verdict_from"] == "own":
            verdict = article.collection.taxonomy.labels.filter(pk=data["own_verdict"] or 0).first()
            rating = data["rating"] or (verdict.rating if verdict else None)
        else:
            chosen_id = int(data["verdict_from"]) if data["verdict_from"].isdigit() else 0
            chosen = by_id.get(chosen_id)
            verdict = chosen.verdict if chosen else None
            rating = data["rating"] or (chosen.rating if chosen else None)
        ticked = data["sources"]
        sources: list[Source | VerifiedSource] = list(
            Source.objects.filter(
                pk__in=[int(v) for v in ticked if v.isdigit()], claim__in=unit_claims
            ).order_by("pk")
        )
        if verified is not None:
            sources += VerifiedSource.objects.filter(
                pk__in=[int(v[1:]) for v in ticked if v.startswith("v")], claim=verified
            ).order_by("order", "pk")
            # In the order the verified claim keeps them: a save changes no order.
            kept = [s.url for s in verified.sources.all()]
            sources.sort(key=lambda s: kept.index(s.url) if s.url in kept else len(kept))
        return Judgement(
            start=span.start if span else -1,
            end=span.end if span else -1,
            claim_reviewed=data["claim_reviewed"],
            verdict=verdict,
            rating=rating,
            summary=data["summary"],
            claimant=data["claimant"],
            claimant_kind=data["claimant_kind"] or ClaimantKind.PERSON,
            claim_date=data["claim_date"],
            sources=[source_input(s) for s in sources],
            annotation_ids=[c.pk for c in unit_claims],
        )


class ClaimActionForm(forms.Form):
    """Publish, correct or retract: the public note, and what a correction changes."""

    note = forms.CharField(required=False, strip=False)
    version = IdField(required=False)
    verdict = IdField(required=False)
    rating = IdField(required=False)
    claim_reviewed = forms.CharField(required=False, strip=False)
    summary = forms.CharField(required=False, strip=False)

    def correction(self, claim: VerifiedClaim) -> Judgement:
        """The corrected claim: what was posted, the rest as it stands (span, claimant, sources)."""
        data = self.cleaned_data if self.is_valid() else {}
        posted = self.data
        return Judgement(
            start=claim.start,
            end=claim.end,
            claim_reviewed=data["claim_reviewed"]
            if "claim_reviewed" in posted
            else claim.claim_reviewed,
            verdict=claim.article.collection.taxonomy.labels.filter(
                pk=data.get("verdict") or 0
            ).first(),
            rating=data.get("rating"),
            summary=data["summary"] if "summary" in posted else claim.summary,
            claimant=claim.claimant,
            claimant_kind=claim.claimant_kind,
            claim_date=claim.claim_date,
            sources=[source_input(s) for s in claim.sources.all()],
        )
