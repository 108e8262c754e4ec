"""What the discussion's forms accept; the services check the rest."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings

TARGET = re.compile(r"^(article|claim-(\d{1,18})|verified-(\d{1,18}))$")


class CommentForm(forms.Form):
    body = forms.CharField(
        strip=False,
        required=False,
        max_length=settings.WORKBENCH_MAX_NOTE_CHARS + 1000,
        error_messages={"max_length": "This comment is too long."},
    )
    quote = forms.CharField(required=False, strip=False, max_length=4000)
    quote_start = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    quote_end = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1)


class ThreadForm(CommentForm):
    # "article", "claim-<id>" or "verified-<id>": what the thread is about.
    target = forms.CharField(max_length=40, initial="article")
    request_changes = forms.BooleanField(required=False)

    def clean_target(self) -> tuple[str, int | None]:
        value = self.cleaned_data["target"]
        match = TARGET.match(value)
        if match is None:
            raise forms.ValidationError("Choose what the comment is about.")
        if match.group(2):
            return ("claim", int(match.group(2)))
        if match.group(3):
            return ("verified", int(match.group(3)))
        return ("article", None)


ACTIVITY_GROUPS = {
    "comments": ["commented", "edited_comment", "deleted_comment", "resolved", "reopened"],
    "requests": ["requested_changes", "changes_done"],
    "claims": ["marked_claim", "changed_claim", "deleted_claim"],
    "verified": ["saved_verified", "published", "corrected", "retracted"],
}


class ActivityFilterForm(forms.Form):
    what = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Everything"),
            ("comments", "Comments"),
            ("requests", "Requests for changes"),
            ("claims", "Claims marked and changed"),
            ("verified", "Verified claims and publishing"),
        ],
    )
    who = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[])
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, *args: object, people: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["who"].choices = [("", "Anyone"), *people]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return data
