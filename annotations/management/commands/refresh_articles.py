from __future__ import annotations

from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotations.management.base import organization_from_slug
from annotations.models import WatchOutcome
from annotations.watching.services import refresh


class Command(BaseCommand):
    help = (
        "Fetches the newsroom's watched articles again now (conditional requests), and "
        "prints how many were unchanged, changed (a new version, its claims re-anchored) "
        "and gone. Articles with a published claim are watched by default. Exits non-zero "
        "when an article could not be checked, with the reason."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_from_slug(options["org"])
        checked = refresh(organization=organization)
        outcomes = Counter(result.outcome for _, result in checked)
        for url, result in checked:
            if result.outcome == WatchOutcome.FAILED:
                self.stderr.write(f"{url}: {result.reason}")
            elif result.outcome == WatchOutcome.GONE:
                self.stdout.write(f"gone: {url} ({result.reason})")
            elif result.outcome == WatchOutcome.CHANGED:
                self.stdout.write(f"changed: {url}")
        failed = outcomes[WatchOutcome.FAILED]
        self.stdout.write(
            f"{outcomes[WatchOutcome.UNCHANGED]} unchanged, "
            f"{outcomes[WatchOutcome.CHANGED]} changed, "
            f"{outcomes[WatchOutcome.GONE]} gone, {failed} failed."
        )
        if failed:
            raise CommandError(
                f"{failed} watched article(s) could not be checked; the collection page "
                "says why, and they are tried again later."
            )
