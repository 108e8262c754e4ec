"""The API's documents. Claims are written by exports.claim_record (the JSONL line),
so the API and the exports say the same thing; these serializers describe them
for the schema, and validate query parameters."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotations.models import VerifiedStatus


class SourceSerializer(serializers.Serializer):
    url = serializers.URLField()
    title = serializers.CharField(allow_blank=True)
    publisher = serializers.CharField(allow_blank=True)
    quote = serializers.CharField(allow_blank=True)
    stance = serializers.ChoiceField(choices=["supports", "refutes", "context"])


class ArticleRefSerializer(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    publisher = serializers.CharField(allow_blank=True)
    published_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()


class VerifiedClaimSerializer(serializers.Serializer):
    """A published (or corrected, or retracted) verified claim, as partners get it."""

    id = serializers.IntegerField()
    url = serializers.URLField(help_text="The claim's public page.")
    claim_reviewed = serializers.CharField()
    claimant = serializers.CharField(allow_blank=True)
    claim_date = serializers.DateField(allow_null=True)
    verdict = serializers.CharField(help_text="The verdict's slug, e.g. `false`.")
    verdict_name = serializers.CharField()
    rating = serializers.IntegerField(allow_null=True)
    best_rating = serializers.IntegerField()
    worst_rating = serializers.IntegerField()
    summary = serializers.CharField(allow_blank=True, help_text="What we found.")
    status = serializers.ChoiceField(
        choices=[VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED, VerifiedStatus.RETRACTED],
        help_text="A retracted claim stays listed so that partners can take it down.",
    )
    lineage = serializers.CharField()
    public_note = serializers.CharField(
        allow_blank=True, help_text="The note of the latest correction or retraction."
    )
    published_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    article = ArticleRefSerializer()
    quote = serializers.CharField(help_text="The passage of the article the claim is.")
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    sources = SourceSerializer(many=True)


class ClaimFilterSerializer(serializers.Serializer):
    """The claims list's filters; a bad value answers 400 naming the parameter."""

    verdict = serializers.SlugField(required=False, help_text="A verdict's slug.")
    collection = serializers.SlugField(required=False, help_text="A collection's slug.")
    status = serializers.ChoiceField(
        required=False,
        choices=[VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED, VerifiedStatus.RETRACTED],
    )
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only claims changed at or after this time (ISO 8601)."
    )
    published_since = serializers.DateTimeField(
        required=False, help_text="Only claims published at or after this time (ISO 8601)."
    )
    article_url = serializers.URLField(
        required=False, max_length=2000, help_text="Only claims in the article at this URL."
    )
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Words of the claim as reviewed, its summary or its quote.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in attrs.items() if value not in ("", None)}
