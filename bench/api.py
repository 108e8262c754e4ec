"""API benchmark: the partner claims API under gunicorn, 100,000 published claims in PostgreSQL.

    .venv/bin/python -m bench.api                    # a table
    .venv/bin/python -m bench.api --json             # the same figures as JSON
    .venv/bin/python -m bench.api --claims 20000 --duration 5 --rounds 1   # a quick run
    .venv/bin/python -m bench.api --profile          # and cProfile of each view, in-process

Builds the exports benchmark's newsroom (bench.exports.build: --claims
published or corrected verified claims with 3 sources each, one in 50 more a
draft or retraction) in a dedicated PostgreSQL database (dropped and created
again on every run, and dropped afterwards unless --keep; the machine's
server, trust auth, user postgres at 127.0.0.1:5432, or --postgres), makes
its editor a member and gives them an API key with read:claims
(`api_key_create`). Then it starts gunicorn as the image does (`gunicorn
workbench.wsgi --workers 2`, sync workers, access log on), with
WORKBENCH_ENV=production (DEBUG off, persistent database connections,
WhiteNoise) but plain HTTP, WORKBENCH_API_RATE=none (throttling is measured
elsewhere: here it would only answer 429) and the default sync lag, and
loads it from a second process, wrk (Debian's `wrk`, `apt-get install wrk`),
with a fixed number of connections (--connections, 16) for --duration
seconds per endpoint (15) after a warm-up of every endpoint (--warmup, 3 s):

1. the anchor: `/bench/constant/`, a bare DRF APIView that returns
   `{"ok": true}` with no authentication, permission or throttle, served by the
   same gunicorn, middleware and renderer (bench/api_urls.py, through
   bench/api_settings.py; not in the shipped URLs): the stack's ceiling;
2. the claims list, `/api/v1/claims/`, a page of 50, the first page or one
   starting at one of 255 cursors drawn across the whole sync order;
3. a claim, `/api/v1/claims/<id>/`, ids drawn at random among the public ones.

Every request carries the key's `Authorization: Bearer` header (the anchor
ignores it). Each endpoint is measured --rounds times (2), the three in turn
each round, and each round's requests/s are reported as a ratio to that
round's anchor. Latency is wrk's (closed loop: a connection sends its next
request when the last one is answered, so at N connections the mean latency
is N / throughput, queueing in gunicorn's backlog included). CPU seconds of
the gunicorn workers and of wrk per request come from /proc, and the
machine's other work (PostgreSQL included) from /proc/stat, because gunicorn,
PostgreSQL and wrk share the machine's cores.

Checks before the load: the list answers 50 claims and a next link, a claim
answers itself, the anchor answers its constant, and the list without a key
answers 401. Under load, every response must be a 2xx: any other (counted in
gunicorn's access log, since wrk counts only statuses over 399), or a socket
error, is printed, and the row then misses its target whatever its rate.

A benchmark prints figures; it never fails on a slow number.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.agreement import (
    POSTGRES,
    ROOT,
    _require,
    caveat,
    configure_django,
    drop_database,
    log,
    recreate_database,
)

DATABASE = "workbench_bench_api"
TARGETS = {"list_per_s": 300, "list_p99_ms": 200.0, "retrieve_per_s": 600}
ENDPOINTS = ("anchor", "list", "retrieve")
TARGETED = ("list", "retrieve")
NAMES = {
    "anchor": "anchor: bare DRF view, constant",
    "list": "claims list, page of 50",
    "retrieve": "a claim by id",
}
LIST_CURSORS = 255
PAGE = 50
PROFILE_REQUESTS = 300
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# wrk's script: a path drawn at random from a file for every request, and the
# figures as one JSON line at the end. The response() hook is left out on
# purpose: defining it makes wrk hand every body to Lua, which slows wrk down.
WRK_SCRIPT = """\
local paths = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  math.randomseed(os.time() * 1000 + id)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass
class Setup:
    claims: int
    public_claims: int
    build_s: float
    database_mb: float
    secret: str
    list_paths: list[str]
    retrieve_paths: list[str]


# The data ---------------------------------------------------------------------------------


def seed(claims: int, seed_value: int) -> Setup:
    """The exports benchmark's newsroom, its editor a member with a read:claims key."""
    from django.contrib.auth.models import User

    from annotations.api.pagination import SyncCursorPagination
    from annotations.keys.services import api_key_create
    from annotations.models import Membership, Organization, Role, Scope, VerifiedClaim
    from bench.exports import SMALL, build

    rng = random.Random(seed_value)
    fx = build(rng, claims, min(SMALL, claims // 2))
    organization = Organization.objects.get(pk=fx.organization_id)
    editor = User.objects.get(username="editor")
    Membership.objects.create(user=editor, organization=organization, role=Role.EDITOR)
    secret = api_key_create(
        organization=organization, user=editor, name="Benchmark partner", scopes=Scope.READ_CLAIMS
    ).secret

    # What the API lists: every claim but drafts, in sync order.
    from annotations.api.claims import public_claims

    order = list(
        public_claims(organization.pk).order_by("updated_at", "pk").values_list("updated_at", "pk")
    )
    # Cursors whose page is a full one, across the whole order.
    starts = rng.sample(range(len(order) - PAGE), min(LIST_CURSORS, len(order) - PAGE))
    list_paths = ["/api/v1/claims/"] + [
        f"/api/v1/claims/?cursor={SyncCursorPagination.encode(*order[i])}" for i in starts
    ]
    retrieve_paths = [f"/api/v1/claims/{pk}/" for _, pk in order]
    _require(
        VerifiedClaim.objects.filter(organization=organization).count()
        == fx.claims + fx.unpublished,
        "every claim stored",
    )
    return Setup(
        claims=fx.claims,
        public_claims=len(order),
        build_s=fx.seconds,
        database_mb=fx.database_mb,
        secret=secret,
        list_paths=list_paths,
        retrieve_paths=retrieve_paths,
    )


# The server -------------------------------------------------------------------------------


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """The environment gunicorn and the profile child run with: production, plain HTTP."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WORKBENCH_", "CELERY_", "DATABASE_", "SECURE_", "DEBUG"))
    }
    (var_dir / "static").mkdir(parents=True, exist_ok=True)
    env |= {
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "WORKBENCH_ENV": "production",
        "SECRET_KEY": "bench-only-not-a-secret",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on 127.0.0.1: TLS would end at a proxy in front of gunicorn.
        "SECURE_SSL_REDIRECT": "false",
        "WORKBENCH_VAR_DIR": str(var_dir),
        # Throttling is measured elsewhere; on, it would answer 429 at 600/min.
        "WORKBENCH_API_RATE": "none",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, var_dir: Path) -> Iterator[int]:
    """gunicorn as the image starts it, on 127.0.0.1:port; yields the master's pid."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "workbench.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        str(var_dir / "access.log"),
        "--error-logfile",
        str(var_dir / "error.log"),
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603  (our own interpreter)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:  # refused, reset or timed out while the workers boot
                pass
            _require(server.poll() is None, f"gunicorn exited: {var_dir / 'error.log'}")
            _require(time.monotonic() < deadline, "gunicorn did not answer /healthz in 60 s")
            time.sleep(0.3)
        yield server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # steal included, guest already counted in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def get(url: str, secret: str | None) -> tuple[int, Any]:
    request = urllib.request.Request(url)  # noqa: S310  (http://127.0.0.1 only)
    if secret:
        request.add_header("Authorization", f"Bearer {secret}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def check_endpoints(base: str, setup: Setup) -> None:
    """A benchmark of wrong answers measures nothing."""
    status, body = get(base + "/bench/constant/", None)
    _require(status == 200 and body == {"ok": True}, f"anchor: {status} {body}")
    for path in (setup.list_paths[0], setup.list_paths[1]):
        status, body = get(base + path, setup.secret)
        _require(status == 200, f"list {path}: {status} {body}")
        _require(len(body["results"]) == PAGE, f"list {path}: {len(body['results'])} claims")
        _require(body["next"], f"list {path}: no next link")
        _require(all(c["sources"] is not None for c in body["results"]), "sources")
    path = setup.retrieve_paths[len(setup.retrieve_paths) // 2]
    status, body = get(base + path, setup.secret)
    _require(status == 200 and path.endswith(f"/{body['id']}/"), f"retrieve {path}: {status}")
    status, body = get(base + setup.list_paths[0], None)
    _require(status == 401, f"list without a key: {status}")


# The load ---------------------------------------------------------------------------------


# A line of gunicorn's access log in its default format (h l u t "r" s b "f" "a"): the status.
ACCESS_STATUS = re.compile(rb'^\S+ \S+ \S+ \[[^\]]*\] "[^"]*" (\d{3}) ', re.MULTILINE)


def logged_statuses(access_log: Path, offset: int) -> tuple[Counter[int], int]:
    """The statuses gunicorn logged after `offset`, once its log has stopped growing; the end.

    wrk counts only statuses over 399 as errors (a 3xx is a success to it),
    and the script leaves out wrk's response() hook, which would slow it: the
    server's own access log says what every request was answered.
    """
    size = access_log.stat().st_size
    deadline = time.monotonic() + 10
    while True:
        # A worker writes a request's line just after its response: let the last ones land.
        time.sleep(0.25)
        now = access_log.stat().st_size
        if now == size or time.monotonic() > deadline:
            break
        size = now
    with access_log.open("rb") as log_file:
        log_file.seek(offset)
        data = log_file.read(now - offset)
    statuses = Counter(int(code) for code in ACCESS_STATUS.findall(data))
    lines = data.count(b"\n")
    _require(statuses.total() == lines, f"{lines - statuses.total()} access log lines unread")
    return statuses, now


def run_wrk(
    url: str,
    paths_file: Path,
    script: Path,
    secret: str,
    *,
    connections: int,
    threads: int,
    seconds: float,
    master: int,
    access_log: Path,
) -> dict[str, Any]:
    """One wrk run; its figures, the statuses it was answered, and the CPU the server,
    wrk and everything else used."""
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={script}",
        f"--header=Authorization: Bearer {secret}",
        url,
        "--",
        str(paths_file),
    ]
    workers = workers_of(master)
    logged_before = access_log.stat().st_size
    server_before = sum(cpu_seconds(pid) for pid in workers)
    busy_before, total_before = machine_busy_seconds()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after, total_after = machine_busy_seconds()
    _require(workers_of(master) == workers, "a gunicorn worker was restarted under load")
    server_cpu = sum(cpu_seconds(pid) for pid in workers) - server_before
    _require(done.returncode == 0, f"wrk failed: {done.stderr or done.stdout}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    wrk_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    statuses, _ = logged_statuses(access_log, logged_before)
    # Every request wrk counted is in the log (and any it stopped waiting for at the end).
    _require(
        statuses.total() >= figures["requests"],
        f"the access log holds {statuses.total():,} requests, wrk counted {figures['requests']:,}",
    )
    logged_non_2xx = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    requests = max(1, figures["requests"])
    elapsed = figures["duration_us"] / 1e6
    busy = busy_after - busy_before
    cores = (total_after - total_before) / elapsed if elapsed else 0.0
    return {
        "requests": figures["requests"],
        "seconds": round(elapsed, 2),
        "per_s": round(figures["requests"] / elapsed, 1),
        "p50_ms": figures["p50_us"] / 1000,
        "p90_ms": figures["p90_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "max_ms": figures["max_us"] / 1000,
        "mean_ms": round(figures["mean_us"] / 1000, 2),
        # Any answer outside 200–299, from the server's log; wrk's own count (over 399) as
        # a floor, should a line ever be missing.
        "non_2xx": max(logged_non_2xx, figures["status"]),
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "wrk_status_errors": figures["status"],
        "socket_errors": figures["connect"]
        + figures["read"]
        + figures["write"]
        + figures["timeout"],
        "server_cpu_ms_per_request": round(1000 * server_cpu / requests, 2),
        "wrk_cpu_ms_per_request": round(1000 * wrk_cpu / requests, 2),
        # Cores busy on average, and how many of them the rest (PostgreSQL, other work) used.
        "cores_busy": round(busy / elapsed, 2),
        "cores_others": round(max(0.0, busy - server_cpu - wrk_cpu) / elapsed, 2),
        "cores": round(cores, 2),
    }


def measure(
    setup: Setup, env: dict[str, str], args: argparse.Namespace, directory: Path
) -> dict[str, Any]:
    script = directory / "paths.lua"
    script.write_text(WRK_SCRIPT)
    files = {
        "anchor": ["/bench/constant/"],
        "list": setup.list_paths,
        "retrieve": setup.retrieve_paths,
    }
    paths = {}
    for name, lines in files.items():
        paths[name] = directory / f"{name}.paths"
        paths[name].write_text("\n".join(lines) + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rounds: list[dict[str, Any]] = []
    with gunicorn(env, port, args.workers, directory) as master:
        log(f"gunicorn on {base}, {args.workers} sync workers; checking the answers")
        check_endpoints(base, setup)
        load = {
            "secret": setup.secret,
            "connections": args.connections,
            "threads": args.threads,
            "master": master,
            "access_log": directory / "access.log",
        }
        log(f"warm-up, {args.warmup:.0f} s per endpoint")
        for name in ENDPOINTS:
            run_wrk(base, paths[name], script, seconds=args.warmup, **load)
        for number in range(1, args.rounds + 1):
            figures: dict[str, Any] = {}
            for name in ENDPOINTS:
                log(f"round {number}: {NAMES[name]}, {args.duration:.0f} s")
                figures[name] = run_wrk(base, paths[name], script, seconds=args.duration, **load)
            for name in ("list", "retrieve"):
                figures[name]["vs_anchor"] = round(
                    figures[name]["per_s"] / figures["anchor"]["per_s"], 3
                )
            figures["list"]["fast_enough"] = (
                figures["list"]["per_s"] >= TARGETS["list_per_s"]
                and figures["list"]["p99_ms"] < TARGETS["list_p99_ms"]
            )
            figures["retrieve"]["fast_enough"] = (
                figures["retrieve"]["per_s"] >= TARGETS["retrieve_per_s"]
            )
            for name in TARGETED:
                # A rate made of failed answers meets nothing: a row with any answer
                # outside 2xx (or a request never answered) misses, whatever its rate.
                e = figures[name]
                e["meets_target"] = e["fast_enough"] and not e["non_2xx"] and not e["socket_errors"]
            rounds.append(figures)
    return {"rounds": rounds}


# Profile ----------------------------------------------------------------------------------

# (file ending, function): where a request's time goes, cumulative.
PROFILED = (
    ("django/core/handlers/wsgi.py", "__call__", "whole request, WSGI handler"),
    ("annotations/api/auth.py", "authenticate", "API key authentication (its query included)"),
    ("annotations/api/keys.py", "api_key_check", "  api_key_check"),
    ("annotations/api/permissions.py", "has_permission", "scope check"),
    ("rest_framework/views.py", "check_throttles", "throttle check (rate none: no cache)"),
    ("annotations/api/claims.py", "get_queryset", "list: filters, queryset built"),
    ("annotations/api/pagination.py", "page_of", "list: cursor decoded, page sliced"),
    ("annotations/api/claims.py", "render_rows", "claims read and made documents"),
    ("annotations/exports.py", "page_rows", "  page_rows: claims and sources queries"),
    ("annotations/exports.py", "of", "  Context.of: labels query, URLs reversed"),
    ("annotations/exports.py", "claim_record", "  claim_record"),
    ("annotations/api/renderers.py", "render", "JSON rendering (orjson)"),
    ("rest_framework/response.py", "rendered_content", "  DRF response rendering"),
    ("psycopg/cursor.py", "execute", "SQL: psycopg execute (round trips)"),
    ("django/db/models/sql/compiler.py", "as_sql", "SQL compiled by the ORM"),
    ("django/db/models/sql/compiler.py", "results_iter", "rows converted by the ORM"),
)


def profile_main(args: argparse.Namespace) -> int:
    """In a child with the server's environment: each endpoint through the WSGI handler."""
    import cProfile
    import pstats

    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test import RequestFactory

    application = get_wsgi_application()
    factory = RequestFactory()
    paths = json.loads(Path(args.paths).read_text())
    rng = random.Random(1)
    out: dict[str, Any] = {}
    for name in ENDPOINTS:
        queries: list[float] = []

        def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append(time.perf_counter() - started)  # noqa: B023

        def call(path: str) -> None:
            path, _, query = path.partition("?")
            # RequestFactory's environ, without building a request from it.
            environ = factory._base_environ(  # type: ignore[attr-defined]
                PATH_INFO=path,
                QUERY_STRING=query,
                REQUEST_METHOD="GET",
                SERVER_NAME="127.0.0.1",
                HTTP_AUTHORIZATION=f"Bearer {args.secret}",
            )
            status: list[str] = []

            def start_response(given: str, headers: Any, *exc_info: Any) -> Callable[[bytes], Any]:
                status.append(given)
                return lambda data: None

            body = b"".join(application(environ, start_response))
            _require(status[0].startswith("200"), f"{path}: {status[0]} {body[:200]!r}")

        for _ in range(20):  # warm-up: imports, URL resolver, connection
            call(rng.choice(paths[name]))
        profiler = cProfile.Profile()
        requests = args.profile_requests
        chosen = [rng.choice(paths[name]) for _ in range(requests)]
        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            profiler.enable()
            for path in chosen:
                call(path)
            profiler.disable()
        wall = time.perf_counter() - started
        stats = pstats.Stats(profiler)
        rows = []
        for ending, function, label in PROFILED:
            cumulative = sum(
                value[3]
                for (file, _line, func), value in stats.stats.items()  # type: ignore[attr-defined]
                if func == function and file.endswith(ending)
            )
            if cumulative:
                rows.append((label, round(1000 * cumulative / requests, 3)))
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
        out[name] = {
            "ms_per_request_profiled": round(1000 * wall / requests, 3),
            "queries_per_request": round(len(queries) / requests, 2),
            "sql_wall_ms_per_request": round(1000 * sum(queries) / requests, 3),
            "cumulative_ms": rows,
            "top": text.getvalue(),
        }
    print(json.dumps(out))
    return 0


def profile(setup: Setup, env: dict[str, str], directory: Path, requests: int) -> dict[str, Any]:
    paths_file = directory / "profile-paths.json"
    paths = {
        "anchor": ["/bench/constant/"],
        "list": setup.list_paths,
        "retrieve": setup.retrieve_paths,
    }
    paths_file.write_text(json.dumps(paths))
    command = [sys.executable, "-m", "bench.api", "--child", "profile"]
    command += ["--paths", str(paths_file), "--secret", setup.secret]
    command += ["--profile-requests", str(requests)]
    done = subprocess.run(  # noqa: S603  (our own interpreter and module)
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# Report -----------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def _verdict(e: dict[str, Any]) -> str:
    """MET or MISSED, and why it missed when the answers were not all 2xx."""
    if e["meets_target"]:
        return "MET"
    failed = []
    if e["non_2xx"]:
        failed.append(f"{e['non_2xx']:,} non-2xx")
    if e["socket_errors"]:
        failed.append(f"{e['socket_errors']:,} socket errors")
    return "MISSED: " + ", ".join(failed) if failed else "MISSED"


def table_rows(f: dict[str, Any], setup: Setup, args: argparse.Namespace) -> list[tuple[str, ...]]:
    """The table's rows, also in --json as "rows"; the sixth column says if the target was met."""
    rows: list[tuple[str, ...]] = []
    for number, r in enumerate(f["rounds"], start=1):
        anchor = r["anchor"]
        for name in ENDPOINTS:
            e = r[name]
            target = {
                "anchor": "",
                "list": f"≥ {TARGETS['list_per_s']}/s, p99 < {TARGETS['list_p99_ms']:.0f} ms",
                "retrieve": f"≥ {TARGETS['retrieve_per_s']}/s",
            }[name]
            rows.append(
                (
                    f"round {number}: {NAMES[name]}",
                    f"{e['per_s']:,.0f} req/s, p50 {_ms(e['p50_ms'])}, p99 {_ms(e['p99_ms'])}",
                    target,
                    "" if name == "anchor" else f"{anchor['per_s']:,.0f} req/s",
                    "" if name == "anchor" else f"{e['vs_anchor']:.2f}×",
                    "" if name == "anchor" else _verdict(e),
                )
            )
            rows.append(
                (
                    "  CPU per request: gunicorn workers / wrk; cores busy: all / others",
                    f"{e['server_cpu_ms_per_request']:.2f} / {e['wrk_cpu_ms_per_request']:.2f} ms;"
                    f" {e['cores_busy']:.2f} / {e['cores_others']:.2f} of {e['cores']:.0f}",
                    "",
                    "",
                    "",
                    "",
                )
            )
            if e["non_2xx"] or e["socket_errors"]:
                rows.append(
                    (
                        "  NOT ALL ANSWERED 2xx",
                        f"{e['non_2xx']:,} non-2xx, {e['socket_errors']:,} socket errors "
                        f"of {e['requests']:,}",
                        "",
                        "",
                        "",
                        "",
                    )
                )
    return rows


def table(f: dict[str, Any], setup: Setup, args: argparse.Namespace) -> str:
    rows = table_rows(f, setup, args)
    header = ("figure", "value", "target", "anchor (same round)", "ratio", "target")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    met = {name: sum(1 for r in f["rounds"] if r[name]["meets_target"]) for name in TARGETED}
    out = [
        f"API benchmark: {setup.claims:,} published verified claims ({setup.public_claims:,} "
        "public: published, corrected, retracted), 3 sources each,",
        f"PostgreSQL database {setup.database_mb:,.0f} MB, built in {setup.build_s:.1f} s.",
        f"Server: gunicorn workbench.wsgi, {args.workers} sync workers (the image's command), "
        "WORKBENCH_ENV=production over plain HTTP:",
        "DEBUG off, persistent database connections, access log on; "
        "WORKBENCH_API_RATE=none (throttling is measured elsewhere),",
        "WORKBENCH_API_SYNC_LAG_SECONDS at its default.",
        f"Load: wrk on 127.0.0.1, {args.connections} connections, {args.threads} threads, "
        f"{args.duration:.0f} s per endpoint per round after {args.warmup:.0f} s of warm-up each;",
        f"list pages: the first or one of {len(setup.list_paths) - 1} cursors across the sync "
        f"order; claims: any of the {len(setup.retrieve_paths):,} public ids, at random.",
        "",
        line(header),
        line(tuple("-" * w for w in widths)),
        *(line(r) for r in rows),
        "",
        f"Targets: list met in {met['list']} of {len(f['rounds'])} rounds, "
        f"retrieve met in {met['retrieve']} of {len(f['rounds'])}.",
        "",
        *NOTES,
        caveat(),
    ]
    if "profile" in f:
        out += [
            "",
            f"cProfile in-process, the server's settings, {args.profile_requests} requests per "
            "endpoint through Django's WSGI handler (no gunicorn, no network; cProfile slows "
            "Python ~2×, not SQL):",
        ]
        for name in ENDPOINTS:
            p = f["profile"][name]
            out += [
                "",
                f"--- {NAMES[name]}: {p['ms_per_request_profiled']:.2f} ms per request "
                f"profiled, {p['queries_per_request']:g} queries per request, "
                f"{p['sql_wall_ms_per_request']:.2f} ms in them (wall, from the cursor)",
                *(f"  {label:<48} {ms:8.3f} ms" for label, ms in p["cumulative_ms"]),
            ]
            if args.profile_top:
                out += ["", p["top"].strip()]
    return "\n".join(out)


NOTES = (
    "Ratio: the endpoint's requests/s / the anchor's in the same round; the anchor is the same",
    "gunicorn, middleware and renderer with a view that costs nothing, the stack's ceiling.",
    "Latency is wrk's, closed loop: mean latency ≈ connections / throughput, so at 16 connections",
    "p50 is mostly waiting in gunicorn's backlog behind the other connections' requests.",
    "CPU per request: gunicorn workers' utime+stime (/proc) and wrk's, over the requests answered;",
    "'others' is the rest of the machine's busy CPU (/proc/stat): PostgreSQL and other work.",
    "gunicorn, PostgreSQL and wrk share the same cores: the load generator takes CPU the server",
    "would have on a machine of its own, so absolute requests/s are a floor; compare ratios.",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--claims", type=int, default=100_000, help="published verified claims")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per endpoint")
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each endpoint")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each endpoint in-process afterwards"
    )
    parser.add_argument(
        "--profile-top", action="store_true", help="with --profile: cProfile's top 15 too"
    )
    parser.add_argument(
        "--profile-requests",
        type=int,
        default=PROFILE_REQUESTS,
        help="with --profile: requests per endpoint",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--postgres", default=POSTGRES, help="server URL, without a database")
    parser.add_argument("--database", default=DATABASE, help="dropped and created again")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    # The profiled subprocess.
    parser.add_argument("--child", choices=["profile"], help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return profile_main(args)
    if args.profile_top:
        args.profile = True
    _require(shutil.which("wrk"), "wrk is not installed: apt-get install wrk (Debian's package)")
    _require(args.claims >= 2 * PAGE + 2, f"--claims: at least {2 * PAGE + 2}")

    url = recreate_database(args.postgres, args.database)
    log(f"database {args.database} created again; migrating")
    configure_django(url, migrate=True)
    log(f"building {args.claims:,} published verified claims (bench.exports' newsroom)")
    setup = seed(args.claims, args.seed)
    log(f"built in {setup.build_s:.1f} s ({setup.database_mb:,.0f} MB)")
    from django.db import connections

    connections.close_all()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-api-") as name:
            directory = Path(name)
            env = server_env(url, directory / "var")
            figures = measure(setup, env, args, directory)
            if args.profile:
                log(f"profiling each endpoint in-process, {args.profile_requests} requests")
                figures["profile"] = profile(setup, env, directory, args.profile_requests)
    finally:
        if not args.keep:
            drop_database(args.postgres, args.database)
    log("done")

    if args.json:
        payload = {
            "benchmark": "api",
            "setup": {
                "claims": setup.claims,
                "public_claims": setup.public_claims,
                "database": "postgresql",
                "database_mb": round(setup.database_mb, 1),
                "build_s": round(setup.build_s, 1),
                "server": f"gunicorn workbench.wsgi --workers {args.workers} (sync), "
                "WORKBENCH_ENV=production, plain HTTP, WORKBENCH_API_RATE=none",
                "load": f"wrk, {args.connections} connections, {args.threads} threads, "
                f"{args.duration:g} s per endpoint per round, {args.warmup:g} s warm-up",
                "list_cursors": len(setup.list_paths) - 1,
                "rounds": args.rounds,
                "seed": args.seed,
                "cpus": os.cpu_count(),
                "anchor": "bare DRF APIView returning {'ok': True}, no auth/permission/throttle, "
                "same gunicorn (bench/api_urls.py)",
            },
            "targets": TARGETS,
            "figures": figures,
            "rows": table_rows(figures, setup, args),
            "caveat": caveat(),
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    else:
        print(table(figures, setup, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
