from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.importing.by_url import fetch_job_run, fetch_job_start
from annotations.importing.services import ImportStatus, articles_import
from annotations.jobs.claiming import job_claim
from annotations.management.base import command_error, organization_from_slug
from annotations.models import Collection, FetchJob
from annotations.newsrooms.services import collection_ensure

DEFAULT_COLLECTION = "inbox"


class Command(BaseCommand):
    help = (
        "Imports articles from .txt (title, blank line, body), .html and .jsonl files, "
        "or fetched from their addresses (--url, as many as you like). "
        "Identical content is skipped; changed text for a known URL becomes a new version. "
        "Bad files, lines or addresses are reported with the reason, the rest is imported, "
        "and the command exits non-zero."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="*", type=Path, metavar="PATH")
        parser.add_argument(
            "--url",
            action="append",
            default=[],
            dest="urls",
            metavar="URL",
            help="an article's address, fetched and extracted (repeat for more)",
        )
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument(
            "--collection",
            default=DEFAULT_COLLECTION,
            help=f"collection slug, created if missing (default: {DEFAULT_COLLECTION})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_from_slug(options["org"])
        try:
            collection, created = collection_ensure(
                organization=organization, slug=options["collection"]
            )
        except ValidationError as exc:
            raise command_error(exc) from None
        if created:
            self.stdout.write(f"Created collection {collection.slug}.")
        if not options["paths"] and not options["urls"]:
            raise CommandError("Give files or folders to import, or --url ADDRESS (or both).")
        if options["urls"]:
            self._fetch(collection, options["urls"])
        if options["paths"]:
            self._import_files(collection, options["paths"])

    def _fetch(self, collection: Collection, urls: list[str]) -> None:
        """The addresses as one import job, run here and now (the job shows on the collection
        page too); each address's outcome printed, failures on stderr."""
        try:
            job = fetch_job_start(collection=collection, user=None, urls=urls, send=False)
        except ValidationError as exc:
            raise command_error(exc) from None
        if job_claim(FetchJob, job.pk):
            fetch_job_run(job=job)
        job.refresh_from_db()
        for result in job.results:
            if result["error"]:
                self.stderr.write(f"{result['url']}: {result['error']}")
            else:
                self.stdout.write(f"{result['status']}: {result['url']}")
        self.stdout.write(
            f"{job.created} created, {job.new_versions} new versions, "
            f"{job.unchanged} unchanged, {job.failed} failed."
        )
        if job.failed:
            raise CommandError(f"{job.failed} address(es) could not be imported.")

    def _import_files(self, collection: Collection, given: list[Path]) -> None:
        paths: list[Path] = []
        for path in given:
            paths.extend(
                sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
            )
        unreadable: list[str] = []
        report = articles_import(collection=collection, files=self._read(paths, unreadable))
        report.errors[:0] = unreadable
        for outcome in report.outcomes:
            self.stdout.write(f"{outcome.status}: {outcome.article}")
        for error in report.errors:
            self.stderr.write(error)
        self.stdout.write(
            f"{report.count(ImportStatus.CREATED)} created, "
            f"{report.count(ImportStatus.NEW_VERSION)} new versions, "
            f"{report.count(ImportStatus.UNCHANGED)} unchanged, {len(report.errors)} errors."
        )
        if report.errors:
            raise CommandError(f"{len(report.errors)} file(s) or line(s) could not be imported.")

    @staticmethod
    def _read(paths: list[Path], unreadable: list[str]) -> Iterator[tuple[str, bytes]]:
        """Each file's bytes, one at a time, so a large import stays small in memory."""
        for path in paths:
            try:
                yield str(path), path.read_bytes()
            except OSError as exc:
                unreadable.append(f"{path}: cannot be read: {exc.strerror}")
