"""Which verified claims an export holds, and for whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import (
    QuerySet,
)

from annotations.core.permissions import others_claims_hidden, verdicts_hidden
from annotations.models import (
    ClaimAnnotation,
    Collection,
    ExportAudience,
    ExportFormat,
    ExportJob,
    ExportStatusFilter,
    Organization,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)
from annotations.publishing.records import Context

# A selection's filters as the exports page, the API and export_claims name them.
FILTERS = ("collection", "verdict", "status", "date_field", "date_from", "date_to", "audience")


@dataclass(frozen=True)
class Selection:
    """Which verified claims an export holds, and for whom."""

    organization: Organization
    collection: Collection | None = None
    status: str = ExportStatusFilter.PUBLISHED
    verdict: VerdictLabel | None = None
    date_field: str = "published_at"
    date_from: date | None = None
    date_to: date | None = None
    audience: str = ExportAudience.PUBLIC
    # Who asked for it: blind review holds in their files as on their pages (the
    # reviewers' work and the desk's verdicts on articles they are still
    # reviewing are left out). None for an operator's export_claims.
    viewer_id: int | None = None

    @classmethod
    def of(cls, job: ExportJob) -> Selection:
        return cls(
            organization=job.organization,
            collection=job.collection,
            status=job.status_filter,
            verdict=job.verdict,
            date_field=job.date_field,
            date_from=job.date_from,
            date_to=job.date_to,
            audience=job.audience,
            viewer_id=job.created_by_id,
        )

    @classmethod
    def from_slugs(
        cls,
        organization: Organization,
        *,
        collection: str | None = "",
        verdict: str | None = "",
        **given: Any,
    ) -> Selection:
        """A selection named the way people and partners name things: by slugs.

        The one rule for a verdict, on the exports page, in the API and in
        export_claims: its slug in the chosen collection's taxonomy, or, for
        every collection, in the newsroom's default taxonomy. The rest
        (status, dates, audience) is passed on as given; selection_check
        checks it. An unknown slug is refused naming the field and the slugs
        there are.
        """
        errors: dict[str, str] = {}
        chosen = None
        if collection:
            chosen = (
                Collection.objects.filter(organization=organization, slug=collection)
                .select_related("taxonomy")
                .first()
            )
            if chosen is None:
                slugs = organization.collections.order_by("slug").values_list("slug", flat=True)
                known = ", ".join(slugs)
                errors["collection"] = (
                    f"No collection {collection!r} in this newsroom (known: {known or 'none'})."
                )
        label = None
        if verdict and "collection" not in errors:
            labels = (
                VerdictLabel.objects.filter(taxonomy=chosen.taxonomy)
                if chosen is not None
                else VerdictLabel.objects.filter(
                    taxonomy__organization=organization, taxonomy__is_default=True
                )
            ).select_related("taxonomy")
            label = labels.filter(slug=verdict).first()
            if label is None:
                known = ", ".join(labels.order_by("order").values_list("slug", flat=True))
                errors["verdict"] = f"Unknown verdict {verdict!r}; use one of {known}."
        if errors:
            raise ValidationError(errors)
        return cls(organization=organization, collection=chosen, verdict=label, **given)

    @property
    def public(self) -> bool:
        return self.audience == ExportAudience.PUBLIC

    def context(self) -> Context:
        """What every record of this export shares, worked out once."""
        return Context.of(self.organization, public=self.public)

    def claims(self) -> QuerySet[VerifiedClaim]:
        claims = VerifiedClaim.objects.filter(organization=self.organization)
        if self.collection is not None:
            claims = claims.filter(article__collection=self.collection)
        if self.status == ExportStatusFilter.PUBLISHED:
            claims = claims.filter(status__in=[VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED])
        elif self.status != ExportStatusFilter.ALL:
            claims = claims.filter(status=self.status)
        if self.verdict is not None:
            claims = claims.filter(verdict=self.verdict)
        if self.date_from is not None:
            claims = claims.filter(**{f"{self.date_field}__date__gte": self.date_from})
        if self.date_to is not None:
            claims = claims.filter(**{f"{self.date_field}__date__lte": self.date_to})
        if self.viewer_id is not None:
            claims = verdicts_hidden(User(pk=self.viewer_id), claims)
        return claims.order_by("pk")

    def sources(self) -> QuerySet[VerifiedSource]:
        sources = VerifiedSource.objects.order_by("order", "pk")
        return sources.filter(confidential=False) if self.public else sources

    def annotations(self) -> QuerySet[ClaimAnnotation]:
        """Reviewers' claims on the articles in scope (the Web Annotation export)."""
        claims = ClaimAnnotation.objects.filter(article__organization=self.organization)
        if self.collection is not None:
            claims = claims.filter(article__collection=self.collection)
        if self.viewer_id is not None:
            claims = others_claims_hidden(User(pk=self.viewer_id), claims)
        return claims.order_by("pk")


def selection_check(selection: Selection) -> None:
    """Refuses a selection that cannot be right, naming the field."""
    errors = {}
    if selection.collection and selection.collection.organization_id != selection.organization.pk:
        errors["collection"] = "Not a collection of this newsroom."
    if selection.date_field not in {"published_at", "updated_at"}:
        errors["date_field"] = "Use published_at or updated_at."
    if selection.date_from and selection.date_to and selection.date_from > selection.date_to:
        errors["date_to"] = "The range ends before it starts."
    if selection.status not in ExportStatusFilter.values:
        errors["status"] = f"Use one of: {', '.join(ExportStatusFilter.values)}."
    if selection.audience not in ExportAudience.values:
        errors["audience"] = f"Use one of: {', '.join(ExportAudience.values)}."
    if (
        selection.verdict
        and selection.verdict.taxonomy.organization_id != selection.organization.pk
    ):
        errors["verdict"] = "Not a verdict of this newsroom."
    if errors:
        raise ValidationError(errors)


def pdf_check(selection: Selection, export_format: str) -> None:
    """A PDF report has a size limit: WeasyPrint lays out the whole document in memory."""
    if export_format != ExportFormat.REPORT_PDF:
        return
    limit = settings.WORKBENCH_REPORT_PDF_MAX_CLAIMS
    claims = selection.claims().count()
    if claims > limit:
        raise ValidationError(
            {
                "format": f"A PDF report holds at most {limit:,} claims and this one has "
                f"{claims:,}: narrow the selection, or choose the HTML report."
            }
        )
