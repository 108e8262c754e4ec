"""Reads of archived sources, scoped by newsroom."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from annotations.core.permissions import AnyUser, archives_visible
from annotations.models import SourceArchive


def archives_of(user: AnyUser) -> QuerySet[SourceArchive]:
    """The archives the user may read (core.permissions.archives_visible)."""
    return archives_visible(user, SourceArchive.objects.all())


def archives_for(organization_id: int, urls: Iterable[str]) -> dict[str, SourceArchive]:
    """A newsroom's archives of these addresses, by address, without their text (one query)."""
    wanted = {url for url in urls if url}
    if not wanted:
        return {}
    rows = SourceArchive.objects.filter(organization_id=organization_id, url__in=wanted).defer(
        "text"
    )
    return {archive.url: archive for archive in rows}
