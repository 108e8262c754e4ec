"""Web benchmark: pages fetched and extracted by the real worker, and a watch cycle of 304s.

    .venv/bin/python -m bench.web                             # a table
    .venv/bin/python -m bench.web --json                      # the same figures as JSON
    .venv/bin/python -m bench.web --pages 20 --watches 300    # a quick small run (CI)

Setup: a dedicated PostgreSQL database (--database on the machine's server,
trust auth, user postgres at 127.0.0.1:5432, or --postgres), dropped and
created again and migrated, DEBUG off; a real Celery worker of two processes
(prefork) on production's broker (RabbitMQ, BENCH_BROKER_URL) and Redis
(BENCH_RESULTS_URL), on a queue named after the database so that no other run
takes its tasks; and a local HTTP server in this process (the standard
library's ThreadingHTTPServer on 127.0.0.1) that serves news pages of about
900 words each (navigation, an article with its metadata, a footer), and
answers 304 to a conditional request for a watched page whose ETag it gave.

Measured:

1. Import by URL: one FetchJob of --pages addresses, the collection page's
   "Fetch and import", run by the worker: each page fetched through the vetted
   client, decoded, extracted by trafilatura with its metadata, stored as an
   article with its page row, the job's progress saved after each. Timed from
   the job's creation to its finish (its own timestamps), after a warm-up job
   of 5 pages. Then the same number of new pages as two jobs at once (both
   worker processes). The anchor: the same pages fetched bare (http.client,
   no checks) and extracted by `trafilatura.extract` in this process, one
   after another.
2. A watch cycle: --watches watched articles, every one due, their server
   answering 304 to each conditional request. `watch_cycle` (what celery beat
   calls every five minutes) sends them to the worker in batches of 50;
   timed until the last check is recorded. Worker time per article: the
   cycle's wall time × 2 processes / articles, and the CPU time the worker's
   processes used (from /proc), per article. The anchor: the same conditional
   request sent bare (http.client) from this process, per request.
3. Checks (a benchmark of wrong figures measures nothing): every page
   imported, none failed, with its title and site name; every watch checked,
   its outcome "unchanged", one 304 answered per watch, no new version.

No target is set by the issue; the figures are reported. The machine is
shared: compare ratios more than absolute times.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.agreement import POSTGRES, ROOT, _require, drop_database, log, recreate_database
from bench.reader import NAMES, WORDS

DATABASE = "workbench_bench_web"
BROKER = os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
RESULTS = os.environ.get("BENCH_RESULTS_URL", "redis://127.0.0.1:6379/7")
CONCURRENCY = 2
WARMUP_PAGES = 5
# Conditional requests timed bare, for the watch cycle's anchor.
BARE_WATCH_SAMPLE = 2000
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} | The Lakes Courier</title>
<link rel="canonical" href="https://courier.example/{slug}">
<meta property="og:site_name" content="The Lakes Courier">
<meta name="author" content="{author}">
<meta property="article:published_time" content="2026-0{month}-1{day}T08:30:00+00:00">
</head><body><header><nav>Home · World · Africa · Politics · Sport · Opinion</nav></header>
<main><article><h1>{title}</h1><p class="byline">By {author}</p>
{paragraphs}
</article><aside><h2>Most read</h2><ul><li>Markets close higher</li><li>Rain expected</li></ul>
</aside></main><footer>© The Lakes Courier · Contact · Terms</footer></body></html>"""


# The pages ------------------------------------------------------------------------------


def _sentence(rng: random.Random, length: int) -> str:
    words = [rng.choice(NAMES) if rng.random() < 0.08 else rng.choice(WORDS) for _ in range(length)]
    return " ".join(words).capitalize() + "."


def make_page(n: int) -> bytes:
    rng = random.Random(n)
    title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
    paragraphs = "\n".join(
        "<p>" + " ".join(_sentence(rng, rng.randint(12, 22)) for _ in range(4)) + "</p>"
        for _ in range(12)
    )
    return PAGE.format(
        title=title,
        slug=f"story-{n}",
        author=f"{rng.choice(NAMES)} {rng.choice(NAMES)}",
        month=1 + n % 9,
        day=n % 10,
        paragraphs=paragraphs,
    ).encode()


class Pages(BaseHTTPRequestHandler):
    """/page/<n>: a news page; /watch/<n>: the same, 304 when asked with its ETag."""

    pages: dict[int, bytes] = {}
    not_modified = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        kind, _, number = self.path.strip("/").partition("/")
        n = int(number) if number.isdigit() else -1
        etag = f'"w{n}"'
        if kind == "watch" and self.headers.get("If-None-Match") == etag:
            with Pages.lock:
                Pages.not_modified += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        if kind not in {"page", "watch"} or n < 0:
            self.send_error(404)
            return
        body = Pages.pages.get(n) or make_page(n)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if kind == "watch":
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# Django, the worker ---------------------------------------------------------------------


def worker_env(database_url: str, database: str) -> dict[str, str]:
    return os.environ | {
        "WORKBENCH_ENV": "development",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": RESULTS,
        "WORKBENCH_CACHE_URL": RESULTS,
        # The queue is the database's: a run on another database (--tiny, or another
        # engineer's) never takes these tasks, nor this one theirs.
        "CELERY_QUEUE": database,
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "WORKBENCH_LOG_LEVEL": "WARNING",
        # The pages are on 127.0.0.1, as in development.
        "WORKBENCH_FETCH_PRIVATE_ADDRESSES": "true",
    }


def configure(database_url: str, database: str) -> None:
    """This process as the web app: it sends tasks to the broker, which the worker reads."""
    os.environ.update(worker_env(database_url, database))
    os.environ["DJANGO_SETTINGS_MODULE"] = "workbench.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    call_command("migrate", verbosity=0, interactive=False)


def start_worker(database_url: str, database: str) -> subprocess.Popen[str]:
    env = worker_env(database_url, database)
    subprocess.run(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "celery", "-A", "workbench", "purge", "-f", "-Q", database],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    worker = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workbench",
            "worker",
            "--pool=prefork",
            f"--concurrency={CONCURRENCY}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"bench-web-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stderr is not None
    deadline = time.monotonic() + 120
    for line in worker.stderr:
        if " ready." in line:
            break
        _require(time.monotonic() < deadline, "the worker did not start")
    # Drain the worker's log so it never blocks on a full pipe.
    threading.Thread(target=worker.stderr.read, daemon=True).start()
    return worker


def stop_worker(worker: subprocess.Popen[str]) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


def _descendants(pid: int) -> Iterator[int]:
    yield pid
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                children = [int(c) for c in handle.read().split()]
        except OSError:
            continue
        for child in children:
            yield from _descendants(child)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in set(_descendants(pid)):
        try:
            with open(f"/proc/{each}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


# The measures ---------------------------------------------------------------------------


def newsroom() -> Any:
    from annotations.models import Collection, Organization
    from annotations.newsrooms.services import taxonomy_ensure_default

    organization = Organization.objects.create(slug="courier", name="Courier Fact Check")
    taxonomy = taxonomy_ensure_default(organization=organization)
    return Collection.objects.create(
        organization=organization, slug="desk", name="The desk", taxonomy=taxonomy
    )


def run_jobs(collection: Any, batches: list[list[str]], timeout: float = 1800) -> float:
    """Starts the jobs at once and waits for them; seconds from the first creation to the
    last finish (the jobs' own timestamps)."""
    from annotations.importing.by_url import fetch_job_start
    from annotations.models import FetchJob, JobStatus

    jobs = [fetch_job_start(collection=collection, user=None, urls=urls) for urls in batches]
    ids = [job.pk for job in jobs]
    ends = time.monotonic() + timeout
    while FetchJob.objects.filter(pk__in=ids, status__in=[JobStatus.PENDING, JobStatus.RUNNING]):
        _require(time.monotonic() < ends, "the import jobs did not finish in time")
        time.sleep(0.2)
    done = list(FetchJob.objects.filter(pk__in=ids))
    for job in done:
        _require(job.status == JobStatus.DONE, f"job {job.pk} ended {job.status}: {job.failure}")
        _require(job.failed == 0, f"job {job.pk}: {job.errors[:3]}")
        _require(job.created == len(job.urls), f"job {job.pk} created {job.created}")
    started = min(job.created_at for job in done)
    finished = max(job.finished_at for job in done if job.finished_at is not None)
    return (finished - started).total_seconds()


def bare_fetch_extract(base: str, numbers: list[int]) -> float:
    import trafilatura

    started = time.perf_counter()
    host, port = base.removeprefix("http://").split(":")
    for n in numbers:
        connection = http.client.HTTPConnection(host, int(port), timeout=20)
        connection.request("GET", f"/page/{n}")
        html = connection.getresponse().read().decode("utf-8")
        connection.close()
        _require(trafilatura.extract(html), f"page {n}: nothing extracted")
    return time.perf_counter() - started


def measure_fetch(collection: Any, base: str, pages: int) -> dict[str, Any]:
    from annotations.models import Article, ArticlePage

    warm = [f"{base}/page/{100_000 + i}" for i in range(WARMUP_PAGES)]
    run_jobs(collection, [warm])
    numbers = list(range(pages))
    for n in numbers:
        Pages.pages[n] = make_page(n)
    log(f"one job of {pages} pages")
    one_s = run_jobs(collection, [[f"{base}/page/{n}" for n in numbers]])
    twice = list(range(pages, 2 * pages))
    half = len(twice) // 2
    log(f"two jobs of {half} and {len(twice) - half} pages at once")
    two_s = run_jobs(
        collection,
        [[f"{base}/page/{n}" for n in twice[:half]], [f"{base}/page/{n}" for n in twice[half:]]],
    )
    imported = Article.objects.filter(collection=collection, url__contains="/page/")
    _require(imported.count() == WARMUP_PAGES + 2 * pages, "an article is missing")
    _require(
        ArticlePage.objects.filter(article__in=imported, site_name="The Lakes Courier").count()
        == imported.count(),
        "a page's site name was not extracted",
    )
    _require(not imported.filter(title="").exists(), "an article has no title")
    log("the anchor: the same pages fetched bare and extracted here")
    bare_s = bare_fetch_extract(base, numbers)
    return {
        "pages": pages,
        "one_job_s": round(one_s, 2),
        "one_job_per_s": round(pages / one_s, 1),
        "two_jobs_s": round(two_s, 2),
        "two_jobs_per_s": round(len(twice) / two_s, 1),
        "bare_s": round(bare_s, 2),
        "bare_per_s": round(pages / bare_s, 1),
        "vs_bare": round(one_s / bare_s, 2),
    }


def watched(collection: Any, base: str, count: int) -> None:
    from django.utils import timezone

    from annotations.core.text import content_hash
    from annotations.models import Article, ArticleWatch, WatchReason

    now = timezone.now()
    text = "A watched article.\n\nIts text does not change."
    articles = Article.objects.bulk_create(
        Article(
            organization_id=collection.organization_id,
            collection=collection,
            title=f"Watched {n}",
            url=f"{base}/watch/{n}",
            text=text,
            content_hash=content_hash(text),
        )
        for n in range(count)
    )
    ArticleWatch.objects.bulk_create(
        (
            ArticleWatch(
                organization_id=collection.organization_id,
                collection=collection,
                url=article.url,
                article=article,
                reason=WatchReason.MANUAL,
                etag=f'"w{n}"',
                next_check_at=now,
            )
            for n, article in enumerate(articles)
        ),
        batch_size=2000,
    )


def bare_conditional(base: str, count: int) -> float:
    host, port = base.removeprefix("http://").split(":")
    started = time.perf_counter()
    for n in range(count):
        connection = http.client.HTTPConnection(host, int(port), timeout=20)
        connection.request("GET", f"/watch/{n}", headers={"If-None-Match": f'"w{n}"'})
        answer = connection.getresponse()
        answer.read()
        connection.close()
        _require(answer.status == 304, f"watch {n}: HTTP {answer.status}")
    return (time.perf_counter() - started) / count


def measure_watch(collection: Any, base: str, count: int, worker_pid: int) -> dict[str, Any]:
    from django.db.models import Max

    from annotations.models import Article, ArticleWatch, WatchOutcome
    from annotations.watching.services import watch_cycle

    log(f"{count:,} watched articles, every one due")
    watched(collection, base, count)
    watches = ArticleWatch.objects.filter(collection=collection)
    Pages.not_modified = 0
    cpu_before = cpu_seconds(worker_pid)
    started_wall = time.perf_counter()
    from django.utils import timezone

    started = timezone.now()
    sent = watch_cycle()
    _require(sent["sent"] == count, f"the cycle sent {sent['sent']} of {count}")
    ends = time.monotonic() + max(600, count / 5)
    while watches.filter(last_checked_at__isnull=True).exists():
        _require(time.monotonic() < ends, "the watch cycle did not finish in time")
        time.sleep(0.2)
    waited = time.perf_counter() - started_wall
    last = watches.aggregate(last=Max("last_checked_at"))["last"]
    cycle_s = (last - started).total_seconds()
    cpu = cpu_seconds(worker_pid) - cpu_before
    _require(
        watches.filter(last_outcome=WatchOutcome.UNCHANGED).count() == count,
        "a watch's outcome is not 'unchanged'",
    )
    _require(Pages.not_modified == count, f"{Pages.not_modified} 304s for {count} watches")
    _require(
        not Article.objects.filter(collection=collection, version__gt=1).exists(),
        "a 304 made a new version",
    )
    log(f"the cycle took {cycle_s:.1f} s (waited {waited:.1f} s); the anchor: bare requests")
    bare = bare_conditional(base, min(count, BARE_WATCH_SAMPLE))
    worker_ms = cycle_s * CONCURRENCY / count * 1000
    return {
        "watches": count,
        "cycle_s": round(cycle_s, 2),
        "worker_ms_per_article": round(worker_ms, 2),
        "cpu_ms_per_article": round(cpu / count * 1000, 2),
        "bare_ms_per_request": round(bare * 1000, 2),
        "vs_bare": round(worker_ms / (bare * 1000), 1),
    }


# The table ------------------------------------------------------------------------------


def table_rows(f: dict[str, Any]) -> list[tuple[str, ...]]:
    """The rows of the table, also in --json as "rows" (python -m bench gathers them)."""
    fetch, watch = f["fetch"], f["watch"]
    return [
        (
            f"import by URL, {fetch['pages']} pages fetched and extracted, real worker (one job)",
            f"{fetch['one_job_per_s']} pages/s ({fetch['one_job_s']:.1f} s)",
            "",
            f"bare fetch + trafilatura.extract: {fetch['bare_per_s']} pages/s",
            f"{fetch['vs_bare']}× bare",
        ),
        (
            f"  {2 * (fetch['pages'] // 2)} more pages as two jobs at once (both worker processes)",
            f"{fetch['two_jobs_per_s']} pages/s ({fetch['two_jobs_s']:.1f} s)",
            "",
            "",
            "",
        ),
        (
            f"watch cycle, {watch['watches']:,} articles answering 304, worker time per article",
            f"{watch['worker_ms_per_article']:.2f} ms ({watch['cycle_s']:.1f} s for the cycle)",
            "",
            f"a bare conditional GET: {watch['bare_ms_per_request']:.2f} ms",
            f"{watch['vs_bare']}× bare",
        ),
        (
            "  CPU time of the worker's processes per article",
            f"{watch['cpu_ms_per_article']:.2f} ms",
            "",
            "",
            "",
        ),
    ]


def table(f: dict[str, Any]) -> str:
    rows = table_rows(f)
    header = ("figure", "value", "target", "anchor (same run)", "ratio")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--pages", type=int, default=200, help="pages in the timed import")
    parser.add_argument("--watches", type=int, default=10_000, help="watched articles")
    parser.add_argument("--postgres", default=POSTGRES, help="server URL, without a database")
    parser.add_argument("--database", default=DATABASE, help="dropped and created again")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    _require(args.pages >= 2 and args.watches >= 1, "--pages 2 or more, --watches 1 or more")

    url = recreate_database(args.postgres, args.database)
    log(f"database {args.database} created again; migrating")
    configure(url, args.database)
    server = serve()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    collection = newsroom()
    log(f"a real worker ({CONCURRENCY} processes) on queue {args.database}")
    worker = start_worker(url, args.database)
    try:
        figures = {
            "fetch": measure_fetch(collection, base, args.pages),
            "watch": measure_watch(collection, base, args.watches, worker.pid),
        }
    finally:
        stop_worker(worker)
        server.shutdown()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.postgres, args.database)
    log("done")
    if args.json:
        payload = {
            "benchmark": "web",
            "setup": {
                "pages": args.pages,
                "watches": args.watches,
                "worker_processes": CONCURRENCY,
                "database": "postgresql",
                "cpus": os.cpu_count(),
            },
            "figures": figures,
            "rows": table_rows(figures),
            "caveat": f"Machine: {os.cpu_count()} cores, shared with other work; the page "
            "server runs in the benchmark's process, on the same cores as the worker.",
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    else:
        print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
