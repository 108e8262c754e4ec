"""What every page may say about background work."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def background(request: HttpRequest) -> dict[str, Any]:
    # Without a broker the tasks run in the request that asks for them: a job
    # page then has no worker to wait for, and must not send people to look
    # for one.
    return {"tasks_in_process": settings.CELERY_TASK_ALWAYS_EAGER}
