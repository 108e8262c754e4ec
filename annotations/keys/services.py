"""API keys: created once with their secret shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from annotations.core.prepared import prepared_cursor
from annotations.models import ApiKey, Membership, Organization, Role, Scope

KEY_PREFIX = "wb_"

# last_used_at is written at most this often per key: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# Scopes a reviewer's key may carry; an editor's or admin's may carry all.
# (Agreement figures name reviewers: like the dashboard, they are for editors.)
REVIEWER_SCOPES = frozenset(
    {Scope.READ_CLAIMS, Scope.READ_ARTICLES, Scope.READ_ANNOTATIONS, Scope.WRITE_ANNOTATIONS}
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
            "A reviewer's key can only read articles and claims and write their own "
            "claims; ask an editor for export, import or agreement scopes."
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
    row = _live_key_row(prefix)
    if row is None or not hmac.compare_digest(row[1], hash_secret(secret)):
        return None
    (key_id, _hashed, name, scopes, org_id, org_slug, org_name, user_id, username, stale) = row
    # Only the columns a request needs: the rest of each row loads if ever asked for.
    using = connection.alias
    # from_db takes the fields in the models' own order.
    key = ApiKey.from_db(
        using,
        ["id", "organization_id", "name", "prefix", "scopes", "user_id"],
        [
            key_id,
            org_id,
            name,
            prefix,
            orjson.loads(scopes) if isinstance(scopes, str) else scopes,
            user_id,
        ],
    )
    key.organization = Organization.from_db(
        using, ["id", "name", "slug"], [org_id, org_name, org_slug]
    )
    key.user = User.from_db(using, ["id", "username", "is_active"], [user_id, username, True])
    if stale:
        ApiKey.objects.filter(pk=key_id).update(last_used_at=timezone.now())
    return key


@functools.cache
def _live_key_sql() -> str:
    """A key by prefix, if live: not revoked, not expired, its member still in the newsroom.

    Written once as SQL: this runs on every API request, and building the same
    four-table query with the ORM each time cost more than running it.
    """
    key, org, user, member = (
        model._meta.db_table for model in (ApiKey, Organization, User, Membership)
    )
    # Table names from the models, values as parameters.
    return f"""
        SELECT k.id, k.hashed_secret, k.name, k.scopes, o.id, o.slug, o.name, u.id, u.username,
               (k.last_used_at IS NULL OR k.last_used_at < %s) AS stale
        FROM {key} k
        JOIN {org} o ON o.id = k.organization_id
        JOIN {user} u ON u.id = k.user_id
        JOIN {member} m ON m.user_id = k.user_id AND m.organization_id = k.organization_id
        WHERE k.prefix = %s AND k.revoked_at IS NULL AND u.is_active
          AND (k.expires_at IS NULL OR k.expires_at > %s)
    """  # noqa: S608


def _live_key_row(prefix: str) -> tuple[Any, ...] | None:
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    # Prepared: it runs on every API request.
    with prepared_cursor() as cursor:
        cursor.execute(_live_key_sql(), [adapt(now - LAST_USED_RESOLUTION), prefix, adapt(now)])
        row = cursor.fetchone()
    return tuple(row) if row is not None else None
