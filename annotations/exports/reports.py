"""The report of a collection's verified claims, as HTML and as PDF.

The export jobs call these two functions. The HTML is one standalone file (inline
CSS, inline SVG charts, no scripts, nothing to fetch), so it can be mailed,
archived or printed as it is, and WeasyPrint makes the PDF from the same file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from django.template.loader import render_to_string

from annotations.agreement.charts import bars, figures_charts
from annotations.agreement.plain import headline, readings
from annotations.agreement.runs import latest_report
from annotations.core.text import text_direction
from annotations.models import (
    Collection,
    Correction,
    Lineage,
    Organization,
    Stance,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)

# The database guarantees #rrggbb; checked again because the colour lands in CSS and SVG.
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

NEUTRAL = "#8a94a0"

# Corrections are looked up by claim id in batches that stay under SQLite's
# limit on query parameters, however many claims the report holds.
ID_BATCH = 900


def _colour(value: str) -> str:
    return value if HEX_COLOUR.fullmatch(value) else NEUTRAL


@dataclass(frozen=True)
class Entry:
    """One claim of the report with its sources, read once, and how to draw it."""

    claim: VerifiedClaim
    sources: list[VerifiedSource]
    colour: str
    # Of the claim as reviewed, what we found and the public note: the
    # newsroom's words, which may not be in the article's language.
    directions: dict[str, str]


@dataclass(frozen=True)
class Tally:
    """A row of a summary table: what is counted, how many, and its share of the total."""

    name: str
    count: int
    percent: int
    colour: str = NEUTRAL


def _tallies(counts: Counter[str], names: Sequence[str], colours: dict[str, str]) -> list[Tally]:
    total = sum(counts.values())
    return [
        Tally(
            name=name,
            count=counts[name],
            percent=round(100 * counts[name] / total) if total else 0,
            colour=_colour(colours.get(name, NEUTRAL)),
        )
        for name in names
    ]


def _verdicts(entries: Sequence[Entry], collection: Collection | None) -> list[Tally]:
    """Claims per verdict: every verdict of the collection, none left out for having no claims.

    Across collections, verdicts are grouped by name, since two taxonomies may
    both have a "False".
    """
    names: dict[str, str] = {}
    if collection is not None:
        names = {
            label.name: label.colour
            for label in VerdictLabel.objects.filter(taxonomy_id=collection.taxonomy_id)
        }
    seen = sorted(
        {(e.claim.verdict.order, e.claim.verdict.name, e.claim.verdict.colour) for e in entries}
    )
    for _, name, colour in seen:
        names.setdefault(name, colour)
    counts = Counter(e.claim.verdict.name for e in entries)
    return _tallies(counts, list(names), names)


def _summary(entries: Sequence[Entry]) -> dict[str, Any]:
    """Claims by status and by lineage, and how many sources from how many websites."""
    statuses = Counter(e.claim.get_status_display() for e in entries)
    # Drafts never leave the newsroom by default: listed only when the report has some.
    shown = [label for value, label in VerifiedStatus.choices if value != VerifiedStatus.DRAFT]
    if statuses[VerifiedStatus.DRAFT.label]:
        shown.insert(0, VerifiedStatus.DRAFT.label)
    sources = [s for e in entries for s in e.sources]
    return {
        "statuses": _tallies(statuses, shown, {}),
        "lineages": _tallies(
            Counter(e.claim.get_lineage_display() for e in entries), Lineage.labels, {}
        ),
        "stances": _tallies(Counter(s.get_stance_display() for s in sources), Stance.labels, {}),
        "sources": len(sources),
        # Two pages of one website are one independent source, as for publishing.
        "independent": len({urlsplit(s.url).hostname for s in sources}),
    }


@dataclass(frozen=True)
class LogLine:
    """A correction or retraction in the report's log, with the direction of its note."""

    correction: Correction
    claim: VerifiedClaim
    direction: str


def _corrections(entries: Sequence[Entry]) -> list[LogLine]:
    """Every correction and retraction of the report's claims, newest first."""
    claims = {e.claim.pk: e.claim for e in entries}
    ids = list(claims)
    found: list[Correction] = []
    for i in range(0, len(ids), ID_BATCH):
        found += Correction.objects.filter(claim_id__in=ids[i : i + ID_BATCH])
    found.sort(key=lambda c: (c.created_at, c.pk), reverse=True)
    return [LogLine(c, claims[c.claim_id], text_direction(c.note)) for c in found]


def anonymised(results: dict[str, Any]) -> dict[str, Any]:
    """The figures with each reviewer named "Reviewer 1", "Reviewer 2", … in their order.

    Who reviewed what is the newsroom's business: a report for outside keeps
    the figures and leaves the names out.
    """
    names = {name: f"Reviewer {i}" for i, name in enumerate(results["reviewers"], start=1)}

    def rename(name: str) -> str:
        return names.setdefault(name, f"Reviewer {len(names) + 1}")

    def pairs(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [item | {"a": rename(item["a"]), "b": rename(item["b"])} for item in items]

    return results | {
        "reviewers": [rename(name) for name in results["reviewers"]],
        "pairs": pairs(results["pairs"]),
        "spans": results["spans"] | {"pairs": pairs(results["spans"]["pairs"])},
        "reviewer_agreement": [
            item | {"reviewer": rename(item["reviewer"])}
            for item in results.get("reviewer_agreement", [])
        ],
        "unmatched": {rename(name): n for name, n in results.get("unmatched", {}).items()},
        # Which claims were disputed names reviewers' work: not for outside.
        "listed": {},
    }


def _agreement(collection: Collection | None, *, public: bool) -> dict[str, Any] | None:
    """The latest finished agreement run's figures and the dashboard's charts of them."""
    report = latest_report(collection) if collection is not None else None
    if report is None or not report.results:
        return None
    results = anonymised(report.results) if public else report.results
    return {
        "report": report,
        "results": results,
        "headline": headline(results),
        "readings": readings,
        **figures_charts(results),
    }


def render_report_html(
    *,
    organization: Organization,
    collection: Collection | None,
    claims: Iterable[VerifiedClaim],
    generated_at: datetime,
    public: bool = True,
) -> str:
    """A standalone HTML document (inline CSS, no external assets, no JavaScript).

    Every claim's sources are shown as given: the caller has already left out
    what must not leave the newsroom. A public report names no reviewer.
    Prefetch `sources` and select `verdict` and `article`, or each claim costs
    queries.
    """
    entries = [
        Entry(
            claim=claim,
            sources=list(claim.sources.all()),
            colour=_colour(claim.verdict.colour),
            directions={
                name: text_direction(getattr(claim, name), claim.article.direction)
                for name in ("claim_reviewed", "summary", "public_note")
            },
        )
        for claim in claims
    ]
    verdicts = _verdicts(entries, collection)
    context = {
        "organization": organization,
        "collection": collection,
        "generated_at": generated_at,
        "entries": entries,
        "summary": _summary(entries),
        "verdicts": verdicts,
        "verdict_chart": bars(
            "Claims per verdict", [(row.name, row.count, row.colour) for row in verdicts]
        ),
        "agreement": _agreement(collection, public=public),
        "corrections": _corrections(entries),
    }
    return render_to_string("annotations/exports/report.html", context)


def write_report_pdf(html: str, out: BinaryIO) -> None:
    """The same document as PDF, written to `out` (WeasyPrint)."""
    # Imported here: importing WeasyPrint loads Pango, which only the processes
    # that write PDFs need, and takes half a second.
    from weasyprint import HTML, URLFetcher

    # No protocol allowed: the report is self-contained, and a URL in a claim or
    # a source must never make the worker read a local file or call a server.
    HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf(out)
