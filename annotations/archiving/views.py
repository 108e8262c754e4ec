"""Archived sources in the browser: the text kept of a source, never its HTML.

The archived page's HTML is never served from our origin (it would run in
our pages' security context); members read the text extracted from it, and
may download the WARC file as an attachment.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.archiving.selectors import archives_for, archives_of
from annotations.archiving.services import archive_again, archive_url
from annotations.core.http import HtmxHttpRequest
from annotations.models import (
    ClaimAnnotation,
    SourceArchive,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)


@require_GET
@login_required
def archive_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    archive = get_object_or_404(archives_of(request.user), pk=pk)
    return render(
        request,
        "annotations/archiving/archive.html",
        {"archive": archive, "captures": archive.captures.all()[:20], "public": False},
    )


@require_POST
@login_required
def archive_again_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    archive = get_object_or_404(archives_of(request.user), pk=pk)
    archive = archive_again(archive=archive, user=request.user)
    if request.htmx:
        return render(
            request, "annotations/archiving/archive.html#archive-badge", {"archive": archive}
        )
    messages.success(request, "Archiving again: the new capture appears here when it is done.")
    return redirect("source-archive", pk=archive.pk)


@require_GET
@login_required
def archive_download(request: HtmxHttpRequest, pk: int) -> FileResponse:
    """The WARC file, as an attachment a browser saves rather than shows."""
    archive = get_object_or_404(archives_of(request.user), pk=pk)
    if not archive.warc:
        raise Http404("Nothing archived yet.")
    name = f"source-{archive.pk}-{PurePosixPath(archive.warc).name}"
    return FileResponse(
        default_storage.open(archive.warc, "rb"),
        as_attachment=True,
        filename=name,
        content_type="application/warc",
    )


def _own_claim(request: HtmxHttpRequest, pk: int) -> ClaimAnnotation:
    # The claim form is its reviewer's own: nobody else's sources are listed.
    return get_object_or_404(
        ClaimAnnotation.objects.select_related("article"), pk=pk, reviewer=request.user
    )


@require_http_methods(["GET", "POST"])
@login_required
def claim_archives(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The archives of a claim's sources, for its form; a POST archives one of them now."""
    claim = _own_claim(request, pk)
    sources = list(claim.sources.order_by("order", "pk"))
    organization_id = claim.article.organization_id
    if request.method == "POST":
        url = request.POST.get("url", "")
        if url not in {source.url for source in sources}:
            raise Http404("No source of this claim has this address.")
        try:
            archive_url(organization_id=organization_id, url=url, user=request.user)
        except PermissionDenied:
            raise Http404 from None
    archives = archives_for(organization_id, [s.url for s in sources])
    return render(
        request,
        "annotations/archiving/archive.html#claim-archives",
        {"claim": claim, "rows": [(s, archives.get(s.url)) for s in sources]},
    )


@require_GET
def public_source_archive(
    request: HtmxHttpRequest, slug: str, pk: int, source: int
) -> HttpResponse:
    """Public: the text kept of a published claim's public source."""
    claim = get_object_or_404(
        VerifiedClaim.objects.exclude(status=VerifiedStatus.DRAFT).select_related("organization"),
        organization__slug=slug,
        pk=pk,
    )
    cited = get_object_or_404(VerifiedSource, pk=source, claim=claim, confidential=False)
    archive = get_object_or_404(
        SourceArchive, organization_id=claim.organization_id, url=cited.url, warc__gt=""
    )
    return render(
        request,
        "annotations/archiving/archive.html",
        {"archive": archive, "captures": [], "public": True, "claim": claim},
    )
