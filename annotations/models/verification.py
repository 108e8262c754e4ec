"""The newsroom's verified claims, their sources, and the public corrections log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from simple_history.models import HistoricalRecords

from annotations.core.anchoring import CONTEXT_CHARS
from annotations.models.articles import Article
from annotations.models.claims import ClaimAnnotation, Stance
from annotations.models.newsrooms import Organization, VerdictLabel


class VerifiedStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    CORRECTED = "corrected", "Corrected"
    RETRACTED = "retracted", "Retracted"


class Lineage(models.TextChoices):
    UNANIMOUS = "unanimous", "Unanimous"
    ADJUDICATED = "adjudicated", "Adjudicated"
    SINGLE_REVIEWER = "single", "Single reviewer"


class ClaimantKind(models.TextChoices):
    """What ClaimReview calls the claim's author: schema.org's type, as the editor says."""

    PERSON = "Person", "A person"
    ORGANIZATION = "Organization", "An organization"


class VerifiedClaim(models.Model):
    """The newsroom's settled claim: one per span per article version, with its record."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="verified_claims"
    )
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="verified_claims")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    prefix = models.CharField(max_length=CONTEXT_CHARS, blank=True)
    suffix = models.CharField(max_length=CONTEXT_CHARS, blank=True)
    # The claim as reviewed: short, in the newsroom's words (ClaimReview's claimReviewed).
    claim_reviewed = models.TextField()
    claimant = models.CharField(max_length=300, blank=True)
    claimant_kind = models.CharField(
        max_length=16,
        choices=ClaimantKind.choices,
        default=ClaimantKind.PERSON,
        db_default=ClaimantKind.PERSON,
    )
    claim_date = models.DateField(null=True, blank=True)
    verdict = models.ForeignKey(VerdictLabel, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    summary = models.TextField(blank=True, help_text="What we found.")
    lineage = models.CharField(max_length=16, choices=Lineage.choices)
    annotations = models.ManyToManyField(
        ClaimAnnotation, blank=True, related_name="verified_claims"
    )
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=VerifiedStatus.choices, default=VerifiedStatus.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # The public note of the latest correction or retraction.
    public_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["prefix", "suffix"])

    class Meta:
        ordering = ["article", "start", "end"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="verified_span_nonempty"),
            models.CheckConstraint(
                condition=Q(end=F("start") + Length("quote")), name="verified_quote_length"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="verified_rating_range",
            ),
            models.UniqueConstraint(
                fields=["article", "start", "end"], name="verified_one_per_span"
            ),
            models.CheckConstraint(
                condition=Q(status=VerifiedStatus.DRAFT) | Q(published_at__isnull=False),
                name="verified_published_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="verified_org_status"),
            # The partner API's incremental sync walks (updated_at, id).
            models.Index(fields=["organization", "updated_at", "id"], name="verified_org_updated"),
        ]

    def __str__(self) -> str:
        return self.claim_reviewed[:80]

    @property
    def is_public(self) -> bool:
        return self.status != VerifiedStatus.DRAFT


class VerifiedSource(models.Model):
    claim = models.ForeignKey(VerifiedClaim, on_delete=models.CASCADE, related_name="sources")
    url = models.URLField(max_length=2000)
    title = models.CharField(max_length=500, blank=True)
    publisher = models.CharField(max_length=200, blank=True)
    quote = models.TextField(blank=True)
    stance = models.CharField(max_length=16, choices=Stance.choices, default=Stance.CONTEXT)
    confidential = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["claim", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="verified_source_url_http",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.url


class CorrectionKind(models.TextChoices):
    CORRECTION = "correction", "Correction"
    RETRACTION = "retraction", "Retraction"


class Correction(models.Model):
    """A public correction or retraction of a published claim: the corrections log."""

    claim = models.ForeignKey(VerifiedClaim, on_delete=models.PROTECT, related_name="corrections")
    kind = models.CharField(max_length=16, choices=CorrectionKind.choices)
    note = models.TextField()
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="correction_note_required")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.claim}"
