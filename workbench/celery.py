from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler
from celery.signals import celeryd_init

from workbench import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

app = Celery("workbench")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks carry the request id of the request that queued them, and workers log
# with Django's LOGGING (README: "Logs and request ids").
logs.connect_celery()

# Socket timeouts that let a web process give up on a blocked RabbitMQ
# (settings: WORKBENCH_PUBLISH_CONFIRM_SECONDS); a worker waits on its broker.
PUBLISHER_ONLY_OPTIONS = ("read_timeout", "write_timeout")


@celeryd_init.connect
def _worker_reads_without_timeouts(**_: Any) -> None:
    options = app.conf.broker_transport_options or {}
    app.conf.broker_transport_options = {
        k: v for k, v in options.items() if k not in PUBLISHER_ONLY_OPTIONS
    }


def beat_alive_path(schedule_filename: str) -> Path:
    """The file celery beat touches at every tick: `<schedule file>.alive`."""
    return Path(f"{schedule_filename}.alive")


class BeatScheduler(PersistentScheduler):
    """celery beat's own scheduler, plus a sign of life for its health check.

    beat answers no ping, and a beat that hangs (on a broker that blocks it,
    say) still has a running process: the time of its last tick is what tells
    compose it is working. It ticks at least every CELERY_BEAT_MAX_LOOP_INTERVAL.
    """

    # Set by PersistentScheduler from `celery beat --schedule` (celery-types omits it).
    schedule_filename: str

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval: float = super().tick(*args, **kwargs)
        beat_alive_path(self.schedule_filename).touch()
        return interval
