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

    def __init__(self, *args: Any, collection: Collection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.collection = collection

    def clean_match(self) -> str:
        return str(self.cleaned_data["match"] or MatchMode.OVERLAP)

    def clean_iou(self) -> float:
        value = self.cleaned_data["iou"]
        return self.collection.iou_threshold if value is None else float(value)
