from __future__ import annotations

from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Fact-checking"

    def ready(self) -> None:
        # Records logins and ends sessions when a membership goes.
        from annotations import signals  # noqa: F401
