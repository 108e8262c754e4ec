"""A webhook's address and events, as an admin enters them."""

from __future__ import annotations

from django import forms

from annotations.models import WebhookEvent
from annotations.webhooks.services import URL_MAX_LENGTH


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="Address (URL)",
        max_length=URL_MAX_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://partner.example/hooks/claims"}),
    )
    events = forms.MultipleChoiceField(
        label="Send when",
        choices=WebhookEvent.choices,
        initial=WebhookEvent.values,
        widget=forms.CheckboxSelectMultiple,
    )
