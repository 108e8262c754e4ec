"""The Webhooks page: a newsroom's admins register partners' addresses and read the delivery log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.core.http import HtmxHttpRequest
from annotations.core.inputs import describe_error
from annotations.core.permissions import admin_organizations_for
from annotations.models import DeliveryStatus, Organization, Webhook, WebhookDelivery
from annotations.webhooks import services as webhooks
from annotations.webhooks.delivery import MAX_ATTEMPTS
from annotations.webhooks.forms import WebhookForm
from annotations.webhooks.services import (
    webhook_create,
    webhook_deactivate,
    webhook_delete,
    webhook_update,
)

# The delivery log shows this many of the latest deliveries.
LOG_SIZE = 50


def _admin_organization(request: HtmxHttpRequest, slug: str) -> Organization:
    # Not an admin there, or no such newsroom: the same 404, as on the editors' pages.
    return get_object_or_404(admin_organizations_for(request.user), slug=slug)


def _admin_webhook(request: HtmxHttpRequest, pk: int) -> Webhook:
    return get_object_or_404(
        Webhook.objects.filter(organization__in=admin_organizations_for(request.user)),
        pk=pk,
    )


def _deliveries(organization: Organization) -> list[WebhookDelivery]:
    deliveries: QuerySet[WebhookDelivery] = (
        WebhookDelivery.objects.filter(webhook__organization=organization)
        .select_related("webhook", "claim")
        .defer("body")
        .order_by("-created_at", "-pk")
    )
    return list(deliveries[:LOG_SIZE])


def _log_context(organization: Organization) -> dict[str, Any]:
    deliveries = _deliveries(organization)
    waiting = {DeliveryStatus.PENDING, DeliveryStatus.RETRYING}
    return {
        "organization": organization,
        "deliveries": deliveries,
        "polling": any(d.status in waiting for d in deliveries),
    }


@require_http_methods(["GET", "POST"])
@login_required
def webhooks_page(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    organization = _admin_organization(request, slug)
    form = WebhookForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                hook = webhook_create(
                    organization=organization,
                    user=request.user,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                )
            except ValidationError as exc:
                form.add_error(None, describe_error(exc))
            else:
                messages.success(
                    request, f"Webhook registered: {hook.url}. Give the partner its secret."
                )
                return redirect("webhooks", slug=organization.slug)
        status = 400
    return render(
        request,
        "annotations/webhooks/webhooks.html",
        {
            **_log_context(organization),
            "form": form,
            "hooks": Webhook.objects.filter(organization=organization).select_related("created_by"),
            "max_attempts": MAX_ATTEMPTS,
        },
        status=status,
    )


@require_GET
@login_required
def webhook_deliveries(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The delivery log alone, polled by htmx while a delivery is waiting."""
    organization = _admin_organization(request, slug)
    context = _log_context(organization)
    return render(request, "annotations/webhooks/webhooks.html#delivery-log", context)


@require_POST
@login_required
def webhook_action(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    hook = _admin_webhook(request, pk)
    slug = hook.organization.slug
    if action == "deactivate":
        webhook_deactivate(webhook=hook, user=request.user)
        messages.success(request, f"Deactivated: nothing more is sent to {hook.url}.")
    elif action == "activate":
        webhook_update(webhook=hook, user=request.user, active=True)
        messages.success(request, f"Reactivated: {hook.url} is sent new events again.")
    elif action == "delete":
        webhook_delete(webhook=hook, user=request.user)
        messages.success(request, f"Deleted the webhook to {hook.url} and its delivery log.")
    else:
        raise Http404
    return redirect("webhooks", slug=slug)


@require_POST
@login_required
def delivery_redeliver(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(
        WebhookDelivery.objects.filter(
            webhook__organization__in=admin_organizations_for(request.user)
        ).select_related("webhook__organization"),
        pk=pk,
    )
    try:
        webhooks.delivery_redeliver(delivery=delivery, user=request.user)
    except ValidationError as exc:
        messages.error(request, describe_error(exc))
    else:
        messages.success(request, f"Delivery {delivery.pk} is being sent again.")
    return redirect("webhooks", slug=delivery.webhook.organization.slug)
