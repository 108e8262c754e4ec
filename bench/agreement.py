"""Agreement benchmark: 10,000 articles × 3 reviewers × ~10 claims in PostgreSQL.

    .venv/bin/python -m bench.agreement                   # a table
    .venv/bin/python -m bench.agreement --json            # the same figures as JSON
    .venv/bin/python -m bench.agreement --articles 1000   # a quick small run

Builds a synthetic collection in a dedicated PostgreSQL database (dropped and
created again on every run; the machine's server, trust auth, user postgres
at 127.0.0.1:5432, or --postgres), with DEBUG off and no broker, and measures:

1. a full agreement run end to end (database read, span matching, every
   metric with its bootstrap interval, contributions and report stored) in a
   fresh subprocess that does only the run, through
   `agreement_runs.report_run_here(report_start(...))`, the in-process path of
   the `compute_agreement` command; its peak memory is that subprocess's RSS
   high-water mark, getrusage(RUSAGE_CHILDREN).ru_maxrss read once it has
   exited, in a small launcher process started before Django and the data (so
   the child is not born a copy of this one), next to an idle subprocess that
   sets Django up and loads the collection; one more run in this process has
   its steps timed (the app's functions wrapped, not copied);
2. the alpha step alone, `coincidences_from_arrays` + `alpha_from_coincidences`,
   against the `krippendorff` package on the same units (reviewers × units,
   NaN where missing) and against NLTK's `AnnotationTask(...).alpha()` (on a
   subset of units when the full set would take too long);
3. one claim's verdict changed through `reader.services.claim_update` (with no broker
   the refresh runs in-process when the update commits), and
   `agreement_runs.refresh_article` alone;
4. the share of units that pair two or more reviewers' spans under exact
   matching and under overlap matching (IoU ≥ the collection's 0.5).

The simulated reviewers: each article has 8–12 claim sites (one clause of a
sentence each) with a verdict; each reviewer misses a site now and then, marks
an extra passage of their own on some articles, and highlights a site with
their own boundary habit (reviewer 1 the site itself, reviewer 2 one word more
at the start, reviewer 3 one word more at the end), departing from that habit
by a word at one end on a few claims (--boundary-noise). Verdicts mostly
agree; a disagreement is usually a neighbouring rating. Ordinal verdicts carry
their rating, 1–5. A benchmark prints figures; it never fails on a slow number.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "workbench_bench_agreement"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
TARGETS = {
    "worker_run_s": 3.0,
    "worker_run_vs_read": 3.0,  # the run / a bare read of the same rows
    "run_s": 10.0,
    "run_peak_mb": 500.0,
    "alpha_vs_krippendorff": 1.0,  # ours / the package's time: at most 1
    "refresh_s": 1.0,
    "exact_matched_share": 0.01,  # exact matching pairs almost nothing
}
# Reviewer i highlights a site moved by HABITS[i % len(HABITS)] words at (start, end):
# negative at the start and positive at the end mean a word more.
HABITS = ((0, 0), (-1, 0), (0, 1), (1, 0), (0, -1))
# Verdict slugs of the default taxonomy as the simulation draws a site's verdict.
SITE_VERDICTS = {
    "false": 0.22,
    "mostly-false": 0.16,
    "mixed": 0.14,
    "mostly-true": 0.12,
    "true": 0.10,
    "misleading": 0.16,
    "unverifiable": 0.10,
}
NLTK_SUBSET_UNITS = 10_000
# NLTK runs on every unit only when the subset says it would take less than this.
NLTK_FULL_BUDGET_S = 20.0


def _log_to_stderr() -> Callable[[str], None]:
    started = time.perf_counter()

    def write(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return write


log = _log_to_stderr()


def _require(condition: object, message: object) -> None:
    """A check that `python -O` keeps: a benchmark of wrong figures measures nothing."""
    if not condition:
        raise RuntimeError(f"benchmark check failed: {message}")


# Setup ------------------------------------------------------------------------------


def recreate_database(postgres: str, name: str) -> str:
    """Drops and creates the bench database; returns its URL."""
    import psycopg

    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres}/{name}"


def drop_database(postgres: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def configure_django(database_url: str, *, migrate: bool, broker: bool = False) -> None:
    """Settings from the environment, pointed at the bench database, DEBUG off; no
    broker unless asked for (the worker run's request goes to the real worker)."""
    os.environ["WORKBENCH_ENV"] = "development"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    if not broker:
        # No broker: tasks run in-process, as the command and `./dev run` do.
        os.environ.pop("CELERY_BROKER_URL", None)
        os.environ.pop("CELERY_RESULT_BACKEND", None)
    os.environ.pop("WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "workbench.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))

    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Celery's eager mode sets up a producer it never connects; kombu warns that
    # it has no hostname. Not news.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


# The synthetic collection -----------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    reviewers: int = 3
    sites: tuple[int, int] = (8, 12)
    words: tuple[int, int] = (150, 300)
    miss: float = 0.08  # a reviewer does not mark a site
    extra: float = 0.4  # a reviewer marks one passage nobody else does, per article
    boundary_noise: float = 0.03  # a reviewer departs from their habit by a word
    verdict_agree: float = 0.8  # a reviewer gives the site's verdict
    neighbour: float = 0.6  # otherwise, on an ordinal verdict: a neighbouring rating
    to_check: float = 0.03  # a claim saved with no verdict yet


@dataclass(frozen=True, slots=True)
class ClaimRow:
    reviewer: int  # index into the reviewers
    start: int
    end: int
    verdict: int | None  # index into the taxonomy's labels
    site: int  # the claim site it marks, -1 for an extra passage


def _sentence(rng: random.Random, words: Sequence[str], names: Sequence[str], length: int) -> str:
    out = []
    for i in range(length):
        roll = rng.random()
        if roll < 0.06:
            word = rng.choice(names)
        elif roll < 0.09:
            word = str(rng.randint(2, 99))
        else:
            word = rng.choice(words)
        if i == 0:
            word = word[:1].upper() + word[1:]
        if i < length - 1 and rng.random() < 0.06:
            word += ","
        out.append(word)
    return " ".join(out) + "."


def make_article(
    rng: random.Random, sim: Simulation, labels: Sequence[tuple[str, int | None]]
) -> tuple[str, list[ClaimRow]]:
    """An article's text and its claims. `labels` are (slug, rating) in taxonomy order."""
    from bench.reader import NAMES, WORDS

    target = rng.randint(*sim.words)
    paragraphs: list[list[str]] = [[]]
    total = 0
    while total < target:
        length = min(rng.randint(8, 18), max(8, target - total))
        if len(paragraphs[-1]) >= rng.randint(3, 5):
            paragraphs.append([])
        paragraphs[-1].append(_sentence(rng, WORDS, NAMES, length))
        total += length
    text = "\n\n".join(" ".join(p) for p in paragraphs)
    # Each sentence's words as (start, end) offsets, punctuation left out.
    sentences: list[list[tuple[int, int]]] = []
    position = 0
    for p, paragraph in enumerate(paragraphs):
        if p:
            position += 2
        for s, sentence in enumerate(paragraph):
            if s:
                position += 1
            spans = []
            offset = position
            for token in sentence.split(" "):
                bare = token.rstrip(",.")
                spans.append((offset, offset + len(bare)))
                offset += len(token) + 1
            sentences.append(spans)
            position += len(sentence)

    slugs = [slug for slug, _ in labels]
    weights = [SITE_VERDICTS.get(slug, 0.05) for slug in slugs]
    ratings = [rating for _, rating in labels]
    count = min(rng.randint(*sim.sites), len(sentences))
    chosen = sorted(rng.sample(range(len(sentences)), count))
    rows: list[ClaimRow] = []
    for site, index in enumerate(chosen):
        words = sentences[index]
        first = rng.randint(1, 2)
        last = len(words) - rng.randint(1, 2)  # exclusive
        verdict = rng.choices(range(len(labels)), weights)[0]
        for reviewer in range(sim.reviewers):
            if rng.random() < sim.miss:
                continue
            move_start, move_end = HABITS[reviewer % len(HABITS)]
            if rng.random() < sim.boundary_noise:
                if rng.random() < 0.5:
                    move_start += rng.choice((-1, 1))
                else:
                    move_end += rng.choice((-1, 1))
            start = min(max(0, first + move_start), len(words) - 1)
            end = max(min(len(words), last + move_end), start + 1)
            rows.append(
                ClaimRow(
                    reviewer,
                    words[start][0],
                    words[end - 1][1],
                    _reviewer_verdict(rng, sim, verdict, ratings),
                    site,
                )
            )
    sites = set(chosen)
    free = [i for i in range(len(sentences)) if i not in sites] or list(range(len(sentences)))
    taken = {(r.reviewer, r.start, r.end) for r in rows}
    for reviewer in range(sim.reviewers):
        if rng.random() < sim.extra:
            words = sentences[rng.choice(free)]
            start = rng.randrange(0, max(1, len(words) - 4))
            end = min(len(words), start + rng.randint(4, 10))
            if (reviewer, words[start][0], words[end - 1][1]) not in taken:
                verdict = rng.choices(range(len(labels)), weights)[0]
                rows.append(ClaimRow(reviewer, words[start][0], words[end - 1][1], verdict, -1))
    return text, rows


def _reviewer_verdict(
    rng: random.Random, sim: Simulation, site: int, ratings: Sequence[int | None]
) -> int | None:
    if rng.random() < sim.to_check:
        return None
    if rng.random() < sim.verdict_agree:
        return site
    rating = ratings[site]
    if rating is not None and rng.random() < sim.neighbour:
        near = [i for i, r in enumerate(ratings) if r is not None and abs(r - rating) == 1]
        return rng.choice(near)
    return rng.choice([i for i in range(len(ratings)) if i != site])


@dataclass
class Fixture:
    collection: Any
    reviewers: list[Any]
    labels: list[Any]
    articles: int
    claims: int
    words: int
    seconds: float
    # Reviewer pairs marking the same site, and those of them with identical spans.
    site_pairs: int = 0
    identical_pairs: int = 0
    database_mb: float = 0.0


def build(seed: int, articles: int, sim: Simulation) -> Fixture:
    """Organization, people and collection through the services; the rest in bulk."""
    from django.db import connection
    from django.utils import timezone

    from annotations.core.anchoring import selector_for
    from annotations.core.text import content_hash, normalize_text
    from annotations.models import Article, Assignment, AssignmentStatus, ClaimAnnotation
    from annotations.newsrooms import services

    started = time.perf_counter()
    rng = random.Random(seed)
    organization = services.organization_create(slug="bench", name="Benchmark Desk")
    services.member_create(organization=organization, username="editor", role="editor")
    people = [
        services.member_create(
            organization=organization, username=f"reviewer{i + 1}", role="reviewer"
        ).membership.user
        for i in range(sim.reviewers)
    ]
    collection, _ = services.collection_ensure(
        organization=organization, slug="great-lakes", name="Great Lakes desk"
    )
    collection.reviewers_per_article = sim.reviewers
    collection.save(update_fields=["reviewers_per_article"])
    labels = list(collection.taxonomy.labels.order_by("order", "pk"))
    label_spec = [(label.slug, label.rating) for label in labels]

    planned: list[tuple[str, list[ClaimRow]]] = []
    words = 0
    for _ in range(articles):
        text, rows = make_article(rng, sim, label_spec)
        _require(normalize_text(text) == text, "generated text is not normalized")
        planned.append((text, rows))
        words += text.count(" ") + text.count("\n\n") + 1
    log(f"  {articles:,} articles planned; storing")

    stored: list[Article] = []
    batch = 1000
    for i in range(0, len(planned), batch):
        stored += Article.objects.bulk_create(
            Article(
                organization=organization,
                collection=collection,
                title=f"Great Lakes report {n + 1}",
                url=f"https://news.example/great-lakes/{n + 1}",
                publisher="The Great Lakes Observer",
                language="en",
                text=text,
                # As Article.save keeps it (bulk_create does not call save).
                text_length=len(text),
                content_hash=content_hash(text),
            )
            for n, (text, _) in enumerate(planned[i : i + batch], start=i)
        )
    Assignment.objects.bulk_create(
        (
            Assignment(article=article, reviewer=person, status=AssignmentStatus.IN_PROGRESS)
            for article in stored
            for person in people
        ),
        batch_size=5000,
    )
    now = timezone.now()
    claims = 0
    site_pairs = identical = 0
    columns = (
        "article_id",
        "reviewer_id",
        "start",
        "end",
        "quote",
        "prefix",
        "suffix",
        "verdict_id",
        "rating",
        "note",
        "created_at",
        "updated_at",
        "version",
    )
    table = ClaimAnnotation._meta.db_table
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        for article, (text, rows) in zip(stored, planned, strict=True):
            by_site: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for row in rows:
                label = labels[row.verdict] if row.verdict is not None else None
                # The quote and its context as claim_create stores them.
                selector = selector_for(text, row.start, row.end)
                copy.write_row(
                    (
                        article.pk,
                        people[row.reviewer].pk,
                        selector.start,
                        selector.end,
                        selector.exact,
                        selector.prefix,
                        selector.suffix,
                        label.pk if label else None,
                        label.rating if label else None,
                        "",
                        now,
                        now,
                        1,
                    )
                )
                if row.site >= 0:
                    by_site[row.site].append((row.start, row.end))
            claims += len(rows)
            for spans in by_site.values():
                for a in range(len(spans)):
                    for b in range(a + 1, len(spans)):
                        site_pairs += 1
                        identical += spans[a] == spans[b]
    with connection.cursor() as cursor:
        # What autovacuum would have done by the time anyone runs a report.
        cursor.execute("ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    _require(ClaimAnnotation.objects.filter(article__collection=collection).count() == claims, "")
    return Fixture(
        collection=collection,
        reviewers=people,
        labels=labels,
        articles=len(stored),
        claims=claims,
        words=words,
        seconds=time.perf_counter() - started,
        site_pairs=site_pairs,
        identical_pairs=identical,
        database_mb=size / 2**20,
    )


# Measurements -----------------------------------------------------------------------


def _median(times: Sequence[float]) -> float:
    return statistics.median(times)


def _timed(call: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return times, result


class Launcher:
    """A small process, started before Django and the data, that starts the measured children.

    A child forked from this benchmark's own process would begin life as a copy
    of it (Django, the generated data) and its RSS high-water mark, which
    survives exec, would count that copy. The launcher is plain Python, a few
    MB, so getrusage(RUSAGE_CHILDREN).ru_maxrss, read in the launcher after a
    child has exited, is that child's own peak.
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.agreement", "--child", "launcher"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, args: list[str]) -> tuple[dict[str, Any], int]:
        """The child's answer and RUSAGE_CHILDREN's ru_maxrss (KB) once it has exited."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(args) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        if reply["returncode"]:
            raise RuntimeError(f"child {args} failed:\n{reply['stderr']}")
        return json.loads(reply["stdout"].strip().splitlines()[-1]), reply["children_maxrss_kb"]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def launcher_main() -> int:
    """The launcher's loop: one JSON list of arguments per line in, one answer per line out."""
    for line in sys.stdin:
        done = subprocess.run(  # noqa: S603  (our own interpreter and module)
            [sys.executable, "-m", "bench.agreement", *json.loads(line)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        reply = {
            "returncode": done.returncode,
            "stdout": done.stdout,
            "stderr": done.stderr[-3000:],
            "children_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            "launcher_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
        print(json.dumps(reply), flush=True)
    return 0


def _vm_hwm_kb() -> int | None:
    """This process's own RSS high-water mark since exec (Linux), in KB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def measure_full_run(
    launcher: Launcher, database_url: str, fx: Fixture, runs: int
) -> dict[str, Any]:
    """Full runs, each in a fresh subprocess, after an idle one that only sets up."""
    common = ["--database-url", database_url, "--collection-id", str(fx.collection.pk)]
    idle, idle_peak_kb = launcher.run(["--child", "idle", *common])
    results = []
    peak_kb = idle_peak_kb
    for i in range(runs):
        answer, peak_kb = launcher.run(["--child", "run", *common])
        results.append(answer)
        log(f"  run {i + 1}/{runs}: {answer['seconds']:.2f} s, {answer['vm_hwm_kb'] / 1024:.0f} MB")
    seconds = [r["seconds"] for r in results]
    last = results[-1]
    return {
        "run_s": round(_median(seconds), 2),
        "run_times_s": [round(s, 2) for s in seconds],
        "run_report_duration_ms": [r["duration_ms"] for r in results],
        # RUSAGE_CHILDREN in the launcher: the largest high-water mark of its children.
        "run_peak_mb": round(peak_kb / 1024, 1),
        "idle_peak_mb": round(idle_peak_kb / 1024, 1),
        # Each child's own VmHWM (/proc/self/status) at its end: the same figure, per run.
        "run_vm_hwm_mb": [round(r["vm_hwm_kb"] / 1024, 1) for r in results],
        "idle_vm_hwm_mb": round(idle["vm_hwm_kb"] / 1024, 1),
        "report_id": last["report_id"],
        "verdict_alpha": last["verdict_alpha"],
        "verdict_ci": last["verdict_ci"],
        "rating_alpha": last["rating_alpha"],
        "rating_ci": last["rating_ci"],
        "span_f1": last["span_f1"],
        "pairable_units": last["units"],
    }


# The real worker: production's broker (RabbitMQ) and results on Redis, two processes.
BROKER = os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
RESULTS = os.environ.get("BENCH_RESULTS_URL", "redis://127.0.0.1:6379/7")


def measure_worker_run(database_url: str, database: str, fx: Fixture, runs: int) -> dict[str, Any]:
    """Full runs through a real Celery worker of two processes: asked for, fanned out
    over chunks, added up, stored; timed from the request to the finished report."""
    env = os.environ | {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": RESULTS,
        "WORKBENCH_CACHE_URL": RESULTS,
        # The queue is the database's: a run on another database (--tiny, or
        # another engineer's) never takes these tasks, nor this one theirs.
        "CELERY_QUEUE": database,
        "DEBUG": "false",
        "WORKBENCH_LOG_LEVEL": "WARNING",
    }
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
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"bench-agreement-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        deadline = time.monotonic() + 120
        for line in worker.stderr:
            if " ready." in line:
                break
            _require(time.monotonic() < deadline, "the worker did not start")
        # Drain the worker's log so it never blocks on a full pipe.
        import threading

        threading.Thread(target=worker.stderr.read, daemon=True).start()
        times = []
        for i in range(runs + 1):
            answer = subprocess.run(  # noqa: S603  (our own interpreter and module)
                [
                    sys.executable,
                    "-m",
                    "bench.agreement",
                    "--child",
                    "worker-run",
                    "--database-url",
                    database_url,
                    "--collection-id",
                    str(fx.collection.pk),
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            _require(answer.returncode == 0, f"worker run failed: {answer.stderr[-2000:]}")
            seconds = json.loads(answer.stdout.strip().splitlines()[-1])["seconds"]
            if i:  # the first one warms the worker's processes up
                times.append(seconds)
            log(f"  worker run {i}/{runs}: {seconds:.2f} s{'' if i else ' (warm-up)'}")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    return {
        "worker_run_s": round(_median(times), 2),
        "worker_run_times_s": [round(t, 2) for t in times],
    }


def measure_bare_read(fx: Fixture, runs: int = 3) -> dict[str, Any]:
    """The anchor: the rows a run reads, read by a bare psycopg cursor and nothing done
    with them: the claims, the assignments (who reviews, who submitted) and the
    articles (title, length of text). The claims alone are timed too."""
    from django.db import connection

    from annotations.models import Article, Assignment, ClaimAnnotation

    claims = ClaimAnnotation._meta.db_table
    articles = Article._meta.db_table
    assignments = Assignment._meta.db_table
    # Table names from the models.
    queries = [
        f'SELECT c.article_id, c.id, c.reviewer_id, c.start, c."end", c.verdict_id, c.rating '  # noqa: S608
        f"FROM {claims} c JOIN {articles} a ON a.id = c.article_id WHERE a.collection_id = %s "
        "AND c.deleted_at IS NULL",
        f"SELECT s.article_id, s.reviewer_id, s.status FROM {assignments} s "  # noqa: S608
        f"JOIN {articles} a ON a.id = s.article_id WHERE a.collection_id = %s",
        f"SELECT id, title, length(text) FROM {articles} WHERE collection_id = %s",  # noqa: S608
    ]

    def read(some: list[str]) -> int:
        with connection.cursor() as cursor:
            count = 0
            for query in some:
                cursor.execute(query, [fx.collection.pk])
                count += len(cursor.fetchall())
            return count

    claim_times, rows = _timed(lambda: read(queries[:1]), runs)
    _require(rows == fx.claims, f"the bare read got {rows:,} rows of {fx.claims:,}")
    times, every = _timed(lambda: read(queries), runs)
    return {
        "bare_read_s": round(_median(times), 3),
        "bare_read_rows": every,
        "bare_read_claims_s": round(_median(claim_times), 3),
        "bare_read_claim_rows": rows,
    }


def measure_statistics(fx: Fixture, units: Units, repeats: int) -> dict[str, Any]:
    """Fleiss' kappa, weighted kappa and unitizing alpha: ours against the reference
    libraries the tests check them with, on the same data."""
    import numpy as np
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

    from annotations.agreement import contributions
    from annotations.agreement.kappas import fleiss_kappa, weighted_kappa
    from annotations.agreement.unitizing import unitizing_counts

    figures: dict[str, Any] = {}
    # Fleiss: the units every one of the three reviewers gave a verdict (statsmodels
    # takes equal numbers of ratings only).
    given = units.verdict >= 0
    table = np.zeros((units.count, units.categories), dtype=np.int64)
    np.add.at(table, (units.unit[given], units.verdict[given]), 1)
    table = table[table.sum(axis=1) == units.reviewers]
    ours_t, ours = _timed(lambda: fleiss_kappa(table).kappa, repeats)
    theirs_t, theirs = _timed(lambda: float(statsmodels_fleiss(table, method="fleiss")), repeats)
    _require(abs(ours - theirs) < 1e-9, f"Fleiss: ours {ours}, statsmodels {theirs}")
    figures |= {
        "fleiss_units": len(table),
        "fleiss_ours_ms": round(_median(ours_t) * 1000, 2),
        "fleiss_statsmodels_ms": round(_median(theirs_t) * 1000, 2),
    }
    # Weighted kappa: the ratings of the first two reviewers on the units both rated.
    scale = list(range(units.rating_categories))
    first = np.full(units.count, -1)
    second = np.full(units.count, -1)
    rated = units.rating >= 0
    first[units.unit[rated & (units.reviewer == 0)]] = units.rating[rated & (units.reviewer == 0)]
    second[units.unit[rated & (units.reviewer == 1)]] = units.rating[rated & (units.reviewer == 1)]
    both = (first >= 0) & (second >= 0)
    a, b = first[both].tolist(), second[both].tolist()
    ours_t, ours = _timed(lambda: weighted_kappa(a, b, scale, "quadratic").kappa, repeats)
    theirs_t, theirs = _timed(
        lambda: float(cohen_kappa_score(a, b, labels=scale, weights="quadratic")), repeats
    )
    _require(abs(ours - theirs) < 1e-9, f"weighted kappa: ours {ours}, scikit-learn {theirs}")
    figures |= {
        "weighted_units": len(a),
        "weighted_ours_ms": round(_median(ours_t) * 1000, 2),
        "weighted_sklearn_ms": round(_median(theirs_t) * 1000, 2),
    }
    # Unitizing: the counts of every article, as a run computes them.
    ids = list(fx.collection.articles.order_by("pk").values_list("pk", flat=True))
    spans, everyone, infos = contributions._load(fx.collection, ids)
    marked: list[tuple[int, dict[int, list[tuple[int, int]]]]] = []
    bounds = np.searchsorted(spans.article, [*ids, np.iinfo(np.int64).max])
    team: dict[int, set[int]] = defaultdict(set)
    for article, reviewer in zip(everyone[0].tolist(), everyone[1].tolist(), strict=True):
        team[article].add(reviewer)
    for i, info in enumerate(infos):
        by: dict[int, list[tuple[int, int]]] = {r: [] for r in team[info.id]}
        for j in range(int(bounds[i]), int(bounds[i + 1])):
            by.setdefault(int(spans.reviewer[j]), []).append(
                (int(spans.start[j]), int(spans.end[j]))
            )
        marked.append((info.length, by))
    times, _ = _timed(lambda: [unitizing_counts(n, by) for n, by in marked], 3)
    figures |= {
        "unitizing_articles": len(marked),
        "unitizing_ms": round(_median(times) * 1000, 1),
    }
    return figures


def child_main(args: argparse.Namespace) -> int:
    """The subprocess: Django set up on the existing database, then only the run."""
    configure_django(args.database_url, migrate=False, broker=args.child == "worker-run")
    from annotations.agreement import runs as agreement_runs
    from annotations.models import Collection

    collection = Collection.objects.select_related("taxonomy").get(pk=args.collection_id)
    answer: dict[str, Any] = {}
    if args.child == "worker-run":
        from annotations.models import AgreementReport, JobStatus

        started = time.perf_counter()
        report = agreement_runs.run_request(collection=collection)
        while True:
            status = AgreementReport.objects.values_list("status", flat=True).get(pk=report.pk)
            if status in (JobStatus.DONE, JobStatus.FAILED):
                break
            _require(time.perf_counter() - started < 600, "the worker run took over 10 minutes")
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        _require(status == JobStatus.DONE, f"the worker run ended {status}")
        print(json.dumps({"seconds": seconds, "report_id": report.pk}))
        return 0
    if args.child == "run":
        started = time.perf_counter()
        report = agreement_runs.report_run_here(agreement_runs.report_start(collection=collection))
        seconds = time.perf_counter() - started
        results = report.results or {}
        answer = {
            "seconds": seconds,
            "report_id": report.pk,
            "duration_ms": report.duration_ms,
            "units": results["units"],
            "verdict_alpha": results["verdict"]["alpha"],
            "verdict_ci": results["verdict"]["ci"],
            "rating_alpha": results["rating"]["alpha"],
            "rating_ci": results["rating"]["ci"],
            "span_f1": results["spans"]["f1_mean"],
        }
    answer["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer["vm_hwm_kb"] = _vm_hwm_kb()
    print(json.dumps(answer))
    return 0


# The functions of `agreement_runs` timed inside an in-process run; each call goes
# through the module's globals, so wrapping them there times every call.
STEPS = (
    "report_chunk",
    "compute_articles",
    "_load",
    "match_units",
    "count",
    "_store_records",
    "report_finish",
    "merge",
    "summarize",
    "alpha_interval_from_value_counts",
)


@contextmanager
def timing(modules: Sequence[Any], names: Sequence[str]) -> Iterator[dict[str, float]]:
    """Wraps module-level functions with a clock for as long as the block runs.

    A name is wrapped in each module that has it: a call is timed in the module
    it is looked up in, once.
    """
    totals: dict[str, float] = dict.fromkeys(names, 0.0)
    originals = {
        (module, name): getattr(module, name)
        for module in modules
        for name in names
        if hasattr(module, name)
    }

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - started

        return call

    for (module, name), function in originals.items():
        setattr(module, name, timed(name, function))
    try:
        yield totals
    finally:
        for (module, name), function in originals.items():
            setattr(module, name, function)


def measure_steps(fx: Fixture) -> dict[str, Any]:
    """A full overlap run in this process with its steps timed (the app's code, wrapped)."""
    from annotations.agreement import batch, contributions, summary
    from annotations.agreement import runs as agreement_runs

    started = time.perf_counter()
    with timing((agreement_runs, contributions, summary, batch), STEPS) as t:
        agreement_runs.report_run_here(agreement_runs.report_start(collection=fx.collection))
    total = time.perf_counter() - started
    steps = {
        "total": total,
        # compute_articles: read the claims, match them into units, count, store
        # each article's record for later refreshes.
        "load": t["_load"],
        "matching": t["match_units"],
        "count": t["count"],
        "store": t["_store_records"],
        "chunk_other": t["report_chunk"]
        - t["_load"]
        - t["match_units"]
        - t["count"]
        - t["_store_records"],
        "merge": t["merge"],
        "summarize": t["summarize"],
        "bootstrap": t["alpha_interval_from_value_counts"],
        "finish_other": t["report_finish"] - t["merge"] - t["summarize"],
    }
    return {f"step_{k}_s": round(v, 3) for k, v in steps.items()}


def matched_shares(fx: Fixture) -> dict[str, Any]:
    """Units holding spans of two or more reviewers, from each mode's latest report."""
    from annotations.models import AgreementReport, JobStatus, MatchMode

    out: dict[str, Any] = {}
    for mode in (MatchMode.EXACT, MatchMode.OVERLAP):
        report = (
            AgreementReport.objects.filter(
                collection=fx.collection, match_mode=mode, status=JobStatus.DONE
            )
            .order_by("-finished_at")
            .first()
        )
        _require(report is not None, f"a finished {mode} run")
        assert report is not None
        rows = report.results["articles"]
        _require(len(rows) == fx.articles, f"{mode}: {len(rows)} articles in the report")
        units = sum(row["units"] for row in rows)
        single = sum(row["single"] for row in rows)
        out[f"{mode}_units"] = units
        out[f"{mode}_matched_units"] = units - single
        out[f"{mode}_matched_share"] = (units - single) / units if units else None
    return out


def exact_run(fx: Fixture) -> dict[str, Any]:
    """A full run with exact matching, in this process (before the timed overlap runs)."""
    from annotations.agreement import runs as agreement_runs
    from annotations.models import MatchMode

    started = time.perf_counter()
    report = agreement_runs.report_run_here(
        agreement_runs.report_start(collection=fx.collection, mode=MatchMode.EXACT)
    )
    seconds = time.perf_counter() - started
    results = report.results or {}
    return {
        "exact_run_s": round(seconds, 2),
        "exact_span_f1": results["spans"]["f1_mean"],
        "exact_pairable_units": results["units"],
        "exact_verdict_alpha": results["verdict"]["alpha"],
    }


@dataclass
class Units:
    """Every overlap unit of the collection as reliability data: one entry per span."""

    unit: Any  # unit id per value, dense from 0
    reviewer: Any  # reviewer row per value
    verdict: Any  # category index per value, -1 for a claim still to check
    rating: Any  # rating index (rating - worst) per value, -1 when none
    count: int
    reviewers: int
    categories: int
    rating_categories: int
    seconds: float


def overlap_units(fx: Fixture) -> Units:
    """Matches every article's spans as the run does and flattens the units."""
    import numpy as np

    from annotations.agreement import contributions as runs
    from annotations.agreement.matching import Span, match_spans
    from annotations.models import ClaimAnnotation

    started = time.perf_counter()
    scale = runs.Scale.of(fx.collection)
    category = {pk: i for i, pk in enumerate(scale.verdicts)}
    worst = scale.ratings[0]
    row_of = {person.pk: i for i, person in enumerate(fx.reviewers)}
    by_article: dict[int, list[Span]] = defaultdict(list)
    for article_id, *row in (
        ClaimAnnotation.objects.filter(article__collection=fx.collection)
        .order_by()
        .values_list("article_id", "id", "reviewer_id", "start", "end", "verdict_id", "rating")
        .iterator(chunk_size=10_000)
    ):
        by_article[article_id].append(Span(*row))
    unit_ids: list[int] = []
    reviewers: list[int] = []
    verdicts: list[int] = []
    ratings: list[int] = []
    count = 0
    for article_id in sorted(by_article):
        matching = match_spans(by_article[article_id], threshold=fx.collection.iou_threshold)
        for unit in matching.units:
            for reviewer, span in unit.spans.items():
                unit_ids.append(count)
                reviewers.append(row_of[int(reviewer)])
                verdicts.append(category[span.verdict] if span.verdict is not None else -1)
                ratings.append(span.rating - worst if span.rating is not None else -1)
            count += 1
    return Units(
        unit=np.asarray(unit_ids, dtype=np.int64),
        reviewer=np.asarray(reviewers, dtype=np.int64),
        verdict=np.asarray(verdicts, dtype=np.int64),
        rating=np.asarray(ratings, dtype=np.int64),
        count=count,
        reviewers=len(fx.reviewers),
        categories=len(scale.verdicts),
        rating_categories=len(scale.ratings),
        seconds=time.perf_counter() - started,
    )


def measure_alpha(units: Units, repeats: int) -> dict[str, Any]:
    """Our vectorised path against the krippendorff package and NLTK, on the same units."""
    import krippendorff
    import numpy as np

    from annotations.agreement.reliability import alpha_from_coincidences, coincidences_from_arrays

    def ours(unit: Any, value: Any, categories: int, metric: str) -> float | None:
        matrix = coincidences_from_arrays(unit, value, categories)
        return alpha_from_coincidences(matrix, metric).alpha  # type: ignore[arg-type]

    def reliability_matrix(values: Any, units_count: int) -> Any:
        """Reviewers × units, NaN where a reviewer gave no value."""
        matrix = np.full((units.reviewers, units_count), np.nan)
        given = values >= 0
        matrix[units.reviewer[given], units.unit[given]] = values[given]
        return matrix

    figures: dict[str, Any] = {"alpha_units": units.count}
    for name, values, categories, metric in (
        ("verdict", units.verdict, units.categories, "nominal"),
        ("rating", units.rating, units.rating_categories, "ordinal"),
    ):
        given = values >= 0
        unit, value = units.unit[given], values[given]
        matrix = reliability_matrix(values, units.count)
        ours(unit, value, categories, metric)  # warm up
        our_times, our_alpha = _timed(
            lambda u=unit, v=value, c=categories, m=metric: ours(u, v, c, m), repeats
        )
        their_times, their_alpha = _timed(
            lambda m=matrix, lm=metric: float(
                krippendorff.alpha(reliability_data=m, level_of_measurement=lm)
            ),
            max(3, repeats // 3),
        )
        _require(
            our_alpha is not None and abs(our_alpha - their_alpha) < 1e-9,
            f"{name} alpha: ours {our_alpha}, krippendorff {their_alpha}",
        )
        ours_s, theirs_s = _median(our_times), _median(their_times)
        figures |= {
            f"alpha_{name}_values": int(given.sum()),
            f"alpha_{name}": our_alpha,
            f"alpha_{name}_ours_ms": round(ours_s * 1000, 2),
            f"alpha_{name}_krippendorff_ms": round(theirs_s * 1000, 2),
            f"alpha_{name}_ratio": round(ours_s / theirs_s, 3),
        }
    figures |= measure_nltk(units, repeats)
    return figures


def measure_nltk(units: Units, repeats: int) -> dict[str, Any]:
    """NLTK's AnnotationTask on a subset of units, and on all when the subset says it is quick."""
    try:
        from nltk.metrics.agreement import AnnotationTask
    except ImportError:
        return {"nltk_skipped": "nltk is not installed (pip install nltk into .venv)"}
    from annotations.agreement.reliability import alpha_from_coincidences, coincidences_from_arrays

    def triples(limit: int) -> tuple[list[tuple[int, int, int]], Any, Any]:
        keep = (units.verdict >= 0) & (units.unit < limit)
        data = list(
            zip(
                units.reviewer[keep].tolist(),
                units.unit[keep].tolist(),
                units.verdict[keep].tolist(),
                strict=True,
            )
        )
        return data, units.unit[keep], units.verdict[keep]

    def ours(unit: Any, value: Any) -> float | None:
        return alpha_from_coincidences(
            coincidences_from_arrays(unit, value, units.categories)
        ).alpha

    def nltk_alpha(data: list[tuple[int, int, int]]) -> float:
        return float(AnnotationTask(data=data).alpha())

    figures: dict[str, Any] = {}
    subset = min(NLTK_SUBSET_UNITS, units.count)
    plans = [("subset" if subset < units.count else "full", subset)]
    data, unit, value = triples(subset)
    nltk_times, nltk_value = _timed(lambda: nltk_alpha(data), 1)
    estimate = nltk_times[0] * units.count / subset
    if subset < units.count and estimate <= NLTK_FULL_BUDGET_S:
        plans.append(("full", units.count))
    figures["nltk_full_estimate_s"] = round(estimate, 2)
    for name, limit in plans:
        if name == "full" and limit != subset:
            data, unit, value = triples(limit)
            nltk_times, nltk_value = _timed(lambda d=data: nltk_alpha(d), 1)
        ours(unit, value)  # warm up
        our_times, our_value = _timed(lambda u=unit, v=value: ours(u, v), repeats)
        _require(
            our_value is not None and abs(our_value - nltk_value) < 1e-9,
            f"NLTK alpha on {name}: ours {our_value}, NLTK {nltk_value}",
        )
        ours_s, theirs_s = _median(our_times), nltk_times[0]
        figures |= {
            f"nltk_{name}_units": limit,
            f"nltk_{name}_values": len(data),
            f"nltk_{name}_ms": round(theirs_s * 1000, 1),
            f"nltk_{name}_ours_ms": round(ours_s * 1000, 2),
            f"nltk_{name}_ratio": round(ours_s / theirs_s, 5),
        }
    return figures


def measure_refresh(fx: Fixture, runs: int, report_id: int) -> dict[str, Any]:
    """One claim's verdict changed: through claim_update (refresh on commit), and refresh alone."""
    import numpy as np
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotations.agreement import batch, contributions
    from annotations.agreement import runs as agreement_runs
    from annotations.models import AgreementReport, ClaimAnnotation
    from annotations.reader import services

    latest = agreement_runs.latest_report(fx.collection)
    _require(latest is not None and latest.pk == report_id, "the timed run is the latest report")
    # A claim in the middle of the collection whose unit pairs it with another reviewer.
    ids = list(fx.collection.articles.order_by("pk").values_list("pk", flat=True))
    article_id = ids[len(ids) // 2]
    # The article's units, as the run matched them: a claim in a unit of two or more.
    spans, _, _ = contributions._load(fx.collection, [article_id])
    unit = batch.match_units(
        spans, exact=latest.match_mode == "exact", threshold=latest.iou_threshold
    )
    sizes = np.bincount(unit)
    lonely = set(spans.id[sizes[unit] == 1].tolist())
    claim = (
        ClaimAnnotation.objects.filter(article_id=article_id, verdict__isnull=False)
        .exclude(pk__in=lonely)
        .select_related("article__collection__taxonomy", "reviewer")
        .order_by("start", "pk")
        .first()
    )
    _require(claim is not None, "a matched claim to change")
    assert claim is not None
    others = [label for label in fx.labels if label.pk != claim.verdict_id]
    before = latest.results or {}

    def update(i: int) -> None:
        label = others[i % len(others)]
        current = ClaimAnnotation.objects.select_related("article__collection__taxonomy").get(
            pk=claim.pk
        )
        services.claim_update(
            claim=current,
            user=claim.reviewer,
            expected_version=current.version,
            verdict=label,
            rating=label.rating,
            note=current.note,
            sources=(),
        )

    def refreshed_at() -> datetime:
        value = AgreementReport.objects.values_list("refreshed_at", flat=True).get(pk=report_id)
        return value or datetime.min.replace(tzinfo=UTC)

    # Warm up, and check that an update refreshes the figures on commit.
    mark = refreshed_at()
    update(0)
    _require(refreshed_at() > mark, "claim_update did not refresh the report")
    update_times = []
    for i in range(runs):
        started = time.perf_counter()
        update(i + 1)
        update_times.append(time.perf_counter() - started)
    after = AgreementReport.objects.get(pk=report_id).results or {}
    _require(
        after["verdict"]["alpha"] != before["verdict"]["alpha"],
        "the verdict alpha did not move after a changed verdict",
    )
    refresh_times = []
    for i in range(runs):
        update(runs + i + 1)  # not timed; its refresh runs on commit
        started = time.perf_counter()
        agreement_runs.refresh_article(article_id)
        refresh_times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        agreement_runs.refresh_article(article_id)
    update(2 * runs + 1)
    started = time.perf_counter()
    with timing((agreement_runs,), ("compute_articles", "add", "summarize")) as clock:
        agreement_runs.refresh_article(article_id)
    total = time.perf_counter() - started
    steps = {
        "recompute": clock["compute_articles"],
        # Loading the report's stored sums under a lock, and writing them back.
        "read": total - clock["compute_articles"] - clock["add"] - clock["summarize"],
        "add": clock["add"],
        "summarize": clock["summarize"],
    }
    return {
        "refresh_s": round(_median(refresh_times), 3),
        "refresh_times_s": [round(t, 3) for t in refresh_times],
        "refresh_queries": len(queries.captured_queries),
        "refresh_articles_read": fx.articles,
        **{f"refresh_{k}_s": round(v, 3) for k, v in steps.items()},
        "update_s": round(_median(update_times), 3),
        "update_times_s": [round(t, 3) for t in update_times],
        "refresh_alpha_before": before["verdict"]["alpha"],
        "refresh_alpha_after": after["verdict"]["alpha"],
        "refresh_article": article_id,
        "refresh_claim": claim.pk,
    }


def check_refreshed(figures: dict[str, Any]) -> None:
    """The refreshed report says what alpha over every unit, computed afresh, says."""
    from annotations.models import AgreementReport

    results = AgreementReport.objects.get(pk=figures["report_id"]).results or {}
    for name in ("verdict", "rating"):
        stored, fresh = results[name]["alpha"], figures[f"alpha_{name}"]
        _require(
            stored is not None and abs(stored - fresh) < 1e-9,
            f"refreshed {name} alpha {stored} != {fresh} recomputed from the claims",
        )


# Report -----------------------------------------------------------------------------


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.{digits}f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def _ratio(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}×" if value >= 0.1 else f"1/{1 / value:,.0f}"


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"


def table_rows(
    f: dict[str, Any], fx: Fixture, args: argparse.Namespace
) -> list[tuple[str, str, str, str, str]]:
    """The rows of the table, also in --json as "rows" (python -m bench gathers them)."""

    def s(key: str) -> str:
        return _fmt(f[f"step_{key}_s"], "", 2)

    rows: list[tuple[str, str, str, str, str]] = [
        (
            "full run, real worker (2 processes), overlap, request to report "
            f"(median of {len(f['worker_run_times_s'])})",
            _fmt(f["worker_run_s"], " s", 2),
            "≤ 3 s; ≤ 3× the read",
            f"bare read of the {f['bare_read_rows']:,} rows it reads (claims, "
            f"assignments, articles): {_fmt(f['bare_read_s'], ' s', 2)}; of the "
            f"{f['bare_read_claim_rows']:,} claims alone {_fmt(f['bare_read_claims_s'], ' s', 2)}",
            _ratio(f["worker_run_s"] / f["bare_read_s"]),
        ),
        ("  each run", ", ".join(_fmt(t, " s", 2) for t in f["worker_run_times_s"]), "", "", ""),
        (
            f"full run in one process, overlap (median of {len(f['run_times_s'])} subprocesses)",
            _fmt(f["run_s"], " s", 2),
            "",
            f"exact-match run: {_fmt(f['exact_run_s'], ' s', 2)}",
            _ratio(f["run_s"] / f["exact_run_s"] if f["exact_run_s"] else None),
        ),
        ("  each run", ", ".join(_fmt(t, " s", 2) for t in f["run_times_s"]), "", "", ""),
        (
            "full run's steps, the collection's first overlap run (every record written), "
            "in-process: read claims / match units / count / store the records / merge / "
            "summarize (of which bootstrap intervals)",
            f"{s('load')} / {s('matching')} / {s('count')} / {s('store')} / {s('merge')} / "
            f"{s('summarize')} ({s('bootstrap')}) s",
            "",
            f"that run: {_fmt(f['step_total_s'], ' s', 2)}",
            "",
        ),
        (
            "peak memory of the run (RSS high-water mark, RUSAGE_CHILDREN)",
            _fmt(f["run_peak_mb"], " MB"),
            "< 500 MB",
            f"idle Django process: {_fmt(f['idle_peak_mb'], ' MB')}",
            _ratio(f["run_peak_mb"] / f["idle_peak_mb"]),
        ),
        (
            "  each run's own VmHWM at its end",
            ", ".join(_fmt(m, " MB") for m in f["run_vm_hwm_mb"]),
            "",
            f"idle: {_fmt(f['idle_vm_hwm_mb'], ' MB')}",
            "",
        ),
        (
            f"alpha, verdicts (nominal), {f['alpha_verdict_values']:,} values "
            f"in {f['alpha_units']:,} units",
            _fmt(f["alpha_verdict_ours_ms"], " ms", 2),
            "≤ krippendorff",
            f"krippendorff.alpha: {_fmt(f['alpha_verdict_krippendorff_ms'], ' ms', 1)}",
            _ratio(f["alpha_verdict_ratio"]),
        ),
        (
            f"alpha, ratings (ordinal), {f['alpha_rating_values']:,} values",
            _fmt(f["alpha_rating_ours_ms"], " ms", 2),
            "",
            f"krippendorff.alpha: {_fmt(f['alpha_rating_krippendorff_ms'], ' ms', 1)}",
            _ratio(f["alpha_rating_ratio"]),
        ),
    ]
    for name in ("subset", "full"):
        if f"nltk_{name}_ms" in f:
            rows.append(
                (
                    f"alpha, verdicts, {f[f'nltk_{name}_units']:,} units "
                    f"({f[f'nltk_{name}_values']:,} values)",
                    _fmt(f[f"nltk_{name}_ours_ms"], " ms", 2),
                    "",
                    f"NLTK AnnotationTask.alpha: {_fmt(f[f'nltk_{name}_ms'], ' ms', 0)}",
                    _ratio(f[f"nltk_{name}_ratio"]),
                )
            )
    rows += [
        (
            f"Fleiss' kappa, {f['fleiss_units']:,} units rated by every reviewer",
            _fmt(f["fleiss_ours_ms"], " ms", 2),
            "",
            f"statsmodels fleiss_kappa: {_fmt(f['fleiss_statsmodels_ms'], ' ms', 2)}",
            _ratio(f["fleiss_ours_ms"] / f["fleiss_statsmodels_ms"]),
        ),
        (
            f"weighted kappa (quadratic), one pair, {f['weighted_units']:,} units",
            _fmt(f["weighted_ours_ms"], " ms", 2),
            "",
            f"scikit-learn cohen_kappa_score: {_fmt(f['weighted_sklearn_ms'], ' ms', 2)}",
            _ratio(f["weighted_ours_ms"] / f["weighted_sklearn_ms"]),
        ),
        (
            f"unitizing alpha's counts, {f['unitizing_articles']:,} articles",
            _fmt(f["unitizing_ms"], " ms", 1),
            "",
            "no reference library (tests: an independent slow implementation)",
            "",
        ),
    ]
    if "nltk_skipped" in f:
        rows.append(("alpha against NLTK", "skipped", "", f["nltk_skipped"], ""))
    elif "nltk_full_ms" not in f:
        rows.append(
            (
                "  NLTK on every unit: not run",
                f"~{_fmt(f['nltk_full_estimate_s'], ' s')} (estimated)",
                "",
                f"over the {NLTK_FULL_BUDGET_S:.0f} s budget",
                "",
            )
        )
    rows += [
        (
            f"one verdict changed: refresh_article alone (median of {args.refreshes})",
            _fmt(f["refresh_s"], " s", 3),
            "< 1 s",
            f"full run: {_fmt(f['run_s'], ' s', 2)}",
            _ratio(f["refresh_s"] / f["run_s"]),
        ),
        (
            "  its steps: recompute the article / load and store the sums / swap / summarize",
            " / ".join(
                _fmt(f[f"refresh_{k}_s"], "", 2) for k in ("recompute", "read", "add", "summarize")
            )
            + " s",
            "",
            f"sums over {f['refresh_articles_read']:,} articles",
            "",
        ),
        (
            "  claim_update with its refresh on commit (no broker)",
            _fmt(f["update_s"], " s", 3),
            "< 1 s",
            f"SQL queries per refresh: {f['refresh_queries']}",
            "",
        ),
        (
            "units pairing ≥ 2 reviewers: exact matching (boundary jitter simulated)",
            _pct(f["exact_matched_share"]),
            "< 1 %",
            f"{f['exact_matched_units']:,} of {f['exact_units']:,} units",
            "",
        ),
        (
            f"units pairing ≥ 2 reviewers: overlap, IoU ≥ {fx.collection.iou_threshold}",
            _pct(f["overlap_matched_share"]),
            "",
            f"{f['overlap_matched_units']:,} of {f['overlap_units']:,} units",
            _ratio(
                f["overlap_matched_share"] / f["exact_matched_share"]
                if f["exact_matched_share"]
                else None
            ),
        ),
        (
            "  span F1 (mean over reviewer pairs): exact / overlap",
            f"{_fmt(f['exact_span_f1'], '', 3)} / {_fmt(f['span_f1'], '', 3)}",
            "",
            f"identical spans: {_pct(f['identical_share'])} of same-site pairs",
            "",
        ),
    ]
    return rows


def table(f: dict[str, Any], fx: Fixture, args: argparse.Namespace) -> str:
    rows = table_rows(f, fx, args)
    header = ("figure", "value", "target", "anchor (same run)", "ratio")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    ci = f["verdict_ci"]
    rci = f["rating_ci"]
    out = [
        f"Agreement benchmark: {fx.articles:,} articles ({fx.words:,} words), {fx.claims:,} claims "
        f"from {len(fx.reviewers)} reviewers; PostgreSQL database {fx.database_mb:,.0f} MB,",
        f"DEBUG off; data built in {fx.seconds:.1f} s. Reviewers depart from their "
        f"boundary habit on {100 * args.boundary_noise:g} % of claims.",
        f"The timed run's figures: verdict alpha {f['verdict_alpha']:.3f} "
        f"[{ci[0]:.3f}, {ci[1]:.3f}], rating alpha {f['rating_alpha']:.3f} "
        f"[{rci[0]:.3f}, {rci[1]:.3f}], {f['pairable_units']:,} pairable units.",
        "",
        line(header),
        line(tuple("-" * w for w in widths)),
        *(line(r) for r in rows),
        "",
        *NOTES,
        "",
        caveat(),
    ]
    return "\n".join(out)


NOTES = (
    "Alpha: our path is coincidences_from_arrays + alpha_from_coincidences on (unit, category)",
    "arrays; krippendorff.alpha gets the reviewers × units matrix (NaN where missing); NLTK gets",
    "(coder, item, label) triples, AnnotationTask construction included. Inputs are built before",
    "the clock starts, and every alpha is checked equal (1e-9) to the other's.",
    "Peak memory: ru_maxrss of RUSAGE_CHILDREN in a small launcher process started before Django,",
    "read after the run's subprocess exited (Python, Django and numpy included); the idle process",
    "sets Django up and loads the collection, nothing more.",
    "Refresh: claim_update changes one claim's verdict; with no broker the refresh task runs",
    "in-process when the update commits. refresh_article alone is timed after an untimed update.",
)


def caveat() -> str:
    return (
        f"Machine: {os.cpu_count()} cores, shared with other work; timings vary from run to run, "
        "so compare ratios more than absolute seconds."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.agreement", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--reviewers", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="full runs, one subprocess each")
    parser.add_argument("--refreshes", type=int, default=3, help="timed refreshes and updates")
    parser.add_argument("--alpha-repeats", type=int, default=15)
    parser.add_argument(
        "--boundary-noise",
        type=float,
        default=Simulation.boundary_noise,
        help="share of claims where a reviewer departs from their boundary habit by a word",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--postgres", default=POSTGRES, help="server URL, without a database")
    parser.add_argument("--database", default=DATABASE, help="dropped and created again")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    # The subprocess that does only the run.
    parser.add_argument(
        "--child", choices=["run", "idle", "launcher", "worker-run"], help=argparse.SUPPRESS
    )
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--collection-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "launcher":
        return launcher_main()
    if args.child:
        return child_main(args)

    # Before Django and the data: the children it starts measure only themselves.
    launcher = Launcher()

    sim = Simulation(reviewers=args.reviewers, boundary_noise=args.boundary_noise)
    url = recreate_database(args.postgres, args.database)
    log(f"database {args.database} created again; migrating")
    configure_django(url, migrate=True)
    log(f"building: {args.articles:,} articles × {sim.reviewers} reviewers")
    fx = build(args.seed, args.articles, sim)
    log(f"built {fx.claims:,} claims in {fx.seconds:.1f} s ({fx.database_mb:,.0f} MB)")
    figures: dict[str, Any] = {
        "identical_share": fx.identical_pairs / fx.site_pairs if fx.site_pairs else None
    }
    log("exact-match run, in-process")
    figures |= exact_run(fx)
    log("a full run in-process, its steps timed")
    figures |= measure_steps(fx)
    log(f"full runs in {args.runs} subprocesses")
    figures |= measure_full_run(launcher, url, fx, args.runs)
    launcher.close()
    figures |= matched_shares(fx)
    log("one claim changed: refresh")
    figures |= measure_refresh(fx, args.refreshes, figures["report_id"])
    log("units for alpha, matched again from the claims as they are now")
    units = overlap_units(fx)
    log(f"alpha on {units.count:,} units: ours, krippendorff, NLTK")
    figures |= measure_alpha(units, args.alpha_repeats)
    log("Fleiss' kappa, weighted kappa, unitizing alpha")
    figures |= measure_statistics(fx, units, args.alpha_repeats)
    check_refreshed(figures)
    log("the same rows read bare (the anchor)")
    figures |= measure_bare_read(fx)
    log(f"full runs through a real worker (2 processes), {args.runs} after a warm-up")
    figures |= measure_worker_run(url, args.database, fx, args.runs)
    from django.db import connections

    connections.close_all()
    if not args.keep:
        drop_database(args.postgres, args.database)
    log("done")

    if args.json:
        payload = {
            "benchmark": "agreement",
            "setup": {
                "articles": fx.articles,
                "claims": fx.claims,
                "words": fx.words,
                "reviewers": len(fx.reviewers),
                "database": "postgresql",
                "database_mb": round(fx.database_mb, 1),
                "build_s": round(fx.seconds, 1),
                "simulation": sim.__dict__ | {"habits": HABITS[: sim.reviewers]},
                "runs": args.runs,
                "refreshes": args.refreshes,
                "seed": args.seed,
                "cpus": os.cpu_count(),
                "peak_memory": "RUSAGE_CHILDREN ru_maxrss in a launcher started before Django, "
                "after the run's subprocess exited; VmHWM of each child as a check",
            },
            "targets": TARGETS,
            "figures": figures,
            "rows": table_rows(figures, fx, args),
            "caveat": caveat(),
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    else:
        print(table(figures, fx, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
