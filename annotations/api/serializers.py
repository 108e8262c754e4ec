"""The API's documents. Claims are written by exports.claim_record (the JSONL line),
so the API and the exports say the same thing; these serializers describe them
for the schema, and validate query parameters. The members' documents (articles,
claim annotations, agreement, exports) are serialized here, and their input is
checked for shape only: the services check the values, as for the browser."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.models import (
    AgreementReport,
    Article,
    ClaimAnnotation,
    Collection,
    ExportAudience,
    ExportFormat,
    ExportJob,
    ExportStatusFilter,
    MatchMode,
    Stance,
    VerdictLabel,
    VerifiedStatus,
)

# The choice sets of the documents' `status` fields (named in ENUM_NAME_OVERRIDES).
PUBLIC_STATUSES = [VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED, VerifiedStatus.RETRACTED]
ANNOTATION_STATUSES = ["to_check", "checked"]
IMPORT_STATUSES = ["created", "new version", "unchanged"]


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
        choices=PUBLIC_STATUSES,
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
        choices=PUBLIC_STATUSES,
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


# Members: articles ---------------------------------------------------------------------


class ArticleSummarySerializer(serializers.ModelSerializer):
    """An article version without its text (the list)."""

    collection: serializers.SlugRelatedField[Collection] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    previous_version: serializers.PrimaryKeyRelatedField[Article] = (
        serializers.PrimaryKeyRelatedField(
            read_only=True,
            allow_null=True,
            help_text="The id of the version this one replaced, if any.",
        )
    )
    # Not a URLField: an article imported without an address has "" here, which
    # the schema's `format: uri` would refuse.
    url = serializers.CharField(read_only=True, help_text="Its address; empty when unknown.")

    class Meta:
        model = Article
        fields = [
            "id",
            "collection",
            "title",
            "url",
            "publisher",
            "author",
            "published_at",
            "language",
            "version",
            "previous_version",
            "content_hash",
            "imported_at",
        ]
        read_only_fields = fields


class ArticleSerializer(ArticleSummarySerializer):
    """An article version with its text: the coordinate system of every claim's offsets."""

    class Meta(ArticleSummarySerializer.Meta):
        fields = [*ArticleSummarySerializer.Meta.fields, "text", "html"]
        read_only_fields = fields


class ArticleFilterSerializer(serializers.Serializer):
    collection = serializers.SlugField(required=False, help_text="A collection's slug.")


class ArticleImportSerializer(serializers.Serializer):
    """One article to import. The import service checks the values, as for a file or a paste."""

    collection = serializers.SlugField(help_text="The slug of a collection of your newsroom.")
    title = serializers.CharField(max_length=1000)
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The plain text. Give this or `html`.",
    )
    html = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The article's HTML: sanitized and kept for display; without `text`, "
        "the text is extracted from it.",
    )
    url = serializers.CharField(
        required=False, allow_blank=True, help_text="The article's http(s) address."
    )
    publisher = serializers.CharField(required=False, allow_blank=True)
    author = serializers.CharField(required=False, allow_blank=True)
    published_at = serializers.DateTimeField(required=False, allow_null=True)
    language = serializers.CharField(required=False, allow_blank=True, help_text="e.g. `en`.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("text") or "").strip() and not (attrs.get("html") or "").strip():
            raise serializers.ValidationError({"text": ["Give the article's text or its html."]})
        return attrs


class ArticleImportResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=IMPORT_STATUSES,
        help_text="`unchanged`: this text was already the latest version; nothing was stored.",
    )
    article = ArticleSerializer()


# Members: claim annotations ------------------------------------------------------------


class ClaimSourceSerializer(serializers.Serializer):
    """A reviewer's source. The claim services check the addresses (http or https only)."""

    url = serializers.CharField()
    title = serializers.CharField(required=False, allow_blank=True, default="")
    publisher = serializers.CharField(required=False, allow_blank=True, default="")
    quote = serializers.CharField(required=False, allow_blank=True, default="")
    stance = serializers.ChoiceField(choices=Stance.choices, default=Stance.CONTEXT)
    archived_url = serializers.CharField(required=False, allow_blank=True, default="")
    confidential = serializers.BooleanField(
        required=False, default=False, help_text="Never shown outside the newsroom."
    )


class AnnotationSerializer(serializers.ModelSerializer):
    """One reviewer's claim: the span, its verdict (null while “to check”) and sources."""

    reviewer: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    verdict: serializers.SlugRelatedField[VerdictLabel] = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The verdict's slug; null: to check.",
    )
    status = serializers.SerializerMethodField()
    sources = ClaimSourceSerializer(many=True, read_only=True)

    class Meta:
        model = ClaimAnnotation
        fields = [
            "id",
            "article",
            "reviewer",
            "start",
            "end",
            "quote",
            "prefix",
            "suffix",
            "verdict",
            "status",
            "rating",
            "note",
            "sources",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ANNOTATION_STATUSES))
    def get_status(self, claim: ClaimAnnotation) -> str:
        return "checked" if claim.is_checked else "to_check"


class AnnotationListSerializer(serializers.Serializer):
    article = serializers.IntegerField()
    sees_all = serializers.BooleanField(
        help_text="False while blind review shows you only your own claims on this article."
    )
    results = AnnotationSerializer(many=True)


class AnnotationFilterSerializer(serializers.Serializer):
    article = serializers.IntegerField(min_value=1, help_text="The article version's id.")


class AnnotationCreateSerializer(serializers.Serializer):
    article = serializers.IntegerField(min_value=1)
    start = serializers.IntegerField(help_text="Offset into the article's `text` (code points).")
    end = serializers.IntegerField(help_text="Exclusive end offset.")
    quote = serializers.CharField(trim_whitespace=False, help_text="Exactly text[start:end].")
    verdict = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A verdict slug of the collection's taxonomy; null or absent: to check.",
    )
    rating = serializers.IntegerField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    sources = ClaimSourceSerializer(many=True, required=False, default=list)


class AnnotationUpdateSerializer(serializers.Serializer):
    """What a PATCH changes; what it leaves out stays as it is."""

    version = serializers.IntegerField(
        help_text="The version you read: a claim changed since answers 409."
    )
    verdict = serializers.CharField(required=False, allow_null=True)
    rating = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True)
    sources = ClaimSourceSerializer(many=True, required=False)


# Members: agreement --------------------------------------------------------------------


class AgreementStartSerializer(serializers.Serializer):
    match = serializers.ChoiceField(choices=MatchMode.choices, default=MatchMode.OVERLAP)
    iou = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.01,
        max_value=1,
        help_text="Overlap needed to match; default the collection's.",
    )


class AgreementRunSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="percent", help_text="Percent done, 0 to 100.")

    class Meta:
        model = AgreementReport
        fields = [
            "id",
            "status",
            "progress",
            "processed",
            "total",
            "match_mode",
            "iou_threshold",
            "failure",
            "created_at",
            "started_at",
            "finished_at",
            "refreshed_at",
        ]
        read_only_fields = fields


class AgreementSerializer(serializers.Serializer):
    collection = serializers.SlugField()
    running = AgreementRunSerializer(
        allow_null=True, help_text="A run under way (or the newest run, when it failed)."
    )
    report = AgreementRunSerializer(allow_null=True, help_text="The last finished run.")
    results = serializers.JSONField(
        allow_null=True,
        help_text="The last finished run's figures: the document that "
        "`manage.py compute_agreement --json` prints. Claims changed since refresh it.",
    )


# Members: exports ----------------------------------------------------------------------


class ExportCreateSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    collection = serializers.SlugField(
        required=False, allow_null=True, default=None, help_text="Absent: every collection."
    )
    status = serializers.ChoiceField(
        choices=ExportStatusFilter.choices, default=ExportStatusFilter.PUBLISHED
    )
    verdict = serializers.SlugField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A verdict slug (of the collection's taxonomy, or the newsroom's default).",
    )
    date_field = serializers.ChoiceField(
        choices=["published_at", "updated_at"], default="published_at"
    )
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    audience = serializers.ChoiceField(
        choices=ExportAudience.choices, default=ExportAudience.PUBLIC
    )


class ExportJobSerializer(serializers.ModelSerializer):
    # Null: every collection, every verdict.
    collection: serializers.SlugRelatedField[Collection] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    verdict: serializers.SlugRelatedField[VerdictLabel] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    progress = serializers.IntegerField(source="percent", help_text="Percent done, 0 to 100.")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "format",
            "collection",
            "status_filter",
            "verdict",
            "date_field",
            "date_from",
            "date_to",
            "audience",
            "status",
            "progress",
            "processed",
            "total",
            "rows",
            "size",
            "failure",
            "filename",
            "created_at",
            "finished_at",
            "expires_at",
            "expired",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, job: ExportJob) -> str | None:
        """The file's address once the job is done, until it expires."""
        if not job.downloadable:
            return None
        path = reverse("api-v1:export-download", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path
