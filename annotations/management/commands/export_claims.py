from __future__ import annotations

import os
from argparse import ArgumentParser, ArgumentTypeError
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.exports import selection, writers
from annotations.management.base import command_error, organization_from_slug
from annotations.models import (
    ExportAudience,
    ExportFormat,
    ExportStatusFilter,
)


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a date like 2026-03-22") from None


class Command(BaseCommand):
    help = (
        "Exports a newsroom's verified claims to a file, with the same writer as the "
        "exports page, here and now (no worker). Published and corrected claims by "
        "default; confidential sources are left out unless --audience newsroom."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--collection", help="collection slug (default: every collection)")
        parser.add_argument("--format", required=True, choices=ExportFormat.values)
        parser.add_argument("--out", required=True, type=Path, help="the file to write")
        parser.add_argument(
            "--status", choices=ExportStatusFilter.values, default=ExportStatusFilter.PUBLISHED
        )
        parser.add_argument(
            "--verdict",
            help="a verdict slug: of the collection's taxonomy, or of the default one",
        )
        parser.add_argument(
            "--date-field", choices=["published_at", "updated_at"], default="published_at"
        )
        parser.add_argument("--from", dest="date_from", type=day, help="first day, 2026-03-01")
        parser.add_argument("--to", dest="date_to", type=day, help="last day, 2026-03-31")
        parser.add_argument(
            "--audience", choices=ExportAudience.values, default=ExportAudience.PUBLIC
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_from_slug(options["org"])
        try:
            chosen = selection.Selection.from_slugs(
                organization, **{name: options[name] for name in selection.FILTERS}
            )
            selection.selection_check(chosen)
            selection.pdf_check(chosen, options["format"])
        except ValidationError as exc:
            raise command_error(exc) from None
        out: Path = options["out"]
        if not out.parent.is_dir():
            raise CommandError(f"--out: the folder {out.parent} does not exist.")
        # Written beside the target and moved into place when complete.
        partial = out.with_name(f".{out.name}.partial")
        try:
            with partial.open("wb") as handle:
                rows = writers.WRITERS[options["format"]](chosen, handle, lambda done: None)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"{rows} record{'s' if rows != 1 else ''} written to {out}.")
