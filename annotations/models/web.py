"""What the workbench keeps of the web: articles fetched by URL, archived sources,
watched articles, feeds, and the alerts a silently edited passage raises.

Every row belongs to one Organization, directly or through its collection.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from annotations.models.articles import AnchorChange, Article
from annotations.models.jobs import WorkerJob
from annotations.models.newsrooms import Collection, Organization
from annotations.models.verification import VerifiedClaim

URL_LENGTH = 2000


class Feed(models.Model):
    """An RSS or Atom feed whose new items are imported into a collection."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="feeds")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="feeds")
    url = models.URLField(max_length=URL_LENGTH)
    title = models.CharField(max_length=300, blank=True)
    paused = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    # Empty after a reading that worked; kept (with its time) until then.
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    next_fetch_at = models.DateTimeField(null=True, blank=True)
    items_imported = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["collection", "url"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "url"], name="feed_url_per_collection"),
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="feed_url_http",
            ),
        ]
        indexes = [models.Index(fields=["paused", "next_fetch_at"], name="feed_due")]

    def __str__(self) -> str:
        return self.title or self.url


class FeedItem(models.Model):
    """An item a feed listed, once: by its id (or its link when it has none)."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="items")
    guid = models.CharField(max_length=URL_LENGTH)
    url = models.URLField(max_length=URL_LENGTH)
    title = models.CharField(max_length=500, blank=True)
    article = models.ForeignKey(
        Article, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["feed", "-seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["feed", "guid"], name="feeditem_guid_per_feed"),
        ]
        indexes = [models.Index(fields=["feed", "url"], name="feeditem_feed_url")]

    def __str__(self) -> str:
        return self.title or self.url


class FetchJob(WorkerJob):
    """Articles imported from their addresses by a Celery task, one address at a time.

    `results` holds one entry per address done, in order: {"url", "status"
    (created, new version, unchanged or failed), "article" (its id) and
    "error" (why it failed, in words)}.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="fetch_jobs"
    )
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="fetch_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Set when a feed's new items started the job.
    feed = models.ForeignKey(
        Feed, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    urls = models.JSONField(default=list)
    results = models.JSONField(default=list)
    created = models.PositiveIntegerField(default=0)
    new_versions = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")), name="fetchjob_progress_bounded"
            )
        ]

    def __str__(self) -> str:
        return f"Import of {self.total} address(es) into {self.collection}"

    @property
    def errors(self) -> list[str]:
        return [f"{r['url']}: {r['error']}" for r in self.results if r.get("error")]


class ArticlePage(models.Model):
    """What the web said about one article version: where it was fetched, and its metadata.

    The article itself holds what every article has (title, author, site name
    as publisher, published date, language); this row, what only a fetched
    page has.
    """

    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="page")
    requested_url = models.URLField(max_length=URL_LENGTH)
    final_url = models.URLField(max_length=URL_LENGTH)
    canonical_url = models.URLField(max_length=URL_LENGTH, blank=True)
    site_name = models.CharField(max_length=200, blank=True)
    authors = models.JSONField(default=list)
    published_at = models.DateTimeField(null=True, blank=True)
    modified_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=16, blank=True)
    http_status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    fetched_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.final_url} ({self.fetched_at:%Y-%m-%d})"


class WatchOutcome(models.TextChoices):
    WAITING = "waiting", "Not checked yet"
    UNCHANGED = "unchanged", "Unchanged"
    CHANGED = "changed", "Changed: a new version"
    GONE = "gone", "Gone"
    FAILED = "failed", "Failed"


class WatchReason(models.TextChoices):
    PUBLISHED = "published", "It has a published claim"
    MANUAL = "manual", "An editor asked"


class ArticleWatch(models.Model):
    """An article at a URL fetched again now and then, so that a silent edit is caught.

    One per collection and URL, whatever the version: `article` is the latest
    version known. An unwatched article keeps its row, inactive, so that it is
    not watched again by default.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="watches")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="watches")
    url = models.URLField(max_length=URL_LENGTH)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)
    reason = models.CharField(max_length=16, choices=WatchReason.choices)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    # Errors in a row; each one doubles the wait before the next check.
    failures = models.PositiveIntegerField(default=0)
    last_outcome = models.CharField(
        max_length=16, choices=WatchOutcome.choices, default=WatchOutcome.WAITING
    )
    last_error = models.TextField(blank=True)
    gone_since = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["collection", "url"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "url"], name="watch_url_per_collection"),
            models.CheckConstraint(
                condition=Q(last_outcome__in=WatchOutcome.values), name="watch_outcome_valid"
            ),
        ]
        indexes = [models.Index(fields=["active", "next_check_at"], name="watch_due")]

    def __str__(self) -> str:
        return f"Watch of {self.url}"


class ArchiveStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be archived"
    ARCHIVED = "archived", "Archived"
    FAILED = "failed", "Could not be archived"


class SourceArchive(models.Model):
    """A newsroom's archive of one source address: its latest capture, kept as a WARC record.

    One per newsroom and URL, whichever claims cite it. `text` is the text
    extracted from the latest capture, shown on our pages instead of the
    archived HTML; `gone_since` is set when the address later answers 404 or
    410 or no longer resolves, and the archive stays.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="source_archives"
    )
    url = models.URLField(max_length=URL_LENGTH)
    status = models.CharField(
        max_length=16, choices=ArchiveStatus.choices, default=ArchiveStatus.PENDING
    )
    # When archiving (again) was last asked for; a pending row asked for long ago was lost.
    requested_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    # SHA-256 of the archived body, hex: what exports and the API carry.
    content_hash = models.CharField(max_length=64, blank=True)
    # The WARC file's name in the default storage (local or S3).
    warc = models.CharField(max_length=300, blank=True)
    final_url = models.URLField(max_length=URL_LENGTH, blank=True)
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    error = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # When it is next looked at: a retry after a failure, or a check that it is still there.
    next_check_at = models.DateTimeField(null=True, blank=True)
    gone_since = models.DateTimeField(null=True, blank=True)
    # Set while a worker fetches it, so that a second copy of the task leaves it alone.
    taken_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "url"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "url"], name="archive_url_per_org"),
            models.CheckConstraint(
                condition=Q(status__in=ArchiveStatus.values), name="archive_status_valid"
            ),
            # Archived means a stored record with its hash and time.
            models.CheckConstraint(
                condition=~Q(status="archived")
                | (Q(archived_at__isnull=False) & ~Q(content_hash="") & ~Q(warc="")),
                name="archive_archived_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "requested_at"], name="archive_pending"),
            models.Index(fields=["next_check_at"], name="archive_recheck"),
        ]

    def __str__(self) -> str:
        return f"Archive of {self.url}"

    @property
    def usable(self) -> bool:
        """A capture is kept (archived, or archived before and failing now)."""
        return bool(self.warc) and self.archived_at is not None


class SourceCapture(models.Model):
    """One capture of a source: every WARC record stored, newest first."""

    archive = models.ForeignKey(SourceArchive, on_delete=models.CASCADE, related_name="captures")
    captured_at = models.DateTimeField()
    http_status = models.PositiveSmallIntegerField()
    content_hash = models.CharField(max_length=64)
    warc = models.CharField(max_length=300)
    final_url = models.URLField(max_length=URL_LENGTH)

    class Meta:
        ordering = ["archive", "-captured_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.final_url} at {self.captured_at:%Y-%m-%d %H:%M}"


class SweepCursor(models.Model):
    """How far a background sweep has read a table (the sources found to archive)."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)
    lap_started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"


class AlertKind(models.TextChoices):
    EDITED = "edited", "Edited"
    REMOVED = "removed", "Removed"


class PassageAlert(models.Model):
    """A published claim's passage edited or removed in a new version of its article."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="passage_alerts"
    )
    claim = models.ForeignKey(
        VerifiedClaim, on_delete=models.CASCADE, related_name="passage_alerts"
    )
    change = models.OneToOneField(AnchorChange, on_delete=models.CASCADE, related_name="alert")
    # The new version of the article.
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    old_quote = models.TextField()
    new_quote = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AlertKind.values), name="passage_alert_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} passage of claim {self.claim_id}"
