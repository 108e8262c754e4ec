"""What the workbench's management commands share."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from annotations.core.inputs import describe_error
from annotations.models import Organization


def organization_from_slug(slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        known = ", ".join(Organization.objects.values_list("slug", flat=True)) or "none yet"
        raise CommandError(f"No organization with slug {slug!r} (known: {known}).")
    return organization


def command_error(error: ValidationError) -> CommandError:
    return CommandError(describe_error(error))
