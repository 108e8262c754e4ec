"""Newsrooms, their people and roles, their verdict taxonomies and collections."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    # The newsroom's own site: ClaimReview names the newsroom as the review's author
    # with it (its corrections log until it is set).
    website = models.URLField(max_length=500, blank=True)
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
    agreement_min_units = models.PositiveSmallIntegerField(
        default=10,
        help_text=(
            "An agreement figure from fewer claims two reviewers can be compared on is "
            "shown as too few to say."
        ),
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
