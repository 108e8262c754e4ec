"""API keys: created once with their secret shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotations.models import ApiKey, Membership, Organization, Role, Scope

KEY_PREFIX = "wb_"
# last_used_at is written at most this often per key: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# Scopes a reviewer's key may carry; an editor's or admin's may carry all.
REVIEWER_SCOPES = frozenset(
    {
        Scope.READ_CLAIMS,
        Scope.READ_ARTICLES,
        Scope.READ_ANNOTATIONS,
        Scope.WRITE_ANNOTATIONS,
        Scope.READ_AGREEMENT,
    }
)


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    # The whole secret, `wb_<prefix>_<secret>`: shown once, never stored.
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def expires_at_end_of(day: date) -> datetime:
    """A key that expires on `day` works until that day is over (in the site's time zone)."""
    # The last instant of the day, not midnight after it, so the key list shows
    # the day the admin chose.
    return timezone.make_aware(datetime.combine(day, time.max))


def parse_scopes(value: str | list[str]) -> list[str]:
    """`read:claims,write:annotations` (or a list) as known scopes, in a stable order."""
    names = value.split(",") if isinstance(value, str) else value
    wanted = {name.strip() for name in names if name.strip()}
    unknown = sorted(wanted - set(Scope.values))
    if unknown:
        raise ValidationError(
            {"scopes": f"Unknown scope {', '.join(unknown)}; use {', '.join(Scope.values)}."}
        )
    if not wanted:
        raise ValidationError({"scopes": "Give at least one scope, e.g. read:claims."})
    return [scope for scope in Scope.values if scope in wanted]


def api_key_create(
    *,
    organization: Organization,
    user: User,
    name: str,
    scopes: str | list[str],
    expires_at: datetime | None = None,
) -> NewKey:
    """A new key acting as `user` in `organization`, who must be one of its admins or editors
    (or, for reviewer scopes only, a member)."""
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "Name the key after who will use it, e.g. “Partner site”."
    elif len(name) > 100:
        errors["name"] = "At most 100 characters."
    elif ApiKey.objects.filter(organization=organization, name=name).exists():
        errors["name"] = f"This newsroom already has a key named “{name}”."
    try:
        wanted = parse_scopes(scopes)
    except ValidationError as error:
        errors |= {field: " ".join(messages) for field, messages in error.message_dict.items()}
        wanted = []
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry date is in the past."
    membership = Membership.objects.filter(user=user, organization=organization).first()
    if membership is None:
        errors["user"] = f"{user} is not a member of {organization}."
    elif not user.is_active:
        # api_key_check refuses keys of deactivated users: this one would never work.
        errors["user"] = f"{user}'s account is deactivated."
    elif membership.role == Role.REVIEWER and not set(wanted) <= REVIEWER_SCOPES:
        errors["scopes"] = (
            "A reviewer's key can only read and write their own claims; "
            "ask an editor for export, article or agreement-run scopes."
        )
    if errors:
        raise ValidationError(errors)
    # Eight hex digits are short enough to read out and find again; with a
    # few thousand keys a repeat is unlikely but possible, so draw again.
    prefix = secrets.token_hex(4)
    while ApiKey.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    try:
        with transaction.atomic():
            key = ApiKey.objects.create(
                organization=organization,
                user=user,
                name=name,
                prefix=prefix,
                hashed_secret=hash_secret(secret),
                scopes=wanted,
                expires_at=expires_at,
            )
    except IntegrityError:
        # Two admins naming two keys alike at the same moment: the name check
        # above passed for both, the unique constraint stops the second.
        raise ValidationError(
            {"name": f"This newsroom already has a key named “{name}”."}
        ) from None
    return NewKey(key=key, secret=secret)


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_check(secret: str) -> ApiKey | None:
    """The live key with this secret, or None (unknown, revoked, expired or ex-member)."""
    if not secret.startswith(KEY_PREFIX):
        return None
    prefix, _, rest = secret[len(KEY_PREFIX) :].partition("_")
    if not rest:
        return None
    # One query: a key whose user has left the newsroom (or was deactivated) is dead.
    key = (
        ApiKey.objects.select_related("organization", "user")
        .filter(
            prefix=prefix,
            revoked_at__isnull=True,
            user__is_active=True,
            user__memberships__organization=F("organization"),
        )
        .first()
    )
    if key is None or not hmac.compare_digest(key.hashed_secret, hash_secret(secret)):
        return None
    now = timezone.now()
    if key.expires_at is not None and key.expires_at <= now:
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
