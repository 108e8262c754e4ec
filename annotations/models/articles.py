"""Articles: immutable text snapshots, their versions, and the imports that bring them in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from annotations.models.jobs import WorkerJob
from annotations.models.newsrooms import Collection, Organization

RTL_LANGUAGES = frozenset({"ar", "arc", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})


class Article(models.Model):
    """One immutable version of an article's text.

    A new import of the same URL with different text is a new row with the
    next version number; the old row stays, with the annotations made on it.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="articles"
    )
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=500)
    url = models.URLField(max_length=2000, blank=True)
    publisher = models.CharField(max_length=200, blank=True)
    author = models.CharField(max_length=200, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=16, blank=True)
    # The normalized plain text: the coordinate system of every offset.
    text = models.TextField()
    # Its length in characters, kept when the article is saved (agreement reads it for
    # every article of a collection; counting each text's characters was a tenth of
    # the read). Rows written without it (bulk inserts) are counted when read.
    text_length = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Sanitized HTML of the source, where it had any; display only.
    html = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, db_index=True)
    version = models.PositiveIntegerField(default=1)
    previous_version = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_version",
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["collection", "title", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "url", "version"],
                condition=~Q(url=""),
                name="article_url_version_unique",
            ),
            # Pasted text has no URL; its content identifies it.
            models.UniqueConstraint(
                fields=["collection", "content_hash"],
                condition=Q(url=""),
                name="article_unurled_content_unique",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="article_version_min"),
            models.CheckConstraint(condition=~Q(text=""), name="article_text_not_empty"),
        ]
        indexes = [models.Index(fields=["organization", "url"], name="article_org_url")]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})" if self.version > 1 else self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.text_length = len(self.text)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "text" in update_fields:
            kwargs["update_fields"] = {*update_fields, "text_length"}
        super().save(*args, **kwargs)

    @property
    def direction(self) -> str:
        """`rtl` for Arabic, Hebrew and the other right-to-left scripts."""
        return "rtl" if self.language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


class ImportKind(models.TextChoices):
    ARTICLES = "articles", "Articles"
    # Reviewers' claims from another tool: our JSONL or W3C Web Annotations.
    CLAIMS = "claims", "Claims"


class ImportJob(WorkerJob):
    """A batch of uploaded files, imported by a Celery task.

    Article files count their progress in files; a claims file, in lines
    (`total` and `processed`), so that a big file's bar moves as it is read.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="import_jobs"
    )
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Storage names of the uploaded files, deleted once imported.
    files = models.JSONField(default=list)
    created = models.PositiveIntegerField(default=0)
    new_versions = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    kind = models.CharField(max_length=16, choices=ImportKind.choices, default=ImportKind.ARTICLES)
    # Records deliberately not imported (verified claims in a Web Annotation file).
    skipped = models.PositiveIntegerField(default=0)
    # Errors beyond those `errors` lists: a file of 100,000 bad lines is counted, not listed.
    errors_unlisted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")), name="importjob_progress_bounded"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ImportKind.values), name="importjob_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        if self.kind == ImportKind.CLAIMS:
            return f"Import of {len(self.files)} claims file(s) into {self.collection}"
        return f"Import of {self.total} file(s) into {self.collection}"

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_unlisted


class AnchorStatus(models.TextChoices):
    UNCHANGED = "unchanged", "Unchanged"
    MOVED = "moved", "Moved"
    EDITED = "edited", "Edited"
    ORPHANED = "orphaned", "Orphaned"


class AnchorChange(models.Model):
    """What happened to one claim when its article got a new version.

    A found claim moves to the new version (its history keeps the old span);
    an orphan stays on the old version, kept and listed, never deleted.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="anchor_changes")
    claim = models.ForeignKey(
        "ClaimAnnotation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    verified = models.ForeignKey(
        "VerifiedClaim", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=AnchorStatus.choices)
    old_start = models.PositiveIntegerField()
    old_end = models.PositiveIntegerField()
    old_quote = models.TextField()
    new_start = models.PositiveIntegerField(null=True, blank=True)
    new_end = models.PositiveIntegerField(null=True, blank=True)
    new_quote = models.TextField(blank=True)
    score = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "old_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(claim__isnull=False) | Q(verified__isnull=False),
                name="anchor_change_has_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: “{self.old_quote[:60]}”"
