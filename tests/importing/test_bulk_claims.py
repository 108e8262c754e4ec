"""Claims imported in bulk: batches, their checks, their failures, and what they ask for.

At the Daily Planet, alice and carol are reviewers and bob the editor; the
politics desk holds ten short articles. A claims file names them by URL (or
by the hash of their text), and its reviewers by user name.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO

import pytest
from celery.signals import before_task_publish, task_prerun
from django.core.management import CommandError, call_command
from django.db import connection

from annotations.core.inputs import ARTICLE_URN, SourceInput
from annotations.importing.claims import annotations_import
from annotations.models import Assignment, AssignmentStatus, ClaimAnnotation, Source
from annotations.reader.services import assignment_submit, claim_create
from tests.factories import ArticleFactory

REFRESH = "annotations.tasks.agreement_refresh"
REFRESH_MANY = "annotations.tasks.agreement_refresh_many"


@pytest.fixture
def articles(desk, alice, carol):
    return [
        ArticleFactory(collection=desk, url=f"https://news.example/story-{n}") for n in range(10)
    ]


def spans(text: str) -> Iterator[tuple[int, int]]:
    """Distinct spans of a text, short ones first."""
    for length in range(3, len(text)):
        for start in range(0, len(text) - length, 7):
            yield start, start + length


def claim_lines(articles, count: int, reviewer: str = "alice") -> list[dict]:
    """`count` good claims spread over the articles, one source on every other."""
    per_article = {article.pk: spans(article.text) for article in articles}
    lines = []
    for n in range(count):
        article = articles[n % len(articles)]
        start, end = next(per_article[article.pk])
        lines.append(
            {
                "article": article.url,
                "reviewer": reviewer,
                "start": start,
                "end": end,
                "quote": article.text[start:end],
                "verdict": "false" if n % 3 else None,
                "rating": 1 if n % 3 else None,
                "note": f"Claim {n}.",
                "sources": [{"url": f"https://source.example/{n}", "stance": "refutes"}]
                if n % 2
                else [],
            }
        )
    return lines


def jsonl(lines: list[dict]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def run_command(tmp_path, lines: list[dict], org: str = "planet") -> tuple[str, str]:
    path = tmp_path / "claims.jsonl"
    path.write_bytes(jsonl(lines))
    out, err = StringIO(), StringIO()
    try:
        call_command("import_annotations", "--org", org, str(path), stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"\nEXIT NON-ZERO: {exc}")
    return out.getvalue(), err.getvalue()


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """What the import does once its transactions commit (the test's own never does)."""
    return django_capture_on_commit_callbacks


@contextmanager
def refreshes_sent() -> Iterator[Counter[int]]:
    """The agreement refreshes asked for, by article: run in this process (no broker)
    or published to a broker for the workers."""
    sent: Counter[int] = Counter()

    def count(name, args):
        if name == REFRESH:
            sent[args[0]] += 1
        elif name == REFRESH_MANY:
            sent.update(args[0])

    def ran(sender=None, task_id=None, task=None, args=None, **kwargs):
        if task is not None:
            count(task.name, args)

    def published(sender=None, body=None, **kwargs):
        count(sender, body[0])

    task_prerun.connect(ran, weak=False)
    before_task_publish.connect(published, weak=False)
    try:
        yield sent
    finally:
        task_prerun.disconnect(ran)
        before_task_publish.disconnect(published)


def test_a_2000_line_file_with_3_bad_lines_imports_the_1997_others(tmp_path, articles):
    lines = claim_lines(articles, 2000)
    lines[16]["quote"] = "not what the article says"
    lines[1023]["verdict"] = "pants-on-fire"
    lines[1998]["reviewer"] = "mallory"

    out, err = run_command(tmp_path, lines)

    assert "1997 created, 0 already present, 3 errors." in out, err
    named = [line.split(":")[1] for line in err.splitlines() if line.startswith(str(tmp_path))]
    assert named == ["17", "1024", "1999"]
    assert "EXIT NON-ZERO: 3 line(s) could not be imported." in err
    assert ClaimAnnotation.objects.count() == 1997
    assert Source.objects.count() == sum(1 for n, line in enumerate(lines) if line["sources"]) - 1


def test_every_line_is_checked_across_batches_and_good_ones_kept(articles, alice):
    lines = claim_lines(articles, 120)
    lines[5]["end"] = 10_000
    lines[49]["rating"] = 9
    lines[50]["sources"] = [{"url": "https://ok.example/", "stance": "maybe"}]
    lines[99]["article"] = "https://news.example/unknown"
    # Line 112 repeats line 3: already present, not an error.
    lines[111] = dict(lines[2])

    report = annotations_import(
        organization=articles[0].organization, data=jsonl(lines), name="f.jsonl", batch_lines=50
    )

    assert [e.split(": ", 1)[0] for e in report.errors] == [
        "f.jsonl:6",
        "f.jsonl:50",
        "f.jsonl:51",
        "f.jsonl:100",
    ]
    assert "end: End 10000 is past the end of the text" in report.errors[0]
    assert "rating: Rating 9 is outside 1–5" in report.errors[1]
    assert "sources[0].stance: 'maybe' is not a stance" in report.errors[2]
    assert "article: No article with URL" in report.errors[3]
    assert (report.created, report.unchanged, report.failed) == (115, 1, 4)
    assert ClaimAnnotation.objects.count() == 115


def test_agreement_is_asked_for_once_per_article_not_per_claim(articles, committing):
    lines = claim_lines(articles[:4], 200)

    with refreshes_sent() as sent, committing(execute=True):
        report = annotations_import(
            organization=articles[0].organization, data=jsonl(lines), name="f", batch_lines=60
        )

    assert report.created == 200
    assert sent == Counter({article.pk: 1 for article in articles[:4]})


def test_importing_again_says_already_present_and_writes_nothing(articles, committing):
    lines = claim_lines(articles, 300)
    organization = articles[0].organization
    annotations_import(organization=organization, data=jsonl(lines), name="f")
    history = ClaimAnnotation.history.model.objects.count()

    with refreshes_sent() as sent, committing(execute=True):
        again = annotations_import(organization=organization, data=jsonl(lines), name="f")

    assert (again.created, again.unchanged, again.errors) == (0, 300, [])
    assert ClaimAnnotation.objects.count() == 300
    assert ClaimAnnotation.history.model.objects.count() == history
    assert not sent, "nothing changed: no agreement to refresh"


@pytest.fixture
def refusing_trigger(db):
    """A database that refuses any source on refused.example, mid-batch: after the
    batch's claims are written, when its sources are."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse_source() RETURNS trigger AS $$ BEGIN "
                "IF NEW.url LIKE '%refused.example%' THEN "
                "RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse_source BEFORE INSERT ON annotations_source "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_source()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_refuse_source BEFORE INSERT ON annotations_source "
                "WHEN NEW.url LIKE '%refused.example%' "
                "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
            )


def test_a_batch_the_database_refuses_leaves_nothing_of_itself(
    articles, refusing_trigger, committing
):
    lines = claim_lines(articles[:2], 30) + claim_lines(articles[2:4], 30, reviewer="carol")
    lines += claim_lines(articles[4:6], 30)
    # The second batch (lines 31–60, carol's, on articles 3 and 4) holds one source the
    # database refuses, and a bad line of its own.
    lines[44]["sources"] = [{"url": "https://refused.example/x", "stance": "context"}]
    lines[49]["quote"] = "wrong"

    with refreshes_sent() as sent, committing(execute=True):
        report = annotations_import(
            organization=articles[0].organization, data=jsonl(lines), name="f", batch_lines=30
        )

    assert report.created == 60
    assert report.failed == 30
    assert report.errors[0].startswith("f:31: the database refused lines 31–60 as a whole")
    assert "29 good line(s)" in report.errors[0]
    assert "refused by a test trigger" in report.errors[0]
    assert report.errors[1].startswith("f:50: quote: The text at")
    # Nothing of carol's batch: no claim, no source, no history row, no assignment.
    assert not ClaimAnnotation.objects.filter(reviewer__username="carol").exists()
    assert not ClaimAnnotation.history.model.objects.filter(reviewer__username="carol").exists()
    assert not Source.objects.filter(claim__reviewer__username="carol").exists()
    assert not Assignment.objects.filter(reviewer__username="carol").exists()
    assert ClaimAnnotation.objects.count() == 60
    # Only the articles that got claims have their agreement asked for.
    assert set(sent) == {a.pk for a in articles[:2] + articles[4:6]}


def test_history_rows_are_those_a_claim_saved_alone_gets(articles, alice):
    first, second = articles[:2]
    alone = claim_create(
        article=first,
        reviewer=alice,
        start=4,
        end=12,
        quote=first.text[4:12],
        verdict=None,
        rating=None,
        note="Saved alone.",
        sources=[SourceInput(url="https://a.example/")],
    )
    annotations_import(
        organization=first.organization,
        data=jsonl(
            [
                {
                    "article": second.url,
                    "reviewer": "alice",
                    "start": 4,
                    "end": 12,
                    "quote": second.text[4:12],
                    "verdict": None,
                    "note": "Imported.",
                }
            ]
        ),
        name="f",
    )
    imported = ClaimAnnotation.objects.get(article=second)
    history = ClaimAnnotation.history.model
    columns = [f.attname for f in history._meta.concrete_fields if f.attname != "history_id"]
    rows = {
        row["id"]: row
        for row in history.objects.values(*columns).filter(id__in=[alone.pk, imported.pk])
    }

    assert set(rows) == {alone.pk, imported.pk}, "one history row each"
    kept = {"history_type", "history_user_id", "history_change_reason"}
    assert {k: rows[imported.pk][k] for k in kept} == {k: rows[alone.pk][k] for k in kept}
    assert rows[imported.pk]["history_type"] == "+"
    assert abs(rows[imported.pk]["history_date"] - imported.created_at) < timedelta(seconds=1)
    for name in ("article_id", "reviewer_id", "start", "end", "quote", "note", "version"):
        assert rows[imported.pk][name] == getattr(imported, name)


def test_a_submitted_reviewer_is_refused_as_in_the_reader(articles, alice):
    article = articles[0]
    assignment = Assignment.objects.create(article=article, reviewer=alice)
    assignment_submit(assignment=assignment, user=alice, confirm_unchecked=True)

    report = annotations_import(
        organization=article.organization, data=jsonl(claim_lines([article], 2)), name="f"
    )

    assert report.created == 0
    assert [e.split(": ", 2)[1:] for e in report.errors] == [
        ["reviewer", "You have submitted this article; ask an editor to reopen it to make changes."]
    ] * 2


def test_assignments_start_or_are_made_for_the_reviewers(articles, alice, carol):
    Assignment.objects.create(article=articles[0], reviewer=alice)
    lines = claim_lines(articles[:1], 3) + claim_lines(articles[1:2], 3, reviewer="carol")

    annotations_import(organization=articles[0].organization, data=jsonl(lines), name="f")

    assert set(Assignment.objects.values_list("article_id", "reviewer__username", "status")) == {
        (articles[0].pk, "alice", AssignmentStatus.IN_PROGRESS),
        (articles[1].pk, "carol", AssignmentStatus.IN_PROGRESS),
    }


def test_an_article_without_url_is_named_by_its_text(desk, alice):
    unnamed = ArticleFactory(collection=desk, url="", content_hash="ab" * 32)
    line = claim_lines([unnamed], 1)[0] | {"article": ARTICLE_URN + "ab" * 32}

    report = annotations_import(organization=desk.organization, data=jsonl([line]), name="f")

    assert (report.created, report.errors) == (1, [])
    assert ClaimAnnotation.objects.get().article == unnamed


def test_a_file_is_read_as_it_streams(articles):
    """A file object is read line by line, never whole: a stream that refuses read()
    beyond the sniffed head still imports."""

    class Stream(io.BytesIO):
        def read(self, size=-1):
            assert 0 <= size <= 64 * 1024, "read whole"
            return super().read(size)

    lines = claim_lines(articles, 50)

    report = annotations_import(
        organization=articles[0].organization, data=Stream(jsonl(lines)), name="f"
    )

    assert report.created == 50


def test_an_import_that_dies_midway_still_has_its_articles_agreement_refreshed(
    articles, committing
):
    from datetime import timedelta

    from django.utils import timezone

    from annotations.agreement import runs as agreement_runs

    agreement_runs.report_run_here(agreement_runs.report_start(collection=articles[0].collection))
    # Two batches written, then the worker is killed: the refresh it would have
    # asked for at the end is never sent.
    batches_written = []
    with refreshes_sent() as sent, committing(execute=True):
        annotations_import(
            organization=articles[0].organization,
            data=jsonl(claim_lines(articles[:4], 40)),
            name="f",
            batch_lines=20,
            touched=set(),
            on_batch=lambda *args: batches_written.append(args),
        )
    assert batches_written
    assert not sent
    # The reconciliation finds each article the committed batches touched, and sends it.
    later = timezone.now() + timedelta(seconds=1)
    assert agreement_runs.refreshes_pending(requested_before=later) == sorted(
        a.pk for a in articles[:4]
    )
