"""A new API key: its name, its member, its scopes and its expiry."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from annotations.models import Membership, Organization, Scope


class MemberField(forms.ModelChoiceField[Membership]):
    def label_from_instance(self, obj: Membership) -> str:
        return f"{obj.user.get_username()} ({obj.get_role_display()})"


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Who will use it, e.g. “Partner site” or “Newsletter bot”."
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, initial=[Scope.READ_CLAIMS]
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: the key works until this day is over.",
    )
    member = MemberField(
        queryset=Membership.objects.none(),
        label="Acts as",
        empty_label=None,
        help_text="The key can do what this member may do, within its scopes.",
    )

    # The service's field names, as this form calls them.
    FIELDS = {"user": "member", "expires_at": "expires_on"}

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member = self.fields["member"]
        assert isinstance(member, forms.ModelChoiceField)
        member.queryset = organization.memberships.filter(user__is_active=True).select_related(
            "user"
        )
        expires_on = self.fields["expires_on"]
        expires_on.widget.attrs["min"] = timezone.localdate().isoformat()

    def add_service_errors(self, error: ValidationError) -> None:
        for field, messages_ in error.message_dict.items():
            name = self.FIELDS.get(field, field)
            self.add_error(name if name in self.fields else None, messages_)
