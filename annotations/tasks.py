"""The task registry: every Celery task of the workbench, under its pinned name.

Celery's autodiscovery imports this module (and AnnotationsConfig.ready does,
in every process), so each capability's tasks are registered wherever work
is sent. Every task is named "annotations.tasks.<function>", the names the
tasks had when they all lived here: messages already queued, the beat
schedule (workbench/settings.py) and `enqueue("annotations.tasks.…")` keep
working wherever a task's code lives. Each capability's tasks module also
registers how to find its lost work (annotations.jobs.reconcile).
"""

from __future__ import annotations

from annotations.agreement.tasks import (
    agreement_chunk,
    agreement_failed,
    agreement_finish,
    agreement_refresh,
    agreement_refresh_many,
    agreement_run,
)
from annotations.archiving.tasks import archive_cycle, archive_source
from annotations.exports.tasks import exports_expire, run_export
from annotations.importing.tasks import reanchor_version, run_import_job
from annotations.importing.web_tasks import feed_fetch, feeds_cycle, run_fetch_job
from annotations.jobs.tasks import background_reconcile, ping
from annotations.notifications.tasks import notification_digest, notification_email
from annotations.watching.tasks import passages_check_task, watch_check_batch, watch_cycle
from annotations.webhooks.tasks import deliver_webhook

__all__ = [
    "agreement_chunk",
    "agreement_failed",
    "agreement_finish",
    "agreement_refresh",
    "agreement_refresh_many",
    "agreement_run",
    "archive_cycle",
    "archive_source",
    "background_reconcile",
    "deliver_webhook",
    "exports_expire",
    "feed_fetch",
    "feeds_cycle",
    "notification_digest",
    "notification_email",
    "passages_check_task",
    "ping",
    "reanchor_version",
    "run_export",
    "run_fetch_job",
    "run_import_job",
    "watch_check_batch",
    "watch_cycle",
]
