"""What partner newsrooms are given: API keys, and webhooks with their delivery log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from annotations.models.newsrooms import Organization
from annotations.models.verification import VerifiedClaim


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
    # A watched article changed, and a published claim's passage was edited or removed.
    PASSAGE_CHANGED = "claim.passage_changed", "A published claim's passage changed in its article"


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
