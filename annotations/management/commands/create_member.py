from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.management.base import command_error, organization_from_slug
from annotations.models import Role
from annotations.newsrooms.services import member_create


class Command(BaseCommand):
    help = (
        "Adds a user to a newsroom with a role, creating the user if needed. "
        "A new user without --password-stdin gets a one-time password, printed once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_from_slug(options["org"])
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin: standard input had no password.")
        try:
            outcome = member_create(
                organization=organization,
                username=options["username"],
                role=options["role"],
                password=password,
            )
        except ValidationError as exc:
            raise command_error(exc) from None
        user = outcome.membership.user
        verb = "Created" if outcome.user_created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {user.get_username()}: {options['role']} at {organization.slug}."
            )
        )
        if outcome.generated_password:
            self.stdout.write(
                "One-time password (shown once, change it after logging in): "
                + outcome.generated_password
            )
