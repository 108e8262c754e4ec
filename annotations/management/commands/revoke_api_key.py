from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from annotations.keys.services import KEY_PREFIX, api_key_revoke
from annotations.management.base import organization_from_slug
from annotations.models import ApiKey


def bare_prefix(value: str) -> str:
    """`1a2b3c4d` from what the key list shows (`wb_1a2b3c4d_…`) or a whole secret."""
    value = value.strip()
    if value.startswith(KEY_PREFIX):
        value = value[len(KEY_PREFIX) :]
    return value.partition("_")[0]


class Command(BaseCommand):
    help = "Revokes a newsroom's API key at once: programs using it can no longer call the API."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument(
            "--prefix", required=True, help="the key's prefix, as listed: 1a2b3c4d or wb_1a2b3c4d_…"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_from_slug(options["org"])
        prefix = bare_prefix(options["prefix"])
        key = ApiKey.objects.filter(organization=organization, prefix=prefix).first()
        if key is None:
            raise CommandError(
                f"{organization.slug} has no API key with prefix {prefix!r} "
                f"(manage.py list_api_keys --org {organization.slug} lists them)."
            )
        if key.revoked_at is not None:
            when = timezone.localtime(key.revoked_at).strftime("%Y-%m-%d %H:%M %Z")
            self.stdout.write(f"{key.display} “{key.name}” was already revoked on {when}.")
            return
        api_key_revoke(key=key)
        self.stdout.write(self.style.SUCCESS(f"Revoked {key.display} “{key.name}”."))
