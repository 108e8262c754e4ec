"""Articles imported from their addresses: a job of URLs, fetched and stored one by one.

The browser's form, the members' API, `import_articles --url` and a feed's new
items all start the same FetchJob; a Celery task fetches each address with the
vetted client (importing.fetching), and stores the article through
article_import, so the same URL twice is the same article and a changed text
its next version. Each address is stored with its job's progress in one
transaction: a worker that dies mid-job leaves nothing half-written, and the
next one resumes at the address after the last one stored.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from annotations.core import web
from annotations.core.inputs import describe_error
from annotations.core.permissions import require_editor
from annotations.importing import fetching
from annotations.importing.services import (
    ArticleOutcome,
    ImportStatus,
    article_import,
    job_run_recorded,
)
from annotations.jobs.enqueue import enqueue
from annotations.models import ArticlePage, Collection, Feed, FeedItem, FetchJob, JobStatus

FAILED = "failed"


def addresses_clean(raw: Iterable[str]) -> list[str]:
    """The addresses to import, normalized (fetching.page_address), each once, in order.

    Raises ValidationError on "urls", naming each address that cannot be fetched.
    """
    urls: list[str] = []
    problems: list[str] = []
    for value in raw:
        value = value.strip()
        if not value:
            continue
        url = fetching.page_address(value)
        if url is None:
            problems.append(f"{value[:200]!r} is not an http(s) address")
            continue
        if len(url) > 2000:
            problems.append(f"{value[:60]!r}… is longer than 2,000 characters")
            continue
        host = urllib.parse.urlsplit(url).hostname or ""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        # Names are checked as they are connected to; an address written out is refused now.
        if literal is not None and web.refused(
            str(literal), allow_private=settings.WORKBENCH_FETCH_PRIVATE_ADDRESSES
        ):
            problems.append(
                f"{url} is a private or reserved address: "
                "pages are fetched from public addresses only"
            )
            continue
        if url not in urls:
            urls.append(url)
    if problems:
        raise ValidationError({"urls": problems})
    if not urls:
        raise ValidationError({"urls": "Give at least one http(s) address, one a line."})
    if len(urls) > settings.WORKBENCH_FETCH_MAX_URLS:
        raise ValidationError(
            {
                "urls": f"{len(urls):,} addresses; one import takes at most "
                f"{settings.WORKBENCH_FETCH_MAX_URLS:,}."
            }
        )
    return urls


def fetch_job_start(
    *,
    collection: Collection,
    user: User | None,
    urls: Iterable[str],
    feed: Feed | None = None,
    send: bool = True,
) -> FetchJob:
    """Queues the import of these addresses into the collection (editors only).

    A feed's job has no user: the feed's editor asked once, when adding it.
    `send=False` leaves the job for the caller to run (import_articles does, in-process).
    """
    if user is not None:
        require_editor(user, collection.organization_id)
    cleaned = addresses_clean(urls)
    with transaction.atomic():
        job = FetchJob.objects.create(
            organization_id=collection.organization_id,
            collection=collection,
            created_by=user,
            feed=feed,
            urls=cleaned,
            total=len(cleaned),
        )
        if send:
            enqueue("annotations.tasks.run_fetch_job", job.pk)
    return job


def page_store(*, collection: Collection, page: fetching.Page) -> ArticleOutcome:
    """Stores a fetched page as an article (or its next version), with its web metadata."""
    with transaction.atomic():
        outcome = article_import(collection=collection, data=page.extracted.article)
        if outcome.status != ImportStatus.UNCHANGED:
            extracted = page.extracted
            ArticlePage.objects.create(
                article=outcome.article,
                requested_url=page.url,
                final_url=page.final_url[:2000],
                canonical_url=extracted.canonical_url,
                site_name=extracted.site_name,
                authors=extracted.authors,
                published_at=extracted.published_at,
                modified_at=extracted.modified_at,
                language=extracted.language,
                http_status=page.status,
                content_type=page.content_type[:100],
                fetched_at=page.fetched_at,
            )
    return outcome


def url_import(*, collection: Collection, url: str) -> ArticleOutcome:
    """Fetches one address and stores its article. Raises fetching.PageError or
    ValidationError (the article_import checks) with the reason."""
    page = fetching.read(url)
    assert page is not None  # an unconditional GET never answers 304
    return page_store(collection=collection, page=page)


def _counted(job: FetchJob, result: dict[str, Any]) -> None:
    job.results = [*job.results, result]
    status = result["status"]
    if status == ImportStatus.CREATED:
        job.created += 1
    elif status == ImportStatus.NEW_VERSION:
        job.new_versions += 1
    elif status == ImportStatus.UNCHANGED:
        job.unchanged += 1
    else:
        job.failed += 1


PROGRESS_FIELDS = ["processed", "results", "created", "new_versions", "unchanged", "failed"]


def fetch_job_run(*, job: FetchJob) -> dict[str, Any]:
    """Imports a job's addresses, from where it stopped; the job says how each went."""
    FetchJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now(), attempts=F("attempts") + 1
    )
    job.refresh_from_db()
    collection = job.collection

    def fetch_all() -> None:
        for index in range(job.processed, len(job.urls)):
            url = job.urls[index]
            page: fetching.Page | None = None
            result: dict[str, Any] = {"url": url, "status": FAILED, "article": None, "error": ""}
            try:
                page = fetching.read(url)
            except fetching.PageError as exc:
                result["error"] = exc.reason
            with transaction.atomic():
                if page is not None:
                    try:
                        outcome = page_store(collection=collection, page=page)
                    except ValidationError as exc:
                        result["error"] = describe_error(exc)
                    except DatabaseError as exc:
                        result["error"] = f"the database refused it ({exc.__class__.__name__})"
                    else:
                        result |= {"status": str(outcome.status), "article": outcome.article.pk}
                        if job.feed_id is not None:
                            FeedItem.objects.filter(
                                feed_id=job.feed_id, url=url, article__isnull=True
                            ).update(article=outcome.article)
                            if outcome.status == ImportStatus.CREATED:
                                Feed.objects.filter(pk=job.feed_id).update(
                                    items_imported=F("items_imported") + 1
                                )
                _counted(job, result)
                job.processed = index + 1
                job.heartbeat_at = timezone.now()
                job.save(update_fields=[*PROGRESS_FIELDS, "heartbeat_at"])

    job_run_recorded(job, fetch_all)
    return {
        "status": job.status,
        "created": job.created,
        "new_versions": job.new_versions,
        "unchanged": job.unchanged,
        "failed": job.failed,
    }
