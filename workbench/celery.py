from __future__ import annotations

import os

from celery import Celery

from workbench import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

app = Celery("workbench")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks carry the request id of the request that queued them, and workers log
# with Django's LOGGING (README: "Logs and request ids").
logs.connect_celery()
