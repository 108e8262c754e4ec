"""The header's inbox link, on every page: its unread count is one query, made only
when a page shows the link (a logged-in user's), and at most once per page."""

from __future__ import annotations

from functools import cached_property

from django.http import HttpRequest

from annotations.notifications.selectors import unread_count


class Inbox:
    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @cached_property
    def unread(self) -> int:
        user = getattr(self._request, "user", None)
        return unread_count(user) if user is not None else 0


def inbox(request: HttpRequest) -> dict[str, Inbox]:
    return {"inbox": Inbox(request)}
