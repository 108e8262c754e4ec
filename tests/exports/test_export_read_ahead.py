"""An export reads its next page while it writes this one, in a thread with its own connection.

The thread cannot see a transaction that is not committed, so these tests
commit their data (transactional_db) and compare with the same export made
inside a transaction, where the pages are read one after the other.
"""

from __future__ import annotations

import csv
import io
import threading
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from annotations.exports import csvfile, reading, writers
from annotations.exports import selection as exports
from annotations.models import Organization, VerifiedClaim
from tests.api.conftest import publish_many


@pytest.fixture
def newsroom(transactional_db) -> Organization:
    call_command("demo", stdout=StringIO())
    organization = Organization.objects.get(slug="demo")
    publish_many(organization.articles.get(), 9)
    return organization


def written(selection: exports.Selection, fmt: str) -> bytes:
    out = io.BytesIO()
    writers.WRITERS[fmt](selection, out, lambda done: None)
    return out.getvalue()


@pytest.mark.parametrize(
    "fmt",
    [
        "jsonl",
        # In PostgreSQL, COPY writes the CSV (tests/exports/test_export_formats.py compares it).
        "csv",
        pytest.param(
            "csv-zip",
            marks=pytest.mark.skipif(
                connection.vendor == "postgresql", reason="COPY writes the CSV"
            ),
        ),
        "claimreview",
    ],
)
def test_pages_read_ahead_in_a_thread_make_the_same_file(newsroom, monkeypatch, fmt):
    monkeypatch.setattr(reading, "CHUNK", 3)  # several pages
    selection = exports.Selection(organization=newsroom)
    readers: list[str] = []
    pages = reading._claim_pages

    def recorded(*args, **kwargs):
        readers.append(threading.current_thread().name)
        yield from pages(*args, **kwargs)

    monkeypatch.setattr(reading, "_claim_pages", recorded)

    with transaction.atomic():
        one_by_one = written(selection, fmt)
    ahead = written(selection, fmt)

    assert readers == ["MainThread", "export-read-ahead"]
    assert ahead == one_by_one
    if fmt == "jsonl":
        assert len(ahead.splitlines()) == 11  # the demo's 2 and these 9


def test_a_failure_while_reading_ahead_fails_the_export_and_leaves_no_thread(newsroom, monkeypatch):
    monkeypatch.setattr(reading, "CHUNK", 3)
    pages = reading._claim_pages

    def broken(*args, **kwargs):
        source = pages(*args, **kwargs)
        yield next(source)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(reading, "_claim_pages", broken)

    with pytest.raises(RuntimeError, match="the database went away"):
        written(exports.Selection(organization=newsroom), "jsonl")
    assert "export-read-ahead" not in [t.name for t in threading.enumerate()]


def test_a_writer_that_stops_early_stops_the_reader(newsroom, monkeypatch):
    monkeypatch.setattr(reading, "CHUNK", 1)
    pages = reading.claim_pages(exports.Selection(organization=newsroom))

    first = next(pages)
    pages.close()

    assert len(first[0]) == 1
    assert "export-read-ahead" not in [t.name for t in threading.enumerate()]


def test_a_write_that_fails_behind_fails_the_export_and_leaves_no_thread():
    class DiskFull(io.BytesIO):
        def write(self, data):
            if self.tell() > 10:
                raise OSError("No space left on device")
            return super().write(data)

    def write_pages() -> None:
        with reading.written_behind(DiskFull()) as write:
            for _ in range(100):
                write(b"a page of claims\n")

    with pytest.raises(OSError, match="No space left"):
        write_pages()
    assert "export-write-behind" not in [t.name for t in threading.enumerate()]


# In PostgreSQL the CSV's sources are copied in a thread of their own while the
# claims are (exports._csv_copied), outside a transaction.
postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")


def unzipped(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None  # every member's CRC checks
    return {name: archive.read(name) for name in archive.namelist()}


@postgresql
@pytest.mark.parametrize("audience", ["public", "newsroom"])
def test_csv_sources_copied_alongside_make_the_same_file(newsroom, monkeypatch, audience):
    monkeypatch.setattr(csvfile, "COPY_PAGE", 2)
    selection = exports.Selection(organization=newsroom, audience=audience)
    copiers: list[tuple[str, str]] = []
    copy_into = csvfile._copy_into

    def recorded(out, cursor, query, *args, **kwargs):
        what = "sources" if "row_number()" in query else "claims"
        copiers.append((what, threading.current_thread().name))
        return copy_into(out, cursor, query, *args, **kwargs)

    monkeypatch.setattr(csvfile, "_copy_into", recorded)

    with transaction.atomic():
        one_by_one = unzipped(written(selection, "csv-zip"))
    assert set(copiers) == {("claims", "MainThread"), ("sources", "MainThread")}
    copiers.clear()
    alongside = unzipped(written(selection, "csv-zip"))

    assert set(copiers) == {("claims", "export-read-ahead"), ("sources", "export-sources")}
    assert len(copiers) == 2 * 6  # 11 claims, 2 a page
    assert alongside == one_by_one
    sources = list(csv.DictReader(io.StringIO(alongside["sources.csv"].decode("utf-8-sig"))))
    claims = list(csv.DictReader(io.StringIO(alongside["claims.csv"].decode("utf-8-sig"))))
    assert len(claims) == 11
    assert len(sources) == sum(int(claim["source_count"]) for claim in claims) > 0


@postgresql
def test_claims_and_sources_come_from_one_moment_while_editors_work(newsroom, monkeypatch):
    # The export's two files are copied over two connections, page by page;
    # a claim retracted, or a source added, while they are is in neither or both.
    monkeypatch.setattr(csvfile, "COPY_PAGE", 2)
    claims = list(VerifiedClaim.objects.filter(organization=newsroom).order_by("pk"))
    edited = threading.Event()
    snapshot_begin = csvfile._snapshot_begin

    def sources_after_the_edit(cursor, snapshot=None):
        if snapshot is not None:  # the sources' connection begins once editors were at work
            edited.wait(5)
        return snapshot_begin(cursor, snapshot)

    monkeypatch.setattr(csvfile, "_snapshot_begin", sources_after_the_edit)

    def progress(done: int) -> None:
        if not edited.is_set():
            VerifiedClaim.objects.filter(pk=claims[-2].pk).update(status="draft")
            claims[-1].sources.create(url="https://late.example/", title="Added meanwhile")
            edited.set()

    out = io.BytesIO()
    csvfile.write_csv_zip(exports.Selection(organization=newsroom), out, progress)

    files = unzipped(out.getvalue())
    rows = list(csv.DictReader(io.StringIO(files["claims.csv"].decode("utf-8-sig"))))
    sources = list(csv.DictReader(io.StringIO(files["sources.csv"].decode("utf-8-sig"))))
    assert edited.is_set()
    assert len(rows) == 11  # as when the export began
    counted = {row["id"]: int(row["source_count"]) for row in rows}
    listed: dict[str, int] = {}
    for source in sources:
        listed[source["claim_id"]] = listed.get(source["claim_id"], 0) + 1
    assert {claim: n for claim, n in counted.items() if n} == listed
    assert "https://late.example/" not in files["sources.csv"].decode()


@postgresql
def test_a_failing_csv_export_stops_the_sources_copy_and_leaves_no_thread(newsroom, monkeypatch):
    monkeypatch.setattr(csvfile, "COPY_PAGE", 1)
    failed = threading.Event()
    copying = threading.Event()
    stops: list[threading.Event] = []
    copied: list[int] = []
    source_lines = csvfile._CsvCopy.source_lines
    in_background = reading.in_background

    def recorded(work, name):
        def work_recorded(stop):
            stops.append(stop)
            return work(stop)

        return in_background(work_recorded, name)

    def slow(self, out, cursor, after, through):
        copied.append(through)
        copying.set()
        # Still copying the first page's sources when the writer fails, and
        # until the failure has asked the copy to stop.
        failed.wait(5)
        stops[0].wait(5)
        return source_lines(self, out, cursor, after, through)

    monkeypatch.setattr(csvfile, "in_background", recorded)
    monkeypatch.setattr(csvfile._CsvCopy, "source_lines", slow)

    def progress(done: int) -> None:
        # The writer fails once the sources copy is under way (on a busy machine
        # its thread may not have begun its first page yet).
        copying.wait(5)
        failed.set()
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        csvfile.write_csv_zip(exports.Selection(organization=newsroom), io.BytesIO(), progress)
    assert len(copied) == 1  # of 11 pages: the others were never begun
    assert "export-sources" not in [t.name for t in threading.enumerate()]
    assert "export-read-ahead" not in [t.name for t in threading.enumerate()]


@postgresql
def test_a_failure_copying_the_sources_fails_the_csv_export(newsroom, monkeypatch):
    copy_sql = csvfile._csv_copy_sql

    def broken(selection, selected):
        claims, sources = copy_sql(selection, selected)
        return claims, sources.replace("row_number()", "no_such_function()")

    monkeypatch.setattr(csvfile, "_csv_copy_sql", broken)

    with pytest.raises(DatabaseError, match="no_such_function"):
        written(exports.Selection(organization=newsroom), "csv-zip")
    assert "export-sources" not in [t.name for t in threading.enumerate()]
    # The writer's own connection is still good for the job's next steps.
    assert Organization.objects.filter(pk=newsroom.pk).exists()
