"""Members' notifications: their inbox, as the header counts it and blind review lets
them see it; marking read. Reading takes `read:annotations`, marking `write:annotations`."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.articles import member_user
from annotations.api.auth import request_organization
from annotations.api.pagination import NewestFirstPagination
from annotations.models import Notification, NotificationKind, Scope
from annotations.notifications import services
from annotations.notifications.selectors import (
    desk_organizations,
    inbox_for,
    notification_for,
    place_of,
)


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    text = serializers.CharField()
    actor = serializers.SerializerMethodField()
    article = serializers.IntegerField(source="article_id", allow_null=True)
    thread = serializers.IntegerField(source="thread_id", allow_null=True)
    comment = serializers.IntegerField(source="comment_id", allow_null=True)
    verified = serializers.IntegerField(source="verified_id", allow_null=True)
    url = serializers.SerializerMethodField(help_text="The page it is about, on this workbench.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)

    def get_actor(self, notification: Notification) -> str | None:
        return notification.actor.username if notification.actor is not None else None

    def get_url(self, notification: Notification) -> str:
        desk: set[int] = self.context.get("desk", set())
        return place_of(notification, desk=notification.organization_id in desk).url


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False, default=False, help_text="Only the unread ones."
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and are now read.")


def _inbox(request: Request) -> Any:
    return inbox_for(member_user(request)).filter(organization=request_organization(request))


class NotificationList(GenericAPIView):
    required_scopes = {"GET": Scope.READ_ANNOTATIONS}
    pagination_class = NewestFirstPagination
    serializer_class = NotificationSerializer

    @extend_schema(
        summary="List your notifications",
        operation_id="notifications_list",
        description=(
            "Mentions, replies in threads you take part in, requests for changes, claims "
            "published from your work and changed articles, newest first; those blind review "
            "hides from you now are left out. Follow `next` for the next page."
        ),
        parameters=[NotificationFilterSerializer],
        responses={200: NotificationSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        filters = NotificationFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        rows = _inbox(request).select_related("actor", "thread", "verified")
        if filters.validated_data["unread"]:
            rows = rows.filter(read_at__isnull=True)
        page = self.paginate_queryset(rows)
        assert page is not None
        context = {"desk": desk_organizations(member_user(request))}
        return self.get_paginated_response(
            NotificationSerializer(page, many=True, context=context).data
        )


class NotificationRead(GenericAPIView):
    required_scopes = {"POST": Scope.WRITE_ANNOTATIONS}
    serializer_class = NotificationSerializer

    @extend_schema(
        summary="Mark a notification read",
        operation_id="notifications_read",
        request=None,
        responses={200: NotificationSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = member_user(request)
        notification = notification_for(user, pk)
        if notification is None or notification.organization_id != request_organization(request).pk:
            raise Http404
        services.notification_mark_read(user=user, notifications=[notification.pk])
        notification.refresh_from_db()
        context = {"desk": desk_organizations(user)}
        return Response(NotificationSerializer(notification, context=context).data)


class NotificationReadAll(GenericAPIView):
    required_scopes = {"POST": Scope.WRITE_ANNOTATIONS}
    serializer_class = MarkedSerializer

    @extend_schema(
        summary="Mark all your notifications read",
        operation_id="notifications_read_all",
        request=None,
        responses={200: MarkedSerializer},
    )
    def post(self, request: Request) -> Response:
        ids = list(_inbox(request).filter(read_at__isnull=True).values_list("pk", flat=True))
        marked = services.notification_mark_read(user=member_user(request), notifications=ids)
        return Response({"marked": marked})
