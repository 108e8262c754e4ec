"""Discussion benchmark: a thread of 200 comments, and the header's unread count.

    .venv/bin/python -m bench.discussion           # a table
    .venv/bin/python -m bench.discussion --json    # the same figures as JSON

Measures, on a throw-away SQLite database in a temporary directory (the
developer's var/ is never touched), with DEBUG off, in-process through the
whole middleware stack:

1. the server render of one thread of 200 comments (mentions, links,
   emphasis, a quoted passage) as an editor sees it: the htmx GET
   /threads/<pk>/ that an open page makes after each change (median);
   anchored on the same request for a thread of one comment, same viewer;
2. its SQL queries, for 1 and for 200 comments (flat: the comments are one
   query, whatever their number);
3. the header's unread count: the queries on the notifications table that
   each of four pages makes (the queue, the reader, the activity page, a
   collection), with the editor holding the thread's unread notifications; it
   must be exactly one per page;
4. the open page's poll when nothing changed (the 204 every few seconds).

A benchmark prints figures; it never fails on a slow number.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"thread_ms": 50.0, "unread_queries": 1}
TEXT = (
    "The minister said on Friday that the army would reposition its forces away from "
    "Walikale before the ceasefire talks, and that observers from MONUSCO would follow. "
) * 6


def _log_to_stderr() -> Callable[[str], None]:
    started = time.perf_counter()

    def write(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return write


log = _log_to_stderr()


def configure_django(var_dir: Path) -> None:
    """Settings from the environment, pointed at a temporary directory, then migrate."""
    os.environ["WORKBENCH_ENV"] = "development"
    os.environ["WORKBENCH_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(var_dir / "media")
    os.environ["STATIC_ROOT"] = str(var_dir / "static")
    # Measure what production runs: no template debugging, no query log.
    os.environ["DEBUG"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "workbench.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))

    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    logging.getLogger("django.request").setLevel(logging.ERROR)

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def build(comments: int) -> dict[str, Any]:
    """A newsroom, an article under review, a claim with a thread of `comments` comments
    from three people, and one of a single comment; the editor's unread notifications."""
    from annotations.core.inputs import ArticleInput
    from annotations.discussion import services
    from annotations.importing.services import article_import
    from annotations.models import Role, Thread
    from annotations.newsrooms.services import (
        collection_ensure,
        member_create,
        organization_create,
    )
    from annotations.reader.services import assignment_ensure, claim_create

    organization = organization_create(slug="bench", name="Bench Newsroom")
    collection, _ = collection_ensure(organization=organization, slug="desk", name="Desk")
    people = {
        # Nobody types a password: the benchmark logs its users in by session.
        name: member_create(organization=organization, username=name, role=role).membership.user
        for name, role in (
            ("reviewer", Role.REVIEWER),
            ("editor", Role.EDITOR),
            ("chief", Role.EDITOR),
        )
    }
    article = article_import(
        collection=collection,
        data=ArticleInput(title="Walikale", url="https://news.example/walikale", text=TEXT),
    ).article
    assignment_ensure(article=article, reviewer=people["reviewer"])
    phrase = "reposition its forces"
    start = TEXT.index(phrase)
    claim = claim_create(
        article=article,
        reviewer=people["reviewer"],
        start=start,
        end=start + len(phrase),
        quote=phrase,
        verdict=None,
        rating=None,
    )
    quote = services.Quote(start, start + len(phrase))
    started = time.perf_counter()
    first = services.thread_start(
        user=people["reviewer"],
        article=article,
        claim=claim,
        body="Is this a **withdrawal**, @editor? See https://acled.example/drc",
        quote=quote,
    ).comment.thread
    authors = [people["editor"], people["chief"], people["reviewer"]]
    for n in range(1, comments):
        services.comment_post(
            user=authors[n % 3],
            thread=first,
            body=(
                f"Point {n}: *not yet* confirmed, @reviewer; [the report](https://acled.example/{n})"
                " says fighting continued near `Walikale` on Friday."
            ),
            quote=quote if n % 10 == 0 else services.Quote(),
        )
    single = services.thread_start(
        user=people["reviewer"], article=article, claim=claim, body="One comment, @editor."
    ).comment.thread
    return {
        "people": people,
        "article": article,
        "collection": collection,
        "long": Thread.objects.get(pk=first.pk),
        "short": Thread.objects.get(pk=single.pk),
        "seconds": time.perf_counter() - started,
    }


def _timed(call: Callable[[], Any], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _queries(call: Callable[[], Any]) -> list[str]:
    """The SQL statements `call` runs, each as sent (DEBUG is off: no query log)."""
    from django.db import connection

    seen: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call()
    return seen


def measure(fx: dict[str, Any], renders: int) -> dict[str, Any]:
    from django.test import Client
    from django.urls import reverse

    from annotations.discussion.selectors import poll_stamp
    from annotations.models import Comment, Notification

    editor = Client()
    editor.force_login(fx["people"]["editor"])
    long_url = reverse("thread-detail", args=[fx["long"].pk])
    short_url = reverse("thread-detail", args=[fx["short"].pk])

    def get(url: str, **extra: Any) -> Any:
        answer = editor.get(url, headers={"HX-Request": "true"}, **extra)
        if answer.status_code not in (200, 204):
            raise SystemExit(f"GET {url} answered {answer.status_code}")
        return answer

    shown = get(long_url).content.decode()
    count = Comment.objects.filter(thread=fx["long"]).count()
    if shown.count('class="comment"') != count:
        raise SystemExit(f"the thread shows {shown.count('class="comment"')} of {count} comments")
    # Interleaved, so that load on the machine weighs on both alike.
    long_times: list[float] = []
    short_times: list[float] = []
    for _ in range(renders):
        long_times += _timed(lambda: get(long_url), 1)
        short_times += _timed(lambda: get(short_url), 1)
    long_queries = _queries(lambda: get(long_url))
    short_queries = _queries(lambda: get(short_url))

    # The header's count, on every page, with 200 unread notifications waiting.
    unread = Notification.objects.filter(recipient=fx["people"]["editor"], read_at__isnull=True)
    pages = {
        "queue": reverse("home"),
        "reader": reverse("article-reader", args=[fx["article"].pk]),
        "activity": reverse("collection-activity", args=[fx["collection"].pk]),
        "verified claims": reverse("collection-detail", args=[fx["collection"].pk]),
    }
    counted: dict[str, int] = {}
    for name, url in pages.items():
        answers: list[Any] = []
        queries = _queries(lambda: answers.append(editor.get(url)))  # noqa: B023
        if answers[0].status_code != 200:
            raise SystemExit(f"GET {url} answered {answers[0].status_code}")
        counted[name] = sum(1 for sql in queries if "annotations_notification" in sql)

    article = fx["article"]
    poll = reverse("discussion", args=[article.pk])
    stamp = poll_stamp(fx["people"]["editor"], article)
    poll_times = _timed(lambda: get(poll, query_params={"stamp": stamp}), renders)

    return {
        "comments": count,
        "thread_ms": statistics.median(long_times),
        "thread_p90_ms": statistics.quantiles(long_times, n=10)[-1]
        if len(long_times) > 1
        else long_times[0],
        "thread_short_ms": statistics.median(short_times),
        "thread_ratio": statistics.median(long_times) / statistics.median(short_times),
        "thread_kb": round(len(shown.encode()) / 1024, 1),
        "thread_queries": len(long_queries),
        "thread_short_queries": len(short_queries),
        "unread_notifications": unread.count(),
        "unread_queries": counted,
        "poll_ms": statistics.median(poll_times),
    }


def _fmt(value: float, unit: str = "") -> str:
    return f"{value:.1f}{unit}" if value < 100 else f"{value:,.0f}{unit}"


def table_rows(figures: dict[str, Any], args: argparse.Namespace) -> list[tuple[str, ...]]:
    """The rows of the table, also in --json as "rows" (python -m bench gathers them)."""
    f = figures
    per_page = f["unread_queries"]
    ones = all(n == 1 for n in per_page.values())
    return [
        (
            f"thread of {f['comments']} comments, server render for an editor "
            f"(median of {args.renders})",
            _fmt(f["thread_ms"], " ms"),
            "< 50 ms",
            f"1 comment: {_fmt(f['thread_short_ms'], ' ms')}",
            f"{f['thread_ratio']:.1f}×",
        ),
        ("  p90 of the same", _fmt(f["thread_p90_ms"], " ms"), "", "", ""),
        (
            f"  SQL queries per thread render, 1 / {f['comments']} comments; size",
            f"{f['thread_short_queries']} / {f['thread_queries']}; {f['thread_kb']} KB",
            "flat",
            "",
            "",
        ),
        (
            f"header unread count: queries per page ({f['unread_notifications']} unread)",
            " / ".join(f"{name} {n}" for name, n in per_page.items()),
            "1 per page",
            "",
            "met" if ones else "MISSED",
        ),
        ("  open page's poll, nothing changed (204)", _fmt(f["poll_ms"], " ms"), "", "", ""),
    ]


def caveat() -> str:
    return (
        f"Machine: {os.cpu_count()} cores, shared with other work; timings vary from run to run, "
        "so compare ratios and query counts more than absolute milliseconds."
    )


def table(figures: dict[str, Any], fx: dict[str, Any], args: argparse.Namespace) -> str:
    rows = table_rows(figures, args)
    header = ("figure", "value", "target", "anchor (same run)", "ratio")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join(
        [
            f"Discussion benchmark: one thread of {figures['comments']} comments from three "
            f"people, viewed by an editor. SQLite in a temporary directory, DEBUG off; "
            f"comments written in {fx['seconds']:.1f} s through the services.",
            "",
            line(header),
            line(tuple("-" * w for w in widths)),
            *(line(r) for r in rows),
            "",
            caveat(),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.discussion", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--comments", type=int, default=200, help="comments in the thread")
    parser.add_argument("--renders", type=int, default=30, help="renders of each thread")
    args = parser.parse_args(argv)
    if args.comments < 2 or args.renders < 1:
        parser.error("--comments at least 2, --renders at least 1")

    with tempfile.TemporaryDirectory(prefix="bench-discussion-") as tmp:
        log(f"database in {tmp}")
        configure_django(Path(tmp))
        log(f"building a thread of {args.comments} comments")
        fx = build(args.comments)
        log(f"built in {fx['seconds']:.1f} s; renders")
        figures = measure(fx, args.renders)
        from django.db import connections

        connections.close_all()
    log("done")

    if args.json:
        payload = {
            "benchmark": "discussion",
            "setup": {
                "comments": figures["comments"],
                "renders": args.renders,
                "viewer": "editor",
                "database": "sqlite",
                "debug": False,
                "cpus": os.cpu_count(),
            },
            "targets": TARGETS,
            "figures": figures,
            "rows": table_rows(figures, args),
            "caveat": caveat(),
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(table(figures, fx, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
