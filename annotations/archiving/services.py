"""Sources archived: every address a claim cites, kept as a WARC record with its text.

A sweep (celery beat, `archive_cycle`) finds the sources saved on reviewers'
claims and verified claims since it last looked, whatever saved them (the
reader, adjudication, the API, an imported file), and asks for one archive
per newsroom and address. A worker fetches it with the vetted client and
stores a WARC file in the exports' storage (local or S3), then, in one
transaction, the archive's status, time, SHA-256 and extracted text: a
failure stores nothing, and says why. An archived source is looked at again
every WORKBENCH_ARCHIVE_RECHECK_HOURS: one that answers 404 or 410, or whose
name no longer resolves, is "gone since" then, and its archive stays.

Confidential sources are not fetched by the sweep (a request from the
newsroom's server could tell whoever watches that address that it is being
read); anyone in the newsroom may archive one on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import Exists, Model, OuterRef, Q
from django.utils import timezone

from annotations.archiving import warc
from annotations.core import web
from annotations.core.permissions import membership_for
from annotations.importing import fetching
from annotations.jobs.enqueue import enqueue
from annotations.models import (
    ArchiveStatus,
    Source,
    SourceArchive,
    SourceCapture,
    SweepCursor,
    VerifiedSource,
)

logger = logging.getLogger(__name__)

# What a source may be: a page, plain text or a PDF (stored; its text is not extracted).
SOURCE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", "application/pdf"})
# Rows read per table by one sweep; a backlog (the first sweep) takes several.
SWEEP_BATCH = 5000
# Ids the tail sweep reads again behind where it stopped: a transaction that took its
# ids before a later one but committed after it is still seen.
LOOKBACK = 1000
# The lap: every table read again from the start once a day, for any row the tail missed.
LAP_HOURS = 24
# A failed capture is tried again after 10 minutes, then twice as long each time.
RETRY_MINUTES = 10
MAX_TRIES = 6
# A worker holds an archive this long at most; then another copy of the task may take it.
LEASE_SECONDS = 120
TEXT_CHARS = 500_000

SWEPT: dict[str, tuple[type[Model], str]] = {
    "sources": (Source, "claim__article__organization_id"),
    "verified-sources": (VerifiedSource, "claim__organization_id"),
}


def _cursor(name: str) -> SweepCursor:
    cursor, _ = SweepCursor.objects.get_or_create(
        name=name, defaults={"lap_started_at": timezone.now()}
    )
    return cursor


def _read(model: type[Model], path: str, after: int) -> list[tuple[int, str, int]]:
    rows = (
        model._default_manager.filter(pk__gt=after, confidential=False)
        .order_by("pk")
        .values_list("pk", "url", path)[:SWEEP_BATCH]
    )
    return list(rows)


def archives_discover() -> list[int]:
    """Asks for an archive of every source address not archived yet; the new archives' ids."""
    pairs: set[tuple[int, str]] = set()
    now = timezone.now()
    for name, (model, path) in SWEPT.items():
        tail = _cursor(f"{name}:tail")
        rows = _read(model, path, max(tail.position - LOOKBACK, 0))
        pairs |= {(org, url) for _, url, org in rows}
        if rows:
            tail.position = max(tail.position, rows[-1][0])
            tail.save(update_fields=["position"])
        lap = _cursor(f"{name}:lap")
        if lap.position < 0 and (lap.lap_started_at or now) < now - timedelta(hours=LAP_HOURS):
            lap.position, lap.lap_started_at = 0, now
        if lap.position >= 0:
            rows = _read(model, path, lap.position)
            pairs |= {(org, url) for _, url, org in rows}
            lap.position = rows[-1][0] if len(rows) == SWEEP_BATCH else -1
            lap.save(update_fields=["position", "lap_started_at"])
    return archives_request(pairs, now=now)


def archives_request(pairs: Iterable[tuple[int, str]], *, now: datetime | None = None) -> list[int]:
    """Archives (pending) for these (newsroom, address) pairs that have none; their ids, sent."""
    now = now or timezone.now()
    wanted = set(pairs)
    if not wanted:
        return []
    known = set(
        SourceArchive.objects.filter(
            organization_id__in={org for org, _ in wanted}, url__in={url for _, url in wanted}
        ).values_list("organization_id", "url")
    )
    missing = wanted - known
    if not missing:
        return []
    with transaction.atomic():
        SourceArchive.objects.bulk_create(
            [
                SourceArchive(organization_id=org, url=url, requested_at=now)
                for org, url in sorted(missing)
            ],
            ignore_conflicts=True,
        )
        ids = list(
            SourceArchive.objects.filter(
                status=ArchiveStatus.PENDING, requested_at=now, attempts=0
            ).values_list("pk", flat=True)
        )
        for pk in ids:
            enqueue("annotations.tasks.archive_source", pk)
    return ids


def archive_again(*, archive: SourceArchive, user: User) -> SourceArchive:
    """Asks for a new capture now (anyone in the newsroom); the earlier ones stay."""
    if membership_for(user, archive.organization_id) is None:
        raise PermissionDenied("Only the newsroom's members can archive its sources.")
    now = timezone.now()
    with transaction.atomic():
        SourceArchive.objects.filter(pk=archive.pk).update(
            status=ArchiveStatus.PENDING,
            requested_at=now,
            attempts=0,
            error="",
            taken_at=None,
            next_check_at=None,
        )
        enqueue("annotations.tasks.archive_source", archive.pk)
    archive.refresh_from_db()
    return archive


def archive_url(*, organization_id: int, url: str, user: User) -> SourceArchive:
    """An archive of this address for the newsroom, asked for now (a confidential source's)."""
    archive, _ = SourceArchive.objects.get_or_create(
        organization_id=organization_id, url=url, defaults={"requested_at": timezone.now()}
    )
    return archive_again(archive=archive, user=user)


def archives_pending(before: datetime) -> list[int]:
    """Archives asked for before then and never taken (their message was lost), sent again
    by the reconciliation; marked as asked for now, so the next one leaves them be."""
    lost = SourceArchive.objects.filter(
        status=ArchiveStatus.PENDING, requested_at__lt=before, taken_at__isnull=True
    )
    ids = list(lost.order_by("pk").values_list("pk", flat=True)[:1000])
    SourceArchive.objects.filter(pk__in=ids).update(requested_at=timezone.now())
    return ids


def archives_due(now: datetime | None = None, *, limit: int = 1000) -> list[int]:
    """Archives to look at again now (a retry, or a check that the source is still there),
    each held for a while so that the next cycle does not send it twice."""
    now = now or timezone.now()
    due = SourceArchive.objects.filter(next_check_at__lte=now).exclude(status=ArchiveStatus.PENDING)
    # Only addresses some claim of the newsroom cites openly: one cited in confidence
    # is fetched when someone asks (archive now), never again by itself, so that
    # whoever watches that address cannot tell it is being read.
    cited_openly = Exists(
        Source.objects.filter(
            url=OuterRef("url"),
            claim__article__organization_id=OuterRef("organization_id"),
            confidential=False,
        )
    ) | Exists(
        VerifiedSource.objects.filter(
            url=OuterRef("url"),
            claim__organization_id=OuterRef("organization_id"),
            confidential=False,
        )
    )
    due = due.filter(cited_openly)
    ids = list(due.order_by("next_check_at").values_list("pk", flat=True)[:limit])
    SourceArchive.objects.filter(pk__in=ids).update(
        next_check_at=now
        + timedelta(seconds=LEASE_SECONDS + settings.WORKBENCH_FETCH_TIMEOUT_SECONDS)
    )
    return ids


def _lease() -> timedelta:
    return timedelta(seconds=LEASE_SECONDS + settings.WORKBENCH_FETCH_TIMEOUT_SECONDS)


def _take(pk: int, now: datetime) -> SourceArchive | None:
    lease = now - _lease()
    taken = SourceArchive.objects.filter(
        Q(taken_at__isnull=True) | Q(taken_at__lt=lease), pk=pk
    ).update(taken_at=now)
    return SourceArchive.objects.filter(pk=pk).first() if taken else None


def _text(answer: web.Answer) -> tuple[str, str]:
    """The title and text shown for a capture: extracted from HTML, as is from plain text."""
    media = answer.media_type
    if media == "application/pdf":
        return "", ""
    try:
        page = fetching.decode(answer)
    except fetching.PageError:
        return "", ""
    if media == "text/plain":
        return "", page[:TEXT_CHARS]
    try:
        extracted = fetching.extract(page, answer.url)
    except fetching.PageError:
        return "", ""
    return extracted.article.title[:500], extracted.article.text[:TEXT_CHARS]


@dataclass(frozen=True)
class Outcome:
    """What one run did: "archived", "alive", "gone", "failed", or "busy" (another worker)."""

    status: str
    reason: str = ""


def _retry_at(now: datetime, tries: int) -> datetime:
    if tries >= MAX_TRIES:
        return now + timedelta(hours=settings.WORKBENCH_ARCHIVE_RECHECK_HOURS)
    return now + timedelta(minutes=RETRY_MINUTES * 2 ** max(tries - 1, 0))


def archive_run(archive_id: int) -> Outcome:
    """Captures the source (asked for, or never captured yet), or checks that it is still there."""
    now = timezone.now()
    archive = _take(archive_id, now)
    if archive is None:
        return Outcome("busy")
    try:
        if archive.status == ArchiveStatus.PENDING or not archive.usable:
            return _capture(archive)
        return _check(archive)
    finally:
        SourceArchive.objects.filter(pk=archive_id).update(taken_at=None)


def _gone(archive: SourceArchive, now: datetime, reason: str, status: int | None) -> dict[str, Any]:
    return {
        "gone_since": archive.gone_since or now,
        "checked_at": now,
        "error": reason,
        "next_check_at": now + timedelta(hours=settings.WORKBENCH_ARCHIVE_RECHECK_HOURS),
        **({"http_status": status} if status is not None and not archive.usable else {}),
    }


def _capture(archive: SourceArchive) -> Outcome:
    now = timezone.now()
    tries = archive.attempts + 1
    current = SourceArchive.objects.filter(pk=archive.pk)
    try:
        answer = fetching.get(archive.url, content_types=SOURCE_TYPES)
    except fetching.PageError as exc:
        fields: dict[str, Any] = {"attempts": tries, "error": exc.reason, "checked_at": now}
        if exc.kind == "gone":
            fields |= _gone(archive, now, exc.reason, exc.status)
        else:
            fields["next_check_at"] = _retry_at(now, tries)
        # A capture kept from before stays the archive; otherwise the source failed.
        fields["status"] = ArchiveStatus.ARCHIVED if archive.usable else ArchiveStatus.FAILED
        current.update(**fields)
        return Outcome("gone" if exc.kind == "gone" else "failed", exc.reason)
    title, text = _text(answer)
    stored = warc.warc_store(
        answer, folder=f"archives/{archive.organization_id}/{archive.pk}", captured_at=now
    )
    try:
        with transaction.atomic():
            SourceCapture.objects.create(
                archive=archive,
                captured_at=now,
                http_status=answer.status,
                content_hash=stored.sha256,
                warc=stored.name,
                final_url=answer.url[:2000],
            )
            current.update(
                status=ArchiveStatus.ARCHIVED,
                attempts=tries,
                archived_at=now,
                http_status=answer.status,
                content_type=answer.media_type[:100],
                content_hash=stored.sha256,
                warc=stored.name,
                final_url=answer.url[:2000],
                title=title,
                text=text,
                error="",
                checked_at=now,
                gone_since=None,
                next_check_at=now + timedelta(hours=settings.WORKBENCH_ARCHIVE_RECHECK_HOURS),
            )
    except DatabaseError:
        # Nothing half-stored: the file no row names goes too.
        default_storage.delete(stored.name)
        raise
    return Outcome("archived")


def _check(archive: SourceArchive) -> Outcome:
    """Is the source still there? Gone (404, 410, no longer resolves) is recorded; the
    archive is not taken again (that is on demand)."""
    now = timezone.now()
    recheck = settings.WORKBENCH_ARCHIVE_RECHECK_HOURS
    current = SourceArchive.objects.filter(pk=archive.pk)
    try:
        fetching.get(archive.url, content_types=None)
    except fetching.PageError as exc:
        if exc.kind == "gone":
            current.update(**_gone(archive, now, exc.reason, exc.status))
            return Outcome("gone", exc.reason)
        # Down for now (a timeout, a 503): not gone; looked at again sooner.
        current.update(
            checked_at=now,
            error=exc.reason,
            next_check_at=now + timedelta(hours=max(recheck // 7, 1)),
        )
        return Outcome("failed", exc.reason)
    current.update(
        checked_at=now,
        gone_since=None,
        error="",
        next_check_at=now + timedelta(hours=recheck),
    )
    return Outcome("alive")


def archive_cycle() -> dict[str, int]:
    """celery beat's: new sources asked for, and archives due sent to be looked at again."""
    new = archives_discover()
    due = archives_due()
    for pk in due:
        enqueue("annotations.tasks.archive_source", pk)
    return {"new": len(new), "due": len(due)}
