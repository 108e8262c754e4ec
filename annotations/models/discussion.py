"""The desk's discussion: threads of comments on claims, verified claims and articles,
requests for changes, each person's notifications, and the activity of a collection.

A thread is about one thing: a reviewer's claim, a verified claim, or the
article as a whole (neither). It always names its article, so that every
rule of blind review (annotations/core/permissions.py) is one lookup away.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from annotations.models.articles import Article
from annotations.models.claims import ClaimAnnotation
from annotations.models.newsrooms import Collection, Organization
from annotations.models.verification import VerifiedClaim


class Thread(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="threads")
    claim = models.ForeignKey(
        ClaimAnnotation, on_delete=models.CASCADE, null=True, blank=True, related_name="threads"
    )
    verified = models.ForeignKey(
        VerifiedClaim, on_delete=models.CASCADE, null=True, blank=True, related_name="threads"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Moved on by every change to the thread or its comments: open pages poll for it.
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["article", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(claim__isnull=True) | Q(verified__isnull=True),
                name="thread_one_target",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("created_at")),
                name="thread_resolved_after_created",
            ),
        ]
        indexes = [models.Index(fields=["article", "updated_at"], name="thread_article_updated")]

    def __str__(self) -> str:
        return f"Thread {self.pk} on {self.article}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def target(self) -> str:
        """`claim-<id>`, `verified-<id>` or `article`: where on a page the thread belongs."""
        if self.claim_id is not None:
            return f"claim-{self.claim_id}"
        if self.verified_id is not None:
            return f"verified-{self.verified_id}"
        return "article"


class Comment(models.Model):
    """One comment of a thread, as its author wrote it (`body`) and as shown (`html`).

    A deleted comment keeps its place in the thread, without its words; its
    history (django-simple-history) keeps every version, edits included.
    """

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(blank=True)
    # The body rendered once, when written: links and emphasis, sanitised with nh3.
    html = models.TextField(blank=True)
    # A passage of the article the comment quotes: offsets into Article.text, and its text.
    quote = models.TextField(blank=True)
    quote_start = models.PositiveIntegerField(null=True, blank=True)
    quote_end = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["html"])

    class Meta:
        ordering = ["thread", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quote_start__isnull=True, quote_end__isnull=True, quote="")
                | Q(quote_start__isnull=False, quote_end__gt=F("quote_start")),
                name="comment_quote_span",
            ),
            # A live comment says something; a deleted one says nothing any more.
            models.CheckConstraint(
                condition=(Q(deleted_at__isnull=True) & ~Q(body=""))
                | Q(deleted_at__isnull=False, body=""),
                name="comment_body_unless_deleted",
            ),
        ]
        indexes = [models.Index(fields=["thread", "created_at"], name="comment_thread_created")]

    def __str__(self) -> str:
        return f"Comment {self.pk} by {self.author}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ChangeRequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class ChangeRequest(models.Model):
    """An editor sent a reviewer's claim back: the thread holds the request and the answers.

    Open while its thread is open; resolving the thread (the reviewer's "Mark
    done") closes it, reopening the thread opens it again.
    """

    thread = models.OneToOneField(Thread, on_delete=models.CASCADE, related_name="change_request")
    claim = models.ForeignKey(
        ClaimAnnotation, on_delete=models.CASCADE, related_name="change_requests"
    )
    # The claim's reviewer, whose queue shows the request.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="change_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=8, choices=ChangeRequestStatus.choices, default=ChangeRequestStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ChangeRequestStatus.values), name="change_request_status"
            ),
            models.CheckConstraint(
                condition=Q(status=ChangeRequestStatus.OPEN, done_at__isnull=True)
                | Q(status=ChangeRequestStatus.DONE, done_at__isnull=False),
                name="change_request_done_at",
            ),
            # One open request per claim: a second one is a comment in the first.
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(status=ChangeRequestStatus.OPEN),
                name="change_request_one_open",
            ),
        ]
        indexes = [models.Index(fields=["reviewer", "status"], name="change_request_queue")]

    def __str__(self) -> str:
        return f"Changes requested on {self.claim} ({self.status})"


class NotificationKind(models.TextChoices):
    MENTION = "mention", "Mention"
    REPLY = "reply", "Reply"
    CHANGE_REQUEST = "change_request", "Request for changes"
    CHANGE_DONE = "change_done", "Changes done"
    PUBLISHED = "published", "Published"
    ARTICLE_CHANGED = "article_changed", "Article changed"


class EmailState(models.TextChoices):
    NONE = "", "No email"
    PENDING = "pending", "To send now"
    DIGEST = "digest", "For the daily digest"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent"


class Notification(models.Model):
    """Something that needs one person: shown in their inbox, and maybe emailed.

    `text` is written when the notification is made, from what its recipient
    may see; the links (thread, comment, verified claim, article) are checked
    again each time the inbox is read, so that blind review still holds if
    what they may see changes.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    verified = models.ForeignKey(
        VerifiedClaim, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=400)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(max_length=8, choices=EmailState.choices, blank=True, default="")
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_kind"
            ),
            models.CheckConstraint(
                condition=Q(email__in=EmailState.values), name="notification_email_state"
            ),
        ]
        indexes = [
            # The header's unread count, on every page.
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(fields=["recipient", "created_at"], name="notification_inbox"),
            # Emails still to send, now or in the digest.
            models.Index(
                fields=["email", "created_at"],
                condition=Q(email__in=["pending", "digest"]),
                name="notification_email_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient}: {self.text[:60]}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class EmailChoice(models.TextChoices):
    IMMEDIATE = "immediate", "At once"
    DIGEST = "digest", "Once a day, in a digest"
    OFF = "off", "Never"


class NotificationPreference(models.Model):
    """How one person wants mentions and requests for changes by email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.CharField(
        max_length=10, choices=EmailChoice.choices, default=EmailChoice.IMMEDIATE
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(email__in=EmailChoice.values), name="notification_preference_email"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: email {self.email}"


class ActivityKind(models.TextChoices):
    COMMENTED = "commented", "commented"
    EDITED_COMMENT = "edited_comment", "edited a comment"
    DELETED_COMMENT = "deleted_comment", "deleted a comment"
    RESOLVED = "resolved", "resolved a thread"
    REOPENED = "reopened", "reopened a thread"
    REQUESTED_CHANGES = "requested_changes", "requested changes"
    CHANGES_DONE = "changes_done", "marked changes done"
    MARKED_CLAIM = "marked_claim", "marked a claim"
    CHANGED_CLAIM = "changed_claim", "changed a claim"
    DELETED_CLAIM = "deleted_claim", "deleted a claim"
    SAVED_VERIFIED = "saved_verified", "saved a verified claim"
    PUBLISHED = "published", "published"
    CORRECTED = "corrected", "corrected"
    RETRACTED = "retracted", "retracted"


class Activity(models.Model):
    """One thing someone did in a collection, for its activity page (editors)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    claim = models.ForeignKey(
        ClaimAnnotation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified = models.ForeignKey(
        VerifiedClaim, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What it was about, in a few words (a quote, a claim as reviewed).
    summary = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ActivityKind.values), name="activity_kind")
        ]
        indexes = [
            models.Index(fields=["collection", "created_at"], name="activity_collection"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"
