"""Private Redis, RabbitMQ and PostgreSQL for the fault tests, to stop and restart at will.

The machine's own PostgreSQL (5432), Redis (6379) and RabbitMQ (5672) serve CI
and other people's tests at the same time: a test that takes a service away
starts its own copy on a free port and never touches theirs. Also: a gunicorn
web process to point at them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def require(condition: Any, reason: str) -> None:
    """Skips the test when `condition` is false; fails it in CI, where everything is installed."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI installs it (see the Dockerfile and ./dev)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Polls `check` until it returns something true; fails with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(every)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop_process(process: subprocess.Popen[bytes] | None, *, kill: bool = False) -> None:
    if process is None or process.poll() is not None:
        return
    if kill:
        process.kill()
    else:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class PrivateRedis:
    """A `redis-server` on a free port, without persistence: a restart starts empty,
    as a crashed Redis without a disk would."""

    def __init__(self, directory: Path) -> None:
        self.binary = shutil.which("redis-server")
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary is not None
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _listening(self.port), 10, f"redis-server on port {self.port}")

    def stop(self) -> None:
        """Gone at once, as when the process dies or the host goes away."""
        stop_process(self.process, kill=True)
        self.process = None


# Debian's rabbitmq-server package: the real scripts, not /usr/sbin's wrappers
# (which switch to the rabbitmq user and read /etc/rabbitmq).
RABBITMQ_SCRIPTS = Path("/usr/lib/rabbitmq/bin")


class PrivateRabbitMQ:
    """A RabbitMQ node of its own: its own name, AMQP and distribution ports, data,
    logs, configuration and Erlang cookie, all under a temporary directory.

    It shares only the machine's epmd (the Erlang port mapper, started by the first
    node on the machine), where it registers under its own name. Its data outlives
    a restart, as a broker's volume does: durable queues and persistent messages
    come back with it. guest/guest may connect from 127.0.0.1, as RabbitMQ allows.
    """

    def __init__(self, directory: Path) -> None:
        server = RABBITMQ_SCRIPTS / "rabbitmq-server"
        self.binary = str(server) if server.exists() else None
        self.directory = directory
        self.port = free_port()
        self.node = f"wbtest{self.port}@localhost"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            # A message a worker holds (a task with a countdown) for longer than
            # this closes its channel; as docker-compose.yml sets it.
            "consumer_timeout = 7200000\n"
        )
        (directory / "rabbitmq-env.conf").write_text("")
        (directory / "enabled_plugins").write_text("[].\n")
        self.env = os.environ | {
            # The Erlang cookie is created here on first start; the CLI tools read it too.
            "HOME": str(directory),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_CONF_ENV_FILE": str(directory / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(directory / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(directory / "log"),
            "RABBITMQ_PID_FILE": str(directory / "rabbitmq.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def answers(self) -> bool:
        """Does it accept an AMQP connection (not merely a TCP one)?"""
        from kombu import Connection

        try:
            with Connection(self.url, connect_timeout=1) as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
        except Exception:
            return False
        return True

    def start(self) -> None:
        assert self.binary is not None
        self.starts += 1
        with (self.directory / f"server-{self.starts}.log").open("w") as log:
            self.process = subprocess.Popen(
                [self.binary],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: the script, the Erlang VM and its helpers.
                start_new_session=True,
            )

        def booted() -> bool:
            if self.process is None or self.process.poll() is not None:
                raise AssertionError(f"rabbitmq-server exited: see {self.directory}/log")
            return self.answers()

        wait_until(booted, 60, f"RabbitMQ node {self.node}", every=0.2)

    def stop(self, *, kill: bool = False) -> None:
        """A clean shutdown (SIGTERM, as `docker compose restart` does), or gone at once."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        if not kill:
            # The script returns once the VM has stopped; its helpers go with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def ctl(self, *args: str) -> str:
        """`rabbitmqctl ARGS` against this node; what it printed."""
        done = subprocess.run(
            [str(RABBITMQ_SCRIPTS / "rabbitmqctl"), "-n", self.node, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"rabbitmqctl {args[0]} failed:\n{done.stderr[-2000:]}"
        return done.stdout


def postgres_binaries() -> Path | None:
    """The newest Debian PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


class PrivateCluster:
    """A throwaway PostgreSQL cluster: initdb into a temporary directory, a free port.

    PostgreSQL refuses to run as root, so as root (CI, containers) its commands
    run as the `postgres` user, who owns the directory.
    """

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.port = free_port()
        # Short, under /tmp: the socket's path must fit in 107 characters.
        self.root = Path(tempfile.mkdtemp(prefix="wb-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres", group="postgres")

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix: list[str] = []
        if os.geteuid() == 0:
            prefix = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*prefix, *command],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            # A test cluster: durability does not matter, speed does.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.binaries / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.log),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> None:
        self._run(
            str(self.binaries / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
            "postgres", name,
        )  # fmt: skip

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def django_env(**overrides: str) -> dict[str, str]:
    """The environment of a web or worker process of the tests."""
    return os.environ | {"DJANGO_SETTINGS_MODULE": "workbench.settings"} | overrides


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    """Runs `manage.py ...` in its own process; returns what it printed on stdout."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        timeout=timeout,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def start_web(
    env: dict[str, str], log: IO[str], *, workers: int = 2, args: Sequence[str] = ()
) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn serving the workbench on a free port, as in production; (process, base URL)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "workbench.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "30",
            "--graceful-timeout",
            "3",
            # Django loads once, before the workers fork: ready sooner on two cores.
            "--preload",
            # Its default socket is one path per machine, shared with every other gunicorn.
            "--no-control-socket",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}: see {log.name}")
        try:
            requests.get(f"{base}/healthz", timeout=15)
        except requests.RequestException:
            return False
        return True

    wait_until(answers, 45, "gunicorn answering", every=0.2)
    return process, base


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives.

    For the notification emails: the workbench sends through Django's SMTP
    backend, as in production, and the test reads what arrived. `mailers` is
    the MAILERS setting for this process; `env` the EMAIL_* variables for a
    worker's.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Any] = []
        self._controller: Any = None

    def __enter__(self) -> SmtpServer:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            require(False, "aiosmtpd is not installed (the dev extra)")
        import email
        import email.policy

        received = self.received

        class Keep:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
                return "250 Message accepted"

        self._controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def mailers(self) -> dict[str, Any]:
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 10},
            }
        }

    @property
    def env(self) -> dict[str, str]:
        return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(self.port)}

    def messages_to(self, address: str, *, count: int = 1, timeout: float = 30) -> list[Any]:
        """The messages for `address`, once `count` of them have arrived."""

        def arrived() -> list[Any]:
            found = [m for _, to, m in self.received if address in to]
            return found if len(found) >= count else []

        return list(wait_until(arrived, timeout, f"{count} email(s) to {address}"))
