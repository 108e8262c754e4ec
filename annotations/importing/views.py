"""What happened to each claim when a new version of its article arrived."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotations.core.http import HtmxHttpRequest
from annotations.core.permissions import blind_on, of_editors
from annotations.core.refusals import still_reviewing
from annotations.models import Article


@require_GET
@login_required
def version_changes(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """What happened to each claim when this version of the article arrived."""
    # Editors only: the changes name reviewers and their claims.
    article = get_object_or_404(of_editors(request.user, Article.objects.all()), pk=pk)
    if blind_on(request.user, article):
        return still_reviewing(request, article)
    changes = article.anchor_changes.select_related("claim__reviewer", "verified").order_by(
        "status", "old_start"
    )
    return render(
        request,
        "annotations/importing/version_changes.html",
        {"article": article, "changes": changes, "previous": article.previous_version},
    )
