"""The collection page's web panel: import by URL, its jobs, feeds, and watched articles.

The panel is a partial the collection page loads (hx-get on load) and that
works as a page of its own without scripts.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Max, OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotations.core.http import HtmxHttpRequest
from annotations.core.permissions import of_editors
from annotations.importing.by_url import fetch_job_start
from annotations.importing.feeds import feed_add, feed_delete, feed_pause
from annotations.jobs.enqueue import enqueue
from annotations.models import Article, ArticleWatch, Collection, Feed, FetchJob

PANEL = "annotations/importing/web.html"


class FetchForm(forms.Form):
    urls = forms.CharField(
        label="Addresses",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://…, one a line"}),
        max_length=200_000,
        help_text="Each page is fetched, its article text and metadata extracted. "
        "The same address again is the same article; a changed text, its next version.",
    )


class FeedForm(forms.Form):
    url = forms.CharField(
        label="Feed address (RSS or Atom)",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://…/feed.xml"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The collection page's paste form has a `url` field too: ids of our own, so that
        # this label names this field.
        kwargs.setdefault("auto_id", "id_feed_%s")
        super().__init__(*args, **kwargs)


def _collection(request: HtmxHttpRequest, pk: int) -> Collection:
    # A reviewer, or another newsroom's editor, finds no such collection.
    return get_object_or_404(
        of_editors(request.user, Collection.objects.select_related("organization")), pk=pk
    )


def web_articles(collection: Collection, limit: int = 50) -> list[dict[str, Any]]:
    """The collection's articles with an address (their latest version), newest first,
    each with its watch, if any."""
    latest = (
        Article.objects.filter(collection=collection)
        .exclude(url="")
        .values("url")
        .annotate(top=Max("pk"))
        .order_by("-top")[:limit]
    )
    ids = [row["top"] for row in latest]
    articles = Article.objects.filter(pk__in=ids).only(
        "pk", "title", "url", "version", "collection_id", "imported_at"
    )
    watches = {
        w.url: w
        for w in ArticleWatch.objects.filter(
            collection=collection, url__in=[a.url for a in articles]
        )
    }
    ordered = sorted(articles, key=lambda a: -a.pk)
    return [{"article": a, "watch": watches.get(a.url)} for a in ordered]


def panel_context(collection: Collection, **extra: Any) -> dict[str, Any]:
    feeds = collection.feeds.annotate(
        pending=Subquery(
            FetchJob.objects.filter(feed=OuterRef("pk"))
            .order_by("-created_at")
            .values("status")[:1]
        )
    )
    return {
        "collection": collection,
        "fetch_form": FetchForm(),
        "feed_form": FeedForm(),
        "fetch_jobs": collection.fetch_jobs.order_by("-created_at")[:5],
        "feeds": feeds.order_by("url"),
        "web_articles": web_articles(collection),
        "watched": collection.watches.filter(active=True).count(),
        **extra,
    }


def _panel(
    request: HtmxHttpRequest, collection: Collection, status: int = 200, **extra: Any
) -> HttpResponse:
    template = f"{PANEL}#web-panel" if request.htmx else PANEL
    return render(request, template, panel_context(collection, **extra), status=status)


@require_GET
@login_required
def collection_web(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _panel(request, _collection(request, pk))


@require_POST
@login_required
def collection_fetch(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Imports the addresses given, as a background job (its row polls its progress)."""
    collection = _collection(request, pk)
    form = FetchForm(request.POST)
    if form.is_valid():
        try:
            job = fetch_job_start(
                collection=collection,
                user=request.user,
                urls=form.cleaned_data["urls"].splitlines(),
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error("urls" if name == "urls" else None, errors)
        else:
            if request.htmx:
                return _panel(request, collection)
            messages.success(request, f"Importing {job.total} address(es) in the background.")
            return redirect("collection-detail", pk=collection.pk)
    return _panel(request, collection, 422, fetch_form=form)


@require_GET
@login_required
def fetch_job_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(of_editors(request.user, FetchJob.objects.all()), pk=pk)
    return render(request, f"{PANEL}#fetch-job", {"job": job})


@require_POST
@login_required
def feed_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    collection = _collection(request, pk)
    form = FeedForm(request.POST)
    if form.is_valid():
        try:
            feed_add(collection=collection, user=request.user, url=form.cleaned_data["url"])
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error("url" if name == "url" else None, errors)
        else:
            if request.htmx:
                return _panel(request, collection)
            messages.success(request, "The feed is added; its new items are imported from now on.")
            return redirect("collection-detail", pk=collection.pk)
    return _panel(request, collection, 422, feed_form=form)


FEED_ACTIONS = ("pause", "resume", "read", "delete")


@require_POST
@login_required
def feed_action(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in FEED_ACTIONS:
        raise Http404("No such action.")
    feed = get_object_or_404(
        of_editors(request.user, Feed.objects.select_related("collection__organization")), pk=pk
    )
    collection = feed.collection
    if action == "delete":
        feed_delete(feed=feed, user=request.user)
    elif action == "read":
        enqueue("annotations.tasks.feed_fetch", feed.pk)
    else:
        feed_pause(feed=feed, user=request.user, paused=action == "pause")
    if request.htmx:
        return _panel(request, collection)
    return redirect("collection-detail", pk=collection.pk)
