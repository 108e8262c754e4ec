"""The claim form: verdict, rating, note and a table of sources."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict

from annotations.core.inputs import SourceInput
from annotations.models import Source, Taxonomy, VerdictLabel

# The columns of a source row; publisher, archived URL and visibility travel as
# hidden or select fields so that editing a claim never drops them.
SOURCE_FIELDS = ("url", "title", "quote", "stance", "publisher", "archived_url", "visibility")


@dataclass
class SourceRow:
    """One row of the sources table as the user typed it, with its errors."""

    url: str = ""
    title: str = ""
    quote: str = ""
    # No default: every source says whether it supports, refutes or gives context.
    stance: str = ""
    publisher: str = ""
    archived_url: str = ""
    visibility: str = "public"
    url_error: str = ""
    stance_error: str = ""

    @property
    def is_blank(self) -> bool:
        return not (self.url or self.title or self.quote)


class ClaimForm(forms.Form):
    """A claim's verdict, rating, note and sources; the span comes from the selection."""

    start = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    end = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    quote = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    verdict = forms.ModelChoiceField(
        queryset=VerdictLabel.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
        help_text="Leave empty to keep the claim “to check”.",
    )
    rating = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, choices=[("", "—")]
    )
    note = forms.CharField(
        required=False,
        max_length=settings.WORKBENCH_MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, taxonomy: Taxonomy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        verdict_field = self.fields["verdict"]
        assert isinstance(verdict_field, forms.ModelChoiceField)
        verdict_field.queryset = taxonomy.labels.order_by("order")
        rating_field = self.fields["rating"]
        assert isinstance(rating_field, forms.TypedChoiceField)
        rating_field.choices = [("", "—")] + [
            (str(n), str(n)) for n in range(taxonomy.worst_rating, taxonomy.best_rating + 1)
        ]
        self.sources: list[SourceRow] = []

    def read_sources(self, data: QueryDict) -> list[SourceInput]:
        """Rows of the sources table, in order; blank rows are dropped."""
        columns = [data.getlist(f"source_{name}") for name in SOURCE_FIELDS]
        rows = []
        # zip_longest: a row missing a column (a hand-made request) keeps its other values.
        for values in zip_longest(*columns, fillvalue=""):
            row = SourceRow(*(v.strip() for v in values))
            if not row.is_blank:
                rows.append(row)
        self.sources = rows
        return [
            SourceInput(
                url=r.url,
                title=r.title,
                quote=r.quote,
                stance=r.stance,
                publisher=r.publisher,
                archived_url=r.archived_url,
                confidential=r.visibility == "confidential",
            )
            for r in rows
        ]

    def read_sources_from_claim(self, sources: Iterable[Source]) -> None:
        self.sources = [
            SourceRow(
                url=s.url,
                title=s.title,
                quote=s.quote,
                stance=s.stance,
                publisher=s.publisher,
                archived_url=s.archived_url,
                visibility="confidential" if s.confidential else "public",
            )
            for s in sources
        ]

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Shows a service's errors beside the fields they belong to."""
        for key, messages in errors.items():
            text = " ".join(messages)
            if key.startswith("sources["):
                index = int(key[len("sources[") : key.index("]")])
                if index < len(self.sources):
                    setattr(self.sources[index], f"{key.rsplit('.', 1)[-1]}_error", text)
                    continue
            field = key if key in self.fields else None
            self.add_error(field, text)
