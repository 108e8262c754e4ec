"""Exports benchmark: 100,000 published verified claims with 3 sources each, in PostgreSQL.

    .venv/bin/python -m bench.exports                   # a table
    .venv/bin/python -m bench.exports --json            # the same figures as JSON
    .venv/bin/python -m bench.exports --claims 20000    # a quick small run
    .venv/bin/python -m bench.exports --profile         # and cProfile's hotspots per writer

Builds one newsroom with --claims published (or corrected) verified claims in
a dedicated PostgreSQL database (dropped and created again on every run, and
dropped afterwards unless --keep; the machine's server, trust auth, user
postgres at 127.0.0.1:5432, or --postgres), with DEBUG off and no broker.
A collection holds the first 10,000 of them (the small export), another the
rest. Each claim has a realistic record: a claim of 60 to 120 characters, a
summary of about 200, a quote of 40 to 160, ordinal and non-ordinal verdicts,
claimants who are people, organizations or handles, and 3 sources with URL,
title, publisher and quote; 1 source in 20 is confidential (its URL, on a host
of its own, must never reach a public export). One claim in 50 more is a draft
or retracted, which no export of published claims may hold. The tables are
VACUUM ANALYZEd, as autovacuum would leave them.

Measured, in one run:

1. `exports.WRITERS[format](selection, file, progress)` for jsonl, csv-zip (a zip
   of claims.csv and sources.csv) and claimreview, with the public audience
   and the published status, the call the export job makes, for 10,000 claims
   (a Selection of the small collection) and for every claim (the newsroom,
   no collection). Each format and size runs in a fresh subprocess that sets
   Django up and then calls the writer --repeats times in a row (3; fewer
   when one more run would take that subprocess's writing past --budget
   seconds, 75, which keeps the benchmark near 5 minutes on 2 cores), writing
   a file on disk (/tmp), as a worker that takes export jobs one after another
   would; claims/s is rows / wall time of the call, file closed included, the
   median of the runs. The progress callback only records the count (the
   job's own callback is one UPDATE per page of 2,000 claims).
2. Peak memory of each of those subprocesses. ru_maxrss outlives fork and exec
   (Linux keeps the larger of the old and the new high-water mark), so a
   child started straight from this process, which holds the generated data,
   would report at least this process's own peak. Each child is therefore
   started through a launcher of a few MB (`python -c`), itself started fresh
   for each measurement, which reads getrusage(RUSAGE_CHILDREN).ru_maxrss
   once the child has exited: the child's own peak, Python, Django and the
   data loaded included. The child also reports its VmHWM (/proc/self/status,
   which starts again at exec) as a check, and an idle child, which sets
   Django up and loads the newsroom, is the floor. Target: under 300 MB at
   both sizes, and flat (100,000 claims / 10,000 claims close to 1).
3. The physical anchors, one per format and size: `psql \\copy (SELECT ...) TO
   file WITH CSV HEADER` of what that format's file holds, on the same rows
   (the Selection's claims, joined with their article, verdict and taxonomy):
   for JSONL every field of a record and its public sources as json_agg, in
   order; for the CSV zip two \\copy, claims.csv's columns (its public sources
   counted and listed with string_agg) and sources.csv's rows; for ClaimReview
   a node's fields (the newsroom's name and URL included) and no sources, as
   its writer reads none. Dates and URLs are the text the file holds; the
   cells' encoding (JSON, the formula guard, the zip) is left to the writer.
   Timed with the wall clock around the psql subprocess, --repeats times,
   median; each writer's time is reported as a ratio to its own anchor.
4. Checks (a benchmark of wrong figures measures nothing): every file holds as
   many claims as the selection has published claims, ids in order; JSONL and
   the CSV zip hold every public source and no confidential one; no file holds
   the confidential host anywhere; each psql anchor wrote as many rows, as many
   public sources where its format has them, and nothing on the confidential
   host.

Peer figures, reported by users and not measured here, are printed under the
table: Label Studio's free edition exports inside one HTTP request.

A benchmark prints figures; it never fails on a slow number.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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

DATABASE = "workbench_bench_exports"
FORMATS = ("jsonl", "csv", "claimreview")
# The figure key "csv" measures the zip of claims.csv and sources.csv (the
# export format "csv-zip"); the one-sheet "csv" is the same rows, flattened.
EXPORT_FORMATS = {"jsonl": "jsonl", "csv": "csv-zip", "claimreview": "claimreview"}
NAMES = {"jsonl": "JSONL", "csv": "CSV (zip)", "claimreview": "ClaimReview"}
TARGETS = {
    "jsonl_per_s": 20_000,
    "csv_per_s": 20_000,
    "claimreview_per_s": 10_000,
    "peak_mb": 300,
}
SMALL = 10_000
# A news article carries a handful of checked claims, and every claim's row
# comes with its article's row (select_related), text and HTML included: so
# articles of a realistic size, 3,000 to 6,000 characters, half of them with
# the sanitized HTML an import from a web page keeps.
PER_ARTICLE = 10
ARTICLE_CHARS = (3000, 6000)
SOURCES_PER_CLAIM = 3
CONFIDENTIAL_SHARE = 0.05
# Every confidential source, and nothing else, lives on this host: finding it
# anywhere in a public export is a leak.
CONFIDENTIAL_HOST = "tips.newsroom-internal.example"
# One claim in UNPUBLISHED_EVERY more is a draft or retracted.
UNPUBLISHED_EVERY = 50
PROFILE_CLAIMS = 20_000
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
    "Daily Nation",
    "UN OCHA",
    "World Bank Open Data",
    "Human Rights Watch",
    "ACLED",
    "Ministry of Health",
    "National Statistics Office",
    "Electoral Commission (CENI)",
    "IMF",
    "The New Times",
    "Deutsche Welle",
)
ORGANIZATION_CLAIMANTS = (
    "Ministry of {place}",
    "{place} People's Party",
    "{place} Workers' Union",
    "Government of {place}",
    "{place} Electoral Commission",
    "{place} Police",
    "The {place} Times",
)
STANCES = (("supports", 0.3), ("refutes", 0.45), ("context", 0.25))


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


# The synthetic newsroom ---------------------------------------------------------------


@dataclass
class Fixture:
    organization_id: int
    organization_slug: str
    small_collection_id: int
    # Published or corrected claims: what an export of published claims holds.
    claims: int
    small_claims: int
    unpublished: int
    # Non-confidential sources of those claims: what a public export holds.
    public_sources: int
    small_public_sources: int
    confidential_sources: int
    seconds: float
    database_mb: float = 0.0
    verdicts: dict[str, int] = field(default_factory=dict)


class Writer:
    """Sentences and names for the records, drawn from pools made once."""

    def __init__(self, rng: random.Random) -> None:
        from bench.reader import NAMES as READER_NAMES
        from bench.reader import WORDS
        from bench.similar import Vocabulary

        self.rng = rng
        self.vocabulary = Vocabulary(rng)
        self.sentences = [
            _sentence(rng, WORDS, READER_NAMES, rng.randint(8, 18)) for _ in range(8000)
        ]
        self.words = WORDS

    def sentences_of(self, least: int) -> str:
        """Whole sentences, at least `least` characters of them."""
        out = [self.rng.choice(self.sentences)]
        while sum(map(len, out)) + len(out) - 1 < least:
            out.append(self.rng.choice(self.sentences))
        return " ".join(out)

    def claimant(self) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            return ""
        if roll < 0.25:
            place = self.rng.choice(self.vocabulary.places)
            return self.rng.choice(ORGANIZATION_CLAIMANTS).format(place=place)
        if roll < 0.30:
            # A handle: a spreadsheet would run it as a formula, so the CSV quotes it.
            return "@" + self.rng.choice(self.vocabulary.people).split()[-1].lower()
        return self.rng.choice(self.vocabulary.people)

    def title(self) -> str:
        text = self.rng.choice(self.sentences).rstrip(".")
        return text[:90]

    def quote(self) -> str:
        text = self.sentences_of(120)
        return f'"{text}"' if self.rng.random() < 0.3 else text

    def article(self) -> tuple[str, str]:
        """Text in paragraphs and, for half of them, the HTML it came from."""
        paragraphs: list[str] = []
        length, least = 0, self.rng.randint(*ARTICLE_CHARS)
        while length < least:
            paragraphs.append(self.sentences_of(self.rng.randint(200, 600)))
            length += len(paragraphs[-1]) + 2
        html = "".join(f"<p>{p}</p>" for p in paragraphs) if self.rng.random() < 0.5 else ""
        return "\n\n".join(paragraphs), html

    def slug(self) -> str:
        return "-".join(self.rng.choice(self.words) for _ in range(4))


def build(rng: random.Random, claims: int, small: int) -> Fixture:
    """Organization, taxonomy and collections through the ORM; articles, claims, sources in bulk."""
    from django.contrib.auth.models import User
    from django.db import connection

    from annotations.models import (
        Article,
        Collection,
        Organization,
        VerdictLabel,
        VerifiedClaim,
        VerifiedSource,
    )
    from annotations.newsrooms.services import taxonomy_ensure_default

    started = time.perf_counter()
    words = Writer(rng)
    editor = User.objects.create(username="editor")
    organization = Organization.objects.create(slug="planet", name="Planet Fact Check")
    taxonomy = taxonomy_ensure_default(organization=organization)
    labels = list(VerdictLabel.objects.filter(taxonomy=taxonomy).order_by("order", "pk"))
    weights = [SITE_VERDICTS.get(label.slug, 0.05) for label in labels]
    collections = [
        Collection.objects.create(
            organization=organization, slug=slug, name=name, taxonomy=taxonomy
        )
        for slug, name in (("first-10k", "The small export"), ("desk", "Everything else"))
    ]
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    fx = Fixture(
        organization_id=organization.pk,
        organization_slug=organization.slug,
        small_collection_id=collections[0].pk,
        claims=0,
        small_claims=0,
        unpublished=0,
        public_sources=0,
        small_public_sources=0,
        confidential_sources=0,
        seconds=0.0,
    )
    claim_rows: list[tuple[Any, ...]] = []
    # Per claim, in the order of claim_rows: its sources as rows without the claim id.
    source_rows: list[list[tuple[Any, ...]]] = []
    article_number = 0
    for collection, exported in zip(collections, (small, claims - small), strict=True):
        unpublished = exported // UNPUBLISHED_EVERY
        total = exported + unpublished
        hidden = set(rng.sample(range(total), unpublished))
        articles: list[Article] = []
        texts: list[str] = []
        for _ in range((total + PER_ARTICLE - 1) // PER_ARTICLE):
            article_number += 1
            text, html = words.article()
            texts.append(text)
            articles.append(
                Article(
                    organization=organization,
                    collection=collection,
                    title=words.title(),
                    url=f"https://news.example/{collection.slug}/{article_number}-{words.slug()}",
                    publisher=rng.choice(PUBLISHERS),
                    published_at=now - timedelta(days=rng.randint(30, 900)),
                    language="en",
                    text=text,
                    html=html,
                    content_hash=hashlib.sha256(text.encode()).hexdigest(),
                )
            )
        articles = Article.objects.bulk_create(articles, batch_size=1000)
        for i in range(total):
            article, text = articles[i // PER_ARTICLE], texts[i // PER_ARTICLE]
            # Claims spread over the article, a few hundred characters apart.
            start = (i % PER_ARTICLE) * (len(text) // PER_ARTICLE) + rng.randint(0, 60)
            quote = text[start : start + rng.randint(40, 160)]
            label = labels[rng.choices(range(len(labels)), weights)[0]]
            fx.verdicts[label.slug] = fx.verdicts.get(label.slug, 0) + 1
            if i in hidden:
                status = "draft" if rng.random() < 0.7 else "retracted"
            else:
                status = "corrected" if rng.random() < 0.03 else "published"
            published_at = (
                None if status == "draft" else now - timedelta(minutes=rng.randint(60, 700_000))
            )
            claim_date = (
                date(2026, 1, 1) - timedelta(days=rng.randint(1, 1000))
                if rng.random() < 0.6
                else None
            )
            claim_rows.append(
                (
                    organization.pk,
                    article.pk,
                    start,
                    start + len(quote),
                    quote,
                    text[max(0, start - 32) : start],
                    text[start + len(quote) : start + len(quote) + 32],
                    words.vocabulary.claim(rng),
                    words.claimant(),
                    claim_date,
                    label.pk,
                    label.rating,
                    words.sentences_of(180),
                    "single",
                    editor.pk,
                    status,
                    published_at,
                    words.sentences_of(60) if status != "published" else "",
                    published_at or now,
                    now if status == "corrected" else (published_at or now),
                    2 if status == "corrected" else 1,
                )
            )
            sources = []
            for order in range(SOURCES_PER_CLAIM):
                confidential = rng.random() < CONFIDENTIAL_SHARE
                if confidential:
                    url = f"https://{CONFIDENTIAL_HOST}/tips/{len(claim_rows)}-{order}"
                    publisher = "Tip line"
                else:
                    publisher = rng.choice(PUBLISHERS)
                    domain = "".join(c for c in publisher.lower() if c.isascii() and c.isalnum())
                    url = f"https://www.{domain}.example/{rng.randint(2019, 2026)}/{words.slug()}"
                sources.append(
                    (
                        url,
                        words.title(),
                        publisher,
                        words.quote(),
                        rng.choices([s for s, _ in STANCES], [w for _, w in STANCES])[0],
                        confidential,
                        order,
                    )
                )
                if i in hidden:
                    continue
                if confidential:
                    fx.confidential_sources += 1
                else:
                    fx.public_sources += 1
                    if collection is collections[0]:
                        fx.small_public_sources += 1
            source_rows.append(sources)
            if i in hidden:
                fx.unpublished += 1
            else:
                fx.claims += 1
                if collection is collections[0]:
                    fx.small_claims += 1
        log(f"  {collection.slug}: {exported:,} published claims and {unpublished:,} others")

    claim_columns = (
        "organization_id",
        "article_id",
        "start",
        "end",
        "quote",
        "prefix",
        "suffix",
        "claim_reviewed",
        "claimant",
        "claim_date",
        "verdict_id",
        "rating",
        "summary",
        "lineage",
        "editor_id",
        "status",
        "published_at",
        "public_note",
        "created_at",
        "updated_at",
        "version",
    )
    source_columns = (
        "claim_id",
        "url",
        "title",
        "publisher",
        "quote",
        "stance",
        "confidential",
        "order",
    )
    claims_table = VerifiedClaim._meta.db_table
    sources_table = VerifiedSource._meta.db_table
    with connection.cursor() as cursor:
        names = ", ".join(f'"{c}"' for c in claim_columns)
        with cursor.copy(f'COPY "{claims_table}" ({names}) FROM STDIN') as copy:
            for row in claim_rows:
                copy.write_row(row)
        # COPY takes the ids from the sequence in row order; found again by span all the same.
        cursor.execute(f'SELECT id, article_id, start FROM "{claims_table}"')  # noqa: S608
        ids = {(article_id, start): pk for pk, article_id, start in cursor.fetchall()}
        names = ", ".join(f'"{c}"' for c in source_columns)
        with cursor.copy(f'COPY "{sources_table}" ({names}) FROM STDIN') as copy:
            for row, sources in zip(claim_rows, source_rows, strict=True):
                claim_id = ids[(row[1], row[2])]
                for source in sources:
                    copy.write_row((claim_id, *source))
        for table in (claims_table, sources_table, Article._meta.db_table):
            cursor.execute(f'VACUUM ANALYZE "{table}"')
        cursor.execute("SELECT pg_database_size(current_database())")
        fx.database_mb = cursor.fetchone()[0] / 1e6
    _require(len(ids) == len(claim_rows), f"{len(ids):,} claims stored of {len(claim_rows):,}")
    fx.seconds = time.perf_counter() - started
    return fx


# Measured subprocesses ----------------------------------------------------------------

# Started fresh for each measurement: a few MB of Python between this process,
# which holds the data, and the measured child. RUSAGE_CHILDREN, read once the
# child has exited, is that child's own peak; the answer is its last line.
LAUNCHER = """\
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True)
sys.stdout.write(done.stdout)
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"returncode": done.returncode, "children_maxrss_kb": children}))
"""


def launch(args: list[str]) -> tuple[dict[str, Any], int]:
    """Runs `python -m bench.exports ARGS` through the launcher; its answer and its peak (KB)."""
    done = subprocess.run(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-c", LAUNCHER, sys.executable, "-m", "bench.exports", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    *lines, last = done.stdout.strip().splitlines()
    report = json.loads(last)
    if report["returncode"] or not lines:
        raise RuntimeError(f"child {args} failed (its stderr is above)")
    return json.loads(lines[-1]), report["children_maxrss_kb"]


class _Enough(Exception):
    """Raised from the progress callback to stop a profiled writer after PROFILE_CLAIMS."""


def child_main(args: argparse.Namespace) -> int:
    """The subprocess: Django set up on the existing database, then only the writer."""
    configure_django(args.database_url, migrate=False)
    from django.urls import reverse

    from annotations.exports import selection as exports
    from annotations.exports import writers
    from annotations.models import Collection, Organization

    organization = Organization.objects.get(pk=args.organization_id)
    collection = (
        Collection.objects.get(pk=args.collection_id) if args.collection_id is not None else None
    )
    # What the writers use besides the claims: the URL resolver, loaded once.
    reverse("public-claim", args=[organization.slug, 1])
    answer: dict[str, Any] = {"setup_vm_hwm_kb": _vm_hwm_kb()}
    if args.child == "write":
        selection = exports.Selection(
            organization=organization,
            collection=collection,
            status="published",
            audience="public",
        )
        writer = writers.WRITERS[EXPORT_FORMATS[args.format]]
        times: list[float] = []
        rows: list[int] = []
        pages: list[int] = []
        for _ in range(args.repeats):
            # Another run only when it should end within the budget; one run at least.
            if times and sum(times) + times[-1] > args.budget:
                break
            seen: list[int] = []
            started = time.perf_counter()
            with open(args.out, "wb") as out:
                rows.append(writer(selection, out, seen.append))
            times.append(time.perf_counter() - started)
            pages.append(len(seen))
            _require(seen and seen[-1] == rows[-1], "progress did not reach the row count")
        answer |= {"times_s": times, "rows": rows, "pages": pages}
    answer["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer["vm_hwm_kb"] = _vm_hwm_kb()
    print(json.dumps(answer))
    return 0


def measure_writers(
    url: str, fx: Fixture, repeats: int, budget: float, directory: Path
) -> dict[str, Any]:
    common = ["--database-url", url, "--organization-id", str(fx.organization_id)]
    idle, idle_kb = launch(["--child", "idle", *common])
    figures: dict[str, Any] = {
        "idle_peak_mb": round(idle_kb / 1024, 1),
        "idle_vm_hwm_mb": round(idle["vm_hwm_kb"] / 1024, 1),
    }
    for name in FORMATS:
        for size, scope in (
            ("small", ["--collection-id", str(fx.small_collection_id)]),
            ("all", []),
        ):
            path = directory / f"{name}-{size}.out"
            answer, peak_kb = launch(
                [
                    "--child",
                    "write",
                    *common,
                    *scope,
                    "--format",
                    name,
                    "--out",
                    str(path),
                    "--repeats",
                    str(repeats),
                    "--budget",
                    str(budget),
                ]
            )
            expected = fx.small_claims if size == "small" else fx.claims
            _require(
                all(r == expected for r in answer["rows"]),
                f"{name} wrote {answer['rows']} rows; the selection has {expected:,} claims",
            )
            seconds = _median(answer["times_s"])
            key = f"{name}_{size}"
            figures |= {
                f"{key}_rows": expected,
                f"{key}_s": round(seconds, 3),
                f"{key}_times_s": [round(t, 3) for t in answer["times_s"]],
                f"{key}_per_s": round(expected / seconds),
                f"{key}_peak_mb": round(peak_kb / 1024, 1),
                f"{key}_vm_hwm_mb": round(answer["vm_hwm_kb"] / 1024, 1),
                f"{key}_file_mb": round(path.stat().st_size / 1e6, 1),
                f"{key}_path": str(path),
            }
            log(
                f"  {name}, {expected:,} claims: "
                + ", ".join(f"{t:.2f}" for t in answer["times_s"])
                + f" s; {expected / seconds:,.0f} claims/s; peak {peak_kb / 1024:.0f} MB"
            )
    return figures


# The physical anchors: psql \copy, one per format --------------------------------------

# What each format's anchor writes, for the notes and --json.
ANCHORS = {
    "jsonl": "one \\copy: every field of a JSONL record (the claim, its verdict and scale, "
    "its article, its URL, dates as ISO text) and its public sources as json_agg, in order",
    "csv": "two \\copy, as the zip's two files: claims.csv's columns (its public sources "
    "counted and listed with string_agg) and sources.csv's rows (row_number for the position)",
    "claimreview": "one \\copy: the fields a ClaimReview node holds (the claim, its verdict "
    "and scale, its article, the newsroom's name and URL, dates); no sources, as the writer "
    "reads none",
}


def _day(column: str) -> str:
    """A timestamp's UTC date, as ClaimReview writes it (the ISO text's first 10 characters)."""
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def _sheet(column: str) -> str:
    """A timestamp as claims.csv writes it: UTC, to the second."""
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"


def anchor_sql(fx: Fixture, name: str, collection_id: int | None) -> list[str]:
    """The SELECTs of one format's anchor: the rows and columns its file holds.

    The same claims as the writer's Selection (the newsroom's published and
    corrected claims, of the collection or all, in id order) and, where the
    format holds sources, the same public sources in the same order. Only the
    cells' encoding (JSON, a spreadsheet's formula guard, the zip) is left to
    the writer: that is what the ratio measures.
    """
    from django.conf import settings

    from annotations.models import (
        Article,
        Organization,
        Taxonomy,
        VerdictLabel,
        VerifiedClaim,
        VerifiedSource,
    )
    from annotations.publishing import records
    from annotations.publishing.rows import IsoFormat

    # A timestamp as the JSONL holds it: the writer's own SQL for isoformat() in UTC.
    iso = IsoFormat.sql
    head, tail, corrections = records.public_urls(
        fx.organization_slug, settings.WORKBENCH_PUBLIC_URL
    )
    claims = VerifiedClaim._meta.db_table
    scope = f"AND a.collection_id = {collection_id}" if collection_id is not None else ""
    # Identifiers from the models and ids of our own: nothing from outside.
    selected = f"""
        FROM "{claims}" c
        JOIN "{Article._meta.db_table}" a ON a.id = c.article_id
        JOIN "{VerdictLabel._meta.db_table}" v ON v.id = c.verdict_id
        JOIN "{Taxonomy._meta.db_table}" t ON t.id = v.taxonomy_id
    """
    where = f"""
        WHERE c.organization_id = {fx.organization_id}
            AND c.status IN ('published', 'corrected') {scope}
    """
    sources = f'"{VerifiedSource._meta.db_table}" x'
    in_order = 'ORDER BY x."order", x.id'
    url = f"'{head}' || c.id || '{tail}'"
    if name == "jsonl":
        queries = [
            f"""
            SELECT c.id, {url} AS url, c.claim_reviewed, c.claimant,
                to_char(c.claim_date, 'YYYY-MM-DD') AS claim_date, v.slug AS verdict,
                v.name AS verdict_name, c.rating, t.best_rating, t.worst_rating, c.summary,
                c.status, c.lineage, c.public_note, {iso("c.published_at")} AS published_at,
                {iso("c.updated_at")} AS updated_at, a.title AS article_title,
                a.url AS article_url, a.publisher AS article_publisher,
                {iso("a.published_at")} AS article_published_at, a.version AS article_version,
                c.quote, c.start, c."end", coalesce(s.sources, '[]') AS sources
            {selected}
            LEFT JOIN LATERAL (
                SELECT json_agg(json_build_object(
                    'url', x.url, 'title', x.title, 'publisher', x.publisher,
                    'quote', x.quote, 'stance', x.stance) {in_order}) AS sources
                FROM {sources} WHERE x.claim_id = c.id AND NOT x.confidential
            ) s ON true
            {where}
            ORDER BY c.id
            """  # noqa: S608
        ]
    elif name == "csv":
        listed = "coalesce(nullif(x.title, ''), x.url) || ' <' || x.url || '> (' || x.stance || ')'"
        queries = [
            f"""
            SELECT c.claim_reviewed, c.quote, v.slug AS verdict, v.name AS verdict_name,
                c.rating, t.best_rating, t.worst_rating, c.summary, c.claimant,
                to_char(c.claim_date, 'YYYY-MM-DD') AS claim_date, c.status, c.lineage,
                c.public_note, {_sheet("c.published_at")} AS published_at,
                {_sheet("c.updated_at")} AS updated_at, a.title AS article_title,
                a.url AS article_url, {url} AS url, c.id, coalesce(s.count, 0) AS source_count,
                s.listed AS sources, c.start, c."end"
            {selected}
            LEFT JOIN LATERAL (
                SELECT count(*) AS count, string_agg({listed}, ' | ' {in_order}) AS listed
                FROM {sources} WHERE x.claim_id = c.id AND NOT x.confidential
            ) s ON true
            {where}
            ORDER BY c.id
            """,  # noqa: S608
            f"""
            SELECT x.claim_id,
                row_number() OVER (PARTITION BY x.claim_id {in_order}) AS position,
                x.url, x.title, x.publisher, x.quote, x.stance
            FROM {sources}
            WHERE NOT x.confidential AND x.claim_id IN (
                SELECT c.id FROM "{claims}" c JOIN "{Article._meta.db_table}" a
                    ON a.id = c.article_id {where})
            ORDER BY x.claim_id, x."order", x.id
            """,  # noqa: S608
        ]
    else:
        # records.claim_review: the organization's name, and its website or else its
        # corrections log, in every node.
        queries = [
            f"""
            SELECT {url} AS url, c.claim_reviewed, o.name AS author,
                coalesce(nullif(o.website, ''), '{corrections}') AS author_url,
                {_day("c.published_at")} AS date_published, v.name AS rating_name,
                c.rating, t.best_rating, t.worst_rating, c.summary AS rating_explanation,
                a.url AS appearance_url, a.title AS appearance_headline,
                a.publisher AS appearance_publisher,
                {_day("a.published_at")} AS appearance_date, c.claimant, c.claimant_kind,
                to_char(c.claim_date, 'YYYY-MM-DD') AS claim_date,
                CASE WHEN c.status = 'corrected' THEN {_day("c.updated_at")} END
                    AS date_modified
            {selected}
            JOIN "{Organization._meta.db_table}" o ON o.id = c.organization_id
            {where}
            ORDER BY c.id
            """
        ]
    # \copy takes the rest of its line: each query on one line.
    return [" ".join(q.split()) for q in queries]


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as rows:
        return list(csv.reader(rows))[1:]


def check_anchor(name: str, paths: list[Path], claims: int, sources: int) -> None:
    """The anchor's files hold the export's rows: every claim, the same public sources."""
    for path in paths:
        _require(
            CONFIDENTIAL_HOST.encode() not in path.read_bytes(),
            f"psql \\copy ({name}) wrote a confidential source",
        )
    rows = _csv_rows(paths[0])
    _require(len(rows) == claims, f"psql \\copy ({name}) wrote {len(rows):,} rows of {claims:,}")
    if name == "jsonl":
        shown = sum(len(json.loads(row[-1])) for row in rows)
        _require(shown == sources, f"psql \\copy (jsonl): {shown:,} sources of {sources:,}")
    elif name == "csv":
        shown = sum(int(row[19]) for row in rows)
        _require(shown == sources, f"psql \\copy (csv): {shown:,} sources counted of {sources:,}")
        listed = len(_csv_rows(paths[1]))
        _require(listed == sources, f"psql \\copy (csv): {listed:,} source rows of {sources:,}")


def measure_anchor(url: str, fx: Fixture, repeats: int, directory: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name in FORMATS:
        for size, collection_id in (("small", fx.small_collection_id), ("all", None)):
            queries = anchor_sql(fx, name, collection_id)
            paths = [directory / f"psql-{name}-{size}-{i}.csv" for i in range(len(queries))]
            command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]
            for query, path in zip(queries, paths, strict=True):
                command += ["-c", f"\\copy ({query}) TO '{path}' WITH CSV HEADER"]
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                subprocess.run(command, check=True)  # noqa: S603  (psql, our own queries)
                times.append(time.perf_counter() - started)
            expected = fx.small_claims if size == "small" else fx.claims
            sources = fx.small_public_sources if size == "small" else fx.public_sources
            check_anchor(name, paths, expected, sources)
            seconds = _median(times)
            key = f"psql_{name}_{size}"
            figures |= {
                f"{key}_s": round(seconds, 3),
                f"{key}_times_s": [round(t, 3) for t in times],
                f"{key}_per_s": round(expected / seconds),
                f"{key}_file_mb": round(sum(p.stat().st_size for p in paths) / 1e6, 1),
            }
            log(
                f"  psql \\copy ({name}), {expected:,} claims: "
                + ", ".join(f"{t:.2f}" for t in times)
                + " s"
            )
    return figures


# Checks on the files --------------------------------------------------------------------


def _check_ids(ids: list[int], expected: int, what: str) -> None:
    _require(len(ids) == expected, f"{what}: {len(ids):,} claims, the selection has {expected:,}")
    _require(all(a < b for a, b in itertools.pairwise(ids)), f"{what}: ids not in order")


def check_files(figures: dict[str, Any], fx: Fixture) -> dict[str, Any]:
    """Every claim, every public source, no confidential one; returns what was counted."""
    host = CONFIDENTIAL_HOST.encode()
    counted: dict[str, Any] = {}
    for size, claims, sources in (
        ("small", fx.small_claims, fx.small_public_sources),
        ("all", fx.claims, fx.public_sources),
    ):
        # JSONL: one claim per line, its public sources inside.
        path = Path(figures[f"jsonl_{size}_path"])
        ids, shown = [], 0
        with path.open("rb") as lines:
            for line in lines:
                _require(host not in line, f"a confidential source in {path.name}")
                record = json.loads(line)
                ids.append(record["id"])
                shown += len(record["sources"])
        _check_ids(ids, claims, path.name)
        _require(shown == sources, f"{path.name}: {shown:,} sources, {sources:,} are public")

        # CSV: a zip of claims.csv and sources.csv.
        path = Path(figures[f"csv_{size}_path"])
        with zipfile.ZipFile(path) as archive:
            with archive.open("claims.csv") as raw:
                reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
                header = next(reader)
                at, count_at = header.index("id"), header.index("source_count")
                ids, shown = [], 0
                for row in reader:
                    _require(CONFIDENTIAL_HOST not in "".join(row), "confidential in claims.csv")
                    ids.append(int(row[at]))
                    shown += int(row[count_at])
            _check_ids(ids, claims, f"{path.name}:claims.csv")
            _require(shown == sources, f"claims.csv counts {shown:,} sources of {sources:,}")
            with archive.open("sources.csv") as raw:
                reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
                next(reader)
                rows = 0
                for row in reader:
                    _require(CONFIDENTIAL_HOST not in "".join(row), "confidential in sources.csv")
                    rows += 1
            _require(rows == sources, f"sources.csv has {rows:,} rows of {sources:,}")

        # ClaimReview: a JSON array, one node per line.
        path = Path(figures[f"claimreview_{size}_path"])
        urls = []
        with path.open("rb") as lines:
            _require(next(lines) == b"[\n", f"{path.name} does not open an array")
            for line in lines:
                _require(host not in line, f"a confidential source in {path.name}")
                if line == b"]\n":
                    break
                node = json.loads(line.rstrip(b",\n"))
                _require(node["@type"] == "ClaimReview", f"{path.name}: {node['@type']}")
                urls.append(int(node["url"].rstrip("/").rsplit("/", 1)[1]))
        _check_ids(urls, claims, path.name)
        counted[f"{size}_public_sources_checked"] = sources
    return counted


# Profile --------------------------------------------------------------------------------


def profile_writers(fx: Fixture, top: int) -> dict[str, str]:
    """cProfile over each writer's first PROFILE_CLAIMS claims, in this process."""
    import cProfile
    import pstats

    from annotations.exports import selection as exports
    from annotations.exports import writers
    from annotations.models import Organization

    selection = exports.Selection(
        organization=Organization.objects.get(pk=fx.organization_id), audience="public"
    )

    def enough(rows: int) -> None:
        if rows >= PROFILE_CLAIMS:
            raise _Enough

    out: dict[str, str] = {}
    for name in FORMATS:
        profiler = cProfile.Profile()
        with tempfile.TemporaryFile() as file:
            profiler.enable()
            try:
                writers.WRITERS[EXPORT_FORMATS[name]](selection, file, enough)
            except _Enough:
                pass
            finally:
                profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
        out[name] = text.getvalue()
    return out


# Report ---------------------------------------------------------------------------------


def _runs(count: int) -> str:
    return f"median of {count}" if count > 1 else "1 run"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def table_rows(
    f: dict[str, Any], fx: Fixture, args: argparse.Namespace
) -> list[tuple[str, str, str, str, str]]:
    """The rows of the table, also in --json as "rows" (python -m bench gathers them)."""
    small, big = f"{fx.small_claims:,}", f"{fx.claims:,}"
    rows: list[tuple[str, str, str, str, str]] = []
    for name in FORMATS:
        for size, claims in (("small", small), ("all", big)):
            key = f"{name}_{size}"
            psql = f"psql_{key}"
            rows.append(
                (
                    f"{NAMES[name]}, {claims} claims ({_runs(len(f[key + '_times_s']))})",
                    f"{f[key + '_per_s']:,} claims/s ({f[key + '_s']:.2f} s)",
                    f"≥ {TARGETS[name + '_per_s']:,}/s",
                    f"psql \\copy, same rows and fields: {f[psql + '_s']:.2f} s "
                    f"({f[psql + '_per_s']:,}/s)",
                    f"{f[key + '_s'] / f[psql + '_s']:.1f}× psql \\copy",
                )
            )
        rows.append(
            (
                "  each run, small / all",
                ", ".join(f"{t:.2f}" for t in f[f"{name}_small_times_s"])
                + " / "
                + ", ".join(f"{t:.2f}" for t in f[f"{name}_all_times_s"])
                + " s",
                "",
                "",
                "",
            )
        )
    for name in FORMATS:
        peak_small, peak_all = f[f"{name}_small_peak_mb"], f[f"{name}_all_peak_mb"]
        rows.append(
            (
                f"peak memory, {NAMES[name]}: {small} / {big} claims",
                f"{_mb(peak_small)} / {_mb(peak_all)}",
                f"< {TARGETS['peak_mb']} MB, flat",
                f"idle Django process: {_mb(f['idle_peak_mb'])}",
                f"{peak_all / peak_small:.2f}× ({big} / {small})",
            )
        )
    rows += [
        (
            "  VmHWM of each writer process: small / all",
            ", ".join(
                f"{f[f'{n}_small_vm_hwm_mb']:.0f} / {f[f'{n}_all_vm_hwm_mb']:.0f}" for n in FORMATS
            )
            + " MB",
            "",
            f"idle: {_mb(f['idle_vm_hwm_mb'])}",
            "",
        ),
        (
            f"files, {big} claims: JSONL / CSV zip / ClaimReview",
            " / ".join(_mb(f[f"{n}_all_file_mb"]) for n in FORMATS),
            "",
            "psql \\copy: " + " / ".join(_mb(f[f"psql_{n}_all_file_mb"]) for n in FORMATS),
            "",
        ),
    ]
    return rows


def table(f: dict[str, Any], fx: Fixture, args: argparse.Namespace) -> str:
    rows = table_rows(f, fx, args)
    small, big = f"{fx.small_claims:,}", f"{fx.claims:,}"
    header = ("figure", "value", "target", "anchor (same run)", "ratio")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    ordinal = sum(
        n for slug, n in fx.verdicts.items() if slug not in ("misleading", "unverifiable")
    )
    out = [
        f"Exports benchmark: {fx.claims:,} published verified claims ({fx.unpublished:,} drafts "
        f"and retractions besides), {SOURCES_PER_CLAIM} sources each, {fx.confidential_sources:,} "
        "of them confidential;",
        f"PostgreSQL database {fx.database_mb:,.0f} MB, DEBUG off, no broker; data built in "
        f"{fx.seconds:.1f} s; {100 * ordinal / sum(fx.verdicts.values()):.0f} % ordinal verdicts.",
        "Timed: exports.WRITERS[format](Selection(public, published), a file on disk, progress),",
        f"in a fresh subprocess per format and size, up to {args.repeats} runs in a row within "
        f"{args.budget:.0f} s of writing.",
        "",
        line(header),
        line(tuple("-" * w for w in widths)),
        *(line(r) for r in rows),
        "",
        *NOTES,
        "",
        f"Checks passed: every file holds the {small} / {big} published claims, in id order;",
        f"JSONL and the CSV zip hold all {fx.public_sources:,} public sources (of the {big}) and",
        "no confidential one, nor anything on the confidential host; each psql \\copy wrote as",
        "many rows (and, for JSONL and the CSV, as many public sources) and nothing confidential.",
        "",
        caveat(),
    ]
    if "profile" in f:
        profiled = min(PROFILE_CLAIMS, fx.claims)
        out += ["", f"cProfile, the first {profiled:,} claims of each writer (by own time):"]
        for name, text in f["profile"].items():
            out += ["", f"--- {NAMES[name]}", *_profile_lines(text)]
    return "\n".join(out)


def _profile_lines(text: str) -> list[str]:
    lines = text.strip().splitlines()
    start = next((i for i, s in enumerate(lines) if s.lstrip().startswith("ncalls")), 0)
    keep = [lines[i] for i in range(len(lines)) if "function calls" in lines[i]]
    return keep + lines[start:]


NOTES = (
    "Ratio: the writer's median time / the median time of its own psql \\copy anchor: the same",
    "claims (the Selection's), with the same fields and the same public sources as its file",
    "holds, written by PostgreSQL as CSV (wall clock around the psql process, its start",
    "included); the cells' encoding (JSON, the formula guard, the zip) is the writer's alone.",
    "  JSONL: one \\copy, every field of a record and its public sources as json_agg, in order.",
    "  CSV (zip): two \\copy, claims.csv's columns (sources counted and listed, string_agg)",
    "  and sources.csv's rows.",
    "  ClaimReview: one \\copy of a node's fields (claim, verdict and scale, article,",
    "  newsroom's name and URL, dates) and no sources: the writer reads none.",
    "Peak memory: ru_maxrss of RUSAGE_CHILDREN in a `python -c` launcher started fresh for each",
    "measurement, read after the writer's process exited (Python and Django included, every",
    "repeat in the same process); the idle process sets Django up and loads the newsroom.",
    "Peers, reported by users, not measured here: Label Studio's free edition exports inside one",
    "HTTP request; 50,000 records took nearly 4 minutes (~210/s, HumanSignal/label-studio#5873),",
    "and 128,419 tasks hit a 180 s read timeout (under ~710/s, HumanSignal/label-studio#5262).",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.exports", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--claims", type=int, default=100_000, help="published verified claims")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each measurement")
    parser.add_argument(
        "--budget",
        type=float,
        default=75.0,
        help="seconds of writing per format and size: no further repeat once it would pass them",
    )
    parser.add_argument(
        "--profile", action="store_true", help=f"cProfile each writer on {PROFILE_CLAIMS:,} claims"
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--postgres", default=POSTGRES, help="server URL, without a database")
    parser.add_argument("--database", default=DATABASE, help="dropped and created again")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    # The measured subprocess.
    parser.add_argument("--child", choices=["write", "idle"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--organization-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--collection-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--format", choices=FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args)
    _require(args.claims >= 2, "--claims: at least 2")
    small = min(SMALL, args.claims // 2)

    url = recreate_database(args.postgres, args.database)
    log(f"database {args.database} created again; migrating")
    configure_django(url, migrate=True)
    log(f"building {args.claims:,} published verified claims, {SOURCES_PER_CLAIM} sources each")
    fx = build(random.Random(args.seed), args.claims, small)
    log(f"built in {fx.seconds:.1f} s ({fx.database_mb:,.0f} MB)")
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as directory:
        log(f"writers, {args.repeats} runs each, one subprocess per format and size")
        figures = measure_writers(url, fx, args.repeats, args.budget, Path(directory))
        log("psql \\copy of the same rows")
        figures |= measure_anchor(url, fx, args.repeats, Path(directory))
        log("checking the files")
        figures |= check_files(figures, fx)
    for key in [k for k in figures if k.endswith("_path")]:
        del figures[key]
    for name in FORMATS:
        for size in ("small", "all"):
            figures[f"{name}_{size}_vs_psql"] = round(
                figures[f"{name}_{size}_s"] / figures[f"psql_{name}_{size}_s"], 2
            )
    if args.profile:
        log(f"profiling each writer on {PROFILE_CLAIMS:,} claims")
        figures["profile"] = profile_writers(fx, top=15)
    from django.db import connections

    connections.close_all()
    if not args.keep:
        drop_database(args.postgres, args.database)
    log("done")

    if args.json:
        payload = {
            "benchmark": "exports",
            "setup": {
                "claims": fx.claims,
                "small_claims": fx.small_claims,
                "unpublished": fx.unpublished,
                "sources_per_claim": SOURCES_PER_CLAIM,
                "public_sources": fx.public_sources,
                "confidential_sources": fx.confidential_sources,
                "verdicts": fx.verdicts,
                "database": "postgresql",
                "database_mb": round(fx.database_mb, 1),
                "build_s": round(fx.seconds, 1),
                "repeats": args.repeats,
                "seed": args.seed,
                "cpus": os.cpu_count(),
                "peak_memory": "RUSAGE_CHILDREN ru_maxrss in a launcher started fresh per "
                "measurement, after the writer's subprocess exited; VmHWM of each child as a check",
                "anchor": {
                    name: f"psql {what}; TO file WITH CSV HEADER, wall clock around psql"
                    for name, what in ANCHORS.items()
                },
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
