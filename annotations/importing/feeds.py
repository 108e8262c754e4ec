"""Feeds: an RSS or Atom feed on a collection imports its new items by itself.

celery beat's `feeds_cycle` sends the feeds that are due (every
WORKBENCH_FEED_INTERVAL_MINUTES, not paused) to the workers. A reading is a
conditional request through the vetted client; feedparser reads the feed,
and each item is known by its id (its link when it has none) and by its
address: an item seen before, or whose address is already an article of the
collection, is not imported again. The new ones, at most
WORKBENCH_FEED_MAX_ITEMS a reading, become one import job (by_url), whose
progress and errors show like any other. A feed that cannot be read keeps
its last error, with its time, on the collection page, and is read again
later, twice as long after each failure in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import feedparser
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotations.core.permissions import require_editor
from annotations.importing import fetching
from annotations.importing.by_url import addresses_clean, fetch_job_start
from annotations.jobs.enqueue import enqueue
from annotations.models import Article, Collection, Feed, FeedItem, FetchJob

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/x-rss+xml",
        "application/x-atom+xml",
        "application/xml",
        "text/xml",
        # Servers that do not know better.
        "text/plain",
        "application/octet-stream",
    }
)
# What feedparser flags but reads correctly: a feed served as text/plain (FEED_TYPES
# lets it in on purpose), or one whose declared encoding it had to correct.
HARMLESS = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
# A feed that keeps failing is read at most this rarely.
MAX_BACKOFF_HOURS = 24
# A feed sent to a worker is left alone by the next cycles this long.
LEASE_MINUTES = 10


def feed_add(*, collection: Collection, user: User, url: str) -> Feed:
    """A feed on the collection (editors), read at once and then every interval."""
    require_editor(user, collection.organization_id)
    try:
        (address,) = addresses_clean([url])
    except ValidationError as exc:
        raise ValidationError({"url": exc.message_dict["urls"]}) from None
    if Feed.objects.filter(collection=collection, url=address).exists():
        raise ValidationError({"url": "This collection already reads this feed."})
    try:
        with transaction.atomic():
            feed = Feed.objects.create(
                organization_id=collection.organization_id,
                collection=collection,
                url=address,
                created_by=user,
                next_fetch_at=timezone.now(),
            )
            enqueue("annotations.tasks.feed_fetch", feed.pk)
    except IntegrityError:
        raise ValidationError({"url": "This collection already reads this feed."}) from None
    return feed


def feed_pause(*, feed: Feed, user: User, paused: bool) -> Feed:
    """Pauses the feed, or reads it again from now on (editors)."""
    require_editor(user, feed.organization_id)
    feed.paused = paused
    if not paused:
        feed.next_fetch_at = timezone.now()
        feed.failures = 0
    feed.save(update_fields=["paused", "next_fetch_at", "failures"])
    if not paused:
        enqueue("annotations.tasks.feed_fetch", feed.pk)
    return feed


def feed_delete(*, feed: Feed, user: User) -> None:
    """Stops reading the feed; the articles it brought stay."""
    require_editor(user, feed.organization_id)
    feed.delete()


def _interval() -> timedelta:
    return timedelta(minutes=settings.WORKBENCH_FEED_INTERVAL_MINUTES)


def _failed(feed: Feed, reason: str, now: datetime) -> FeedReading:
    failures = feed.failures + 1
    wait = min(_interval() * 2 ** (failures - 1), timedelta(hours=MAX_BACKOFF_HOURS))
    Feed.objects.filter(pk=feed.pk).update(
        last_fetched_at=now,
        last_error=reason,
        last_error_at=now,
        failures=failures,
        next_fetch_at=now + wait,
    )
    return FeedReading("failed", reason=reason)


@dataclass(frozen=True)
class FeedReading:
    """What one reading did: "read" (with `new` items queued), "unchanged", "failed" or
    "skipped" (paused or gone)."""

    status: str
    new: int = 0
    job: FetchJob | None = None
    reason: str = ""


def _items(parsed: Any) -> list[tuple[str, str, str]]:
    """(id, address, title) of each item with an http(s) link, as the feed lists them."""
    items: list[tuple[str, str, str]] = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        url = fetching.page_address(link) if isinstance(link, str) else None
        if url is None or len(url) > 2000:
            continue
        guid = str(entry.get("id") or url)[:2000]
        title = " ".join(str(entry.get("title") or "").split())[:500]
        items.append((guid, url, title))
    return items


def fetchable_items(urls: list[str]) -> tuple[list[str], list[str]]:
    """The items' addresses that may be fetched, and why each other one may not: an item
    at a private network's address is named in the feed's error, and the others are
    imported all the same (one such item must not bury the stories beside it)."""
    fetchable: list[str] = []
    refusals: list[str] = []
    for url in urls:
        try:
            addresses_clean([url])
        except ValidationError as exc:
            refusals.extend(exc.messages)
        else:
            fetchable.append(url)
    return fetchable, refusals


def feed_fetch(feed_id: int) -> FeedReading:
    """Reads a feed once and queues the import of its new items."""
    feed = Feed.objects.select_related("collection").filter(pk=feed_id).first()
    if feed is None or feed.paused:
        return FeedReading("skipped")
    now = timezone.now()
    try:
        answer = fetching.get(
            feed.url, etag=feed.etag, last_modified=feed.last_modified, content_types=FEED_TYPES
        )
    except fetching.PageError as exc:
        return _failed(feed, exc.reason, now)
    if answer.status == 304:
        Feed.objects.filter(pk=feed.pk).update(
            last_fetched_at=now, last_error="", failures=0, next_fetch_at=now + _interval()
        )
        return FeedReading("unchanged")
    parsed = feedparser.parse(
        answer.body,
        response_headers={
            "content-type": answer.header("content-type"),
            "content-location": answer.url,
        },
        sanitize_html=False,
        resolve_relative_uris=True,
    )
    problem = ""
    if parsed.bozo and not isinstance(parsed.get("bozo_exception"), HARMLESS):
        problem = f"the feed is not well-formed XML ({parsed.get('bozo_exception')})"
        if not parsed.entries:
            return _failed(feed, problem, now)
        problem += "; its items were read anyway"
    elif not parsed.version:
        return _failed(feed, "this is not an RSS or Atom feed", now)
    items = _items(parsed)[: settings.WORKBENCH_FEED_MAX_ITEMS]
    known_ids = set(
        FeedItem.objects.filter(feed=feed, guid__in=[g for g, _, _ in items]).values_list(
            "guid", flat=True
        )
    )
    fresh = [(g, u, t) for g, u, t in items if g not in known_ids]
    urls = [u for _, u, _ in fresh]
    known_urls = set(
        FeedItem.objects.filter(feed=feed, url__in=urls).values_list("url", flat=True)
    ) | set(
        Article.objects.filter(collection_id=feed.collection_id, url__in=urls).values_list(
            "url", flat=True
        )
    )
    to_import: list[str] = []
    job: FetchJob | None = None
    with transaction.atomic():
        FeedItem.objects.bulk_create(
            [FeedItem(feed=feed, guid=g, url=u, title=t) for g, u, t in fresh],
            ignore_conflicts=True,
        )
        for _, url, _ in fresh:
            if url not in known_urls and url not in to_import:
                to_import.append(url)
        to_import, refusals = fetchable_items(to_import)
        if refusals:
            problem = "; ".join(filter(None, [problem, *refusals]))[:500]
        if to_import:
            try:
                job = fetch_job_start(
                    collection=feed.collection, user=None, urls=to_import, feed=feed
                )
            except ValidationError as exc:
                problem = "; ".join(filter(None, [problem, *exc.messages]))[:500]
                to_import = []
        Feed.objects.filter(pk=feed.pk).update(
            title=" ".join(str(parsed.feed.get("title") or "").split())[:300] or feed.title,
            last_fetched_at=now,
            last_error=problem,
            last_error_at=now if problem else feed.last_error_at,
            failures=0,
            etag=answer.header("etag")[:500],
            last_modified=answer.header("last-modified")[:100],
            next_fetch_at=now + _interval(),
        )
    return FeedReading("read", new=len(to_import), job=job, reason=problem)


def feeds_due(now: datetime | None = None, *, limit: int = 500) -> list[int]:
    """Feeds to read now, held for a while so that the next cycle does not send them twice."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Feed.objects.filter(paused=False, next_fetch_at__lte=now)
        ids = list(due.order_by("next_fetch_at").values_list("pk", flat=True)[:limit])
        Feed.objects.filter(pk__in=ids).update(next_fetch_at=now + timedelta(minutes=LEASE_MINUTES))
    return ids


def feeds_cycle() -> int:
    """celery beat's: every due feed sent to be read; how many."""
    ids = feeds_due()
    for pk in ids:
        enqueue("annotations.tasks.feed_fetch", pk)
    return len(ids)
