"""A real `celery -A workbench worker` for the tests, when a broker is configured.

The worker is a separate process reading the same test database, so tests
that use it commit their rows (transactional_db or live_server). Without
CELERY_BROKER_URL the tasks run in-process and no worker is started. The broker
may be RabbitMQ (amqp://) or Redis (redis://); nothing here depends on which.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
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
# Its node name: other people's test workers may share the machine's broker, and
# broadcast commands (inspect, ping) would otherwise count their work as ours.
SESSION_WORKER = f"wb-session-{os.getpid()}@{socket.gethostname()}"
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
    name: str | None = None,
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
    if name:
        command += ["--hostname", name]
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
        process = start_worker(url, media, log, name=SESSION_WORKER)
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

    inspector = app.control.inspect(timeout=2.0, limit=1, destination=[SESSION_WORKER])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = queued(app.conf.task_default_queue)
        busy = [inspector.active(), inspector.reserved(), inspector.scheduled()]
        if not waiting and all(
            replies is not None and not any(replies.values()) for replies in busy
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"the test worker was still busy after {timeout} s")


def queued(queue: str, url: str | None = None) -> int:
    """Messages waiting in `queue` (not those a worker holds), on RabbitMQ or Redis.

    On the session's broker, or the one at `url`. A queue that does not exist
    (Redis drops an empty one) holds nothing.
    """
    from kombu import Connection

    from workbench.celery import app

    connection = Connection(url) if url else app.connection_for_read()
    with connection as conn:
        try:
            return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)
        except conn.channel_errors:
            return 0


class SupervisedWorker:
    """A worker under a supervisor that starts it again whenever it exits, as
    docker-compose.yml's `restart: unless-stopped` does for the `worker` service.

    Each run writes its own log (worker-1.log, worker-2.log, ...); `restarts`
    counts the runs after the first. With supervise=False it is a plain worker
    that stays dead once it exits, for showing what the supervisor is for.
    """

    def __init__(
        self,
        url: str,
        media: Path,
        logs: Path,
        *,
        env: dict[str, str],
        args: Sequence[str] = (),
        supervise: bool = True,
    ) -> None:
        self.url, self.media, self.logs = url, media, logs
        self.env, self.args, self.supervise = env, args, supervise
        self.runs: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._supervise, daemon=True)

    @property
    def restarts(self) -> int:
        return max(len(self.runs) - 1, 0)

    @property
    def current(self) -> subprocess.Popen[bytes] | None:
        return self.runs[-1] if self.runs else None

    def log(self) -> str:
        """Every run's log, in order."""
        return "".join(
            (self.logs / f"worker-{n}.log").read_text(errors="replace")
            for n in range(1, len(self.runs) + 1)
        )

    def start(self) -> None:
        self._thread.start()
        self._started.wait(timeout=10)

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            path = self.logs / f"worker-{len(self.runs) + 1}.log"
            with path.open("w") as log:
                process = start_worker(self.url, self.media, log, env=self.env, args=self.args)
                self.runs.append(process)
                self._started.set()
                process.wait()
            if not self.supervise:
                return
            # Docker waits a little before a restart too (100 ms, doubling).
            self._stopping.wait(1)

    def stop(self) -> None:
        self._stopping.set()
        process = self.current
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self._thread.join(timeout=30)
