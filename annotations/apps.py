from __future__ import annotations

from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Fact-checking"

    def ready(self) -> None:
        # Every task registered under its name, so that work can be sent by name
        # (annotations.jobs.enqueue) from any process.
        from annotations import tasks  # noqa: F401

        # A deleted article's counts leave its collection's agreement figures.
        from annotations.agreement import signals as agreement_signals  # noqa: F401

        # The collection's activity and "published from your work", from the claims' history.
        from annotations.discussion import signals as discussion_signals  # noqa: F401

        # Records logins, and ends sessions when a membership goes.
        from annotations.newsrooms import signals  # noqa: F401
