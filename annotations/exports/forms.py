"""What to export: the format, and which of the newsroom's verified claims."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from annotations.exports.selection import FILTERS, Selection
from annotations.models import (
    ExportAudience,
    ExportFormat,
    ExportStatusFilter,
    Organization,
    VerdictLabel,
)


class ExportForm(forms.Form):
    """What to export: the format, and which of the newsroom's verified claims.

    The collection and the verdict are chosen by slug and read with the same
    rule as the API and export_claims (Selection.from_slugs): a verdict of
    the chosen collection's taxonomy, or of the default one.
    """

    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.JSONL)
    collection = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        choices=ExportStatusFilter.choices, initial=ExportStatusFilter.PUBLISHED
    )
    verdict = forms.ChoiceField(required=False)
    date_field = forms.ChoiceField(
        choices=[("published_at", "Published"), ("updated_at", "Last updated")],
        initial="published_at",
        label="Dates",
    )
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    audience = forms.ChoiceField(choices=ExportAudience.choices, initial=ExportAudience.PUBLIC)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.selection: Selection | None = None
        collection = self.fields["collection"]
        assert isinstance(collection, forms.ChoiceField)
        collections = organization.collections.order_by("name").values_list("slug", "name")
        collection.choices = [("", "All collections"), *collections]
        verdict = self.fields["verdict"]
        assert isinstance(verdict, forms.ChoiceField)
        # Each slug once: collections with their own taxonomy share most of them.
        names: dict[str, str] = {}
        for slug, name in (
            VerdictLabel.objects.filter(taxonomy__organization=organization)
            .order_by("-taxonomy__is_default", "taxonomy__name", "order")
            .values_list("slug", "name")
        ):
            names.setdefault(slug, name)
        verdict.choices = [("", "Any verdict"), *names.items()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.selection = Selection.from_slugs(
                self.organization, **{name: data[name] for name in FILTERS}
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name, messages)
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The range ends before it starts.")
        return data
