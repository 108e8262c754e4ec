"""The discussion in the browser: threads in the reader, on adjudication and on the
verified claim's page, polled while open; and each collection's activity.

Thin: forms parse, services write, selectors read. An htmx request gets back
the thread it changed (or, for a refused comment, the message for the form,
which keeps what was typed); without JavaScript every form posts and comes
back to the page it was on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.core.http import HtmxHttpRequest
from annotations.core.permissions import (
    is_editor,
    may_request_changes,
    membership_for,
    of_editors,
    of_members,
    threads_visible,
)
from annotations.discussion import services
from annotations.discussion.forms import (
    ACTIVITY_GROUPS,
    ActivityFilterForm,
    CommentForm,
    ThreadForm,
)
from annotations.discussion.selectors import (
    ActivityFilters,
    article_threads,
    collection_activity,
    comment_for,
    discussable_claim,
    discussable_verified,
    mention_candidates,
    poll_stamp,
    thread_for,
    thread_view,
)
from annotations.models import Article, Collection, Comment, Membership, Thread

THREAD = "annotations/discussion/threads.html#thread"


def _article(request: HtmxHttpRequest, pk: int) -> Article:
    # Another newsroom's article is a 404, the same as one that does not exist.
    return get_object_or_404(
        of_members(request.user, Article.objects.select_related("collection")), pk=pk
    )


def _thread(request: HtmxHttpRequest, pk: int) -> Thread:
    thread = thread_for(request.user, pk)
    if thread is None:
        raise Http404
    return thread


def _comment(request: HtmxHttpRequest, pk: int) -> Comment:
    comment = comment_for(request.user, pk)
    if comment is None:
        raise Http404
    return comment


def place_of_thread(thread: Thread) -> str:
    """The page a thread is on: the verified claim's, or the reader."""
    if thread.verified_id is not None:
        return reverse("verified-claim", args=[thread.verified_id]) + f"#thread-{thread.pk}"
    return reverse("article-reader", args=[thread.article_id]) + f"#thread-{thread.pk}"


def _back(request: HtmxHttpRequest, fallback: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages_ in exc.message_dict.values() for m in messages_]
    return list(exc.messages)


def _refused(
    request: HtmxHttpRequest, errors: list[str], *, target: str, fallback: str, status: int = 422
) -> HttpResponse:
    """A refused comment: the message goes into the form's alert (htmx), which keeps what
    was typed; without JavaScript, back to the page with the message on top."""
    if request.htmx:
        response = render(
            request,
            "annotations/discussion/threads.html#form-errors",
            {"errors": errors},
            status=status,
        )
        response["HX-Retarget"] = target
        response["HX-Reswap"] = "innerHTML"
        return response
    for error in errors:
        messages.error(request, error)
    return redirect(_back(request, fallback))


def _thread_answer(
    request: HtmxHttpRequest, thread: Thread, *, status: str = "", unseen: tuple[str, ...] = ()
) -> HttpResponse:
    """The thread as it is now (htmx), or back to the page it is on."""
    if not request.htmx:
        if status:
            messages.success(request, status)
        if unseen:
            messages.warning(request, _unseen_message(unseen))
        return redirect(_back(request, place_of_thread(thread)))
    thread.refresh_from_db()
    return render(
        request,
        THREAD,
        _thread_context(request, thread, status=status, unseen=_unseen_message(unseen)),
    )


def _unseen_message(unseen: tuple[str, ...]) -> str:
    if not unseen:
        return ""
    names = ", ".join(f"@{name}" for name in unseen)
    verb = "was" if len(unseen) == 1 else "were"
    return f"{names} {verb} not notified: blind review hides this thread from them for now."


def _thread_context(request: HtmxHttpRequest, thread: Thread, **extra: Any) -> dict[str, Any]:
    membership = membership_for(request.user, thread.organization_id)
    return {
        "tv": thread_view(request.user, thread),
        "viewer": request.user,
        "may_request": may_request_changes(membership),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@login_required
def discussion(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: what changed in the article's discussion since `stamp` (204: nothing), for
    open pages to poll. POST: a new thread."""
    article = _article(request, pk)
    if request.method == "POST":
        return _thread_create(request, article)
    stamp = poll_stamp(request.user, article)
    if request.GET.get("stamp") == stamp:
        return HttpResponse(status=204)
    threads = article_threads(request.user, article, claims=None, verified=None)
    response = render(
        request,
        "annotations/discussion/threads.html#poll",
        {
            "threads": threads,
            "viewer": request.user,
            "may_request": may_request_changes(
                membership_for(request.user, article.organization_id)
            ),
            "stamp": stamp,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def _thread_create(request: HtmxHttpRequest, article: Article) -> HttpResponse:
    form = ThreadForm(request.POST)
    errors_at = f"#{request.POST.get('form_id', 'new-thread')}-errors"
    fallback = reverse("article-reader", args=[article.pk])
    if not form.is_valid():
        return _refused(
            request,
            [str(m) for field in form.errors.values() for m in field],
            target=errors_at,
            fallback=fallback,
        )
    kind, target_id = form.cleaned_data["target"]
    claim = verified = None
    if kind == "claim":
        assert target_id is not None
        claim = discussable_claim(request.user, article, target_id)
        if claim is None:
            raise Http404
    elif kind == "verified":
        assert target_id is not None
        verified = discussable_verified(request.user, article, target_id)
        if verified is None:
            raise Http404
    data = form.cleaned_data
    try:
        outcome = services.thread_start(
            user=request.user,
            article=article,
            claim=claim,
            verified=verified,
            body=data["body"] or "",
            quote=services.Quote(data["quote_start"], data["quote_end"], data["quote"] or ""),
            request_changes=data["request_changes"],
        )
    except ValidationError as exc:
        return _refused(request, _errors(exc), target=errors_at, fallback=fallback)
    except PermissionDenied as exc:
        return _refused(request, [str(exc)], target=errors_at, fallback=fallback, status=403)
    thread = outcome.comment.thread
    status = (
        "Changes requested: the reviewer is told." if data["request_changes"] else "Comment posted."
    )
    return _thread_answer(request, thread, status=status, unseen=outcome.unseen)


@require_GET
@login_required
def thread_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    thread = _thread(request, pk)
    if not request.htmx:
        return redirect(place_of_thread(thread))
    return render(request, THREAD, _thread_context(request, thread))


@require_POST
@login_required
def comment_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    thread = _thread(request, pk)
    form = CommentForm(request.POST)
    errors_at = f"#reply-{thread.pk}-errors"
    if not form.is_valid():
        return _refused(
            request,
            [str(m) for field in form.errors.values() for m in field],
            target=errors_at,
            fallback=place_of_thread(thread),
        )
    data = form.cleaned_data
    try:
        outcome = services.comment_post(
            user=request.user,
            thread=thread,
            body=data["body"] or "",
            quote=services.Quote(data["quote_start"], data["quote_end"], data["quote"] or ""),
        )
    except ValidationError as exc:
        return _refused(request, _errors(exc), target=errors_at, fallback=place_of_thread(thread))
    return _thread_answer(request, thread, status="Reply posted.", unseen=outcome.unseen)


@require_POST
@login_required
def thread_resolve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Resolve a thread; on a request for changes, "Mark done", with an optional answer."""
    thread = _thread(request, pk)
    try:
        services.thread_resolve(user=request.user, thread=thread, body=request.POST.get("body", ""))
    except ValidationError as exc:
        return _refused(
            request,
            _errors(exc),
            target=f"#reply-{thread.pk}-errors",
            fallback=place_of_thread(thread),
        )
    except PermissionDenied as exc:
        return _refused(
            request,
            [str(exc)],
            target=f"#reply-{thread.pk}-errors",
            fallback=place_of_thread(thread),
            status=403,
        )
    done = hasattr(thread, "change_request")
    return _thread_answer(request, thread, status="Marked done." if done else "Thread resolved.")


@require_POST
@login_required
def thread_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    thread = _thread(request, pk)
    try:
        services.thread_reopen(user=request.user, thread=thread)
    except (ValidationError, PermissionDenied) as exc:
        errors = _errors(exc) if isinstance(exc, ValidationError) else [str(exc)]
        return _refused(
            request, errors, target=f"#thread-{thread.pk}-alert", fallback=place_of_thread(thread)
        )
    return _thread_answer(request, thread, status="Thread reopened.")


@require_GET
@login_required
def comment_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    if not request.htmx:
        return redirect(place_of_thread(comment.thread))
    return render(
        request,
        "annotations/discussion/threads.html#comment",
        {"comment": comment, "viewer": request.user, "tv": None},
    )


@require_http_methods(["GET", "POST"])
@login_required
def comment_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    if comment.author_id != request.user.pk or comment.is_deleted:
        raise Http404
    if request.method == "GET":
        return render(
            request,
            "annotations/discussion/threads.html#comment-edit",
            {"comment": comment, "viewer": request.user},
        )
    form = CommentForm(request.POST)
    errors_at = f"#edit-{comment.pk}-errors"
    if not form.is_valid():
        return _refused(
            request,
            [str(m) for field in form.errors.values() for m in field],
            target=errors_at,
            fallback=place_of_thread(comment.thread),
        )
    try:
        outcome = services.comment_edit(
            user=request.user, comment=comment, body=form.cleaned_data["body"] or ""
        )
    except ValidationError as exc:
        return _refused(
            request, _errors(exc), target=errors_at, fallback=place_of_thread(comment.thread)
        )
    response = _thread_answer(
        request, comment.thread, status="Comment changed.", unseen=outcome.unseen
    )
    if request.htmx:
        # The edit form was the comment; the answer is its whole thread.
        response["HX-Retarget"] = f"#thread-{comment.thread_id}"
        response["HX-Reswap"] = "outerHTML"
    return response


@require_POST
@login_required
def comment_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    comment = _comment(request, pk)
    if comment.author_id != request.user.pk:
        raise Http404
    services.comment_delete(user=request.user, comment=comment)
    return _thread_answer(request, comment.thread, status="Comment deleted.")


@require_GET
@login_required
def comment_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The earlier words of an edited comment, oldest first. A deleted comment's are gone
    from the page with it (the database keeps them for the record)."""
    comment = _comment(request, pk)
    versions = [] if comment.is_deleted else list(comment.history.order_by("history_date"))
    return render(
        request,
        "annotations/discussion/threads.html#comment-history",
        {"comment": comment, "versions": versions},
    )


@require_GET
@login_required
def mentions(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Completion for @names: the newsroom's members, each said to see the thread or not."""
    article = _article(request, pk)
    query = request.GET.get("q", "")[:150]
    people = mention_candidates(request.user, article.organization_id, query)
    thread_pk = request.GET.get("thread", "")
    thread = None
    if thread_pk.isdigit():
        thread = threads_visible(
            request.user, Thread.objects.filter(pk=int(thread_pk), article=article)
        ).first()
    rows = []
    for person in people:
        sees = True
        if thread is not None:
            sees = threads_visible(person, Thread.objects.filter(pk=thread.pk)).exists()
        rows.append({"name": person.get_username(), "sees": sees})
    return render(request, "annotations/discussion/threads.html#mention-options", {"rows": rows})


def _day_start(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@require_GET
@login_required
def activity(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Who commented, requested, changed and published in a collection, newest first."""
    collection = get_object_or_404(of_editors(request.user, Collection.objects.all()), pk=pk)
    people = [
        (m.user_id, m.user.get_username())
        for m in Membership.objects.filter(organization_id=collection.organization_id)
        .select_related("user")
        .order_by("user__username")
    ]
    form = ActivityFilterForm(request.GET or None, people=people)
    filters = ActivityFilters()
    page_number = 1
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            filters.kinds = ACTIVITY_GROUPS.get(data["what"] or "", [])
            filters.actor = data["who"]
            filters.since = _day_start(data["since"])
            until = data["until"]
            filters.until = _day_start(until + dt.timedelta(days=1)) if until else None
            page_number = data["page"] or 1
        else:
            status = 400
    rows = collection_activity(request.user, collection, filters)
    page = Paginator(rows, 100).get_page(page_number)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "annotations/discussion/activity.html",
        {
            "collection": collection,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "is_editor": is_editor(membership_for(request.user, collection.organization_id)),
        },
        status=status,
    )
