"""Watched articles: fetched again now and then, so that a silent edit is caught.

Every article at a URL with a published (or corrected) verified claim is
watched by default; editors watch or unwatch any article with a URL. celery
beat's `watch_cycle` sends the watches that are due to the workers in
batches; each check is a conditional request (If-None-Match,
If-Modified-Since). A page that did not change (304, or the same text) only
moves the next check on; a changed text becomes the article's next version
through article_import, whose re-anchoring then moves the claims and records
what happened to each (watching.alerts tells the desk and partners). A page
that answers 404 or 410, or whose name no longer resolves, is "gone since";
any other failure is retried later, twice as long after each one in a row.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from annotations.core.inputs import describe_error
from annotations.core.permissions import require_editor
from annotations.importing import fetching
from annotations.importing.by_url import page_store
from annotations.importing.services import ImportStatus
from annotations.jobs.enqueue import enqueue
from annotations.models import (
    Article,
    ArticleWatch,
    Organization,
    VerifiedClaim,
    VerifiedStatus,
    WatchOutcome,
    WatchReason,
)

PUBLIC = (VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED)
# Watches sent to a worker in one task: a cycle over 10,000 articles is 200 messages.
BATCH = 50
# A watch sent to a worker is left alone by the next cycles this long (its check moves
# it on); a message that was lost makes it due again then.
LEASE_MINUTES = 30
# A gone page is looked at this many times less often (it may come back).
GONE_SLOWER = 4


def interval() -> timedelta:
    """The time to the next check, spread by a tenth either way so that checks do not bunch."""
    minutes = settings.WORKBENCH_WATCH_INTERVAL_MINUTES
    return timedelta(minutes=minutes * random.uniform(0.9, 1.1))  # noqa: S311 - spacing


def backoff(failures: int) -> timedelta:
    """After `failures` errors in a row: twice as long each time, capped."""
    base = settings.WORKBENCH_WATCH_INTERVAL_MINUTES * 2 ** max(failures, 0)
    return timedelta(minutes=min(base, settings.WORKBENCH_WATCH_MAX_BACKOFF_HOURS * 60))


def watches_ensure(*, organization: Organization | None = None) -> int:
    """Watches every article at a URL that has a public verified claim and no watch yet.

    An article an editor unwatched keeps its inactive row and is left alone.
    """
    claims = VerifiedClaim.objects.filter(status__in=PUBLIC).exclude(article__url="")
    if organization is not None:
        claims = claims.filter(organization=organization)
    pairs = set(claims.values_list("article__collection_id", "article__url").distinct())
    if not pairs:
        return 0
    known = set(
        ArticleWatch.objects.filter(
            collection_id__in={c for c, _ in pairs}, url__in={u for _, u in pairs}
        ).values_list("collection_id", "url")
    )
    missing = pairs - known
    if not missing:
        return 0
    latest = (
        Article.objects.filter(
            collection_id__in={c for c, _ in missing}, url__in={u for _, u in missing}
        )
        .values("collection_id", "url")
        .annotate(top=Max("version"))
    )
    tops = {(r["collection_id"], r["url"]): r["top"] for r in latest}
    articles = Article.objects.filter(
        Q(*[Q(collection_id=c, url=u, version=v) for (c, u), v in tops.items()], _connector=Q.OR)
    ).only("pk", "organization_id", "collection_id", "url")
    now = timezone.now()
    made = ArticleWatch.objects.bulk_create(
        [
            ArticleWatch(
                organization_id=a.organization_id,
                collection_id=a.collection_id,
                url=a.url,
                article=a,
                reason=WatchReason.PUBLISHED,
                next_check_at=now,
            )
            for a in articles
            if (a.collection_id, a.url) in missing
        ],
        ignore_conflicts=True,
    )
    return len(made)


def watch_set(*, article: Article, user: User, active: bool) -> ArticleWatch:
    """Watches (or stops watching) the article's URL in its collection: editors only."""
    require_editor(user, article.organization_id)
    if not article.url:
        raise ValidationError({"article": "This article has no address to fetch it from."})
    latest = (
        Article.objects.filter(collection_id=article.collection_id, url=article.url)
        .order_by("-version")
        .first()
    ) or article
    watch, created = ArticleWatch.objects.get_or_create(
        collection_id=article.collection_id,
        url=article.url,
        defaults={
            "organization_id": article.organization_id,
            "article": latest,
            "reason": WatchReason.MANUAL,
            "active": active,
            "created_by": user,
            "next_check_at": timezone.now(),
        },
    )
    if not created and watch.active != active:
        watch.active = active
        if active:
            watch.next_check_at = timezone.now()
            watch.failures = 0
        watch.save(update_fields=["active", "next_check_at", "failures"])
    return watch


@dataclass(frozen=True)
class Checked:
    outcome: str
    reason: str = ""


def watch_check(watch: ArticleWatch) -> Checked:
    """Fetches a watched article again (conditionally) and records what it found."""
    now = timezone.now()
    fields: dict[str, object] = {"last_checked_at": now}
    try:
        page = fetching.read(watch.url, etag=watch.etag, last_modified=watch.last_modified)
        outcome = WatchOutcome.UNCHANGED
        if page is not None:
            stored = page_store(collection=watch.collection, page=page)
            fields |= {"etag": page.etag, "last_modified": page.last_modified}
            if stored.status != ImportStatus.UNCHANGED:
                outcome = WatchOutcome.CHANGED
                fields |= {"article": stored.article, "changed_at": now}
    except fetching.PageError as exc:
        if exc.kind == "gone":
            fields |= {
                "last_outcome": WatchOutcome.GONE,
                "last_error": exc.reason,
                "gone_since": watch.gone_since or now,
                "failures": 0,
                "next_check_at": now + interval() * GONE_SLOWER,
            }
            ArticleWatch.objects.filter(pk=watch.pk).update(**fields)
            return Checked(WatchOutcome.GONE, exc.reason)
        failures = watch.failures + 1
        fields |= {
            "last_outcome": WatchOutcome.FAILED,
            "last_error": exc.reason,
            "failures": failures,
            "next_check_at": now + backoff(failures),
        }
        ArticleWatch.objects.filter(pk=watch.pk).update(**fields)
        return Checked(WatchOutcome.FAILED, exc.reason)
    except ValidationError as exc:
        # The page's new text cannot be an article (too long, no title): an error to see.
        failures = watch.failures + 1
        reason = describe_error(exc)
        fields |= {
            "last_outcome": WatchOutcome.FAILED,
            "last_error": reason,
            "failures": failures,
            "next_check_at": now + backoff(failures),
        }
        ArticleWatch.objects.filter(pk=watch.pk).update(**fields)
        return Checked(WatchOutcome.FAILED, reason)
    fields |= {
        "last_outcome": outcome,
        "last_error": "",
        "failures": 0,
        "gone_since": None,
        "next_check_at": now + interval(),
    }
    ArticleWatch.objects.filter(pk=watch.pk).update(**fields)
    return Checked(outcome)


def watches_due(now: datetime | None = None, *, limit: int = 20_000) -> list[int]:
    """Active watches whose check is due, held for LEASE_MINUTES while they are sent."""
    now = now or timezone.now()
    with transaction.atomic():
        due = ArticleWatch.objects.filter(active=True, next_check_at__lte=now)
        ids = list(due.order_by("next_check_at").values_list("pk", flat=True)[:limit])
        ArticleWatch.objects.filter(pk__in=ids).update(
            next_check_at=now + timedelta(minutes=LEASE_MINUTES)
        )
    return ids


def watches_check(ids: list[int]) -> Counter[str]:
    """Checks these watches one after another; how many had each outcome."""
    outcomes: Counter[str] = Counter()
    watches = ArticleWatch.objects.filter(pk__in=ids, active=True).select_related("collection")
    for watch in watches.order_by("pk"):
        outcomes[watch_check(watch).outcome] += 1
    return outcomes


def watch_cycle() -> dict[str, int]:
    """celery beat's: new default watches, then the due ones sent to workers in batches."""
    made = watches_ensure()
    ids = watches_due()
    for start in range(0, len(ids), BATCH):
        enqueue("annotations.tasks.watch_check_batch", ids[start : start + BATCH])
    return {"new": made, "sent": len(ids)}


def refresh(*, organization: Organization) -> list[tuple[str, Checked]]:
    """Every active watch of the newsroom checked now, here (refresh_articles); each
    address with what its check found."""
    watches_ensure(organization=organization)
    watches = ArticleWatch.objects.filter(organization=organization, active=True)
    return [
        (watch.url, watch_check(watch))
        for watch in watches.select_related("collection").order_by("pk")
    ]
