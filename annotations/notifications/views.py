"""The inbox: each person's notifications, marked read as they are opened; how they want
emails; and the signed link in every email that turns them off without logging in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.core.http import HtmxHttpRequest
from annotations.models import EmailChoice
from annotations.notifications import services
from annotations.notifications.forms import EmailPreferenceForm
from annotations.notifications.selectors import (
    desk_organizations,
    inbox_for,
    notification_for,
    place_of,
)


def _preference_form(request: HtmxHttpRequest, data: object = None) -> EmailPreferenceForm:
    return EmailPreferenceForm(data, initial={"email": services.email_choice(request.user)})  # type: ignore[arg-type]


@require_GET
@login_required
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    rows = inbox_for(request.user).select_related("actor", "thread", "verified")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    desk = desk_organizations(request.user)
    items = [(n, place_of(n, desk=n.organization_id in desk)) for n in page.object_list]
    return render(
        request,
        "annotations/notifications/inbox.html",
        {
            "page": page,
            "items": items,
            "unread_only": unread_only,
            "form": _preference_form(request),
            "email_address": request.user.email,
        },
    )


@require_GET
@login_required
def notification_open(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Marks a notification read and goes to the place it is about."""
    notification = notification_for(request.user, pk)
    if notification is None:
        raise Http404
    services.notification_mark_read(user=request.user, notifications=[notification.pk])
    desk = notification.organization_id in desk_organizations(request.user)
    return redirect(place_of(notification, desk=desk).url)


@require_POST
@login_required
def notification_read(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Marks one notification read, or unread again (`unread=1`)."""
    notification = notification_for(request.user, pk)
    if notification is None:
        raise Http404
    if request.POST.get("unread") == "1":
        services.notification_mark_unread(user=request.user, notification=notification)
    else:
        services.notification_mark_read(user=request.user, notifications=[notification.pk])
    return redirect("notifications")


@require_POST
@login_required
def notifications_read_all(request: HtmxHttpRequest) -> HttpResponse:
    changed = services.notification_mark_read(user=request.user)
    messages.success(request, f"Marked {changed} notification{'s' if changed != 1 else ''} read.")
    return redirect("notifications")


@require_POST
@login_required
def email_preference(request: HtmxHttpRequest) -> HttpResponse:
    form = _preference_form(request, request.POST)
    if not form.is_valid():
        messages.error(request, "Choose when to get emails: at once, in a daily digest, or never.")
        return redirect("notifications")
    services.email_preference_set(user=request.user, email=form.cleaned_data["email"])
    messages.success(
        request, "Saved: " + EmailChoice(form.cleaned_data["email"]).label.lower() + "."
    )
    return redirect("notifications")


# RFC 8058's one-click unsubscribe POSTs from the mail client, without a CSRF token; the
# signed token in the address is the credential, and all it can do is stop emails.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """GET asks (link checkers open every link in a mail); POST turns emails off."""
    user = services.unsubscribe_user(token)
    if user is None:
        return render(
            request, "annotations/notifications/unsubscribe.html", {"bad": True}, status=404
        )
    done = False
    if request.method == "POST":
        services.email_preference_set(user=user, email=EmailChoice.OFF)
        done = True
    return render(
        request, "annotations/notifications/unsubscribe.html", {"token": token, "done": done}
    )
