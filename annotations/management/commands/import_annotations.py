from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotations.importing.claims import annotations_import
from annotations.management.base import organization_from_slug


class Command(BaseCommand):
    help = (
        "Imports claim annotations from a JSONL file, one claim per line, in the workbench's "
        "own fields or as W3C Web Annotations (as the webannotation export writes them; "
        "told apart by content). The file is read as it streams and imported in batches "
        "of a few thousand lines, each checked as the reader checks a claim and stored in "
        "one transaction. A bad line is reported with its number and nothing of it is "
        "stored, the good lines are imported, and the command exits non-zero."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE.jsonl")
        parser.add_argument("--org", required=True, help="organization slug")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_from_slug(options["org"])
        path: Path = options["file"]
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read: {exc.strerror}") from None
        with handle:
            report = annotations_import(organization=organization, data=handle, name=str(path))
        for error in report.errors:
            self.stderr.write(error)
        skipped = f", {report.skipped} verified claims skipped" if report.skipped else ""
        self.stdout.write(
            f"{report.created} created, {report.unchanged} already present{skipped}, "
            f"{len(report.errors)} errors."
        )
        if report.errors:
            raise CommandError(f"{report.failed} line(s) could not be imported.")
