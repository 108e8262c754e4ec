"""A real `celery -A workbench worker` for the tests, when a broker is configured.

The worker is a separate process reading the same test database, so tests
that use it commit their rows (transactional_db or live_server). Without
CELERY_BROKER_URL the tasks run in-process and no worker is started.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]

# The worker of this test session, once started; see wait_until_idle.
_worker: subprocess.Popen[bytes] | None = None
# Where it writes its log; see worker_log.
_worker_log: Path | None = None


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(
    url: str,
    media: Path,
    log: IO[str],
    *,
    queue: str | None = None,
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """A `celery -A workbench worker` process on the test database and this media folder."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workbench",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    if queue:
        command += ["--queues", queue]
    command += args
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=os.environ
        | {
            "DATABASE_URL": url,
            "MEDIA_ROOT": str(media),
            "DJANGO_SETTINGS_MODULE": "workbench.settings",
        }
        | (env or {}),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """Starts one worker for the whole session; yields its MEDIA_ROOT, or None when eager."""
    if not settings.CELERY_BROKER_URL:
        yield None
        return
    from workbench.celery import app

    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock():
        url = database_url()
    # Tasks left on the queue by an earlier, interrupted run would confuse this one.
    app.control.purge()
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with log_path.open("w") as log:
        process = start_worker(url, media, log)
        global _worker, _worker_log
        _worker, _worker_log = process, log_path
        try:
            yield media
        finally:
            _worker, _worker_log = None, None
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def worker_media(celery_worker, settings, tmp_path):
    """Points this process's storage where the worker reads uploads from."""
    settings.MEDIA_ROOT = str(celery_worker or tmp_path)
    return settings.MEDIA_ROOT


def worker_log() -> str:
    """What the session's worker has logged so far (empty without a worker)."""
    return _worker_log.read_text(errors="replace") if _worker_log else ""


def wait_until_idle(timeout: float = 60) -> None:
    """Waits until the session's worker has nothing running, reserved or scheduled.

    A test that saved claims leaves debounced refreshes behind; if the worker
    were still inside one when the test's tables are flushed, PostgreSQL would
    see a deadlock, or the task would write into the next test's data.
    """
    if _worker is None or _worker.poll() is not None:
        return
    from workbench.celery import app

    inspector = app.control.inspect(timeout=2.0, limit=1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.connection_for_read() as conn:
            queued = conn.default_channel.client.llen(app.conf.task_default_queue)
        busy = [inspector.active(), inspector.reserved(), inspector.scheduled()]
        if not queued and all(
            replies is not None and not any(replies.values()) for replies in busy
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"the test worker was still busy after {timeout} s")
