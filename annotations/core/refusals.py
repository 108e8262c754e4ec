"""Pages that say why something is not shown, rather than a bare 403."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotations.models import Article


def still_reviewing(request: HttpRequest, article: Article) -> HttpResponse:
    """For an editor who is also reviewing the article and has not submitted: the
    reviewers' work and the desk's verdicts on it wait until they submit."""
    return render(request, "annotations/still_reviewing.html", {"article": article}, status=403)
