from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from annotations.management.base import command_error
from annotations.newsrooms.services import organization_create


class Command(BaseCommand):
    help = "Creates a newsroom (organization) with the default verdict taxonomy."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="short identifier used in URLs and commands, e.g. demo")
        parser.add_argument("--name", required=True, help="the newsroom's display name")

    def handle(self, *args: Any, slug: str, name: str, **options: Any) -> None:
        try:
            organization = organization_create(slug=slug, name=name)
        except ValidationError as exc:
            raise command_error(exc) from None
        self.stdout.write(self.style.SUCCESS(f"Created organization {organization.name} ({slug})."))
