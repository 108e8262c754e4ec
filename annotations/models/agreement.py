"""Agreement runs over a collection, and each article's stored contribution to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from annotations.models.articles import Article
from annotations.models.jobs import Job
from annotations.models.newsrooms import Collection, Organization


class MatchMode(models.TextChoices):
    OVERLAP = "overlap", "Overlap (IoU)"
    EXACT = "exact", "Exact"


class AgreementReport(Job):
    """One agreement run over a collection: its parameters, progress and results.

    `results` is the JSON document that `compute_agreement --json` prints. After
    a full run, claim changes refresh the latest report's results in place.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="agreement_reports"
    )
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="agreement_reports"
    )
    match_mode = models.CharField(
        max_length=16, choices=MatchMode.choices, default=MatchMode.OVERLAP
    )
    iou_threshold = models.FloatField(default=0.5)
    results = models.JSONField(null=True, blank=True)
    # The sums behind the results, so that a changed claim only swaps its article's
    # part: deflated JSON (agreement.sums.pack), read only by a refresh.
    sums = models.BinaryField(null=True, blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    # Last time the results changed (a full run, or a claim changed since).
    refreshed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["collection", "status", "-created_at"], name="report_latest")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(iou_threshold__gt=0) & Q(iou_threshold__lte=1),
                name="report_iou_range",
            ),
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")), name="report_progress_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"Agreement on {self.collection} ({self.get_status_display()})"


class ArticleAgreement(models.Model):
    """One article as its collection's agreement figures last counted it.

    The figures are sums of counts, so a changed claim swaps only its
    article's part: `record` keeps the claims as they were counted (compact
    binary, agreement.contributions), so the old part can be recounted
    exactly and taken out.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="agreement")
    match_mode = models.CharField(max_length=16, choices=MatchMode.choices)
    iou_threshold = models.FloatField()
    record = models.BinaryField(null=True, blank=True)
    # When the record last changed (a run writes only the records that did).
    computed_at = models.DateTimeField(null=True, blank=True)
    # The last claim change; a refresh waits until changes stop (debounce).
    requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "match_mode", "iou_threshold"], name="article_agreement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Agreement record of {self.article}"
