"""Reviewers' work: assignments, and the claims they highlight with their sources."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from simple_history.models import HistoricalRecords

from annotations.core.anchoring import CONTEXT_CHARS
from annotations.models.articles import Article
from annotations.models.newsrooms import VerdictLabel


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"


class Assignment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    status = models.CharField(
        max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["article", "reviewer__username"]
        constraints = [
            models.UniqueConstraint(fields=["article", "reviewer"], name="assignment_unique"),
            models.CheckConstraint(
                condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article} → {self.reviewer}"


class LiveClaimManager(models.Manager["ClaimAnnotation"]):
    """Claims not deleted. A delete is kept for a while so that it can be undone."""

    def get_queryset(self) -> models.QuerySet[ClaimAnnotation]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class ClaimAnnotation(models.Model):
    """One reviewer's highlight of a claim, with its verdict and sources.

    A claim with no verdict yet is "to check": highlighted, not yet checked.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="claims")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    prefix = models.CharField(max_length=CONTEXT_CHARS, blank=True)
    suffix = models.CharField(max_length=CONTEXT_CHARS, blank=True)
    verdict = models.ForeignKey(
        VerdictLabel, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic locking: a save names the version it started from.
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)

    all_objects = models.Manager()
    objects = LiveClaimManager()
    history = HistoricalRecords(excluded_fields=["prefix", "suffix"])

    class Meta:
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        ordering = ["article", "start", "end", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="claim_span_nonempty"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="claim_rating_range",
            ),
            # The stored quote is exactly the text between the offsets.
            models.CheckConstraint(
                condition=Q(end=F("start") + Length("quote")), name="claim_quote_length"
            ),
            # A double-clicked Save must not store the same highlight twice.
            models.UniqueConstraint(
                fields=["article", "reviewer", "start", "end"],
                condition=Q(deleted_at__isnull=True),
                name="claim_one_live_per_span",
            ),
        ]
        indexes = [models.Index(fields=["article", "reviewer"], name="claim_article_reviewer")]

    def __str__(self) -> str:
        return f"“{self.quote[:60]}” ({self.reviewer})"

    @property
    def is_checked(self) -> bool:
        return self.verdict_id is not None

    @property
    def verdict_label(self) -> str:
        return self.verdict.name if self.verdict else "To check"


class Stance(models.TextChoices):
    SUPPORTS = "supports", "Supports"
    REFUTES = "refutes", "Refutes"
    CONTEXT = "context", "Context"


class Source(models.Model):
    claim = models.ForeignKey(ClaimAnnotation, on_delete=models.CASCADE, related_name="sources")
    url = models.URLField(max_length=2000)
    title = models.CharField(max_length=500, blank=True)
    publisher = models.CharField(max_length=200, blank=True)
    quote = models.TextField(blank=True, help_text="The passage of the source that matters.")
    stance = models.CharField(max_length=16, choices=Stance.choices, default=Stance.CONTEXT)
    accessed_at = models.DateTimeField(null=True, blank=True)
    archived_url = models.URLField(max_length=2000, blank=True)
    confidential = models.BooleanField(default=False, help_text="Never shown outside the newsroom.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["claim", "order", "id"]
        constraints = [
            # javascript:, data: and friends never reach the database.
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="source_url_http",
            ),
            models.CheckConstraint(
                condition=Q(archived_url="")
                | Q(archived_url__startswith="http://")
                | Q(archived_url__startswith="https://"),
                name="source_archived_url_http",
            ),
            models.CheckConstraint(
                condition=Q(stance__in=Stance.values), name="source_stance_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.url
