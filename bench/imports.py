"""Imports benchmark: 100,000 claims from a JSONL file, on PostgreSQL and on SQLite.

    .venv/bin/python -m bench.imports                  # a table
    .venv/bin/python -m bench.imports --json           # the same figures as JSON
    .venv/bin/python -m bench.imports --claims 6000    # a quick small run (CI)
    .venv/bin/python -m bench.imports --only sqlite    # one database

For each database, in a subprocess of its own (Django is set up once per
process): a dedicated database (PostgreSQL: --database on the machine's
server, trust auth, user postgres at 127.0.0.1:5432, or --postgres; SQLite: a
file under /tmp, in-process), dropped and created again on every run and
dropped afterwards unless --keep, migrated, with DEBUG off. Background tasks
go to a broker as in a deployment with workers: kombu's in-memory transport,
in the process, which no worker reads (tasks_to_workers).

The newsroom: 3 reviewers and an editor, the default taxonomy, one collection
of --claims / 30 articles of 3,000 to 6,000 characters (1 in 20 without a
URL, named in the file by the hash of its text, as the Web Annotation export
names it), half of the reviewers already assigned to each article. The file
holds --claims claims in the workbench's JSONL: per article, 10 claim sites,
each marked by the 3 reviewers with boundaries of their own; a passage of 40
to 160 characters quoted exactly, a verdict of the taxonomy (3 in 100 "to
check"), the rating of an ordinal verdict, a note on 2 in 5, and 0 to 3
sources (1.5 on average) with URL, title, publisher, quote and stance.

Measured, in one run per database:

1. `importing.claims.annotations_import(organization, file, name)`, the call
   the `import_annotations` command makes, reading the file from disk as it
   streams: wall clock and claims/s; the time of its agreement requests (one
   per article, after the batches: a mark and a message each); how much it
   raised the process's RSS high-water mark (VmHWM), the data built before it
   freed. Then, on a sample of articles, what a request costs with no broker
   at all, when it runs the article's refresh in-process.
2. The anchor: what the database alone costs to take the same rows. The
   claims and sources the import stored are read back, the tables emptied,
   and the same rows written again in one transaction: PostgreSQL `COPY ...
   FROM STDIN` of the claims then the sources (psycopg 3, text format);
   SQLite `executemany` INSERTs (the sqlite3 module). The import's time is
   reported as a ratio to it: the import also reads and checks every line,
   loads what each batch needs, writes history rows and assignments, and asks
   for agreement.
3. Checks (a benchmark of wrong figures measures nothing): every claim
   created, none refused; as many sources as the file holds; one history row
   per claim; every stored quote equal to its article's text between the
   offsets; every reviewer assigned to every article they marked; agreement
   asked for exactly once per article.

Targets: at least 5,000 claims/s on PostgreSQL (100,000 in 20 s) and 2,000/s
on SQLite. A peer's figure, reported and not measured here, is printed under
the table. A benchmark prints figures; it never fails on a slow number.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.agreement import (
    POSTGRES,
    ROOT,
    SITE_VERDICTS,
    _require,
    _sentence,
    _vm_hwm_kb,
    caveat,
    configure_django,
    drop_database,
    log,
    recreate_database,
)

DATABASE = "workbench_bench_imports"
SQLITE_PATH = Path(tempfile.gettempdir()) / "workbench_bench_imports.sqlite3"
BACKENDS = ("postgresql", "sqlite")
NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite (in-process)"}
TARGETS = {"postgresql_per_s": 5_000, "sqlite_per_s": 2_000}
# Ten claim sites per article, each marked by the three reviewers: 30 claims.
SITES = 10
PER_ARTICLE = 30
ARTICLE_CHARS = (3000, 6000)
REVIEWERS = ("reviewer1", "reviewer2", "reviewer3")
UNURLED_EVERY = 20
# Articles whose agreement is asked for with no broker, timed (measure_inline_refresh).
INLINE_SAMPLE = 200
PUBLISHERS = (
    "Reuters",
    "Associated Press",
    "Agence France-Presse",
    "BBC News",
    "Radio Okapi",
    "Actualité.cd",
    "The East African",
    "Le Monde",
    "Al Jazeera",
    "UN OCHA",
    "Human Rights Watch",
    "ACLED",
)
STANCES = ("supports", "refutes", "context")
CLAIM_COLUMNS = (
    "id",
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
    "deleted_at",
)
SOURCE_COLUMNS = (
    "id",
    "claim_id",
    "url",
    "title",
    "publisher",
    "quote",
    "stance",
    "accessed_at",
    "archived_url",
    "confidential",
    "order",
)
PEERS = (
    "Peer, reported and not measured here: Label Studio imports about 4,000–5,000 annotated",
    "spans per second on a machine like this one (the figure the issue quotes).",
)


# The synthetic newsroom and its file --------------------------------------------------


def _paragraphs(rng: random.Random, words: Sequence[str], names: Sequence[str]) -> str:
    paragraphs: list[str] = []
    length, least = 0, rng.randint(*ARTICLE_CHARS)
    while length < least:
        sentences = [_sentence(rng, words, names, rng.randint(8, 18)) for _ in range(4)]
        paragraphs.append(" ".join(sentences))
        length += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs)


def build(rng: random.Random, claims: int, path: Path) -> dict[str, Any]:
    """The newsroom through the ORM and bulk inserts, and the claims file written to `path`."""
    from django.contrib.auth.models import User

    from annotations.core.inputs import ARTICLE_URN
    from annotations.core.text import content_hash, normalize_text
    from annotations.models import (
        Article,
        Assignment,
        Collection,
        Membership,
        Organization,
        Role,
        VerdictLabel,
    )
    from annotations.newsrooms.services import taxonomy_ensure_default
    from bench.reader import NAMES as READER_NAMES
    from bench.reader import WORDS

    started = time.perf_counter()
    organization = Organization.objects.create(slug="planet", name="Planet Fact Check")
    taxonomy = taxonomy_ensure_default(organization=organization)
    collection = Collection.objects.create(
        organization=organization, slug="desk", name="The desk", taxonomy=taxonomy
    )
    editor = User.objects.create(username="editor")
    Membership.objects.create(user=editor, organization=organization, role=Role.EDITOR)
    reviewers = [User.objects.create(username=name) for name in REVIEWERS]
    Membership.objects.bulk_create(
        Membership(user=user, organization=organization, role=Role.REVIEWER) for user in reviewers
    )
    labels = list(VerdictLabel.objects.filter(taxonomy=taxonomy).order_by("order", "pk"))
    weights = [SITE_VERDICTS.get(label.slug, 0.05) for label in labels]

    count = (claims + PER_ARTICLE - 1) // PER_ARTICLE
    texts = [normalize_text(_paragraphs(rng, WORDS, READER_NAMES)) for _ in range(count)]
    articles = Article.objects.bulk_create(
        (
            Article(
                organization=organization,
                collection=collection,
                title=f"Article {number}",
                url="" if number % UNURLED_EVERY == 0 else f"https://news.example/{number}",
                language="en",
                text=text,
                content_hash=content_hash(text),
            )
            for number, text in enumerate(texts, start=1)
        ),
        batch_size=1000,
    )
    assigned = [
        Assignment(article=article, reviewer=reviewer)
        for article in articles
        for reviewer in reviewers
        if rng.random() < 0.5
    ]
    Assignment.objects.bulk_create(assigned, batch_size=5000)

    sources = written = 0
    with path.open("w", encoding="utf-8") as out:
        for index in range(claims):
            number, slot = divmod(index, PER_ARTICLE)
            article, text = articles[number], texts[number]
            site, reviewer = divmod(slot, len(REVIEWERS))
            # SITES passages spread over the article, each marked by every reviewer,
            # each with a boundary of their own (a few characters apart).
            start = site * (len(text) // SITES) + rng.randint(0, 40) + reviewer
            end = min(len(text), start + rng.randint(40, 160))
            label = labels[rng.choices(range(len(labels)), weights)[0]]
            to_check = rng.random() < 0.03
            record: dict[str, Any] = {
                "article": article.url or ARTICLE_URN + article.content_hash,
                "reviewer": REVIEWERS[reviewer],
                "start": start,
                "end": end,
                "quote": text[start:end],
                "verdict": None if to_check else label.slug,
                "rating": None if to_check else label.rating,
                "note": _sentence(rng, WORDS, READER_NAMES, rng.randint(10, 25))
                if rng.random() < 0.4
                else "",
                "sources": [],
            }
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                publisher = rng.choice(PUBLISHERS)
                domain = "".join(c for c in publisher.lower() if c.isascii() and c.isalnum())
                record["sources"].append(
                    {
                        "url": f"https://www.{domain}.example/{rng.randint(2019, 2026)}/"
                        + "-".join(rng.choice(WORDS) for _ in range(4)),
                        "title": _sentence(rng, WORDS, READER_NAMES, rng.randint(5, 10)),
                        "publisher": publisher,
                        "quote": _sentence(rng, WORDS, READER_NAMES, rng.randint(10, 30)),
                        "stance": rng.choice(STANCES),
                    }
                )
            sources += len(record["sources"])
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return {
        "organization_id": organization.pk,
        "articles": len(articles),
        "claims": written,
        "sources": sources,
        "assigned_before": len(assigned),
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "file_sha256": digest,
        "build_s": round(time.perf_counter() - started, 1),
    }


# The import ---------------------------------------------------------------------------


def tasks_to_workers(to_workers: bool) -> None:
    """Background tasks sent to a broker, as in a deployment with workers, or run in-process.

    The broker is kombu's in-memory transport, in this process, which no
    worker reads: an import's cost of asking for agreement is then what it is
    in production, marking the article and publishing one message, while the
    refreshes themselves are left to the workers (debounced, after the import).
    In-process, as with no broker at all, each request runs the article's
    refresh before the next one (measured on a sample, measure_inline_refresh).
    """
    from django.conf import settings

    from workbench.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = not to_workers
    settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS = 2 if to_workers else 0
    app.conf.task_always_eager = not to_workers
    app.conf.broker_url = "memory://"


def measure_import(organization_id: int, path: Path) -> dict[str, Any]:
    """annotations_import of the file, timed, its agreement requests counted and timed."""
    from annotations.importing.claims import annotations_import
    from annotations.models import Organization
    from annotations.reader import services as reader

    organization = Organization.objects.get(pk=organization_id)
    requested: list[int] = []
    asking = [0.0]
    original = reader.agreement_request_many

    def counted(article_ids: Iterable[int]) -> None:
        started = time.perf_counter()
        ids = list(article_ids)
        requested.extend(ids)
        try:
            original(ids)
        finally:
            asking[0] += time.perf_counter() - started

    gc.collect()
    hwm_before = _vm_hwm_kb() or 0
    reader.agreement_request_many = counted  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        with path.open("rb") as handle:
            report = annotations_import(organization=organization, data=handle, name=path.name)
        seconds = time.perf_counter() - started
    finally:
        reader.agreement_request_many = original  # type: ignore[assignment]
    hwm_after = _vm_hwm_kb() or 0
    _require(not report.errors, f"the import refused lines: {report.errors[:3]}")
    return {
        "created": report.created,
        "unchanged": report.unchanged,
        "import_s": seconds,
        "agreement_requests": len(requested),
        "agreement_distinct": len(set(requested)),
        "agreement_s": asking[0],
        "hwm_before_mb": hwm_before / 1024,
        "hwm_added_mb": (hwm_after - hwm_before) / 1024,
    }


def measure_inline_refresh(sample: int) -> dict[str, Any]:
    """agreement_request with no broker, on a sample of the articles: each runs the
    article's refresh in-process (nothing to recompute yet: no agreement run has finished)."""
    from annotations.models import Article
    from annotations.reader import services as reader

    tasks_to_workers(False)
    try:
        ids = list(Article.objects.order_by("pk").values_list("pk", flat=True)[:sample])
        started = time.perf_counter()
        for article_id in ids:
            reader.agreement_request(article_id)
        seconds = time.perf_counter() - started
    finally:
        tasks_to_workers(True)
    return {"inline_refresh_ms": 1000 * seconds / max(1, len(ids)), "inline_sample": len(ids)}


def check_stored(fx: dict[str, Any], figures: dict[str, Any]) -> None:
    from django.db import connection

    from annotations.models import Assignment, ClaimAnnotation, Source

    history = ClaimAnnotation.history.model  # type: ignore[attr-defined]
    _require(figures["created"] == fx["claims"], f"{figures['created']} of {fx['claims']} created")
    _require(ClaimAnnotation.objects.count() == fx["claims"], "claims stored")
    _require(Source.objects.count() == fx["sources"], "sources stored")
    _require(
        history.objects.filter(history_type="+").count() == fx["claims"], "one history row each"
    )
    with connection.cursor() as cursor:
        substring = (
            "substring(a.text from c.start + 1 for c.end - c.start)"
            if connection.vendor == "postgresql"
            else "substr(a.text, c.start + 1, c.end - c.start)"
        )
        cursor.execute(
            f"SELECT count(*) FROM annotations_claimannotation c "  # noqa: S608  (our own SQL)
            f"JOIN annotations_article a ON a.id = c.article_id WHERE {substring} <> c.quote"
        )
        _require(cursor.fetchone()[0] == 0, "every quote is its article's text between offsets")
    pairs = set(ClaimAnnotation.objects.values_list("article_id", "reviewer_id").distinct())
    assigned = set(Assignment.objects.values_list("article_id", "reviewer_id"))
    _require(pairs <= assigned, "every reviewer assigned to the articles they marked")
    _require(
        figures["agreement_requests"] == figures["agreement_distinct"] == fx["articles"],
        f"{figures['agreement_requests']} agreement requests for {fx['articles']} articles",
    )


# The anchor: the database alone -------------------------------------------------------


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def measure_anchor_postgresql() -> dict[str, Any]:
    """COPY of the stored claim and source rows back into the emptied tables, timed."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    claims, sources = io.BytesIO(), io.BytesIO()
    with raw.cursor() as cursor:
        for table, columns, buffer in (
            ("annotations_claimannotation", CLAIM_COLUMNS, claims),
            ("annotations_source", SOURCE_COLUMNS, sources),
        ):
            query = f"COPY (SELECT {_quoted(columns)} FROM {table} ORDER BY id) TO STDOUT"  # noqa: S608
            with cursor.copy(query) as copy:
                for data in copy:
                    buffer.write(data)
        cursor.execute("TRUNCATE annotations_source, annotations_claimannotation CASCADE")
    raw.commit()
    started = time.perf_counter()
    with raw.cursor() as cursor:
        for table, columns, buffer in (
            ("annotations_claimannotation", CLAIM_COLUMNS, claims),
            ("annotations_source", SOURCE_COLUMNS, sources),
        ):
            with cursor.copy(f"COPY {table} ({_quoted(columns)}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
    raw.commit()
    seconds = time.perf_counter() - started
    return {"anchor_s": seconds, "anchor_mb": (claims.tell() + sources.tell()) / 1e6}


def measure_anchor_sqlite() -> dict[str, Any]:
    """executemany of the stored claim and source rows back into the emptied tables, timed."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    rows = {}
    for table, columns in (
        ("annotations_claimannotation", CLAIM_COLUMNS),
        ("annotations_source", SOURCE_COLUMNS),
    ):
        rows[table] = raw.execute(
            f"SELECT {_quoted(columns)} FROM {table} ORDER BY id"  # noqa: S608
        ).fetchall()
    raw.execute("DELETE FROM annotations_source")
    raw.execute("DELETE FROM annotations_claimannotation")
    raw.commit()
    started = time.perf_counter()
    raw.execute("BEGIN IMMEDIATE")
    for table, columns in (
        ("annotations_claimannotation", CLAIM_COLUMNS),
        ("annotations_source", SOURCE_COLUMNS),
    ):
        marks = ", ".join("?" * len(columns))
        raw.executemany(
            f"INSERT INTO {table} ({_quoted(columns)}) VALUES ({marks})",  # noqa: S608
            rows[table],
        )
    raw.commit()
    seconds = time.perf_counter() - started
    return {"anchor_s": seconds}


# One database, in its own process -----------------------------------------------------


def database_url(backend: str, args: argparse.Namespace) -> str:
    if backend == "postgresql":
        return f"{args.postgres}/{args.database}"
    return f"sqlite:///{SQLITE_PATH}"


def drop(backend: str, args: argparse.Namespace) -> None:
    if backend == "postgresql":
        drop_database(args.postgres, args.database)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)


def build_main(args: argparse.Namespace) -> int:
    """The first subprocess: the database created again and migrated, the newsroom
    and the file built; what it built written beside the file."""
    backend = args.backend
    drop(backend, args)
    if backend == "postgresql":
        recreate_database(args.postgres, args.database)
    log(f"{NAMES[backend]}: database created again; migrating")
    configure_django(database_url(backend, args), migrate=True)
    path = Path(args.file)
    log(f"{NAMES[backend]}: building {args.claims:,} claims and their articles")
    fx = build(random.Random(args.seed), args.claims, path)
    path.with_suffix(".json").write_text(json.dumps(fx))
    log(
        f"{NAMES[backend]}: built in {fx['build_s']} s: {fx['articles']:,} articles, "
        f"a {fx['file_mb']} MB file"
    )
    return 0


def import_main(args: argparse.Namespace) -> int:
    """The second subprocess, started fresh (its memory is the import's): the import,
    the checks, then the inline refreshes and the anchor."""
    backend = args.backend
    path = Path(args.file)
    fx = json.loads(path.with_suffix(".json").read_text())
    configure_django(database_url(backend, args), migrate=False)
    tasks_to_workers(True)
    load = os.getloadavg()[0]
    log(f"{NAMES[backend]}: importing (load average {load:.1f})")
    figures = measure_import(fx["organization_id"], path) | {"load_before": load}
    figures["load_after"] = os.getloadavg()[0]
    log(
        f"{NAMES[backend]}: {figures['created']:,} claims in {figures['import_s']:.1f} s; "
        "checking, then the anchor"
    )
    check_stored(fx, figures)
    figures |= measure_inline_refresh(INLINE_SAMPLE)
    anchor = measure_anchor_postgresql() if backend == "postgresql" else measure_anchor_sqlite()
    figures |= anchor
    from annotations.models import ClaimAnnotation, Source

    _require(ClaimAnnotation.objects.count() == fx["claims"], "the anchor wrote every claim")
    _require(Source.objects.count() == fx["sources"], "the anchor wrote every source")
    from django.db import connections

    connections.close_all()
    print(json.dumps({"setup": fx, "figures": figures}))
    return 0


def run_child(step: str, backend: str, path: Path, args: argparse.Namespace) -> str:
    command = [
        sys.executable,
        "-m",
        "bench.imports",
        "--child",
        step,
        "--backend",
        backend,
        "--file",
        str(path),
        "--claims",
        str(args.claims),
        "--seed",
        str(args.seed),
        "--postgres",
        args.postgres,
        "--database",
        args.database,
    ]
    done = subprocess.run(  # noqa: S603  (our own interpreter and module)
        command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"bench.imports --child {step} --backend {backend} failed")
    return done.stdout


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """One database: built in one subprocess, imported in a fresh one."""
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as directory:
        path = Path(directory) / "claims.jsonl"
        try:
            run_child("build", backend, path, args)
            answer = run_child("import", backend, path, args)
        finally:
            if not args.keep:
                drop(backend, args)
    return dict(json.loads(answer.strip().splitlines()[-1]))


# The table ----------------------------------------------------------------------------


def summarize(backend: str, answer: dict[str, Any]) -> dict[str, Any]:
    fx, f = answer["setup"], answer["figures"]
    claims = fx["claims"]
    return {
        "claims": claims,
        "articles": fx["articles"],
        "sources": fx["sources"],
        "file_mb": fx["file_mb"],
        "build_s": fx["build_s"],
        "import_s": round(f["import_s"], 2),
        "per_s": round(claims / f["import_s"]),
        "agreement_s": round(f["agreement_s"], 2),
        "agreement_requests": f["agreement_requests"],
        "own_per_s": round(claims / (f["import_s"] - f["agreement_s"])),
        "inline_refresh_ms": round(f["inline_refresh_ms"], 2),
        "hwm_before_mb": round(f["hwm_before_mb"], 1),
        "load": [round(f["load_before"], 1), round(f["load_after"], 1)],
        "hwm_added_mb": round(f["hwm_added_mb"], 1),
        "anchor_s": round(f["anchor_s"], 2),
        "anchor_per_s": round(claims / f["anchor_s"]),
        "vs_anchor": round(f["import_s"] / f["anchor_s"], 1),
        "target_per_s": TARGETS[f"{backend}_per_s"],
    }


def table_rows(results: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    """The rows of the table, also in --json as "rows" (python -m bench gathers them)."""
    rows: list[tuple[str, ...]] = []
    for backend, r in results.items():
        anchor = "COPY" if backend == "postgresql" else "executemany"
        rows += [
            (
                f"{NAMES[backend]}: annotations_import, {r['claims']:,} claims",
                f"{r['per_s']:,} claims/s ({r['import_s']:.1f} s)",
                f"≥ {r['target_per_s']:,}/s",
                f"{anchor} of the claim and source rows: {r['anchor_s']:.2f} s "
                f"({r['anchor_per_s']:,}/s)",
                f"{r['vs_anchor']}× {anchor}",
                "met" if r["per_s"] >= r["target_per_s"] else "not met",
            ),
            (
                f"  of which asking for agreement: {r['agreement_requests']:,} articles, once each",
                f"{r['agreement_s']:.1f} s",
                "",
                "",
                f"the rest: {r['own_per_s']:,} claims/s",
            ),
            (
                "  with no broker, each request refreshes its article in-process",
                f"{r['inline_refresh_ms']:.1f} ms per article",
                "",
                "",
                "",
            ),
            (
                "  peak memory added by the import (VmHWM)",
                f"{r['hwm_added_mb']:,.0f} MB",
                "",
                f"the process before it (Django set up): {r['hwm_before_mb']:,.0f} MB",
                "",
            ),
            (
                "  load average (1 min) before / after the import",
                " / ".join(f"{v:.1f}" for v in r["load"]),
                "",
                f"on {os.cpu_count()} cores",
                "",
            ),
        ]
    return rows


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = table_rows(results)
    header = ("figure", "value", "target", "anchor (same run)", "ratio", "target met")
    widths = [max(len(r[i]) if i < len(r) else 0 for r in [header, *rows]) for i in range(6)]

    def line(row: tuple[str, ...]) -> str:
        cells = [*row, *[""] * (6 - len(row))]
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    first = next(iter(results.values()))
    return "\n".join(
        [
            f"Imports benchmark: {first['claims']:,} claims ({first['sources']:,} sources) on "
            f"{first['articles']:,} articles, a {first['file_mb']} MB JSONL file read from disk;",
            "DEBUG off; tasks go to a broker (kombu's in-memory transport, which no worker reads),",
            "so asking for agreement costs what it does with workers: a mark and a message.",
            "",
            line(header),
            line(tuple("-" * w for w in widths)),
            *(line(r) for r in rows),
            "",
            "Ratio: the import's time / the time the database alone takes to write the same",
            "claim and source rows in one transaction (PostgreSQL COPY FROM STDIN, SQLite",
            "executemany); the import also parses and checks each line, loads what each batch",
            "needs, and writes the history rows and assignments the anchor leaves out.",
            *PEERS,
            "",
            "Checks passed: every claim created, as many sources as the file holds, one history",
            "row per claim, every quote its article's text between the offsets, every reviewer",
            "assigned, agreement asked for once per article.",
            "",
            caveat(),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.imports", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--claims", type=int, default=100_000, help="claims in the file")
    parser.add_argument(
        "--only",
        choices=BACKENDS,
        action="append",
        help="one database (again for both); default both",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--postgres", default=POSTGRES, help="server URL, without a database")
    parser.add_argument("--database", default=DATABASE, help="dropped and created again")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--child", choices=["build", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--backend", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "build":
        return build_main(args)
    if args.child == "import":
        return import_main(args)
    _require(args.claims >= PER_ARTICLE, f"--claims: at least {PER_ARTICLE}")

    results = {
        backend: summarize(backend, run_backend(backend, args))
        for backend in BACKENDS
        if backend in (args.only or BACKENDS)
    }
    log("done")
    if args.json:
        payload = {
            "benchmark": "imports",
            "setup": {
                "claims": args.claims,
                "per_article": PER_ARTICLE,
                "reviewers": len(REVIEWERS),
                "seed": args.seed,
                "cpus": os.cpu_count(),
                "anchor": "PostgreSQL: COPY FROM STDIN of the stored claim and source rows; "
                "SQLite: executemany INSERT of the same rows; one transaction, wall clock",
                "peers": " ".join(PEERS),
            },
            "targets": TARGETS,
            "figures": results,
            "rows": table_rows(results),
            "caveat": caveat(),
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
