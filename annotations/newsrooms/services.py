"""Newsrooms, their people and collections: creating them, and what leaving one ends."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from annotations.models import (
    ApiKey,
    Collection,
    Membership,
    Organization,
    Role,
    Taxonomy,
    UserSession,
    VerdictLabel,
)

# The default taxonomy: slug, name, ClaimReview rating (None: not ordinal), colour.
DEFAULT_VERDICTS: tuple[tuple[str, str, int | None, str], ...] = (
    ("false", "False", 1, "#c0392b"),
    ("mostly-false", "Mostly false", 2, "#e67e22"),
    ("mixed", "Mixed", 3, "#f1c40f"),
    ("mostly-true", "Mostly true", 4, "#7dbb42"),
    ("true", "True", 5, "#27ae60"),
    ("misleading", "Misleading", None, "#8e44ad"),
    ("unverifiable", "Unverifiable", None, "#7f8c8d"),
)


def taxonomy_ensure_default(*, organization: Organization) -> Taxonomy:
    """The organization's default taxonomy, created with the standard verdicts."""
    with transaction.atomic():
        taxonomy, created = Taxonomy.objects.get_or_create(
            organization=organization,
            is_default=True,
            defaults={"name": "Standard verdicts", "worst_rating": 1, "best_rating": 5},
        )
        if created:
            VerdictLabel.objects.bulk_create(
                VerdictLabel(
                    taxonomy=taxonomy, slug=slug, name=name, rating=rating, colour=colour, order=i
                )
                for i, (slug, name, rating, colour) in enumerate(DEFAULT_VERDICTS)
            )
    return taxonomy


def organization_create(*, slug: str, name: str) -> Organization:
    if slugify(slug) != slug or not slug:
        raise ValidationError(
            {"slug": f"{slug!r} is not a slug: use lowercase letters, digits and -"}
        )
    if not name.strip():
        raise ValidationError({"name": "An organization needs a name."})
    with transaction.atomic():
        if Organization.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": f"An organization with slug {slug!r} already exists."})
        organization = Organization.objects.create(slug=slug, name=name.strip())
        taxonomy_ensure_default(organization=organization)
    return organization


@dataclass(frozen=True)
class MemberOutcome:
    membership: Membership
    user_created: bool
    # A password we generated, to be shown once; None when the caller chose one.
    generated_password: str | None


def member_create(
    *, organization: Organization, username: str, role: str, password: str | None = None
) -> MemberOutcome:
    """Adds a user to a newsroom with a role, creating the user if needed."""
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role; use {', '.join(Role.values)}"})
    username = username.strip()
    if not username:
        raise ValidationError({"username": "A username is required."})
    # The rule of Django's own user forms (the admin's too): letters, digits
    # and @ . + - _, at most 150 characters. A name is shown in every page,
    # log and export that names a reviewer.
    try:
        UnicodeUsernameValidator()(username)
        MaxLengthValidator(150)(username)
    except ValidationError as exc:
        raise ValidationError({"username": exc.messages}) from None
    if password is not None:
        # The same policy as the admin's password forms (AUTH_PASSWORD_VALIDATORS).
        existing = User.objects.filter(username=username).first()
        try:
            validate_password(password, existing or User(username=username))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
    generated = None
    with transaction.atomic():
        user, user_created = User.objects.get_or_create(username=username)
        if password is None and user_created:
            generated = secrets.token_urlsafe(12)
            password = generated
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        membership, _ = Membership.objects.update_or_create(
            user=user, organization=organization, defaults={"role": role}
        )
    return MemberOutcome(
        membership=membership, user_created=user_created, generated_password=generated
    )


def membership_revoke(*, membership: Membership) -> None:
    """Removes someone from a newsroom; member_access_end() then logs them out everywhere."""
    membership.delete()


def member_access_end(*, user_id: int, organization_id: int) -> None:
    """What leaving a newsroom ends: the member's API keys there, and every session they have.

    Runs whenever a membership row is deleted (annotations/signals.py): through
    membership_revoke(), the admin, or a user or newsroom being deleted.
    Sessions are ended everywhere, even if the user still belongs to another
    newsroom: a session is not tied to one newsroom, and logging in again is cheap.
    """
    ApiKey.objects.filter(
        user_id=user_id, organization_id=organization_id, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    # After the commit: a rolled-back removal must not log anyone out.
    transaction.on_commit(lambda: user_sessions_end(user_id=user_id))


def user_sessions_end(*, user_id: int) -> int:
    """Ends every recorded session of a user, in whatever session store is configured."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    records = UserSession.objects.filter(user_id=user_id)
    keys = list(records.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    records.filter(session_key__in=keys).delete()
    return len(keys)


def collection_ensure(
    *, organization: Organization, slug: str, name: str | None = None
) -> tuple[Collection, bool]:
    """The organization's collection with this slug, created with the default taxonomy."""
    if slugify(slug) != slug or not slug:
        raise ValidationError(
            {"collection": f"{slug!r} is not a slug: use lowercase letters, digits and -"}
        )
    with transaction.atomic():
        existing = Collection.objects.filter(organization=organization, slug=slug).first()
        if existing is not None:
            return existing, False
        collection = Collection.objects.create(
            organization=organization,
            slug=slug,
            name=name or slug.replace("-", " ").capitalize(),
            taxonomy=taxonomy_ensure_default(organization=organization),
        )
    return collection, True
