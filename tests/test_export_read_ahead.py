"""An export reads its next page while it writes this one, in a thread with its own connection.

The thread cannot see a transaction that is not committed, so these tests
commit their data (transactional_db) and compare with the same export made
inside a transaction, where the pages are read one after the other.
"""

from __future__ import annotations

import io
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from annotations import exports
from annotations.models import Organization
from tests.api.conftest import publish_many


@pytest.fixture
def newsroom(transactional_db) -> Organization:
    call_command("demo", stdout=StringIO())
    organization = Organization.objects.get(slug="demo")
    publish_many(organization.articles.get(), 9)
    return organization


def written(selection: exports.Selection, fmt: str) -> bytes:
    out = io.BytesIO()
    exports.WRITERS[fmt](selection, out, lambda done: None)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "claimreview"])
def test_pages_read_ahead_in_a_thread_make_the_same_file(newsroom, monkeypatch, fmt):
    monkeypatch.setattr(exports, "CHUNK", 3)  # several pages
    selection = exports.Selection(organization=newsroom)
    readers: list[str] = []
    pages = exports._claim_pages

    def recorded(*args, **kwargs):
        readers.append(threading.current_thread().name)
        yield from pages(*args, **kwargs)

    monkeypatch.setattr(exports, "_claim_pages", recorded)

    with transaction.atomic():
        one_by_one = written(selection, fmt)
    ahead = written(selection, fmt)

    assert readers == ["MainThread", "export-read-ahead"]
    assert ahead == one_by_one
    if fmt == "jsonl":
        assert len(ahead.splitlines()) == 11  # the demo's 2 and these 9


def test_a_failure_while_reading_ahead_fails_the_export_and_leaves_no_thread(newsroom, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 3)
    pages = exports._claim_pages

    def broken(*args, **kwargs):
        source = pages(*args, **kwargs)
        yield next(source)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(exports, "_claim_pages", broken)

    with pytest.raises(RuntimeError, match="the database went away"):
        written(exports.Selection(organization=newsroom), "jsonl")
    assert "export-read-ahead" not in [t.name for t in threading.enumerate()]


def test_a_writer_that_stops_early_stops_the_reader(newsroom, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 1)
    pages = exports.claim_pages(exports.Selection(organization=newsroom))

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
        with exports.written_behind(DiskFull()) as write:
            for _ in range(100):
                write(b"a page of claims\n")

    with pytest.raises(OSError, match="No space left"):
        write_pages()
    assert "export-write-behind" not in [t.name for t in threading.enumerate()]
