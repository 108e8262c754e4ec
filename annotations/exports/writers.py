"""The export writers: one function per format, each writing pages as it reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

import orjson
from django.db.models import (
    Prefetch,
)
from django.utils import timezone

from annotations.exports.csvfile import write_csv_sheet, write_csv_zip
from annotations.exports.reading import Progress, claim_pages, pages, verified_pages
from annotations.exports.reports import render_report_html, write_report_pdf
from annotations.exports.selection import Selection
from annotations.models import ExportFormat, ExportJob, Source, VerifiedClaim
from annotations.publishing.records import (
    claim_record,
    claim_review,
    verified_annotation,
    web_annotation,
)

if TYPE_CHECKING:
    pass


SUFFIXES: dict[str, str] = {
    ExportFormat.CSV: ".csv",
    ExportFormat.CSV_ZIP: ".zip",
    ExportFormat.JSONL: ".jsonl",
    ExportFormat.CLAIMREVIEW: ".jsonld",
    ExportFormat.WEBANNOTATION: ".jsonl",
    ExportFormat.REPORT_HTML: ".html",
    ExportFormat.REPORT_PDF: ".pdf",
}


def _dumps(record: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: a fifth of the standard library's time)."""
    return orjson.dumps(record)


def write_jsonl(selection: Selection, out: IO[bytes], progress: Progress) -> int:
    ctx = selection.context()
    rows = 0
    for page, sources in claim_pages(selection):
        lines = [_dumps(claim_record(ctx, row, sources.get(row.id, []))) for row in page]
        out.write(b"\n".join(lines) + b"\n")
        rows += len(page)
        progress(rows)
    return rows


def write_claimreview(selection: Selection, out: IO[bytes], progress: Progress) -> int:
    """A JSON array of ClaimReview nodes, each with its @context."""
    ctx = selection.context()
    rows = 0
    out.write(b"[\n")
    for page, _sources in claim_pages(selection, with_sources=False):
        text = b",\n".join(_dumps(claim_review(ctx, row)) for row in page)
        out.write((b",\n" if rows else b"") + text)
        rows += len(page)
        progress(rows)
    out.write(b"\n]\n")
    return rows


def write_webannotation(selection: Selection, out: IO[bytes], progress: Progress) -> int:
    """Reviewers' claims, then verified claims, one W3C Web Annotation per line."""
    rows = 0
    annotations = (
        selection.annotations()
        .select_related("verdict", "reviewer", "article")
        .defer("article__text", "article__html")
    )
    source_rows = Source.objects.order_by("order", "pk")
    if selection.public:
        source_rows = source_rows.filter(confidential=False)
    for page in pages(annotations, Prefetch("sources", queryset=source_rows)):
        out.write(
            b"".join(_dumps(web_annotation(c, public=selection.public)) + b"\n" for c in page)
        )
        rows += len(page)
        progress(rows)
    ctx = selection.context()
    for page, sources in claim_pages(selection):
        lines = (_dumps(verified_annotation(ctx, row, sources.get(row.id, []))) for row in page)
        out.write(b"\n".join(lines) + b"\n")
        rows += len(page)
        progress(rows)
    return rows


def _report(selection: Selection, out: IO[bytes], progress: Progress, *, pdf: bool) -> int:

    counted = 0

    def claims() -> Iterator[VerifiedClaim]:
        nonlocal counted
        for page in verified_pages(selection):
            yield from page
            counted += len(page)
            progress(counted)

    html = render_report_html(
        organization=selection.organization,
        collection=selection.collection,
        claims=claims(),
        generated_at=timezone.now(),
        public=selection.public,
    )
    if pdf:
        write_report_pdf(html, out)  # type: ignore[arg-type]
    else:
        out.write(html.encode("utf-8"))
    return counted


WRITERS: dict[str, Callable[[Selection, IO[bytes], Progress], int]] = {
    ExportFormat.CSV: write_csv_sheet,
    ExportFormat.CSV_ZIP: write_csv_zip,
    ExportFormat.JSONL: write_jsonl,
    ExportFormat.CLAIMREVIEW: write_claimreview,
    ExportFormat.WEBANNOTATION: write_webannotation,
    ExportFormat.REPORT_HTML: lambda s, o, p: _report(s, o, p, pdf=False),
    ExportFormat.REPORT_PDF: lambda s, o, p: _report(s, o, p, pdf=True),
}


def count(selection: Selection, export_format: str) -> int:
    """How many records the export will hold: its progress bar's 100%."""
    total = selection.claims().count()
    if export_format == ExportFormat.WEBANNOTATION:
        total += selection.annotations().count()
    return total


def filename(job: ExportJob) -> str:
    scope = job.collection.slug if job.collection else "all"
    stamp = job.created_at.strftime("%Y%m%d-%H%M")
    return f"{job.organization.slug}-{scope}-{job.format}-{stamp}{SUFFIXES[job.format]}"
