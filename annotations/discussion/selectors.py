"""Reading the discussion: threads and comments as one user may see them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Max, Prefetch, Q, QuerySet

from annotations.core.permissions import (
    AnyUser,
    activity_visible,
    claims_discussable,
    comments_shown,
    comments_visible,
    is_editor,
    organizations_for,
    threads_visible,
    verified_discussable,
)
from annotations.models import (
    Activity,
    Article,
    ChangeRequest,
    ChangeRequestStatus,
    ClaimAnnotation,
    Collection,
    Comment,
    Membership,
    Thread,
    VerifiedClaim,
)


def thread_for(user: AnyUser, pk: int) -> Thread | None:
    """A thread the user may see, or None (another newsroom's, hidden, or missing)."""
    return (
        threads_visible(user, Thread.objects.filter(pk=pk))
        .select_related("article__collection", "claim__reviewer", "verified", "organization")
        .first()
    )


def comment_for(user: AnyUser, pk: int) -> Comment | None:
    """A comment the user may see, with its thread."""
    return (
        comments_visible(user, Comment.objects.filter(pk=pk))
        .select_related(
            "author", "thread__article__collection", "thread__claim__reviewer", "thread__verified"
        )
        .first()
    )


def poll_stamp(user: AnyUser, article: Article) -> str:
    """What changed in the article's discussion as this user sees it, as a short string:
    the same string while nothing they may see did. Made of what they may see only (the
    threads, their resolution and requests, the comments), so that a thread or comment
    blind review hides from them changes nothing here, not even when it happens."""
    shown = (
        threads_visible(user, Thread.objects.filter(article=article))
        .order_by()
        .aggregate(
            threads=Count("id"),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
            resolved_at=Max("resolved_at"),
            done=Count("change_request", filter=Q(change_request__done_at__isnull=False)),
            done_at=Max("change_request__done_at"),
        )
    )
    said = (
        comments_visible(user, Comment.objects.filter(thread__article=article))
        .order_by()
        .aggregate(
            comments=Count("id"),
            created=Max("created_at"),
            edited=Max("edited_at"),
            deleted=Max("deleted_at"),
        )
    )
    figures: Mapping[str, Any] = {**shown, **said}

    def text(value: Any) -> str:
        if isinstance(value, datetime):
            return f"{value.timestamp():.6f}"
        return str(value or 0)

    return "-".join(text(value) for value in figures.values())


@dataclass
class ThreadView:
    """One thread as the user sees it, with what they may do in it."""

    thread: Thread
    comments: list[Comment]
    request: ChangeRequest | None
    viewer_id: int
    may_settle: bool

    @property
    def target(self) -> str:
        return self.thread.target

    @property
    def is_request(self) -> bool:
        return self.request is not None

    @property
    def request_open(self) -> bool:
        return self.request is not None and self.request.status == ChangeRequestStatus.OPEN

    @property
    def may_mark_done(self) -> bool:
        return (
            self.request_open
            and self.request is not None
            and (self.request.reviewer_id == self.viewer_id)
        )

    @property
    def version(self) -> str:
        return f"{self.thread.updated_at.timestamp():.6f}"


def _views(user: User, threads: QuerySet[Thread]) -> list[ThreadView]:
    """Each thread with the comments the user may see, in three queries in all."""
    # The threads are those the user may see (the callers' threads_visible): only each
    # comment's own rule is left to apply.
    visible = comments_shown(user, Comment.objects.all()).select_related("author")
    rows = list(
        threads.select_related(
            "claim__reviewer", "verified", "article", "resolved_by", "created_by"
        ).prefetch_related(
            Prefetch("comments", visible.order_by("created_at", "id"), to_attr="visible_comments"),
        )
    )
    requests = {
        r.thread_id: r
        for r in ChangeRequest.objects.filter(thread__in=[t.pk for t in rows]).select_related(
            "requested_by", "done_by"
        )
    }
    # Who may settle a request: its reviewer, or an editor of its newsroom (asked only
    # when a thread holds a request).
    editor_in = (
        {m.organization_id for m in Membership.objects.filter(user=user) if is_editor(m)}
        if requests
        else set()
    )
    views = []
    for thread in rows:
        request = requests.get(thread.pk)
        may_settle = request is None or (
            request.reviewer_id == user.pk or thread.organization_id in editor_in
        )
        views.append(
            ThreadView(thread, list(thread.visible_comments), request, user.pk, may_settle)
        )
    return views


def article_threads(
    user: AnyUser,
    article: Article,
    *,
    claims: Iterable[int] | None = None,
    verified: Iterable[int] | None = (),
    article_level: bool = True,
) -> list[ThreadView]:
    """The article's threads the user may see: on the article itself (article_level),
    on these claims and these verified claims (None: all of them). Threads on a claim
    its reviewer deleted go with it."""
    if not isinstance(user, User):
        return []
    where = Q(pk__in=[])
    if article_level:
        where |= Q(claim__isnull=True, verified__isnull=True)
    if claims is None:
        where |= Q(claim__isnull=False, claim__deleted_at__isnull=True)
    else:
        where |= Q(claim__in=list(claims), claim__deleted_at__isnull=True)
    if verified is None:
        where |= Q(verified__isnull=False)
    else:
        where |= Q(verified__in=list(verified))
    threads = threads_visible(user, Thread.objects.filter(where, article=article))
    views = _views(user, threads)
    # Open threads first, then resolved ones; each group in the order they started.
    views.sort(key=lambda v: (v.thread.is_resolved, v.thread.created_at, v.thread.pk))
    return views


def thread_view(user: User, thread: Thread) -> ThreadView:
    """One thread the caller has found visible (thread_for, or a service that checked)."""
    return _views(user, Thread.objects.filter(pk=thread.pk))[0]


def discussable_claim(user: AnyUser, article: Article, pk: int) -> ClaimAnnotation | None:
    return (
        claims_discussable(user, ClaimAnnotation.objects.filter(article=article, pk=pk))
        .select_related("reviewer")
        .first()
    )


def discussable_verified(user: AnyUser, article: Article, pk: int) -> VerifiedClaim | None:
    return verified_discussable(user, VerifiedClaim.objects.filter(article=article, pk=pk)).first()


def open_requests_for(user: AnyUser) -> QuerySet[ChangeRequest]:
    """Requests for changes on the user's claims still to do: open work in their queue."""
    if not isinstance(user, User):
        return ChangeRequest.objects.none()
    return (
        ChangeRequest.objects.filter(
            reviewer=user,
            status=ChangeRequestStatus.OPEN,
            claim__deleted_at__isnull=True,
            claim__article__organization__in=organizations_for(user),
        )
        .select_related("claim__article", "requested_by", "thread")
        .order_by("-created_at")
    )


def requests_sent_by(user: AnyUser) -> QuerySet[ChangeRequest]:
    """Requests the user (an editor) sent that are still open."""
    if not isinstance(user, User):
        return ChangeRequest.objects.none()
    return threads_visible(
        user,
        ChangeRequest.objects.filter(requested_by=user, status=ChangeRequestStatus.OPEN),
        path="thread",
    ).select_related("claim__article", "reviewer", "thread")


def mention_candidates(
    user: User, organization_id: int, prefix: str, *, limit: int = 8
) -> list[User]:
    """The newsroom's members whose name starts with `prefix` (then contains it)."""
    members = User.objects.filter(memberships__organization_id=organization_id, is_active=True)
    prefix = prefix.strip().lstrip("@")
    starts = list(members.filter(username__istartswith=prefix).order_by("username")[:limit])
    if len(starts) < limit and prefix:
        starts += list(
            members.filter(username__icontains=prefix)
            .exclude(pk__in=[u.pk for u in starts])
            .order_by("username")[: limit - len(starts)]
        )
    return starts


@dataclass
class ActivityFilters:
    kinds: list[str] = field(default_factory=list)
    actor: int | None = None
    article: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def collection_activity(
    user: AnyUser, collection: Collection, filters: ActivityFilters
) -> QuerySet[Activity]:
    rows = activity_visible(user, Activity.objects.filter(collection=collection))
    if filters.kinds:
        rows = rows.filter(kind__in=filters.kinds)
    if filters.actor is not None:
        rows = rows.filter(actor_id=filters.actor)
    if filters.article is not None:
        rows = rows.filter(article_id=filters.article)
    if filters.since is not None:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(created_at__lt=filters.until)
    return rows.select_related("actor", "article", "claim", "verified").order_by(
        "-created_at", "-id"
    )
