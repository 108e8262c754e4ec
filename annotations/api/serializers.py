"""The API's documents. Claims are written by exports.claim_record (the JSONL line),
so the API and the exports say the same thing; these serializers describe them
for the schema, and validate query parameters. The members' documents (articles,
claim annotations, agreement, exports) are serialized here, and their input is
checked for shape only: the services check the values, as for the browser."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.api.schema import MAX_RATING, RatingField, http_url
from annotations.core.inputs import MAX_SOURCES, SOURCE_FIELD_LIMITS
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
# Collections' and verdicts' slugs are at most this long (the models' SlugFields).
SLUG_MAX_LENGTH = 60
# The stored fields' ranges: ids are bigints; offsets and versions PostgreSQL
# integers (ratings: schema.MAX_RATING). A JSON number past them is refused with 400.
MAX_ID = 2**63 - 1
MAX_INTEGER = 2**31 - 1


def slug(**kwargs: Any) -> serializers.SlugField:
    return serializers.SlugField(max_length=SLUG_MAX_LENGTH, **kwargs)


def _json_type(field: serializers.Field) -> tuple[str, tuple[type, ...]] | None:
    """The JSON type a body's value must have for this field, and the Python types of it."""
    if isinstance(field, serializers.BooleanField):
        return "true or false", (bool,)
    if isinstance(field, serializers.IntegerField):
        return "a whole number", (int,)
    if isinstance(field, serializers.FloatField):
        return "a number", (int, float)
    texts = serializers.CharField | serializers.ChoiceField | serializers.DateField
    if isinstance(field, texts | serializers.DateTimeField):
        return "a string", (str,)
    return None


JSON_NAMES = {bool: "true or false", int: "a number", float: "a number", str: "a string"}


class JsonBody(serializers.Serializer):
    """A JSON body, taken as the schema types it: a string where a string goes.

    DRF turns what it can into what a field wants: `0` into the text "0",
    "12" into the number 12, 1 or "yes" into true. The schema says which type
    each value has, and a client sending another has a bug it should hear
    about: a value of the wrong JSON type answers 400 naming the field.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            errors: dict[str, list[str]] = {}
            for name, field in self.fields.items():
                value = data.get(name)
                expected = _json_type(field)
                if name not in data or value is None or field.read_only or expected is None:
                    continue
                kind, types = expected
                # True and false are ints to Python, never to JSON.
                if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                    given = JSON_NAMES.get(type(value), "an array or an object")
                    errors[name] = [f"Give {kind}, not {given}."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class SourceSerializer(serializers.Serializer):
    url = serializers.URLField()
    title = serializers.CharField(allow_blank=True)
    publisher = serializers.CharField(allow_blank=True)
    quote = serializers.CharField(allow_blank=True)
    stance = serializers.ChoiceField(choices=["supports", "refutes", "context"])
    archived_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the newsroom last archived the source (a WARC record); null if never.",
    )
    archive_sha256 = serializers.CharField(
        allow_blank=True,
        help_text="SHA-256 (hex) of the page as archived then; empty if never archived.",
    )


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
    """The claims list's filters; a bad value (an empty one too) answers 400 naming the
    parameter. Validate `request.query_params.dict()`: given the QueryDict itself, DRF
    reads an empty value as a missing one, and would ignore the filter."""

    verdict = slug(required=False, help_text="A verdict's slug.")
    collection = slug(required=False, help_text="A collection's slug.")
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
    article_url = http_url(
        required=False,
        max_length=2000,
        help_text="Only claims in the article at this URL (as the article's `url` gives it).",
    )
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Words of the claim as reviewed, its summary or its quote.",
    )


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
    collection = slug(required=False, help_text="A collection's slug.")


class ArticleImportSerializer(JsonBody):
    """One article to import. The import service checks the values, as for a file or a paste."""

    collection = slug(help_text="The slug of a collection of your newsroom.")
    # The limits are the stored fields' (models.Article).
    title = serializers.CharField(max_length=500)
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
    url = http_url(required=False, allow_blank=True, help_text="The article's http(s) address.")
    publisher = serializers.CharField(required=False, allow_blank=True, max_length=200)
    author = serializers.CharField(required=False, allow_blank=True, max_length=200)
    published_at = serializers.DateTimeField(required=False, allow_null=True)
    language = serializers.CharField(
        required=False, allow_blank=True, max_length=16, help_text="e.g. `en`."
    )

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


class ClaimSourceSerializer(JsonBody):
    """A reviewer's source. The claim services check the addresses (http or https only)
    and store them normalized; the limits are the stored fields' (models.Source)."""

    url = http_url()
    title = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=SOURCE_FIELD_LIMITS["title"]
    )
    publisher = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=SOURCE_FIELD_LIMITS["publisher"]
    )
    quote = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=SOURCE_FIELD_LIMITS["quote"]
    )
    stance = serializers.ChoiceField(choices=Stance.choices, default=Stance.CONTEXT)
    archived_url = http_url(required=False, allow_blank=True, default="")
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


class AnnotationCreateSerializer(JsonBody):
    article = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    start = serializers.IntegerField(
        min_value=0,
        max_value=MAX_INTEGER,
        help_text="Offset into the article's `text` (code points).",
    )
    end = serializers.IntegerField(
        min_value=0, max_value=MAX_INTEGER, help_text="Exclusive end offset."
    )
    quote = serializers.CharField(trim_whitespace=False, help_text="Exactly text[start:end].")
    verdict = slug(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="A verdict slug of the collection's taxonomy; null, empty or absent: to check.",
    )
    rating = RatingField(required=False, allow_null=True, default=None, max_value=MAX_RATING)
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=settings.WORKBENCH_MAX_NOTE_CHARS
    )
    # DRF's lists take max_length (a 400 over it); its type stubs do not know.
    sources = ClaimSourceSerializer(  # type: ignore[call-arg]
        many=True, required=False, default=list, max_length=MAX_SOURCES
    )


class AnnotationUpdateSerializer(JsonBody):
    """What a PATCH changes; what it leaves out stays as it is."""

    version = serializers.IntegerField(
        min_value=0,
        max_value=MAX_INTEGER,
        help_text="The version you read: a claim changed since answers 409.",
    )
    verdict = slug(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="A verdict slug of the collection's taxonomy; null or empty: to check.",
    )
    rating = RatingField(required=False, allow_null=True, max_value=MAX_RATING)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=settings.WORKBENCH_MAX_NOTE_CHARS
    )
    sources = ClaimSourceSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=MAX_SOURCES
    )


# Many claims at once: what one request may carry (the body's size limit,
# WORKBENCH_API_MAX_BODY_BYTES, may come first for long notes and sources).
MAX_BULK_ANNOTATIONS = 500
BULK_OUTCOMES = ["created", "present"]


class AnnotationBulkSerializer(JsonBody):
    """Many claim annotations to create at once, all or none."""

    # A ListField, whose bounds the schema states (minItems, maxItems).
    annotations = serializers.ListField(
        child=AnnotationCreateSerializer(),
        min_length=1,
        max_length=MAX_BULK_ANNOTATIONS,
        help_text=f"The claims to create, 1 to {MAX_BULK_ANNOTATIONS}, each as for one create.",
    )


class AnnotationBulkItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in `annotations`, from 0.")
    outcome = serializers.ChoiceField(
        choices=BULK_OUTCOMES,
        help_text="`created` now, or `present`: your claim on exactly this span, left as it was.",
    )
    annotation = AnnotationSerializer()


class AnnotationBulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    present = serializers.IntegerField()
    results = AnnotationBulkItemSerializer(many=True, help_text="One per item, in their order.")


# Members: agreement --------------------------------------------------------------------


class AgreementStartSerializer(JsonBody):
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


class ExportCreateSerializer(JsonBody):
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    collection = slug(
        required=False, allow_null=True, default=None, help_text="Absent: every collection."
    )
    status = serializers.ChoiceField(
        choices=ExportStatusFilter.choices, default=ExportStatusFilter.PUBLISHED
    )
    verdict = slug(
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
