"""The discussion's partials, put on pages that do not know about it: the reader's side
panel, adjudication, the verified claim's page, and the queue's requests for changes.

Each page only includes a tag; the tag reads what its user may see. On a page
with several panels (adjudication: one per unit) the article's threads are
read once and shared out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest

from annotations.core.permissions import (
    claims_discussable,
    may_request_changes,
    membership_for,
)
from annotations.discussion.rendering import comments_html
from annotations.discussion.selectors import (
    ThreadView,
    article_threads,
    open_requests_for,
    poll_stamp,
    requests_sent_by,
)
from annotations.discussion.text import plain_excerpt
from annotations.models import Article, ClaimAnnotation, Comment, VerifiedClaim

register = template.Library()

PANEL = "annotations/discussion/threads.html#panel"


# A page that has read the user's membership already passes it on (the reader).
UNKNOWN: Any = object()


def _cache(request: HttpRequest, article: Article, membership: Any = UNKNOWN) -> dict[str, Any]:
    """What every panel of this page shares: the article's threads the user may see, read
    once, and whether the page's script and styles are in yet."""
    caches: dict[int, dict[str, Any]] = request.__dict__.setdefault("_discussion", {})
    if article.pk not in caches:
        user = request.user
        assert isinstance(user, User)
        if membership is UNKNOWN:
            membership = membership_for(user, article.organization_id)
        caches[article.pk] = {
            "threads": article_threads(user, article, claims=None, verified=None),
            "stamp": poll_stamp(user, article),
            "may_request": may_request_changes(membership),
            "panels": 0,
        }
    return caches[article.pk]


def _panel(
    context: template.Context,
    article: Article,
    *,
    scope: str,
    key: str,
    title: str,
    threads: list[ThreadView],
    targets: Sequence[tuple[str, str]],
    accepts: str,
) -> dict[str, Any]:
    request: HttpRequest = context["request"]
    shared = _cache(request, article)
    shared["panels"] += 1
    return {
        "panel": {
            "id": key,
            "scope": scope,
            "title": title,
            "article": article,
            "threads": threads,
            "targets": list(targets),
            "accepts": accepts,
            "stamp": shared["stamp"],
            "first": shared["panels"] == 1,
            "poll_seconds": settings.WORKBENCH_DISCUSSION_POLL_SECONDS,
            "may_request": shared["may_request"] and scope in {"reader", "unit"},
            "quote": scope == "reader",
            "next": request.get_full_path(),
        },
        "viewer": request.user,
        "may_request": shared["may_request"],
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.inclusion_tag(PANEL, takes_context=True)
def discussion_reader(
    context: template.Context, article: Article, membership: Any = UNKNOWN
) -> dict[str, Any]:
    """The reader's side panel: the article's threads and those on the claims the user
    may see; a new thread is about the article, or (keyboard `c`, or a claim's
    "Discuss") the current claim. `membership`: the user's, if the page has it."""
    shared = _cache(context["request"], article, membership)
    threads = [tv for tv in shared["threads"] if tv.thread.verified_id is None]
    return _panel(
        context,
        article,
        scope="reader",
        key="reader",
        title="Discussion",
        threads=threads,
        targets=[("article", "the article")],
        accepts="article claim-*",
    )


@register.inclusion_tag(PANEL, takes_context=True)
def discussion_article(context: template.Context, article: Article) -> dict[str, Any]:
    """The threads about the article as a whole (top of the adjudication page)."""
    threads = [
        tv for tv in _cache(context["request"], article)["threads"] if tv.target == "article"
    ]
    return _panel(
        context,
        article,
        scope="article",
        key="article",
        title="Discussion of the article",
        threads=threads,
        targets=[("article", "the article")],
        accepts="article",
    )


@register.inclusion_tag(PANEL, takes_context=True)
def discussion_unit(
    context: template.Context,
    article: Article,
    claims: Sequence[ClaimAnnotation],
    verified: VerifiedClaim | None = None,
    index: int = 0,
) -> dict[str, Any]:
    """One adjudication unit's threads: on each reviewer's claim of it, and on its
    verified claim once there is one."""
    request: HttpRequest = context["request"]
    discussable = set(
        claims_discussable(
            request.user, ClaimAnnotation.objects.filter(pk__in=[c.pk for c in claims])
        ).values_list("pk", flat=True)
    )
    targets = [
        (f"claim-{c.pk}", f"{c.reviewer.get_username()}'s claim “{plain_excerpt(c.quote, 50)}”")
        for c in claims
        if c.pk in discussable
    ]
    if verified is not None:
        targets.append((f"verified-{verified.pk}", "the verified claim"))
    wanted = {value for value, _ in targets}
    threads = [tv for tv in _cache(request, article)["threads"] if tv.target in wanted]
    return _panel(
        context,
        article,
        scope="unit",
        key=f"unit-{index}",
        title="Discussion",
        threads=threads,
        targets=targets,
        accepts=" ".join(sorted(wanted)),
    )


@register.inclusion_tag(PANEL, takes_context=True)
def discussion_verified(context: template.Context, claim: VerifiedClaim) -> dict[str, Any]:
    """The verified claim's own threads, on its page."""
    target = f"verified-{claim.pk}"
    threads = [
        tv for tv in _cache(context["request"], claim.article)["threads"] if tv.target == target
    ]
    return _panel(
        context,
        claim.article,
        scope="verified",
        key=f"verified-{claim.pk}",
        title="Discussion",
        threads=threads,
        targets=[(target, "this verified claim")],
        accepts=target,
    )


@register.simple_tag(takes_context=True)
def thread_comments(context: template.Context, comments: Comment | Sequence[Comment]) -> str:
    """A thread's comments (or one of them), built in Python: see discussion/rendering.py."""
    request: HttpRequest | None = context.get("request")
    viewer = context.get("viewer")
    return comments_html(
        [comments] if isinstance(comments, Comment) else comments,
        viewer_id=getattr(viewer, "pk", None),
        csrf_token=str(context.get("csrf_token") or ""),
        back=request.get_full_path() if request is not None else "",
    )


@register.inclusion_tag("annotations/discussion/requests.html", takes_context=True)
def requests_for_changes(context: template.Context) -> dict[str, Any]:
    """My queue's open work from editors: requests for changes on my claims; and, for an
    editor, the requests they sent that are still open."""
    request: HttpRequest = context["request"]
    return {
        "requests": list(open_requests_for(request.user)),
        "sent": list(requests_sent_by(request.user)),
    }
