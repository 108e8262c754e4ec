"""Template tags for what the workbench keeps of the web: a source's archive, a claim's
passage alerts, and a word diff. Each reads once per call, not once per row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString

from annotations.archiving.selectors import archives_for
from annotations.core.words import words_changed
from annotations.models import PassageAlert, SourceArchive

register = template.Library()

# Longer texts are not diffed on a page (difflib's time grows with their product).
DIFF_CHARS = 200_000


@register.simple_tag
def source_archives(sources: Iterable[Any], organization_id: int) -> dict[str, SourceArchive]:
    """The newsroom's archives of these sources' addresses, by address: one query."""
    return archives_for(organization_id, [source.url for source in sources])


@register.filter
def archive_of(archives: dict[str, SourceArchive], url: str) -> SourceArchive | None:
    return archives.get(url)


@register.simple_tag
def passage_alerts(claim: Any) -> list[PassageAlert]:
    """The claim's passage alerts, unseen first, then newest."""
    if getattr(claim, "pk", None) is None:
        return []
    return list(
        PassageAlert.objects.filter(claim_id=claim.pk)
        .select_related("article", "seen_by")
        .order_by("seen_at", "-created_at")[:10]
    )


@register.simple_tag
def word_diff(old: str, new: str) -> tuple[SafeString, SafeString] | None:
    """Both texts with the changed words marked (core.words), or None when too long."""
    if len(old) + len(new) > DIFF_CHARS:
        return None
    return words_changed(old, new)
