"""Export jobs: which verified claims, in which format, for whom."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from annotations.models.jobs import JobStatus, WorkerJob
from annotations.models.newsrooms import Collection, Organization, VerdictLabel


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV (one spreadsheet: a row per claim, its sources in columns)"
    CSV_ZIP = "csv-zip", "CSV, zipped (claims.csv and sources.csv: a row per source)"
    JSONL = "jsonl", "JSONL (one claim per line)"
    CLAIMREVIEW = "claimreview", "schema.org ClaimReview (JSON-LD)"
    WEBANNOTATION = "webannotation", "W3C Web Annotation (JSON-LD lines)"
    REPORT_HTML = "report-html", "Report (HTML)"
    REPORT_PDF = "report-pdf", "Report (PDF)"


class ExportStatusFilter(models.TextChoices):
    PUBLISHED = "published", "Published and corrected"
    RETRACTED = "retracted", "Retracted"
    DRAFT = "draft", "Drafts"
    ALL = "all", "All"


class ExportAudience(models.TextChoices):
    PUBLIC = "public", "Outside the newsroom: confidential sources left out"
    NEWSROOM = "newsroom", "Inside the newsroom: every source"


class ExportJob(WorkerJob):
    """An export of verified claims to a file, written by a Celery task."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="export_jobs"
    )
    # None: every collection of the newsroom.
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, null=True, blank=True, related_name="export_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    format = models.CharField(max_length=16, choices=ExportFormat.choices)
    audience = models.CharField(
        max_length=16, choices=ExportAudience.choices, default=ExportAudience.PUBLIC
    )
    status_filter = models.CharField(
        max_length=16, choices=ExportStatusFilter.choices, default=ExportStatusFilter.PUBLISHED
    )
    verdict = models.ForeignKey(
        VerdictLabel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Which date the range applies to: published_at or updated_at.
    date_field = models.CharField(max_length=16, default="published_at")
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    # A storage name, set only once the file is complete.
    file = models.CharField(max_length=500, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    expired = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")), name="exportjob_progress_bounded"
            ),
            models.CheckConstraint(
                condition=Q(date_field__in=["published_at", "updated_at"]),
                name="exportjob_date_field",
            ),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="export_org_created")]

    def __str__(self) -> str:
        return f"{self.get_format_display()} export of {self.collection or 'every collection'}"

    @property
    def downloadable(self) -> bool:
        return self.status == JobStatus.DONE and bool(self.file) and not self.expired
