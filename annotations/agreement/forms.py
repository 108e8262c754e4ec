"""Starting an agreement run: how spans are matched."""

from __future__ import annotations

from typing import Any

from django import forms

from annotations.models import Collection, MatchMode


class RunForm(forms.Form):
    match = forms.ChoiceField(choices=MatchMode.choices, required=False)
    iou = forms.FloatField(
        required=False,
        label="IoU threshold",
        error_messages={"invalid": "IoU threshold: use a number above 0 and at most 1"},
    )
    # Below this many pairable claims a figure says "too few claims to say" (the
    # collection keeps the choice for its next runs and refreshes).
    min_units = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10_000,
        label="Too few to say below",
        error_messages={
            "invalid": "Too few to say below: a whole number of claims",
            "min_value": "Too few to say below: at least 1 claim",
            "max_value": "Too few to say below: at most 10,000 claims",
        },
    )

    def __init__(self, *args: Any, collection: Collection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.collection = collection

    def clean_match(self) -> str:
        return str(self.cleaned_data["match"] or MatchMode.OVERLAP)

    def clean_iou(self) -> float:
        value = self.cleaned_data["iou"]
        return self.collection.iou_threshold if value is None else float(value)

    def clean_min_units(self) -> int:
        value = self.cleaned_data["min_units"]
        return self.collection.agreement_min_units if value is None else int(value)
