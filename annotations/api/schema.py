"""What the OpenAPI schema says beyond what drf-spectacular reads from the serializers.

DRF refuses some text on its own (a NUL character anywhere; a value that is
only whitespace where a blank is not allowed) and the services refuse more (an
article without visible text); drf-spectacular says none of it. The schema
says it here, as patterns, so that a client (or a fuzzer) reading the schema
knows exactly which text is accepted. Also here: the schema.org ClaimReview
document the claims and the ClaimReview export are made of.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Python's whitespace (str.isspace, what DRF's trimming and the services'
# strip() remove), as a regular-expression class: not the same set as \s.
WHITESPACE = (
    "\\t-\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
# What normalizing an article's text removes besides whitespace: zero-width
# and control characters (annotations/core/text.py).
INVISIBLE = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\u200b\\ufeff"

# Any text without a NUL (DRF refuses a NUL in every text field). Not empty:
# drf-spectacular offers the empty string as an alternative where it is allowed
# (`oneOf`), and the two must not overlap.
NO_NUL = "^[^\\u0000]+$"
# Text with something other than whitespace: what a field that trims and may
# not be blank accepts.
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{WHITESPACE}][^\\u0000]*$"
# Text with a character a reader can see: what an article's text needs.
VISIBLE = f"^[^\\u0000]*[^{INVISIBLE}{WHITESPACE}][^\\u0000]*$"

# An http(s) address that WHATWG URL parsing (annotations/core/inputs.py)
# takes and leaves as long as it is: it lowercases the scheme and host, adds
# the `/` of an empty path, and changes nothing else here. A host of names (the
# last one not a number, which would be read as an IPv4 address), a port (0 to
# 65535), then printable ASCII a URL holds unescaped. The API also takes other
# spellings (spaces or accents, which it percent-encodes, an IP address), but
# only these are sure to fit in the 2,000 characters stored once normalized.
HTTP_URL_PATTERN = (
    "^[Hh][Tt][Tt][Pp][Ss]?://"
    "([A-Za-z0-9_-]+\\.)*[A-Za-z][A-Za-z0-9_-]*"
    "(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    "([/?#][!#-&(-;=?@A-Z\\[\\\\\\]_a-z|~]*)?$"
)
# One less than the 2,000 stored: parsing adds the `/` of an empty path.
HTTP_URL_MAX_LENGTH = 1999


def http_url(*, max_length: int = HTTP_URL_MAX_LENGTH, **kwargs: Any) -> serializers.CharField:
    """An http(s) address as a request gives it (the services check and normalize it).

    Refused in the services' words, whichever refuses it first.
    """
    refusal = "%(value)r is not an http(s) address."
    return serializers.CharField(
        max_length=max_length,
        validators=[RegexValidator(HTTP_URL_PATTERN, refusal)],
        **kwargs,
    )


# Ratings are stored as PostgreSQL smallints, never below 0.
MAX_RATING = 2**15 - 1


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_RATING})
class RatingField(serializers.IntegerField):
    """A rating. Its range is the collection's taxonomy's, which the claim services
    check (and name: "Rating -1 is outside 1–5"); the schema gives the range it is
    stored in, which holds for every taxonomy."""


class TextFieldSchema(OpenApiSerializerFieldExtension):
    """A request's text field: no NUL, and not only whitespace when it may not be blank."""

    target_class = "rest_framework.fields.CharField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        field = self.target
        has_pattern = any(isinstance(v, RegexValidator) for v in field.validators)
        if direction == "request" and not has_pattern and "pattern" not in schema:
            blank_refused = not field.allow_blank and field.trim_whitespace
            schema["pattern"] = NOT_BLANK if blank_refused else NO_NUL
        return schema


class ListSchema(OpenApiSerializerFieldExtension):
    """A list of documents with a `max_length` (DRF refuses longer ones): `maxItems`."""

    target_class = "rest_framework.serializers.ListSerializer"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        if self.target.max_length is not None:
            schema["maxItems"] = self.target.max_length
        return schema


class AnnotationUpdateSchema(OpenApiSerializerExtension):
    """A claim's PATCH body as the view validates it: whole, `version` required.

    drf-spectacular documents every PATCH body as partial (all fields optional),
    as DRF's own partial updates are; this one is not partial: the fields left
    out stay as they are, but the version read must be named.
    """

    target_class = "annotations.api.serializers.AnnotationUpdateSerializer"

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        # The class, not the partial copy drf-spectacular made of it for a PATCH.
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target_class, direction, bypass_extensions=True
        )
        return schema


class ArticleImportSchema(OpenApiSerializerExtension):
    """An article needs visible text, given as `text` or found in `html`."""

    target_class = "annotations.api.serializers.ArticleImportSerializer"

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target_class, direction, bypass_extensions=True
        )
        schema["anyOf"] = [
            {"required": ["text"], "properties": {"text": {"pattern": VISIBLE}}},
            {"required": ["html"], "properties": {"html": {"pattern": VISIBLE}}},
        ]
        return schema


CLAIM_REVIEW_REF = {"$ref": "#/components/schemas/ClaimReview"}

_CREATIVE_WORK = {
    "type": "object",
    "description": "The article the claim appeared in.",
    "properties": {
        "@type": {"type": "string", "enum": ["CreativeWork"]},
        "url": {"type": "string"},
        "headline": {"type": "string"},
        "datePublished": {"type": "string", "format": "date"},
    },
    "required": ["@type"],
}

# publishing.records.claim_review: the document, field by field.
CLAIM_REVIEW = {
    "type": "object",
    "description": "A verified claim as schema.org ClaimReview, as Google's fact-check "
    "markup asks for it.",
    "properties": {
        "@context": {"type": "string", "enum": ["https://schema.org"]},
        "@type": {"type": "string", "enum": ["ClaimReview"]},
        "url": {"type": "string", "format": "uri", "description": "The claim's public page."},
        "claimReviewed": {"type": "string"},
        "author": {
            "type": "object",
            "properties": {
                "@type": {"type": "string", "enum": ["Organization"]},
                "name": {"type": "string"},
                "url": {"type": "string", "format": "uri"},
            },
            "required": ["@type", "name", "url"],
        },
        "datePublished": {"type": "string", "format": "date", "nullable": True},
        "dateModified": {
            "type": "string",
            "format": "date",
            "description": "Only on a corrected claim.",
        },
        "reviewRating": {
            "type": "object",
            "properties": {
                "@type": {"type": "string", "enum": ["Rating"]},
                "alternateName": {"type": "string", "description": "The verdict."},
                "ratingValue": {"type": "integer"},
                "bestRating": {"type": "integer"},
                "worstRating": {"type": "integer"},
                "ratingExplanation": {"type": "string"},
            },
            "required": ["@type", "alternateName"],
        },
        "itemReviewed": {
            "type": "object",
            "properties": {
                "@type": {"type": "string", "enum": ["Claim"]},
                "appearance": {"type": "array", "items": _CREATIVE_WORK},
                "firstAppearance": _CREATIVE_WORK,
                "author": {
                    "type": "object",
                    "properties": {
                        "@type": {"type": "string", "enum": ["Person", "Organization"]},
                        "name": {"type": "string"},
                    },
                    "required": ["@type", "name"],
                },
                "datePublished": {"type": "string"},
            },
            "required": ["@type", "appearance"],
        },
    },
    "required": [
        "@context",
        "@type",
        "url",
        "claimReviewed",
        "author",
        "datePublished",
        "reviewRating",
        "itemReviewed",
    ],
}


def add_components(result: dict[str, Any]) -> None:
    """The components the views refer to by name, not through a serializer."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ClaimReview", CLAIM_REVIEW)
