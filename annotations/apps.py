from __future__ import annotations

from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Fact-checking"

    def ready(self) -> None:
        # Every task registered under its name, so that work can be sent by name
        # (annotations.jobs.enqueue) from any process.
        from annotations import tasks  # noqa: F401

        # Records logins, and ends sessions when a membership goes.
        from annotations.newsrooms import signals  # noqa: F401
