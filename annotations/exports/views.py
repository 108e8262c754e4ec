"""The exports page: start an export, watch its progress, download the file."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from annotations.core.http import HtmxHttpRequest
from annotations.core.inputs import describe_error
from annotations.core.permissions import editor_organizations_for
from annotations.exports.forms import ExportForm
from annotations.exports.services import export_start
from annotations.models import ExportFormat, ExportJob, Organization

# How long a signed download link to a file in a bucket stays valid: long
# enough to follow the redirect, too short to be worth passing on.
DOWNLOAD_LINK_SECONDS = 60

CONTENT_TYPES: dict[str, str] = {
    ExportFormat.CSV: "text/csv",
    ExportFormat.CSV_ZIP: "application/zip",
    ExportFormat.JSONL: "application/x-ndjson",
    ExportFormat.CLAIMREVIEW: "application/ld+json",
    ExportFormat.WEBANNOTATION: "application/x-ndjson",
    ExportFormat.REPORT_HTML: "text/html",
    ExportFormat.REPORT_PDF: "application/pdf",
}


def _editor_organization(request: HtmxHttpRequest, slug: str) -> Organization:
    # Not an editor there, or no such newsroom: the same 404.
    return get_object_or_404(editor_organizations_for(request.user), slug=slug)


def _editor_job(request: HtmxHttpRequest, pk: int) -> ExportJob:
    return get_object_or_404(
        ExportJob.objects.filter(
            organization__in=editor_organizations_for(request.user)
        ).select_related("organization", "collection", "verdict", "created_by"),
        pk=pk,
    )


@require_http_methods(["GET", "POST"])
@login_required
def exports_page(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    organization = _editor_organization(request, slug)
    form = ExportForm(request.POST or None, organization=organization)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            assert form.selection is not None
            try:
                job = export_start(
                    selection=form.selection,
                    export_format=form.cleaned_data["format"],
                    user=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, describe_error(exc))
            else:
                messages.success(request, f"Export started: {job}.")
                return redirect("exports", slug=organization.slug)
        status = 400
    jobs = (
        ExportJob.objects.filter(organization=organization)
        .select_related("collection", "verdict", "created_by")
        .order_by("-created_at", "-pk")[:50]
    )
    return render(
        request,
        "annotations/exports/exports.html",
        {
            "organization": organization,
            "form": form,
            "jobs": jobs,
            "days": settings.WORKBENCH_EXPORT_DAYS,
        },
        status=status,
    )


@require_GET
@login_required
def export_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One job's row, polled by htmx until the job is finished."""
    job = _editor_job(request, pk)
    return render(request, "annotations/exports/exports.html#export-job", {"job": job})


@require_GET
@login_required
def export_download(request: HtmxHttpRequest, pk: int) -> HttpResponseBase:
    job = _editor_job(request, pk)
    if not job.downloadable or not default_storage.exists(job.file):
        raise Http404("This export has no file (not finished, failed or expired).")
    return export_file_response(job)


def export_file_response(job: ExportJob) -> HttpResponseBase:
    """The finished export's file, for someone already allowed to have it (browser and API)."""
    content_type = CONTENT_TYPES.get(job.format, "application/octet-stream")
    if isinstance(default_storage, FileSystemStorage):
        return FileResponse(
            default_storage.open(job.file, "rb"),
            as_attachment=True,
            filename=job.filename,
            content_type=content_type,
        )
    # A bucket (django-storages' S3Storage): opening the object would first copy
    # the whole file into this process's memory, so the client fetches it from
    # the bucket itself, through a signed link that expires within a minute.
    bucket: Any = default_storage
    link = bucket.url(
        job.file,
        parameters={
            "ResponseContentDisposition": content_disposition_header(True, job.filename),
            "ResponseContentType": content_type,
        },
        expire=DOWNLOAD_LINK_SECONDS,
    )
    response = HttpResponseRedirect(link)
    # The link lets anyone holding it download the file: kept out of caches.
    response["Cache-Control"] = "private, no-store"
    return response
