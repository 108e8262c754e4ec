"""What comes in from outside, checked and stored one way: articles and sources.

The dataclasses are what every entry point (the browser, the API, the
commands, imported files) turns its input into before a service sees it;
the checks here are the ones they all share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ada_url
from django.core.exceptions import ValidationError

from annotations.models import ClaimAnnotation, Source, Stance, VerifiedClaim, VerifiedSource


class ParseError(ValueError):
    """A record that cannot be read. `line` is 1-based, or None for the whole file."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(slots=True)
class ArticleInput:
    title: str
    text: str
    url: str = ""
    publisher: str = ""
    author: str = ""
    published_at: datetime | None = None
    language: str = ""
    html: str = ""


@dataclass(slots=True)
class SourceInput:
    url: str
    title: str = ""
    publisher: str = ""
    quote: str = ""
    stance: str = "context"
    archived_url: str = ""
    confidential: bool = False


@dataclass(slots=True)
class AnnotationInput:
    article_url: str
    reviewer: str
    start: int
    end: int
    quote: str
    verdict: str | None
    rating: int | None
    note: str = ""
    sources: list[SourceInput] = field(default_factory=list)


def unstorable(value: str) -> bool:
    """NUL and unpaired surrogates (JSON "\\ud800") cannot be stored as text."""
    return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)


def web_address(value: str) -> str | None:
    """An http(s) URL as browsers read it (the WHATWG URL standard), or None.

    Normalized, so that what is stored and handed to partners is one valid
    URI: the scheme and host in lowercase, an internationalised host in
    punycode, and characters a URI may not hold (spaces, `"`, `<`, `>`, …)
    percent-encoded. None for anything that is not an http(s) address with
    a host: `javascript:`, `data:`, an unparseable string.
    """
    try:
        url = ada_url.URL(value.strip())
    except ValueError:
        return None
    if url.protocol not in {"http:", "https:"} or not url.hostname:
        return None
    return str(url.href)


def is_http_url(value: str) -> bool:
    return web_address(value) is not None


MAX_SOURCES = 20
# What a source's fields hold (the columns of Source and VerifiedSource); the
# quote is a text column, kept to a passage.
SOURCE_FIELD_LIMITS = {
    "url": 2000,
    "title": 500,
    "publisher": 200,
    "quote": 2000,
    "archived_url": 2000,
}
MAX_URL = 2000


def describe_error(error: ValidationError | ParseError) -> str:
    if isinstance(error, ParseError):
        return error.message
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def validate_sources(sources: Sequence[SourceInput], errors: dict[str, str]) -> None:
    if len(sources) > MAX_SOURCES:
        errors["sources"] = f"At most {MAX_SOURCES} sources per claim."
        return
    for i, source in enumerate(sources):
        where = f"sources[{i}]"
        # The addresses are stored as normalized (web_address): the same URL
        # however it was typed, and a valid URI for partners.
        url = web_address(source.url)
        if url is None:
            errors[f"{where}.url"] = f"{source.url!r} is not an http(s) address."
        else:
            source.url = url
        if source.archived_url:
            archived = web_address(source.archived_url)
            if archived is None:
                errors[f"{where}.archived_url"] = (
                    f"{source.archived_url!r} is not an http(s) address."
                )
            else:
                source.archived_url = archived
        if not source.stance:
            errors[f"{where}.stance"] = "Choose whether it supports, refutes or gives context."
        elif source.stance not in Stance.values:
            errors[f"{where}.stance"] = (
                f"{source.stance!r} is not a stance; use {', '.join(Stance.values)}."
            )
        # After normalizing: an address can grow (percent-encoding, punycode).
        for name, limit in SOURCE_FIELD_LIMITS.items():
            if len(getattr(source, name)) > limit:
                errors[f"{where}.{name}"] = f"Longer than {limit:,} characters."
            elif unstorable(getattr(source, name)):
                errors[f"{where}.{name}"] = "Contains a NUL or an unpaired surrogate character."


def _source_fields(source: SourceInput) -> dict[str, Any]:
    """What a reviewer's source and a verified claim's source both keep."""
    return {
        "url": source.url,
        "title": source.title,
        "publisher": source.publisher,
        "quote": source.quote,
        "stance": source.stance,
        "confidential": source.confidential,
    }


def sources_store(claim: ClaimAnnotation | VerifiedClaim, sources: Sequence[SourceInput]) -> None:
    """Replaces a claim's sources (a reviewer's or a verified claim) with these, in order.

    The caller has checked them (validate_sources) and holds the transaction.
    """
    if isinstance(claim, ClaimAnnotation):
        Source.objects.filter(claim=claim).delete()
        Source.objects.bulk_create(
            Source(claim=claim, order=i, archived_url=s.archived_url, **_source_fields(s))
            for i, s in enumerate(sources)
        )
    else:
        VerifiedSource.objects.filter(claim=claim).delete()
        VerifiedSource.objects.bulk_create(
            VerifiedSource(claim=claim, order=i, **_source_fields(s)) for i, s in enumerate(sources)
        )


# An article without a URL is named by its text's SHA-256 in the files we
# write (Web Annotation targets) and read back (import_annotations).
ARTICLE_URN = "urn:workbench:sha256:"
