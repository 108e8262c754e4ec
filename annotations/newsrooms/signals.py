"""Who is logged in where, and what leaving a newsroom ends.

Connected in AnnotationsConfig.ready().
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest

from annotations.models import Membership, UserSession
from annotations.newsrooms.services import member_access_end


@receiver(user_logged_in, dispatch_uid="annotations.session_recorded")
def session_recorded(
    sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any
) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not session_key:
        return
    UserSession.objects.update_or_create(session_key=session_key, defaults={"user_id": user.pk})
    # Sessions that expired or ended meanwhile are forgotten here, so the
    # records of one user stay as few as their live sessions.
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    gone = [
        key
        for key in UserSession.objects.filter(user_id=user.pk)
        .exclude(session_key=session_key)
        .values_list("session_key", flat=True)
        if not store.exists(key)
    ]
    if gone:
        UserSession.objects.filter(session_key__in=gone).delete()


@receiver(user_logged_out, dispatch_uid="annotations.session_forgotten")
def session_forgotten(
    sender: Any,
    request: HttpRequest | None,
    user: AbstractBaseUser | AnonymousUser | None,
    **kwargs: Any,
) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


@receiver(post_delete, sender=Membership, dispatch_uid="annotations.membership_deleted")
def membership_deleted(sender: Any, instance: Membership, **kwargs: Any) -> None:
    member_access_end(user_id=instance.user_id, organization_id=instance.organization_id)
