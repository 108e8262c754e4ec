"""Claims checked before: suggestions for a new claim among 100,000 verified claims.

    .venv/bin/python -m bench.similar            # a table
    .venv/bin/python -m bench.similar --json     # the same figures as JSON
    .venv/bin/python -m bench.similar --claims 20000

Builds one newsroom with --claims verified claims (and a second newsroom with
a fifth as many, which must never be suggested) in a dedicated PostgreSQL
database (dropped and created again; the machine's server at 127.0.0.1:5432,
or --postgres), runs the migrations (pg_trgm and the GiST index of 0008),
ANALYZEs, and times `similar.similar_claims`, the call the adjudication view
and the reader's claim form make, for two kinds of new claim:

- reworded: what a reviewer highlights when a checked claim comes round
  again, a run of 4 to 9 of its words with one word changed (the original
  should come first);
- new: a run of words from a claim nobody checked (people and places unknown
  to the archive; few or no suggestions).

Anchors, measured in the same run on the same data, each on exactly the
queries of the figure it is the ratio of:
- reworded claims: the same call with index scans turned off (every row's
  similarity, then a sort), on the same reworded queries: what the index
  saves;
- new wording: the SQLite fallback's ranking, rapidfuzz's token_set_ratio
  over the same candidate texts (the newsroom's claims, read through the same
  Scope as the PostgreSQL query), held in memory, on the same new-wording
  queries, cut as similar_claims cuts them: what an embedded install does,
  minus loading the texts from its database and the suggestions' verdicts
  and sources, which the figure includes. The same rapidfuzz ranking of the
  reworded queries gives the "rapidfuzz first" share.

A benchmark prints figures; it never fails on a slow number.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
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

DATABASE = "workbench_bench_similar"
TARGET_MS = 50.0

# Claims are built from templates, with the variety of a real archive: people
# and places are many (names made of syllables, several thousand of each),
# topics come from the demo article's own vocabulary, numbers and years vary.
SYLLABLES = (
    "ka",
    "bi",
    "lu",
    "mo",
    "nde",
    "ra",
    "tshi",
    "ngo",
    "wa",
    "ze",
    "ki",
    "sa",
    "mu",
    "be",
    "to",
    "la",
    "fe",
    "ri",
    "go",
    "ma",
    "yo",
    "di",
    "ne",
    "po",
    "ku",
    "so",
    "ta",
    "vi",
    "jo",
    "ha",
    "me",
    "ba",
    "chi",
    "lo",
    "na",
    "pe",
    "du",
    "si",
    "te",
    "ro",
)
TITLES = ("Minister", "Senator", "Governor", "General", "Mayor", "Dr", "Judge", "Bishop", "")
VERBS = (
    "says",
    "claims",
    "announced that",
    "denies that",
    "confirmed that",
    "insists that",
    "told reporters that",
    "wrote that",
    "promised that",
    "warned that",
    "posted that",
    "said on radio that",
    "tweeted that",
    "repeated that",
    "suggested that",
    "",
)
CHANGES = ("rose", "fell", "doubled", "halved", "stayed flat", "tripled", "dropped sharply")
TEMPLATES = (
    "{who} {verb} {topic} {change} by {n}% in {place} since {year}",
    "{who} {verb} {n} {topic} were recorded in {place} last {month}",
    "{who} {verb} {place} received {n} million dollars for {topic} in {year}",
    "{who} {verb} {other} ordered the {topic} in {place}",
    "{who} {verb} no {topic} took place in {place} before {year}",
    "{who} {verb} {other} was born in {place}",
    "{who} {verb} {other} never visited {place}",
    "{who} {verb} {n} people died in {place} during the {topic}",
    "{who} {verb} {place} has the highest {topic} rate in the country",
    "{who} {verb} {other} voted against the {topic} bill in {year}",
    "{who} {verb} the {topic} in {place} cost {n} billion francs",
    "{who} {verb} {other} owns a {topic} company in {place}",
    "{who} {verb} {topic} is banned in {place}",
    "{who} {verb} {place} will hold elections in {month} {year}",
    "{who} {verb} {n} soldiers were sent to {place}",
    "{who} {verb} {other} resigned after the {topic}",
    "{who} {verb} every school in {place} now has {topic}",
    "{who} {verb} {topic} doubled under {other}",
    "{who} {verb} a photo shows {other} at the {topic} in {place}",
    "{who} {verb} {place} was never part of {other}'s {topic} plan",
)
MONTHS = ("January", "March", "May", "July", "September", "November", "week", "year")


class Vocabulary:
    def __init__(self, rng: random.Random) -> None:
        def name() -> str:
            return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).title()

        self.people = [f"{rng.choice(TITLES)} {name()} {name()}".strip() for _ in range(5000)]
        self.places = [name() for _ in range(3000)]
        # The demo article the workbench ships (annotations/demo/), so that a clean
        # clone builds the same claims.
        text = ROOT / "annotations" / "demo"
        words = set()
        for path in sorted(text.glob("*.txt")):
            words |= {
                w.strip(".,;:“”\"'()").lower() for w in path.read_text(errors="ignore").split()
            }
        self.topics = sorted(w for w in words if len(w) >= 5 and w.isalpha())
        if len(self.topics) < 2:
            raise SystemExit(f"bench.similar: no demo article under {text} to take topics from")

    def claim(self, rng: random.Random) -> str:
        return " ".join(
            rng.choice(TEMPLATES)
            .format(
                who=rng.choice(self.people),
                other=rng.choice(self.people),
                verb=rng.choice(VERBS),
                topic=" ".join(rng.sample(self.topics, 2)),
                change=rng.choice(CHANGES),
                n=rng.randint(2, 950),
                place=rng.choice(self.places),
                year=rng.randint(1995, 2025),
                month=rng.choice(MONTHS),
            )
            .split()
        )


def quote(rng: random.Random, text: str) -> str:
    """What a reviewer highlights: a run of 4 to 9 words of a claim."""
    words = text.split()
    size = min(len(words), rng.randint(4, 9))
    start = rng.randrange(len(words) - size + 1)
    return " ".join(words[start : start + size])


def reworded(rng: random.Random, text: str) -> str:
    """The same claim quoted again in another article: a run of its words, one changed."""
    words = quote(rng, text).split()
    words[rng.randrange(len(words))] = rng.choice(("reportedly", "nearly", "about", "now"))
    return " ".join(words)


def build(rng: random.Random, claims: int) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.db import connection

    from annotations.models import Article, Collection, Organization, VerdictLabel, VerifiedClaim
    from annotations.newsrooms.services import taxonomy_ensure_default

    started = time.perf_counter()
    vocabulary = Vocabulary(rng)
    editor = User.objects.create(username="editor")
    texts: dict[int, list[str]] = {}
    organizations = []
    for slug, count in (("planet", claims), ("gazette", claims // 5)):
        organization = Organization.objects.create(slug=slug, name=slug.title())
        organizations.append(organization)
        taxonomy = taxonomy_ensure_default(organization=organization)
        labels = list(VerdictLabel.objects.filter(taxonomy=taxonomy))
        collection = Collection.objects.create(
            organization=organization, slug="desk", name="Desk", taxonomy=taxonomy
        )
        per_article = 1000
        articles = Article.objects.bulk_create(
            Article(
                organization=organization,
                collection=collection,
                title=f"Article {i}",
                url=f"https://{slug}.example/{i}",
                text="x" * (per_article + 1),
                content_hash=f"{slug}-{i}".rjust(64, "0"),
            )
            for i in range((count + per_article - 1) // per_article)
        )
        own = [vocabulary.claim(rng) for _ in range(count)]
        texts[organization.pk] = own
        batch = []
        for i, text in enumerate(own):
            batch.append(
                VerifiedClaim(
                    organization=organization,
                    article=articles[i // per_article],
                    start=i % per_article,
                    end=i % per_article + 1,
                    quote="x",
                    claim_reviewed=text,
                    verdict=labels[i % len(labels)],
                    lineage="single",
                    editor=editor,
                    status="published",
                    published_at="2026-01-01T00:00:00Z",
                )
            )
            if len(batch) == 5000:
                VerifiedClaim.objects.bulk_create(batch)
                batch = []
        VerifiedClaim.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        # As autovacuum leaves it: statistics, and the GIN pending list merged.
        cursor.execute("VACUUM ANALYZE annotations_verifiedclaim")
        cursor.execute("SELECT pg_relation_size('verified_claim_reviewed_trgm')")
        index_mb = cursor.fetchone()[0] / 1e6
    return {
        "organization": organizations[0],
        "texts": texts[organizations[0].pk],
        "ids": list(
            VerifiedClaim.objects.filter(organization=organizations[0])
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        "seconds": time.perf_counter() - started,
        "index_mb": index_mb,
    }


def _times(call: Callable[[str], Any], queries: Sequence[str]) -> tuple[list[float], list[Any]]:
    times, results = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(call(query))
        times.append((time.perf_counter() - started) * 1000)
    return times, results


def _p95(times: Sequence[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) >= 20 else max(times)


def measure(fx: dict[str, Any], queries: int, seed: int) -> dict[str, Any]:
    from django.db import connection

    from annotations.verification import similar

    rng = random.Random(seed + 1)
    organization_id = fx["organization"].pk
    picks = [rng.randrange(len(fx["texts"])) for _ in range(queries)]
    worded = [reworded(rng, fx["texts"][i]) for i in picks]
    vocabulary = Vocabulary(random.Random(seed + 2))
    novel = [quote(rng, vocabulary.claim(rng)) for _ in range(queries)]

    def suggest(text: str) -> list[Any]:
        return similar.similar_claims(organization_id=organization_id, text=text)

    suggest(worded[0])  # warm the connection and the caches
    figures: dict[str, Any] = {}
    for name, batch in (("reworded", worded), ("new", novel)):
        times, results = _times(suggest, batch)
        figures[f"{name}_ms"] = statistics.median(times)
        figures[f"{name}_p95_ms"] = _p95(times)
        figures[f"{name}_suggestions"] = statistics.mean(len(r) for r in results)
        figures[f"{name}_given_up"] = sum(t >= similar.TIMEOUT_MS for t in times)
        _require(
            all(s.claim.organization_id == organization_id for r in results for s in r),
            "a suggestion from another newsroom",
        )
        if name == "reworded":
            firsts = [
                bool(r) and r[0].claim.pk == fx["ids"][i]
                for r, i in zip(results, picks, strict=True)
            ]
            figures["reworded_first"] = sum(firsts) / len(firsts)
            in_top = [
                any(s.claim.pk == fx["ids"][i] for s in r)
                for r, i in zip(results, picks, strict=True)
            ]
            figures["reworded_top5"] = sum(in_top) / len(in_top)

    # Every anchor runs on exactly the queries of the figure it is the ratio of:
    # the reworded row's on `worded`, the new-wording row's on `novel`.
    # Anchor 1: the same query, every row scored and sorted (no index).
    # Without the index a query takes longer than the app waits for suggestions.
    timeout, similar.TIMEOUT_MS = similar.TIMEOUT_MS, 60_000
    with connection.cursor() as cursor:
        cursor.execute("SET enable_indexscan = off")
        cursor.execute("SET enable_bitmapscan = off")
    times, unindexed = _times(suggest, worded)
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_indexscan")
        cursor.execute("RESET enable_bitmapscan")
    figures["no_index_ms"] = statistics.median(times)
    # The indexed answers again, with the same long timeout: a query the figure
    # gave up on is compared on its answer, not on an empty list.
    indexed = [suggest(q) for q in worded]
    similar.TIMEOUT_MS = timeout
    figures["index_same_first"] = statistics.mean(
        (bool(a) and bool(b) and a[0].claim.pk == b[0].claim.pk) or (not a and not b)
        for a, b in zip(indexed, unindexed, strict=True)
    )

    # Anchor 2: the SQLite fallback's ranking, rapidfuzz over every text in memory.
    # The candidates are the texts the PostgreSQL query chooses among (the same
    # Scope), and each query is cut as similar_claims cuts it (_query_text).
    scope = similar.Scope(organization_id)
    choices = dict(scope.queryset().order_by("pk").values_list("pk", "claim_reviewed"))
    # The figure's "original first" share and this one both take fx["ids"][i] as text i's claim.
    _require(
        len(choices) == len(fx["ids"])
        and all(choices.get(pk) == text for pk, text in zip(fx["ids"], fx["texts"], strict=True)),
        "rapidfuzz's candidates are not the newsroom's claims, id for id",
    )

    def fuzzy(text: str) -> list[tuple[int, float]]:
        return similar.fuzzy_rank(choices, similar._query_text(text), similar.LIMIT)

    fuzzy(novel[0])  # warm up, as the figure's connection was
    for name, batch in (("reworded", worded), ("new", novel)):
        times, fuzzy_results = _times(fuzzy, batch)
        figures[f"rapidfuzz_{name}_ms"] = statistics.median(times)
        if name == "reworded":
            figures["rapidfuzz_first"] = statistics.mean(
                bool(r) and r[0][0] == fx["ids"][i]
                for r, i in zip(fuzzy_results, picks, strict=True)
            )
    figures["plan"] = similar.nearest(
        similar.Scope(organization_id), worded[0], similar.LIMIT
    ).explain(analyze=True)
    return figures


def similar_timeout() -> int:
    from annotations.verification import similar

    return similar.TIMEOUT_MS


def table_rows(f: dict[str, Any], args: argparse.Namespace) -> list[tuple[str, str, str, str, str]]:
    """The rows of the table, also in --json as "rows" (python -m bench gathers them)."""
    return [
        (
            f"suggestions for a reworded claim, median of {args.queries}",
            f"{f['reworded_ms']:.1f} ms",
            f"< {TARGET_MS:.0f} ms",
            f"no index (every row scored), same queries: {f['no_index_ms']:.1f} ms",
            f"1/{f['no_index_ms'] / f['reworded_ms']:.0f}",
        ),
        (
            "  95th percentile / given up (no suggestions) after the app's timeout",
            f"{f['reworded_p95_ms']:.1f} ms / {f['reworded_given_up']}",
            "",
            f"timeout: {similar_timeout()} ms",
            "",
        ),
        (
            "  the original claim ranked first / in the top 5",
            f"{f['reworded_first']:.0%} / {f['reworded_top5']:.0%}",
            "",
            f"rapidfuzz, same queries, first: {f['rapidfuzz_first']:.0%}",
            "",
        ),
        (
            f"suggestions for new wording, median of {args.queries}",
            f"{f['new_ms']:.1f} ms",
            f"< {TARGET_MS:.0f} ms",
            f"rapidfuzz over all texts in memory, same queries: {f['rapidfuzz_new_ms']:.1f} ms",
            f"{f['new_ms'] / f['rapidfuzz_new_ms']:.2f}×",
        ),
        (
            "  95th percentile / given up / suggestions per query",
            f"{f['new_p95_ms']:.1f} ms / {f['new_given_up']} / {f['new_suggestions']:.1f}",
            "",
            "",
            "",
        ),
    ]


def table(f: dict[str, Any], args: argparse.Namespace, fx: dict[str, Any]) -> str:
    rows = [("figure", "value", "target", "anchor (same run)", "ratio"), *table_rows(f, args)]
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = [
        f"Similar claims: {args.claims:,} verified claims in the newsroom (+{args.claims // 5:,} "
        f"in another), built in {fx['seconds']:.1f} s; trigram GIN index {fx['index_mb']:.0f} MB.",
        "Timed: similar.similar_claims (candidates from the GIN trigram index, ranked by word "
        "similarity, then loaded with their verdicts and sources), as the views call it.",
        "",
    ]
    for i, row in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += [
        "",
        "Plan of the query, for one reworded claim:",
        *("  " + p for p in f["plan"].splitlines()),
    ]
    lines += [
        "",
        "Same first suggestion with and without the index: "
        f"{f['index_same_first']:.0%} of the {args.queries} reworded queries.",
        "Each anchor ran on exactly the queries of its figure: no index on the reworded ones,",
        "rapidfuzz (over the same candidate claims, held in memory) on the new-wording ones;",
        "the figure also loads each suggestion's verdict and sources, which rapidfuzz does not.",
        "",
        caveat(),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.similar", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    url = recreate_database(args.postgres, args.database)
    log(f"database {args.database} created again; migrating")
    configure_django(url, migrate=True)
    log(f"building {args.claims:,} verified claims")
    fx = build(random.Random(args.seed), args.claims)
    log(f"built in {fx['seconds']:.1f} s; measuring")
    figures = measure(fx, args.queries, args.seed)
    from django.db import connections

    connections.close_all()
    if not args.keep:
        drop_database(args.postgres, args.database)
    log("done")
    if args.json:
        payload = {"benchmark": "similar", "claims": args.claims} | figures
        payload |= {"rows": table_rows(figures, args), "caveat": caveat()}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(table(figures, args, fx))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
