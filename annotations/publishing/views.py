"""The public pages: a published fact-check, and a newsroom's corrections log."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotations.core.http import HtmxHttpRequest
from annotations.models import Correction, Organization, VerifiedClaim, VerifiedStatus
from annotations.publishing.records import claim_review_jsonld


@require_GET
def corrections_log(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Public: every correction and retraction of a newsroom's published claims."""
    organization = get_object_or_404(Organization, slug=slug)
    corrections = (
        Correction.objects.filter(claim__organization=organization)
        .select_related("claim__verdict", "claim__article")
        .order_by("-created_at")
    )
    return render(
        request,
        "annotations/publishing/corrections.html",
        {
            "organization": organization,
            "corrections": corrections,
            "published": VerifiedClaim.objects.filter(organization=organization)
            .exclude(status=VerifiedStatus.DRAFT)
            .count(),
        },
    )


@require_GET
def public_claim(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Public: a published fact-check, where ClaimReview's url points."""

    claim = get_object_or_404(
        VerifiedClaim.objects.exclude(status=VerifiedStatus.DRAFT).select_related(
            "organization", "verdict", "article"
        ),
        organization__slug=slug,
        pk=pk,
    )
    return render(
        request,
        "annotations/publishing/public_claim.html",
        {
            "claim": claim,
            "sources": claim.sources.filter(confidential=False).order_by("order", "pk"),
            "corrections": claim.corrections.order_by("created_at"),
            # For search engines and fact-check tools: the page's own ClaimReview.
            "claim_review": claim_review_jsonld(claim),
        },
    )
