"""A thread's comments as HTML, built in Python.

For the same reason as the reader's claim list (annotations/reader/rendering.py):
two hundred comments through the template engine cost more than the rest of
the thread's answer together. Every user string is escaped here, except a
comment's `html`, which was sanitised with nh3 when it was written
(annotations/discussion/text.py). The template's `comment` partial calls this
too, so that one comment and a whole thread always look the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from annotations.models import Comment


@dataclass(frozen=True)
class Urls:
    """The comment addresses with 0 where the comment's id goes, reversed once."""

    history: str
    edit: str
    delete: str

    @classmethod
    def make(cls) -> Urls:
        return cls(
            history=reverse("comment-history", args=[0]),
            edit=reverse("comment-edit", args=[0]),
            delete=reverse("comment-delete", args=[0]),
        )

    @staticmethod
    def of(url: str, pk: int) -> str:
        return url.replace("/0/", f"/{pk}/")


def _time(value: datetime) -> str:
    local = localtime(value)
    shown = escape(date_format(local, "j M, H:i"))
    return f'<time datetime="{date_format(local, "c")}">{shown}</time>'


def comment_html(
    comment: Comment, *, viewer_id: int | None, csrf_token: str, back: str, urls: Urls
) -> str:
    """One `<li>` of a thread: who and when, the quote and words, and for its author the
    buttons to edit and delete it (htmx, and plain forms without JavaScript)."""
    pk = comment.pk
    parts = [
        f'<li class="comment{" deleted" if comment.is_deleted else ""}" id="comment-{pk}">',
        '<p class="comment-meta"><strong class="comment-author">'
        f"{escape(comment.author.get_username())}</strong> {_time(comment.created_at)}",
    ]
    if comment.edited_at and not comment.is_deleted:
        # The earlier versions load under the comment, on demand.
        parts.append(
            f' · <button type="button" class="link" hx-get="{Urls.of(urls.history, pk)}" '
            f'hx-target="#comment-{pk}-history" aria-label="Edited: show the earlier versions">'
            "edited</button>"
        )
    parts.append("</p>")
    if comment.is_deleted:
        parts.append('<p class="muted comment-deleted">Deleted.</p>')
    else:
        if comment.quote:
            parts.append(f'<blockquote class="comment-quote">{escape(comment.quote)}</blockquote>')
        parts.append(f'<div class="comment-text">{comment.html}</div>')
        if viewer_id is not None and comment.author_id == viewer_id:
            delete = Urls.of(urls.delete, pk)
            parts.append(
                '<div class="comment-actions">'
                f'<button type="button" class="link" hx-get="{Urls.of(urls.edit, pk)}" '
                f'hx-target="#comment-{pk}" hx-swap="outerHTML" aria-label="Edit your comment">'
                "Edit</button>"
                f'<form method="post" action="{delete}" hx-post="{delete}" '
                f'hx-target="#thread-{comment.thread_id}" hx-swap="outerHTML" class="inline">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
                f'<input type="hidden" name="next" value="{escape(back)}">'
                '<button type="submit" class="link danger" aria-label="Delete your comment">'
                "Delete</button></form></div>"
            )
    parts.append(f'<div id="comment-{pk}-history" class="comment-history"></div></li>')
    return "".join(parts)


def comments_html(
    comments: Iterable[Comment], *, viewer_id: int | None, csrf_token: str, back: str
) -> SafeString:
    urls = Urls.make()
    return mark_safe(  # noqa: S308 - every user string above is escaped or nh3-sanitised
        "".join(
            comment_html(c, viewer_id=viewer_id, csrf_token=csrf_token, back=back, urls=urls)
            for c in comments
        )
    )
