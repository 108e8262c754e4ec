from __future__ import annotations

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from annotations.management.base import organization_from_slug
from annotations.models import ApiKey


def when(moment: datetime | None, default: str) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else default


class Command(BaseCommand):
    help = "Lists a newsroom's API keys, newest first: prefixes only, never secrets."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_from_slug(options["org"])
        keys = ApiKey.objects.filter(organization=organization).select_related("user")
        if not keys:
            self.stdout.write(f"{organization.slug} has no API keys.")
            return
        rows = [("KEY", "NAME", "STATUS", "ACTS AS", "CREATED", "EXPIRES", "LAST USED", "SCOPES")]
        rows += [
            (
                key.display,
                key.name,
                key.status,
                key.user.get_username(),
                when(key.created_at, ""),
                when(key.expires_at, "never"),
                when(key.last_used_at, "never"),
                ",".join(key.scopes),
            )
            for key in keys
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]))
