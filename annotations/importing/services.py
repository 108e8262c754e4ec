"""Articles in: one article, a file of them, and the upload jobs that import many."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotations.core.inputs import (
    MAX_URL,
    ArticleInput,
    ParseError,
    describe_error,
    unstorable,
    web_address,
)
from annotations.core.permissions import require_editor
from annotations.core.text import content_hash, normalize_text
from annotations.importing.claims_job import claims_job_import, stored_label
from annotations.importing.parsers import (
    ARTICLE_SUFFIXES,
    count_lines,
    first_line,
    jsonl_kind,
    parse_article_data,
)
from annotations.jobs.enqueue import enqueue
from annotations.models import Article, Collection, FetchJob, ImportJob, ImportKind, JobStatus


class ImportStatus(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    NEW_VERSION = "new version"


@dataclass(frozen=True)
class ArticleOutcome:
    article: Article
    status: ImportStatus


def article_import(*, collection: Collection, data: ArticleInput) -> ArticleOutcome:
    """Stores one article as an immutable text snapshot.

    Identical content changes nothing; a changed text for a URL already in the
    collection becomes that article's next version.
    """
    text = normalize_text(data.text)
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = "The article has no text."
    elif len(text) > settings.WORKBENCH_MAX_ARTICLE_CHARS:
        errors["text"] = (
            f"The article has {len(text):,} characters; "
            f"the limit is {settings.WORKBENCH_MAX_ARTICLE_CHARS:,}."
        )
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = "The article needs a title."
    elif len(title) > 500:
        errors["title"] = "The title is longer than 500 characters."
    # Stored normalized (core.inputs.web_address): one spelling per address.
    url = web_address(data.url) if data.url else ""
    if url is None:
        errors["url"] = f"{data.url!r} is not an http(s) address."
    elif len(url) > MAX_URL:
        errors["url"] = f"The address is longer than {MAX_URL:,} characters."
    for name, limit in (("publisher", 200), ("author", 200), ("language", 16)):
        if len(getattr(data, name)) > limit:
            errors[name] = f"Longer than {limit} characters."
    for name in ("title", "text", "url", "publisher", "author", "language", "html"):
        if unstorable(getattr(data, name)):
            errors[name] = "Contains a NUL or an unpaired surrogate character."
    if errors:
        raise ValidationError(errors)
    assert url is not None

    digest = content_hash(text)
    with transaction.atomic():
        # The collection's row is the lock: two imports into it queue up, so
        # they cannot both claim the same next version number.
        Collection.objects.select_for_update().filter(pk=collection.pk).first()
        same = Article.objects.filter(collection=collection, url=url)
        latest = (
            same.order_by("-version").first() if url else same.filter(content_hash=digest).first()
        )
        if latest is not None and latest.content_hash == digest:
            return ArticleOutcome(latest, ImportStatus.UNCHANGED)
        try:
            article = Article.objects.create(
                organization=collection.organization,
                collection=collection,
                title=title,
                url=url,
                publisher=data.publisher.strip(),
                author=data.author.strip(),
                published_at=data.published_at,
                language=data.language.strip(),
                text=text,
                html=data.html,
                content_hash=digest,
                version=latest.version + 1 if latest else 1,
                previous_version=latest,
            )
        except IntegrityError:
            raise ValidationError(
                {"url": "Another import of this article finished at the same time; try again."}
            ) from None
    if latest is not None:
        # The claims of the previous version follow the text to this one.
        enqueue("annotations.tasks.reanchor_version", article.pk)
    return ArticleOutcome(article, ImportStatus.NEW_VERSION if latest else ImportStatus.CREATED)


@dataclass
class ImportReport:
    """What an import did, line by line; `errors` name the file and the line."""

    outcomes: list[ArticleOutcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, status: ImportStatus) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def articles_import(*, collection: Collection, files: Iterable[tuple[str, bytes]]) -> ImportReport:
    """Imports every article of every (name, content) file.

    Bad files and lines are reported by name and line; the good ones are kept.
    """
    report = ImportReport()
    for name, data in files:
        for line, parsed in parse_article_data(name, data):
            where = f"{name}:{line}" if line else name
            if isinstance(parsed, ParseError):
                report.errors.append(f"{where}: {parsed.message}")
                continue
            try:
                report.outcomes.append(article_import(collection=collection, data=parsed))
            except ValidationError as exc:
                report.errors.append(f"{where}: {describe_error(exc)}")
            except DatabaseError as exc:
                # One record the database refuses must not stop the others.
                report.errors.append(f"{where}: the database refused it ({exc.__class__.__name__})")
    return report


def job_run_recorded(job: ImportJob | FetchJob, work: Callable[[], object]) -> None:
    """Runs a job's work and records how it ended: done, or failed with the reason (and
    the error raised again, for the worker's log)."""
    try:
        work()
    except Exception as exc:
        job.status = JobStatus.FAILED
        job.failure = f"{exc.__class__.__name__}: {exc}"
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "failure", "finished_at"])
        raise
    job.status = JobStatus.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])


def import_job_run(*, job: ImportJob) -> dict[str, Any]:
    """Imports a job's uploaded files: articles file by file, claims batch by batch,
    recording progress as it goes."""
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now(), attempts=F("attempts") + 1
    )
    if job.kind == ImportKind.CLAIMS:
        job_run_recorded(job, lambda: claims_job_import(job=job))
    else:
        job_run_recorded(job, lambda: _articles_job_import(job))
    return {
        "status": job.status,
        "created": job.created,
        "new_versions": job.new_versions,
        "unchanged": job.unchanged,
        "skipped": job.skipped,
        "errors": job.errors,
    }


def _articles_job_import(job: ImportJob) -> None:
    for index, name in enumerate(job.files):
        if index < job.processed:
            continue
        with default_storage.open(name, "rb") as handle:
            report = articles_import(
                collection=job.collection, files=[(stored_label(name), handle.read())]
            )
        job.processed = index + 1
        job.created += report.count(ImportStatus.CREATED)
        job.new_versions += report.count(ImportStatus.NEW_VERSION)
        job.unchanged += report.count(ImportStatus.UNCHANGED)
        job.errors = [*job.errors, *report.errors]
        job.heartbeat_at = timezone.now()
        job.save(
            update_fields=[
                "processed",
                "created",
                "new_versions",
                "unchanged",
                "errors",
                "heartbeat_at",
            ]
        )
        default_storage.delete(name)


def short_name(name: str | None) -> str:
    """A safe file name of at most 60 characters that keeps its type (.txt, .jsonl).

    Only letters, digits, "-", "_" and "." survive: no path separator, NUL or
    "..", so the name we store under stays inside the job's folder.
    """
    suffix = Path(name or "").suffix.lower()
    stem = re.sub(r"[^\w-]+", "_", Path(name or "").stem, flags=re.ASCII).strip("_")
    return f"{stem[:50] or 'upload'}{suffix if suffix in ARTICLE_SUFFIXES else '.txt'}"


def upload_kind(upload: File[Any]) -> ImportKind:
    """What an uploaded file brings in, judged by its content: a .jsonl whose first
    record is a claim (parsers.jsonl_kind) brings claims; anything else, articles."""
    if Path(upload.name or "").suffix.lower() != ".jsonl":
        return ImportKind.ARTICLES
    upload.seek(0)
    first = first_line(upload)
    upload.seek(0)
    return ImportKind(jsonl_kind(first))


def import_job_start(
    *, collection: Collection, user: User, uploads: Sequence[File[Any]]
) -> ImportJob:
    """Stores uploaded files and queues their import; a worker imports them one by one.

    The files have been checked by content (the upload form); they are stored
    under names the workbench chooses, the uploader's name kept only as a label.
    Files of claims (upload_kind) are imported after the articles they mark,
    so they come on their own: their job's progress counts lines, not files.
    """
    require_editor(user, collection.organization_id)
    kinds = {upload_kind(upload) for upload in uploads}
    if len(kinds) > 1:
        raise ValidationError({"uploads": MIXED_UPLOAD})
    kind = kinds.pop() if kinds else ImportKind.ARTICLES
    with transaction.atomic():
        job = ImportJob.objects.create(
            organization=collection.organization,
            collection=collection,
            created_by=user,
            kind=kind,
        )
        names = [
            default_storage.save(f"imports/{job.pk}/{i:04d}-{short_name(upload.name)}", upload)
            for i, upload in enumerate(uploads)
        ]
        job.files = names
        if kind == ImportKind.CLAIMS:
            total = 0
            for name in names:
                with default_storage.open(name, "rb") as handle:
                    total += count_lines(handle)
            job.total = total
        else:
            job.total = len(names)
        job.save(update_fields=["files", "total"])
        enqueue("annotations.tasks.run_import_job", job.pk)
    return job


MIXED_UPLOAD = (
    "Upload files of claims on their own, once the articles they mark are imported: "
    "these files mix claims with articles."
)
