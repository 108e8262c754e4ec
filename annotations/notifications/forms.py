from __future__ import annotations

from django import forms

from annotations.models import EmailChoice


class EmailPreferenceForm(forms.Form):
    email = forms.ChoiceField(
        choices=EmailChoice.choices,
        widget=forms.RadioSelect,
        label="Email me about mentions and requests for changes",
    )
