from __future__ import annotations

import re
from argparse import ArgumentParser, ArgumentTypeError
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from annotations.keys.services import api_key_create, expires_at_end_of
from annotations.management.base import organization_from_slug
from annotations.models import Membership, Role, Scope

# The service names its fields; the person at the terminal typed options.
OPTIONS = {"name": "--name", "scopes": "--scopes", "user": "--user", "expires_at": "--expires"}


def expiry(value: str) -> datetime:
    """`2026-12-31` (the key works through that day) or `90d` (90 days from now)."""
    days = re.fullmatch(r"(\d+)d", value.strip())
    if days:
        if int(days[1]) < 1:
            raise ArgumentTypeError("give at least 1d")
        return timezone.now() + timedelta(days=int(days[1]))
    try:
        return expires_at_end_of(date.fromisoformat(value.strip()))
    except ValueError:
        raise ArgumentTypeError(
            f"{value!r} is neither a date like 2026-12-31 nor a number of days like 90d"
        ) from None


class Command(BaseCommand):
    help = (
        "Creates an API key for a newsroom and prints its secret once, alone on standard "
        "output (everything else goes to standard error), so a script can capture it. "
        f"Scopes: {', '.join(Scope.values)}."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument(
            "--name", required=True, help="who will use the key, e.g. 'Partner site'"
        )
        parser.add_argument(
            "--scopes", required=True, help="comma-separated, e.g. read:claims,write:annotations"
        )
        parser.add_argument(
            "--user",
            help="the member the key acts as (default: the newsroom's first admin)",
        )
        parser.add_argument(
            "--expires",
            type=expiry,
            help="a last day like 2026-12-31, or a number of days like 90d (default: never)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_from_slug(options["org"])
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
        else:
            first_admin = (
                Membership.objects.filter(
                    organization=organization, role=Role.ADMIN, user__is_active=True
                )
                .select_related("user")
                .order_by("created_at", "pk")
                .first()
            )
            if first_admin is None:
                raise CommandError(
                    f"{organization.slug} has no admin to act as; "
                    "pass --user with the username of one of its members."
                )
            user = first_admin.user
            self.stderr.write(
                f"Acting as {user.get_username()}, {organization.slug}'s first admin "
                "(choose another member with --user)."
            )
        try:
            new = api_key_create(
                organization=organization,
                user=user,
                name=options["name"],
                scopes=options["scopes"],
                expires_at=options["expires"],
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(
                    f"{OPTIONS.get(field, field)}: {' '.join(messages)}"
                    for field, messages in exc.message_dict.items()
                )
            ) from None
        key = new.key
        expires = (
            timezone.localtime(key.expires_at).strftime("%Y-%m-%d %H:%M %Z")
            if key.expires_at
            else "never"
        )
        self.stderr.write(
            self.style.SUCCESS(f"Created API key “{key.name}” for {organization.slug}.")
        )
        self.stderr.write(
            f"Prefix:  {key.display}\n"
            f"Scopes:  {', '.join(key.scopes)}\n"
            f"Acts as: {user.get_username()}\n"
            f"Expires: {expires}\n"
            "The secret follows, on standard output. It is shown this once and "
            "never stored: keep it somewhere safe now."
        )
        # Plain, unstyled, alone on its line: `KEY=$(manage.py create_api_key ...)`.
        self.stdout.write(new.secret, style_func=None)
