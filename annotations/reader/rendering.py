"""HTML for the reader's text: paragraphs of segments under highlights.

Built with plain string joins rather than a template loop: a 20,000-word
article with a thousand claims is a few thousand segments, and this is the
hot path of the screen reviewers live in. Every piece of text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from annotations.core.highlights import Paragraph, Span, segment
from annotations.core.text import text_direction


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """The columns of a claim the reader shows; loaded without building models."""

    id: int
    start: int
    end: int
    quote: str
    note: str
    rating: int | None
    verdict_id: int | None
    reviewer_id: int
    source_count: int = 0

    FIELDS = (
        "id",
        "start",
        "end",
        "quote",
        "note",
        "rating",
        "verdict_id",
        "reviewer_id",
        "source_count",
    )


@dataclass(frozen=True, slots=True)
class ClaimLook:
    """What the text needs to know of a claim to draw it."""

    id: int
    start: int
    end: int
    verdict_id: int | None
    reviewer_index: int
    own: bool


def _mark_classes(claim: ClaimLook, depth: int) -> str:
    verdict = f"v{claim.verdict_id}" if claim.verdict_id else "todo"
    return f"hl {verdict} r{claim.reviewer_index % 6} d{min(depth, 3)}"


def render_paragraph(
    text: str, paragraph: Paragraph, looks: dict[int, ClaimLook], oob: bool = False
) -> str:
    # oob: sent after a save, htmx swaps the paragraph in place by its id.
    swap = ' hx-swap-oob="true"' if oob else ""
    # Each paragraph reads in its own direction: an Arabic paragraph quoted in
    # an English article runs right to left (what dir="auto" does, decided here
    # so the page is the same with or without the browser's guess).
    direction = text_direction(text[paragraph.start : paragraph.end], default="")
    dir_attr = f' dir="{direction}"' if direction else ""
    parts = [f'<p id="p{paragraph.index}" data-p="{paragraph.index}"{dir_attr}{swap}>']
    for seg in paragraph.segments:
        # An empty anchor where each claim starts: links from the claim list
        # land there, with or without JavaScript.
        for claim_id in seg.claims:
            if looks[claim_id].start == seg.start:
                parts.append(f'<a class="anchor" id="c{claim_id}"></a>')
        body = escape(text[seg.start : seg.end])
        if not seg.claims:
            parts.append(f'<span data-s="{seg.start}">{body}</span>')
            continue
        innermost = looks[seg.claims[-1]]
        ids = " ".join(map(str, seg.claims))
        parts.append(
            f'<mark class="{_mark_classes(innermost, len(seg.claims))}" '
            f'data-s="{seg.start}" data-c="{ids}">{body}</mark>'
        )
    parts.append("</p>")
    return "".join(parts)


def render_text(
    text: str, looks: Sequence[ClaimLook], only: Iterable[int] | None = None
) -> list[tuple[int, SafeString]]:
    """(paragraph index, HTML) for every paragraph of the text, or `only` these."""
    by_id = {look.id: look for look in looks}
    paragraphs = segment(text, (Span(c.id, c.start, c.end) for c in looks))
    oob = only is not None
    if only is not None:
        wanted = set(only)
        paragraphs = [p for p in paragraphs if p.index in wanted]
    # Every piece of text is escaped in render_paragraph.
    return [(p.index, mark_safe(render_paragraph(text, p, by_id, oob))) for p in paragraphs]  # noqa: S308


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class ClaimListView:
    """What the claim list needs besides the claims: names, colours, who may act."""

    verdict_names: dict[int, str]
    reviewer_names: dict[int, str]
    reviewer_index: dict[int, int]
    viewer_id: int
    can_write: bool
    sees_all: bool
    # URLs with 0 where the claim's id goes, built once rather than per claim.
    edit_url: str
    delete_url: str


def _claim_item(row: ClaimRow, view: ClaimListView) -> str:
    quote = escape(_truncate(row.quote, 160))
    if row.verdict_id is not None:
        verdict = (
            f'<span class="verdict v{row.verdict_id}">'
            f"{escape(view.verdict_names.get(row.verdict_id, ''))}</span>"
        )
    else:
        verdict = '<span class="verdict todo">To check</span>'
    meta = [verdict]
    if row.rating is not None:
        meta.append(f'<span class="muted">rating {row.rating}</span>')
    sources = "no source" if not row.source_count else f"{row.source_count} source"
    meta.append(f'<span class="muted">{sources}{"s" if row.source_count > 1 else ""}</span>')
    if view.sees_all:
        colour = view.reviewer_index.get(row.reviewer_id, 0) % 6
        name = escape(view.reviewer_names.get(row.reviewer_id, ""))
        meta.append(f'<span class="reviewer"><span class="chip r{colour}"></span>{name}</span>')
    own = ' data-own=""' if row.reviewer_id == view.viewer_id else ""
    parts = [
        f'<li id="item-{row.id}" class="claim-item{"" if row.verdict_id else " to-check"}" '
        f'data-claim="{row.id}" data-start="{row.start}" data-end="{row.end}"{own}>'
        f'<a class="claim-link" href="#c{row.id}" data-claim="{row.id}"><q>{quote}</q></a>'
        f'<div class="claim-meta">{"".join(meta)}</div>'
    ]
    if row.note:
        parts.append(f'<p class="claim-note">{escape(_truncate(row.note, 200))}</p>')
    if view.can_write and row.reviewer_id == view.viewer_id:
        short = escape(_truncate(row.quote, 40))
        edit = view.edit_url.replace("/0/", f"/{row.id}/")
        delete = view.delete_url.replace("/0/", f"/{row.id}/")
        parts.append(
            '<div class="claim-actions">'
            f'<button type="button" class="link" hx-get="{edit}" hx-target="#claim-form" '
            f'hx-swap="outerHTML" aria-label="Edit claim “{short}”">Edit</button>'
            f'<button type="button" class="link danger" hx-post="{delete}" '
            f'hx-target="#claim-form" hx-swap="outerHTML" '
            f'aria-label="Delete claim “{short}”">Delete</button></div>'
        )
    parts.append("</li>")
    return "".join(parts)


def render_claim_list(rows: Sequence[ClaimRow], view: ClaimListView) -> SafeString:
    """The side panel's items, in reading order; every user string is escaped.

    Built in Python for the same reason as the text: a thousand items through
    the template engine cost more than the rest of the page together.
    """
    if not rows:
        empty = (
            "No claims yet. Select a passage in the text to mark one."
            if view.can_write
            else "No claims."
        )
        return mark_safe(f'<li class="empty">{empty}</li>')  # noqa: S308 - constant text
    return mark_safe("".join(_claim_item(row, view) for row in rows))  # noqa: S308
