"""The records partners receive: a claim as JSON, as ClaimReview, as a W3C Web Annotation.

The exports, the partner API and webhooks all build them here, so a partner
reads the same claim the same way whichever way it reached them. Field names
are part of the contract with partners; docs/exports.md documents them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from annotations.core.inputs import ARTICLE_URN
from annotations.models import (
    ClaimAnnotation,
    Organization,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)
from annotations.publishing.rows import ClaimRow, Label, SourceRow, page_rows, row_of

if TYPE_CHECKING:
    pass


WEB_ANNOTATION_CONTEXT = [
    "http://www.w3.org/ns/anno.jsonld",
    {"workbench": "https://github.com/fact-check-workbench/ns#"},
]


@dataclass(frozen=True)
class Context:
    """What every record of one export shares, worked out once."""

    public: bool
    organization_name: str
    # The newsroom's site, or its corrections log while it has none set.
    organization_url: str
    labels: dict[int, Label]
    corrections_url: str
    # The public page's URL around the claim's id.
    url_head: str
    url_tail: str

    @classmethod
    def of(
        cls,
        organization: Organization,
        *,
        public: bool,
        labels: dict[int, Label] | None = None,
    ) -> Context:
        """A newsroom's records for outside (`public`) or inside; `labels` when the caller
        has read them already."""
        head, tail, corrections = public_urls(organization.slug, settings.WORKBENCH_PUBLIC_URL)
        if labels is None:
            labels = {
                label.pk: Label(
                    label.slug, label.name, label.taxonomy.best_rating, label.taxonomy.worst_rating
                )
                for label in VerdictLabel.objects.filter(
                    taxonomy__organization=organization
                ).select_related("taxonomy")
            }
        return cls(
            public=public,
            organization_name=organization.name,
            organization_url=organization.website or corrections,
            labels=labels,
            corrections_url=corrections,
            url_head=head,
            url_tail=tail,
        )

    def claim_url(self, claim_id: int) -> str:
        return f"{self.url_head}{claim_id}{self.url_tail}"


def public_url(path: str) -> str:
    return settings.WORKBENCH_PUBLIC_URL.rstrip("/") + path


@functools.lru_cache(maxsize=1024)
def public_urls(slug: str, base: str) -> tuple[str, str, str]:
    """A newsroom's claim page URL around the claim's id, and its corrections log's URL.

    `base` is WORKBENCH_PUBLIC_URL, part of the cache key; the URLs never change
    otherwise, and the API asks for them on every request.
    """
    placeholder = 999999999
    head, tail = public_url(reverse("public-claim", args=[slug, placeholder])).split(
        str(placeholder)
    )
    return head, tail, public_url(reverse("corrections-log", args=[slug]))


def article_source(url: str, content_hash: str) -> str:
    return url or f"{ARTICLE_URN}{content_hash}"


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def source_record(source: SourceRow, *, public: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "url": source.url,
        "title": source.title,
        "publisher": source.publisher,
        "quote": source.quote,
        "stance": source.stance,
        # The newsroom's archive of the source (archiving): when it was taken, and the
        # SHA-256 of the page as received; null and "" while none is kept.
        "archived_at": source.archived_at,
        "archive_sha256": source.archive_sha256,
    }
    if not public:
        record["confidential"] = source.confidential
    return record


def claim_record(ctx: Context, row: ClaimRow, sources: list[SourceRow]) -> dict[str, Any]:
    """One verified claim as JSONL writes it (README: "Exports")."""
    label = ctx.labels[row.verdict_id]
    public = ctx.public
    return {
        "id": row.id,
        "url": f"{ctx.url_head}{row.id}{ctx.url_tail}",
        "claim_reviewed": row.claim_reviewed,
        "claimant": row.claimant,
        "claim_date": row.claim_date,
        "verdict": label.slug,
        "verdict_name": label.name,
        "rating": row.rating,
        "best_rating": label.best,
        "worst_rating": label.worst,
        "summary": row.summary,
        "status": row.status,
        "lineage": row.lineage,
        "public_note": row.public_note,
        "published_at": row.published_at,
        "updated_at": row.updated_at,
        "article": {
            "title": row.article_title,
            "url": row.article_url,
            "publisher": row.article_publisher,
            "published_at": row.article_published_at,
            "version": row.article_version,
        },
        "quote": row.quote,
        "start": row.start,
        "end": row.end,
        # Confidential ones are not even read for an export meant for outside.
        "sources": [source_record(s, public=public) for s in sources],
    }


def claim_review(ctx: Context, row: ClaimRow) -> dict[str, Any]:
    """schema.org ClaimReview, as Google's fact-check markup guidance asks for it."""
    label = ctx.labels[row.verdict_id]
    rating: dict[str, Any] = {"@type": "Rating", "alternateName": label.name}
    if row.rating is not None:
        # Only an ordinal verdict has a place on the scale.
        rating |= {"ratingValue": row.rating, "bestRating": label.best, "worstRating": label.worst}
    if row.summary:
        rating["ratingExplanation"] = row.summary
    appearance: dict[str, Any] = {"@type": "CreativeWork"}
    if row.article_url:
        appearance["url"] = row.article_url
    if row.article_title:
        appearance["headline"] = row.article_title
    if row.article_publisher:
        appearance["publisher"] = {"@type": "Organization", "name": row.article_publisher}
    if row.article_published_at:
        # The date of a UTC time: the first 10 characters of its ISO text.
        appearance["datePublished"] = row.article_published_at[:10]
    # The article's authors, as its page names them ("; " between them when fetched).
    authors = [
        {"@type": "Person", "name": name.strip()}
        for name in row.article_author.split(";")
        if name.strip()
    ]
    if authors:
        appearance["author"] = authors
    item: dict[str, Any] = {"@type": "Claim", "appearance": [appearance]}
    if row.claimant:
        item["author"] = {"@type": row.claimant_kind, "name": row.claimant}
    elif authors:
        # No claimant named: the claim is the article's own, made by its authors.
        item["author"] = authors
    if row.claim_date:
        item["datePublished"] = row.claim_date
    elif row.article_published_at:
        item["datePublished"] = row.article_published_at[:10]
    if row.article_published_at:
        # The article is the earliest appearance the workbench knows, with its date.
        item["firstAppearance"] = appearance
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": ctx.claim_url(row.id),
        "claimReviewed": row.claim_reviewed,
        "author": {
            "@type": "Organization",
            "name": ctx.organization_name,
            "url": ctx.organization_url,
        },
        "datePublished": row.published_at[:10] if row.published_at else None,
        "reviewRating": rating,
        "itemReviewed": item,
    }
    if row.status == VerifiedStatus.CORRECTED:
        review["dateModified"] = row.updated_at[:10]
    return review


def _selectors(quote: str, prefix: str, suffix: str, start: int, end: int) -> list[dict[str, Any]]:
    return [
        {"type": "TextQuoteSelector", "exact": quote, "prefix": prefix, "suffix": suffix},
        {"type": "TextPositionSelector", "start": start, "end": end},
    ]


def _source_bodies(sources: list[Any], *, public: bool) -> list[dict[str, Any]]:
    bodies = []
    for source in sources:
        body = {
            "type": "SpecificResource",
            "purpose": "linking",
            "source": source.url,
            "workbench:title": source.title,
            "workbench:publisher": source.publisher,
            "workbench:quote": source.quote,
            "workbench:stance": source.stance,
        }
        # Verified claims' sources carry their archive (SourceRow); reviewers' do not.
        if hasattr(source, "archive_sha256"):
            body["workbench:archivedAt"] = source.archived_at
            body["workbench:archiveSha256"] = source.archive_sha256
        if not public:
            body["workbench:confidential"] = source.confidential
        bodies.append(body)
    return bodies


def web_annotation(claim: ClaimAnnotation, *, public: bool) -> dict[str, Any]:
    """A reviewer's claim as a W3C Web Annotation; import_annotations reads it back."""
    body: list[dict[str, Any]] = []
    if claim.verdict is not None:
        body.append(
            {
                "type": "TextualBody",
                "purpose": "assessing",
                "value": claim.verdict.name,
                "workbench:verdict": claim.verdict.slug,
            }
        )
    if claim.rating is not None:
        body.append({"type": "TextualBody", "purpose": "classifying", "value": str(claim.rating)})
    if claim.note:
        body.append({"type": "TextualBody", "purpose": "commenting", "value": claim.note})
    body += _source_bodies(list(claim.sources.all()), public=public)
    article = claim.article
    return {
        "@context": WEB_ANNOTATION_CONTEXT,
        "id": public_url(f"/annotations/claims/{claim.pk}"),
        "type": "Annotation",
        "motivation": "assessing",
        "workbench:kind": "claim",
        "creator": {"type": "Person", "nickname": claim.reviewer.get_username()},
        "created": _iso(claim.created_at),
        "modified": _iso(claim.updated_at),
        "target": {
            "source": article_source(article.url, article.content_hash),
            "selector": _selectors(claim.quote, claim.prefix, claim.suffix, claim.start, claim.end),
        },
        "body": body,
    }


def verified_annotation(ctx: Context, row: ClaimRow, sources: list[SourceRow]) -> dict[str, Any]:
    """A verified claim as a W3C Web Annotation, by the newsroom."""
    label = ctx.labels[row.verdict_id]
    body: list[dict[str, Any]] = [
        {
            "type": "TextualBody",
            "purpose": "assessing",
            "value": label.name,
            "workbench:verdict": label.slug,
        },
        {"type": "TextualBody", "purpose": "describing", "value": row.claim_reviewed},
    ]
    if row.rating is not None:
        body.append({"type": "TextualBody", "purpose": "classifying", "value": str(row.rating)})
    if row.summary:
        body.append({"type": "TextualBody", "purpose": "commenting", "value": row.summary})
    body += _source_bodies(sources, public=ctx.public)
    return {
        "@context": WEB_ANNOTATION_CONTEXT,
        "id": ctx.claim_url(row.id),
        "type": "Annotation",
        "motivation": "assessing",
        "workbench:kind": "verified-claim",
        "workbench:status": row.status,
        "creator": {"type": "Organization", "name": ctx.organization_name},
        "created": row.created_at,
        "modified": row.updated_at,
        "target": {
            "source": article_source(row.article_url, row.article_content_hash),
            "selector": _selectors(row.quote, row.prefix, row.suffix, row.start, row.end),
        },
        "body": body,
    }


def published_record(claim: VerifiedClaim) -> dict[str, Any]:
    """One claim exactly as the JSONL export and the partner API show it outside.

    The public audience: confidential sources are not even read.
    """
    rows, sources = page_rows(
        VerifiedClaim.objects.filter(pk=claim.pk),
        VerifiedSource.objects.filter(confidential=False).order_by("order", "pk"),
    )
    (row,) = rows
    context = Context.of(claim.organization, public=True)
    return claim_record(context, row, sources.get(row.id, []))


def claim_review_jsonld(claim: VerifiedClaim) -> SafeString:
    """The claim's ClaimReview as the JSON-LD of its public page: the very document the
    ClaimReview export and the API give partners, safe inside a <script> element."""
    review = claim_review(Context.of(claim.organization, public=True), row_of(claim))
    text = json.dumps(review, ensure_ascii=False, indent=2)
    # As django.utils.html.json_script escapes: no </script> can end it early.
    escaped = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return mark_safe(escaped)  # noqa: S308 - JSON with <, > and & escaped
