"""The workbench's data model.

Every row belongs to exactly one Organization (a newsroom), directly or through
its parent, and every query is scoped by it. Offsets are character offsets into
`Article.text`, the normalized plain text of one article version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils import timezone
from simple_history.models import HistoricalRecords

from annotations.anchoring import CONTEXT_CHARS

RTL_LANGUAGES = frozenset({"ar", "arc", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    REVIEWER = "reviewer", "Reviewer"
    EDITOR = "editor", "Editor"
    ADMIN = "admin", "Admin"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REVIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) at {self.organization}"

    @property
    def can_edit(self) -> bool:
        """Editors and admins adjudicate, assign and see every reviewer's claims."""
        return self.role in {Role.EDITOR, Role.ADMIN}


class UserSession(models.Model):
    """A browser session a user logged in with, so that all of them can be ended at once.

    Recorded at login (annotations/signals.py); the session itself lives in
    the session store and expires there.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class Taxonomy(models.Model):
    """A set of verdict labels and the ClaimReview rating scale they map to."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="taxonomies"
    )
    name = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)
    worst_rating = models.PositiveSmallIntegerField(default=1)
    best_rating = models.PositiveSmallIntegerField(default=5)

    class Meta:
        verbose_name_plural = "taxonomies"
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="taxonomy_name_unique"),
            # One default per organization: import_articles --collection relies on it.
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_default=True),
                name="taxonomy_one_default_per_org",
            ),
            models.CheckConstraint(
                condition=Q(worst_rating__lt=F("best_rating")), name="taxonomy_rating_order"
            ),
            # Claims store ratings 1 to 5 (ClaimReview's usual scale).
            models.CheckConstraint(
                condition=Q(worst_rating__gte=1, best_rating__lte=5), name="taxonomy_rating_scale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization.slug})"


class VerdictLabel(models.Model):
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=60)
    colour = models.CharField(max_length=7, default="#888888", help_text="#rrggbb")
    order = models.PositiveSmallIntegerField(default=0)
    # ClaimReview ratingValue; null for non-ordinal verdicts such as "Unverifiable".
    rating = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["taxonomy", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["taxonomy", "slug"], name="verdict_slug_unique"),
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="verdict_colour_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Collection(models.Model):
    """A set of articles under review, with its taxonomy and review rules."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="collections"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60)
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="collections")
    reviewers_per_article = models.PositiveSmallIntegerField(default=2)
    # Blind review: reviewers see only their own claims until they submit.
    blind_review = models.BooleanField(default=True)
    min_sources = models.PositiveSmallIntegerField(
        default=1, help_text="Sources a verified claim needs before it can be published."
    )
    iou_threshold = models.FloatField(
        default=0.5, help_text="Overlap two highlights need to count as the same claim."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="collection_slug_unique"),
            models.CheckConstraint(
                condition=Q(reviewers_per_article__gte=1), name="collection_reviewers_min"
            ),
            models.CheckConstraint(
                condition=Q(iou_threshold__gt=0) & Q(iou_threshold__lte=1),
                name="collection_iou_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


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

    @property
    def direction(self) -> str:
        """`rtl` for Arabic, Hebrew and the other right-to-left scripts."""
        return "rtl" if self.language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


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


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """A batch of uploaded article files, imported by a Celery task."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="import_jobs"
    )
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    # Storage names of the uploaded files, deleted once imported.
    files = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    new_versions = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life: sent (again) while pending, taken, or a file imported.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")), name="importjob_progress_bounded"
            )
        ]

    def __str__(self) -> str:
        return f"Import of {self.total} file(s) into {self.collection}"

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else round(100 * self.processed / self.total)

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.DONE, JobStatus.FAILED}


class MatchMode(models.TextChoices):
    OVERLAP = "overlap", "Overlap (IoU)"
    EXACT = "exact", "Exact"


class AgreementReport(models.Model):
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
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    results = models.JSONField(null=True, blank=True)
    # The sums behind the results, so that a changed claim only swaps its article's part.
    totals = models.JSONField(null=True, blank=True, editable=False)
    failure = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
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

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else round(100 * self.processed / self.total)

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.DONE, JobStatus.FAILED}


class ArticleAgreement(models.Model):
    """One article's contribution to its collection's agreement figures.

    Coincidence matrices, pair counts and confusion matrices add up, so the
    collection's figures are sums of these; a changed claim recomputes only
    its article's row.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="agreement")
    match_mode = models.CharField(max_length=16, choices=MatchMode.choices)
    iou_threshold = models.FloatField()
    contribution = models.JSONField(null=True, blank=True)
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
        return f"Agreement contribution of {self.article}"


class VerifiedStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    CORRECTED = "corrected", "Corrected"
    RETRACTED = "retracted", "Retracted"


class Lineage(models.TextChoices):
    UNANIMOUS = "unanimous", "Unanimous"
    ADJUDICATED = "adjudicated", "Adjudicated"
    SINGLE_REVIEWER = "single", "Single reviewer"


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
        ClaimAnnotation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    verified = models.ForeignKey(
        VerifiedClaim, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
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


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV (claims and sources, zipped)"
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


class ExportJob(models.Model):
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
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    # A storage name, set only once the file is complete.
    file = models.CharField(max_length=500, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life: sent (again) while pending, taken, or a page written.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
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
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return 0 if self.total == 0 else round(100 * self.processed / self.total)

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.DONE, JobStatus.FAILED}

    @property
    def downloadable(self) -> bool:
        return self.status == JobStatus.DONE and bool(self.file) and not self.expired


class Scope(models.TextChoices):
    """What an API key may do. Partners get read:claims; the team's own tools more."""

    READ_CLAIMS = "read:claims", "Read published verified claims"
    READ_ARTICLES = "read:articles", "Read articles"
    WRITE_ARTICLES = "write:articles", "Import articles"
    READ_ANNOTATIONS = "read:annotations", "Read claim annotations"
    WRITE_ANNOTATIONS = "write:annotations", "Create, edit and delete claim annotations"
    READ_AGREEMENT = "read:agreement", "Read agreement results"
    WRITE_AGREEMENT = "write:agreement", "Start agreement runs"
    EXPORTS = "exports", "Create and download exports"


class ApiKey(models.Model):
    """A key for the REST API: one organization, some scopes, stored hashed.

    The secret is `wb_<prefix>_<secret>`; only its SHA-256 is stored (the
    secret is 32 random bytes, so a slow hash would add nothing but latency).
    A key acts as its creator, within its scopes, for blind review and roles.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    hashed_secret = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    # The member the key acts as (roles and blind review apply to it).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="apikey_name_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def display(self) -> str:
        return f"wb_{self.prefix}_…"

    @property
    def status(self) -> str:
        """The key's state as the key list shows it: revoked, expired or active."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class WebhookEvent(models.TextChoices):
    PUBLISHED = "claim.published", "A claim is published"
    CORRECTED = "claim.corrected", "A claim is corrected"
    RETRACTED = "claim.retracted", "A claim is retracted"


class Webhook(models.Model):
    """A partner URL told about published, corrected and retracted claims."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=2000)
    # Signs each delivery (HMAC-SHA256); shown to the admin so the receiver can check it.
    secret = models.CharField(max_length=64)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="webhook_url_http",
            ),
        ]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook: the delivery log."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    claim = models.ForeignKey(
        VerifiedClaim, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The exact bytes signed and sent, so a retry sends the same thing.
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["webhook", "-created_at"], name="delivery_hook_created")]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook}"
