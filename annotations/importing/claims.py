"""Claims in from another tool: our JSONL, or W3C Web Annotations (an export read back)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.core.inputs import ARTICLE_URN, AnnotationInput, ParseError, describe_error
from annotations.importing.parsers import (
    Skipped,
    is_web_annotation,
    json_lines_problem,
    parse_annotation_jsonl,
    parse_web_annotation_jsonl,
)
from annotations.models import Article, ClaimAnnotation, Membership, Organization
from annotations.reader.services import assignment_ensure, claim_create, verdict_by_slug


@dataclass
class AnnotationReport:
    created: int = 0
    unchanged: int = 0
    # Records deliberately not imported (verified claims in a Web Annotation file).
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _annotation_import_one(*, organization: Organization, record: AnnotationInput) -> bool:
    """Imports one annotation; False when the same highlight is already stored."""
    articles = Article.objects.filter(organization=organization)
    if record.article_url.startswith(ARTICLE_URN):
        # An article without a URL, named by its text (exports.article_source).
        articles = articles.filter(content_hash=record.article_url.removeprefix(ARTICLE_URN))
    else:
        articles = articles.filter(url=record.article_url)
    article = articles.select_related("collection__taxonomy").order_by("-version").first()
    if article is None:
        raise ValidationError(
            {"article": f"No article with URL {record.article_url!r} in this newsroom."}
        )
    membership = (
        Membership.objects.filter(organization=organization, user__username=record.reviewer)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError(
            {"reviewer": f"{record.reviewer!r} is not a member of this newsroom."}
        )
    verdict = None
    if record.verdict is not None:
        verdict = verdict_by_slug(taxonomy=article.collection.taxonomy, slug=record.verdict)
    reviewer = membership.user
    with transaction.atomic():
        if ClaimAnnotation.objects.filter(
            article=article, reviewer=reviewer, start=record.start, end=record.end
        ).exists():
            return False
        # A member not yet assigned is assigned by the import: this is how a
        # newsroom brings its history in from another tool.
        assignment_ensure(article=article, reviewer=reviewer)
        claim_create(
            article=article,
            reviewer=reviewer,
            start=record.start,
            end=record.end,
            quote=record.quote,
            verdict=verdict,
            rating=record.rating,
            note=record.note,
            sources=record.sources,
        )
    return True


def annotations_import(*, organization: Organization, data: bytes, name: str) -> AnnotationReport:
    """Imports claims from our JSONL or from W3C Web Annotations (told apart by content)."""
    report = AnnotationReport()
    if (problem := json_lines_problem(data)) is not None:
        where = f"{name}:{problem.line}" if problem.line else name
        report.errors.append(f"{where}: {problem.message}")
        return report
    records: Iterator[tuple[int, AnnotationInput | Skipped | ParseError]] = (
        parse_web_annotation_jsonl(data)
        if is_web_annotation(data)
        else parse_annotation_jsonl(data)
    )
    for line, parsed in records:
        if isinstance(parsed, ParseError):
            report.errors.append(f"{name}:{line}: {parsed.message}")
            continue
        if isinstance(parsed, Skipped):
            report.skipped += 1
            continue
        try:
            created = _annotation_import_one(organization=organization, record=parsed)
        except ValidationError as exc:
            report.errors.append(f"{name}:{line}: {describe_error(exc)}")
            continue
        if created:
            report.created += 1
        else:
            report.unchanged += 1
    return report
