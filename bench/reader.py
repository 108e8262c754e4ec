"""Reader benchmark: a 20,000-word article with 1,000 claims from 5 reviewers.

    .venv/bin/python -m bench.reader           # a table
    .venv/bin/python -m bench.reader --json    # the same figures as JSON

Measures, on a throw-away SQLite database in a temporary directory (the
developer's var/ is never touched), with DEBUG off:

1. the server render of the reader page GET /articles/<pk>/ for an editor,
   who sees every reviewer's claims (median, in-process through the whole
   middleware stack), and its SQL queries for 0, 10 and 1,000 claims;
2. in headless Chromium (Debian's /usr/bin/chromium, never a downloaded one)
   against a real threaded HTTP server: navigation start to all highlights
   painted;
3. the server time of saving a claim as an htmx POST /articles/<pk>/claims/
   by one of the article's reviewers.

Each figure has an anchor measured in the same run, interleaved with it: the
same request on an article with the same text and no claims (the same
viewer's render and navigation; for a save, the very same claim, span,
verdict and note, saved by the same reviewer). A benchmark prints figures; it
never fails on a slow number.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TARGETS = {"render_ms": 150.0, "render_queries": 10, "paint_ms": 500.0, "save_ms": 100.0}
# From other tools; they cannot be measured here and are printed as context.
EXTERNAL_ANCHORS = (
    "Hypothesis took seconds to anchor ~350 annotations on one page.",
    "doccano stops rendering new labels after ~70 entities in a 500-word text.",
    "INCEpTION needs 5–10 s per action on a 6,000-token document.",
)

# Reset the page's state at document start; after `load` (the deferred
# reader.js has run and the verdict stylesheet is in), wait for the next
# frame: a task posted from requestAnimationFrame runs after that frame's
# style, layout and paint, so its timestamp is "everything painted".
PAINT_PROBE = """
(() => {
  const state = (window.__bench = { painted: null, marks: -1 });
  window.addEventListener("load", () => {
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        state.painted = performance.now();
        state.marks = document.querySelectorAll("mark[data-c]").length;
      };
      channel.port2.postMessage(null);
    });
  });
})();
"""
NAVIGATION_TIMES = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    painted: window.__bench.painted,
    marks: window.__bench.marks,
    ttfb: nav.responseStart,
    response_end: nav.responseEnd,
    dom_content_loaded: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    fcp: fcp ? fcp.startTime : null,
  };
}
"""

# A newsroom vocabulary, a few names (one with an accent) and numbers.
_VOCABULARY = """
the a an of to in on for with by from at as and or but that this these those
it its their they he she we our his her was were is are be been has have had
will would could should may might said says told according reported officials
minister army forces rebels government president spokesperson police militia
ceasefire agreement talks peace troops border town city province region
villages residents civilians refugees camp aid convoy road bridge airport
mine mines gold tin coltan trade taxes revenue budget election vote votes
court judge report reports data figures percent million thousand hundred
week month year years today yesterday morning night fighting clashes attack
attacks killed wounded displaced fled returned withdrew withdrawal reposition
positions control controlled seized captured claimed denied confirmed
announced promised warned accused blamed rejected welcomed called urged
international regional national local independent observers monitors experts
analysts journalists witnesses sources statement interview briefing meeting
summit mission mediation sanctions investigation evidence video photos
satellite images map maps kilometres miles east west north south along near
between after before during since until despite because while although more
than less most least only still already again never always new old first last
"""
_NAMES = (
    "Walikale Goma Kinshasa Kivu Rwanda Nairobi Luanda MONUSCO Bukavu Félix "
    "Tshisekedi Kagame Uvira Rutshuru Masisi M23 ACLED"
)
WORDS = _VOCABULARY.split()
NAMES = _NAMES.split()
WORD = re.compile(r"\w(?:[\w’'%,.-]*\w)?")


def _log_to_stderr() -> Callable[[str], None]:
    started = time.perf_counter()

    def write(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return write


log = _log_to_stderr()


# Setup ------------------------------------------------------------------------------


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
    # Chromium asks for /favicon.ico; its 404 is not news.
    logging.getLogger("django.request").setLevel(logging.ERROR)

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def make_text(rng: random.Random, total_words: int) -> str:
    """Paragraphs of 40–120 words, exactly `total_words` words in all."""
    paragraphs = []
    remaining = total_words
    while remaining > 0:
        size = rng.randint(40, 120)
        if remaining <= 120:
            size = remaining
        elif remaining - size < 40:
            size = remaining - 40
        paragraphs.append(_paragraph(rng, size))
        remaining -= size
    return "\n\n".join(paragraphs)


def _paragraph(rng: random.Random, size: int) -> str:
    sentences = []
    left = size
    while left > 0:
        length = min(left, rng.randint(6, 22))
        if 0 < left - length < 4:
            length = left
        sentences.append(_sentence(rng, length))
        left -= length
    return " ".join(sentences)


def _sentence(rng: random.Random, length: int) -> str:
    words = []
    for i in range(length):
        roll = rng.random()
        if roll < 0.07:
            word = rng.choice(NAMES)
        elif roll < 0.10:
            word = rng.choice([str(rng.randint(2, 99)), f"{rng.randint(1, 90)},000", "40%"])
        else:
            word = rng.choice(WORDS)
        if i < length - 1 and rng.random() < 0.07:
            word += ","
        words.append(word)
    words[0] = words[0][:1].upper() + words[0][1:]
    sentence = " ".join(words) + rng.choice(".....?")
    return f"“{sentence}”" if rng.random() < 0.05 else sentence


@dataclass(frozen=True)
class ClaimSpec:
    reviewer: int
    start: int
    end: int
    verdict: int | None  # index into the taxonomy's labels
    note: str


def plan_claims(
    rng: random.Random, text: str, reviewers: int, per_reviewer: int, labels: int
) -> list[ClaimSpec]:
    """Word-aligned spans of 3–15 words inside a paragraph.

    Reviewers draw from a shared pool of claim sites, half of the time with
    the site's exact span and otherwise with its edges moved by up to two
    words, so highlights overlap and nest across reviewers as they do in a
    real review. No reviewer marks the same span twice.
    """
    from annotations.core.text import paragraph_spans

    paragraphs = []
    for start, end in paragraph_spans(text):
        words = [(start + m.start(), start + m.end()) for m in WORD.finditer(text[start:end])]
        if len(words) >= 3:
            paragraphs.append(words)
    weights = [len(words) for words in paragraphs]
    sites = []
    for _ in range(int(per_reviewer * 2.25)):
        words = rng.choices(paragraphs, weights)[0]
        length = rng.randint(3, 15)
        sites.append((words, rng.randint(0, max(0, len(words) - length)), length))

    specs = []
    for reviewer in range(reviewers):
        seen: set[tuple[int, int]] = set()
        for words, first, length in rng.sample(sites, len(sites)):
            if len(seen) == per_reviewer:
                break
            if rng.random() >= 0.5:
                first = min(max(0, first + rng.randint(-2, 2)), len(words) - 3)
                length = min(max(3, length + rng.randint(-2, 2)), 15, len(words) - first)
            length = min(length, len(words) - first)
            span = (words[first][0], words[first + length - 1][1])
            if span in seen:
                continue
            seen.add(span)
            verdict = None if rng.random() < 0.3 else rng.randrange(labels)
            note = rng.choice(["", "", "Checked against the UN report.", "Needs a second source."])
            specs.append(ClaimSpec(reviewer, span[0], span[1], verdict, note))
    return specs


@dataclass
class Fixture:
    editor: Any
    reviewers: list[Any]
    labels: list[Any]
    article_full: Any  # the 1,000 claims
    article_ten: Any
    article_empty: Any
    words: int
    paragraphs: int
    claims: int
    overlapping: int
    seconds: float


def build(seed: int, total_words: int, reviewers: int, claims: int) -> Fixture:
    from django.db import transaction

    from annotations.core.inputs import ArticleInput
    from annotations.core.text import paragraph_spans
    from annotations.importing import services as importing_services
    from annotations.models import Article, ClaimAnnotation
    from annotations.newsrooms import services
    from annotations.reader import services as reader_services

    started = time.perf_counter()
    rng = random.Random(seed)
    organization = services.organization_create(slug="bench", name="Benchmark Desk")
    # Nobody types a password: the benchmark logs its users in by session.
    editor = services.member_create(
        organization=organization, username="editor", role="editor"
    ).membership.user
    people = [
        services.member_create(
            organization=organization, username=f"reviewer{i + 1}", role="reviewer"
        ).membership.user
        for i in range(reviewers)
    ]
    collection, _ = services.collection_ensure(
        organization=organization, slug="great-lakes", name="Great Lakes desk"
    )
    labels = list(collection.taxonomy.labels.order_by("order"))
    text = make_text(rng, total_words)

    def article(slug: str, title: str) -> Article:
        outcome = importing_services.article_import(
            collection=collection,
            data=ArticleInput(
                title=title,
                text=text,
                url=f"https://news.example/great-lakes/{slug}",
                publisher="The Great Lakes Observer",
                language="en",
            ),
        )
        stored = Article.objects.select_related("collection__taxonomy").get(pk=outcome.article.pk)
        for person in people:
            reader_services.assignment_ensure(article=stored, reviewer=person)
        return stored

    full = article("walikale-offensive", "Fighting near Walikale: what the parties claim")
    ten = article("walikale-offensive-10", "Fighting near Walikale (10 claims)")
    empty = article("walikale-offensive-0", "Fighting near Walikale (no claims)")
    stored_text = full.text
    specs = plan_claims(rng, stored_text, reviewers, claims // reviewers, len(labels))
    # Ten claims, two of them the reviewer whose saves are timed.
    few = [s for s in specs if s.reviewer == 0][:2] + [s for s in specs if s.reviewer != 0][:8]

    def store(target: Article, chosen: list[ClaimSpec]) -> None:
        with transaction.atomic():
            for spec in chosen:
                verdict = labels[spec.verdict] if spec.verdict is not None else None
                reader_services.claim_create(
                    article=target,
                    reviewer=people[spec.reviewer],
                    start=spec.start,
                    end=spec.end,
                    quote=stored_text[spec.start : spec.end],
                    verdict=verdict,
                    rating=verdict.rating if verdict is not None else None,
                    note=spec.note,
                )

    store(full, specs)
    store(ten, few)
    # Every anchor is the same page, or the same save, on the same text without claims.
    _require(ten.text == stored_text and empty.text == stored_text, "the articles' texts differ")
    _require(ClaimAnnotation.objects.filter(article=full).count() == len(specs), "claims stored")
    return Fixture(
        editor=editor,
        reviewers=people,
        labels=labels,
        article_full=full,
        article_ten=ten,
        article_empty=empty,
        words=len(stored_text.split()),
        paragraphs=len(paragraph_spans(stored_text)),
        claims=len(specs),
        overlapping=_overlapping(specs),
        seconds=time.perf_counter() - started,
    )


def _overlapping(specs: list[ClaimSpec]) -> int:
    """How many claims overlap a claim of another reviewer."""
    spans = sorted((s.start, s.end, s.reviewer) for s in specs)
    count = 0
    for i, (start, end, who) in enumerate(spans):
        # Spans are sorted by start: the ones before overlap if they end after
        # this start, the ones after if they start before this end.
        before = any(start < e and who != r for _, e, r in spans[:i])
        after = any(s < end and who != r for s, _, r in spans[i + 1 :])
        count += before or after
    return count


# Measurements -----------------------------------------------------------------------


def _require(condition: object, message: object) -> None:
    """A check that `python -O` keeps: a benchmark of a broken page measures nothing."""
    if not condition:
        raise RuntimeError(f"benchmark check failed: {message}")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _queries(call: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        call()
    return len(context.captured_queries)


def measure_render(fx: Fixture, runs: int) -> dict[str, Any]:
    from django.test import Client

    client = Client()
    client.force_login(fx.editor)
    urls = {
        "full": f"/articles/{fx.article_full.pk}/",
        "ten": f"/articles/{fx.article_ten.pk}/",
        "empty": f"/articles/{fx.article_empty.pk}/",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        _require(response.status_code == 200, (url, response.status_code))
        pages[name] = response.content.decode()
    queries = {name: _queries(functools.partial(client.get, url)) for name, url in urls.items()}
    for _ in range(3):  # warm up
        client.get(urls["full"])
        client.get(urls["empty"])

    times: dict[str, list[float]] = {"full": [], "empty": []}
    for _ in range(runs):
        for name in ("full", "empty"):  # interleaved, so drift hits both alike
            started = time.perf_counter()
            response = client.get(urls[name])
            times[name].append(time.perf_counter() - started)
            _require(response.status_code == 200, response.status_code)
    full_ms = _ms(statistics.median(times["full"]))
    empty_ms = _ms(statistics.median(times["empty"]))
    return {
        "render_ms": full_ms,
        "render_p90_ms": _ms(sorted(times["full"])[int(0.9 * (runs - 1))]),
        "render_empty_ms": empty_ms,
        "render_ratio": round(full_ms / empty_ms, 2) if empty_ms else None,
        "render_queries": queries["full"],
        "render_queries_10": queries["ten"],
        "render_queries_0": queries["empty"],
        "page_kb": round(len(pages["full"].encode()) / 1024),
        "page_empty_kb": round(len(pages["empty"].encode()) / 1024),
        "marks": pages["full"].count("<mark "),
        "marks_empty": pages["empty"].count("<mark "),
        "session_cookie": client.cookies,
    }


@contextmanager
def http_server() -> Iterator[str]:
    """A threaded WSGI server with static files, on a free 127.0.0.1 port."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(WSGIHandler()))
    thread = threading.Thread(target=server.serve_forever, name="bench-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def measure_paint(fx: Fixture, cookies: Any, expected: dict[str, int], runs: int) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        return {"paint_skipped": f"no Chromium at {CHROMIUM}"}
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    session = cookies[settings.SESSION_COOKIE_NAME].value
    paths = {
        "full": f"/articles/{fx.article_full.pk}/",
        "empty": f"/articles/{fx.article_empty.pk}/",
    }
    samples: dict[str, list[dict[str, float]]] = {"full": [], "empty": []}
    with http_server() as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}]
            )
            context.add_init_script(PAINT_PROBE)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            def navigate(name: str) -> dict[str, float]:
                page.goto("about:blank")
                response = page.goto(paths[name], wait_until="load")
                _require(response is not None and response.status == 200, paths[name])
                page.wait_for_function("window.__bench && window.__bench.painted !== null")
                times: dict[str, float] = page.evaluate(NAVIGATION_TIMES)
                _require(times["marks"] == expected[name], (name, times["marks"], expected[name]))
                return times

            for name in ("full", "empty"):  # warm up: caches, the browser's first layout
                navigate(name)
            for _ in range(runs):
                for name in ("full", "empty"):
                    samples[name].append(navigate(name))
            _require(not errors, errors)
            context.close()
        finally:
            browser.close()

    def median(name: str, key: str) -> float | None:
        values = [s[key] for s in samples[name] if s[key] is not None]
        return round(statistics.median(values), 1) if values else None

    full, empty = median("full", "painted"), median("empty", "painted")
    return {
        "paint_ms": full,
        "paint_empty_ms": empty,
        "paint_ratio": round(full / empty, 2) if full and empty else None,
        "paint_ttfb_ms": median("full", "ttfb"),
        "paint_dcl_ms": median("full", "dom_content_loaded"),
        "paint_load_ms": median("full", "load"),
        "paint_fcp_ms": median("full", "fcp"),
    }


def measure_save(fx: Fixture, runs: int, seed: int) -> dict[str, Any]:
    from django.test import Client

    from annotations.models import ClaimAnnotation, Collection

    reviewer = fx.reviewers[0]
    client = Client()
    client.force_login(reviewer)
    rng = random.Random(seed + 1)
    text = fx.article_full.text
    words = [(m.start(), m.end()) for m in WORD.finditer(text)]
    own_claims = ClaimAnnotation.objects.filter(article=fx.article_full, reviewer=reviewer)
    own_at_start = own_claims.count()
    taken = {
        (a.pk, s, e)
        for a in (fx.article_full, fx.article_empty)
        for s, e in ClaimAnnotation.objects.filter(article=a, reviewer=reviewer).values_list(
            "start", "end"
        )
    }

    def draw(*articles: Any) -> tuple[int, int, Any]:
        """A span none of these articles has a claim of this reviewer at, and a verdict."""
        while True:
            first = rng.randrange(len(words) - 15)
            start, end = words[first][0], words[first + rng.randint(2, 14)][1]
            if "\n" not in text[start:end] and all(
                (a.pk, start, end) not in taken for a in articles
            ):
                return start, end, rng.choice([*fx.labels, None])

    def post(article: Any, claim: tuple[int, int, Any] | None = None) -> Any:
        start, end, label = claim or draw(article)
        taken.add((article.pk, start, end))
        response = client.post(
            f"/articles/{article.pk}/claims/",
            {
                "start": start,
                "end": end,
                "quote": text[start:end],
                "verdict": label.pk if label else "",
                "rating": "",
                "note": "Saved by the benchmark.",
                "version": "",
            },
            headers={"HX-Request": "true"},
        )
        _require(response.status_code == 200, response.content[:500])
        _require(b'hx-swap-oob="true"' in response.content, "not an htmx answer")
        return response

    for _ in range(2):  # warm up
        post(fx.article_full)
        post(fx.article_empty)
    queries = _queries(lambda: post(fx.article_full))
    size = len(post(fx.article_full).content)
    times: dict[str, list[float]] = {"full": [], "empty": []}
    for _ in range(runs):
        # The anchor saves exactly the figure's claim (span, quote, verdict, note),
        # on the same text with no other claims.
        claim = draw(fx.article_full, fx.article_empty)
        for name, article in (("full", fx.article_full), ("empty", fx.article_empty)):
            started = time.perf_counter()
            post(article, claim)
            times[name].append(time.perf_counter() - started)
    # The same save where the reviewer sees every reviewer's claims: a
    # collection without blind review (or a reviewer who has submitted).
    collection = Collection.objects.filter(pk=fx.article_full.collection_id)
    collection.update(blind_review=False)
    visible = ClaimAnnotation.objects.filter(article=fx.article_full).count()
    post(fx.article_full)  # warm up
    open_times = []
    for _ in range(runs):
        started = time.perf_counter()
        post(fx.article_full)
        open_times.append(time.perf_counter() - started)
    collection.update(blind_review=True)
    full_ms = _ms(statistics.median(times["full"]))
    empty_ms = _ms(statistics.median(times["empty"]))
    return {
        "save_ms": full_ms,
        "save_sees_all_ms": _ms(statistics.median(open_times)),
        "save_sees_all_claims": visible,
        "save_p90_ms": _ms(sorted(times["full"])[int(0.9 * (runs - 1))]),
        "save_empty_ms": empty_ms,
        "save_ratio": round(full_ms / empty_ms, 2) if empty_ms else None,
        "save_queries": queries,
        "save_response_kb": round(size / 1024),
        "save_reviewer_claims": own_at_start,
    }


# Report -----------------------------------------------------------------------------


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.1f}"
    return f"{value}{unit}"


def _ratio(value: Any) -> str:
    return "—" if value is None else f"{value:.2f}×"


def table_rows(
    figures: dict[str, Any], fx: Fixture, args: argparse.Namespace
) -> list[tuple[str, str, str, str, str]]:
    """The rows of the table, also in --json as "rows" (python -m bench gathers them)."""
    f = figures
    claims = f"{fx.claims:,}"
    rows: list[tuple[str, str, str, str, str]] = [
        (
            f"reader render, editor, {claims} claims (median of {args.renders})",
            _fmt(f["render_ms"], " ms"),
            "≤ 150 ms",
            f"0 claims: {_fmt(f['render_empty_ms'], ' ms')}",
            _ratio(f["render_ratio"]),
        ),
        (
            "  p90 of the same",
            _fmt(f["render_p90_ms"], " ms"),
            "",
            "",
            "",
        ),
        (
            f"SQL queries per render, 0 / 10 / {claims} claims",
            f"{f['render_queries_0']} / {f['render_queries_10']} / {f['render_queries']}",
            # The reader's own 8, the header's unread count (every page) and the
            # discussion panel's threads and their poll stamp (two: what the user
            # may see of the threads, and of the comments).
            "≤ 12, flat",
            "",
            "",
        ),
        (
            "  reader page: size, highlight segments (<mark>)",
            f"{f['page_kb']:,} KB, {f['marks']:,}",
            "",
            f"0 claims: {f['page_empty_kb']:,} KB",
            "",
        ),
    ]
    if "paint_skipped" in f:
        rows.append(("Chromium: navigation → highlights painted", "skipped", "< 500 ms", "", ""))
    else:
        rows += [
            (
                "Chromium: navigation start → all highlights painted "
                f"(median of {args.navigations})",
                _fmt(f["paint_ms"], " ms"),
                "< 500 ms",
                f"0 claims: {_fmt(f['paint_empty_ms'], ' ms')}",
                _ratio(f["paint_ratio"]),
            ),
            (
                "  of which: first byte / DOMContentLoaded / load / FCP",
                " / ".join(
                    _fmt(f[k])
                    for k in ("paint_ttfb_ms", "paint_dcl_ms", "paint_load_ms", "paint_fcp_ms")
                )
                + " ms",
                "",
                "",
                "",
            ),
        ]
    rows += [
        (
            f"claim save, htmx POST, reviewer (median of {args.saves})",
            _fmt(f["save_ms"], " ms"),
            "< 100 ms",
            f"same saves, 0-claim article: {_fmt(f['save_empty_ms'], ' ms')}",
            _ratio(f["save_ratio"]),
        ),
        ("  p90 of the same", _fmt(f["save_p90_ms"], " ms"), "", "", ""),
        (
            "  same, without blind review: the reviewer sees every claim",
            _fmt(f["save_sees_all_ms"], " ms"),
            "< 100 ms",
            f"sees {f['save_sees_all_claims']:,} claims",
            "",
        ),
        (
            "  SQL queries per save; response size",
            f"{f['save_queries']}; {f['save_response_kb']} KB",
            "",
            f"blind: sees own {f['save_reviewer_claims']:,} claims",
            "",
        ),
    ]
    return rows


def table(figures: dict[str, Any], fx: Fixture, args: argparse.Namespace) -> str:
    rows = table_rows(figures, fx, args)
    claims = f"{fx.claims:,}"
    header = ("figure", "value", "target", "anchor (same run)", "ratio")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    out = [
        f"Reader benchmark: {fx.words:,} words in {fx.paragraphs} paragraphs, {claims} claims "
        f"from {len(fx.reviewers)} reviewers ({fx.overlapping:,} overlap another reviewer's),",
        f"viewed by an editor. SQLite in a temporary directory, DEBUG off; "
        f"data built in {fx.seconds:.1f} s.",
        "",
        line(header),
        line(tuple("-" * w for w in widths)),
        *(line(r) for r in rows),
        "",
        "Anchors from other tools (not measured here):",
        *(f"  - {a}" for a in EXTERNAL_ANCHORS),
        "",
        caveat(),
    ]
    return "\n".join(out)


def caveat() -> str:
    return (
        f"Machine: {os.cpu_count()} cores, shared with other work; timings vary from run to run, "
        "so compare ratios and query counts more than absolute milliseconds."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reader", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--renders", type=int, default=30, help="server renders per article")
    parser.add_argument("--navigations", type=int, default=7, help="Chromium navigations")
    parser.add_argument("--saves", type=int, default=30, help="claim saves")
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=1_000)
    parser.add_argument("--reviewers", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium figure")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-reader-") as tmp:
        log(f"database and media in {tmp}")
        configure_django(Path(tmp))
        log(f"building: {args.words:,} words, {args.claims:,} claims, {args.reviewers} reviewers")
        fx = build(args.seed, args.words, args.reviewers, args.claims)
        log(f"built in {fx.seconds:.1f} s; server renders")
        figures = measure_render(fx, args.renders)
        cookies = figures.pop("session_cookie")
        if args.no_browser:
            figures["paint_skipped"] = "--no-browser"
        else:
            log("Chromium navigations")
            expected = {"full": figures["marks"], "empty": figures["marks_empty"]}
            # No ORM call in this thread while Playwright's event loop runs:
            # the pages are served by the server's own threads.
            figures.update(measure_paint(fx, cookies, expected, args.navigations))
        log("claim saves")
        figures.update(measure_save(fx, args.saves, args.seed))
        from django.db import connections

        connections.close_all()
    log("done")

    if args.json:
        payload = {
            "benchmark": "reader",
            "setup": {
                "words": fx.words,
                "paragraphs": fx.paragraphs,
                "claims": fx.claims,
                "reviewers": len(fx.reviewers),
                "overlapping_claims": fx.overlapping,
                "viewer": "editor",
                "database": "sqlite",
                "debug": False,
                "renders": args.renders,
                "navigations": args.navigations,
                "saves": args.saves,
                "seed": args.seed,
                "cpus": os.cpu_count(),
            },
            "targets": TARGETS,
            "figures": figures,
            "rows": table_rows(figures, fx, args),
            "external_anchors": list(EXTERNAL_ANCHORS),
            "caveat": caveat(),
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(table(figures, fx, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
