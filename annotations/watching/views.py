"""Watching an article, and the alerts a changed passage raises, in the browser."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from annotations.core.http import HtmxHttpRequest
from annotations.core.permissions import of_editors
from annotations.importing.web_views import PANEL, panel_context
from annotations.models import Article, PassageAlert
from annotations.watching.alerts import alert_seen
from annotations.watching.services import watch_set


@require_POST
@login_required
def article_watch(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Watches the article's address (watch=on) or stops (watch=off): editors."""
    article = get_object_or_404(
        of_editors(request.user, Article.objects.select_related("collection")), pk=pk
    )
    try:
        watch_set(article=article, user=request.user, active=request.POST.get("watch") != "off")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return render(request, f"{PANEL}#web-panel", panel_context(article.collection))
    return redirect("collection-detail", pk=article.collection_id)


@require_POST
@login_required
def passage_alert_seen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(of_editors(request.user, PassageAlert.objects.all()), pk=pk)
    alert_seen(alert=alert, user=request.user)
    return redirect("verified-claim", pk=alert.claim_id)
