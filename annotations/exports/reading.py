"""Reading an export's claims in pages, with the next page read while this one is written."""

from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from django.db import connection, connections
from django.db.models import (
    Prefetch,
    QuerySet,
)

from annotations.exports.selection import Selection
from annotations.models import VerifiedClaim, VerifiedSource
from annotations.publishing.rows import (
    CLAIM_VALUES,
    ClaimRow,
    SourceRow,
    SourcesJson,
    page_rows,
    sources_of_json,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


# What a writer calls with the number of records written so far.
Progress = Callable[[int], None]

CHUNK = 2000


def pages(queryset: QuerySet[Any], *prefetch: Any) -> Iterator[list[Any]]:
    """The rows in pages of CHUNK by primary key, each page with its prefetches."""
    last = 0
    while True:
        page = list(queryset.filter(pk__gt=last).prefetch_related(*prefetch)[:CHUNK])
        if not page:
            return
        yield page
        last = page[-1].pk


def verified_pages(selection: Selection) -> Iterator[list[VerifiedClaim]]:
    """Model rows, for the report; the other writers read plain rows (claim_pages)."""
    claims = selection.claims().select_related("verdict__taxonomy", "article", "organization")
    return pages(claims, Prefetch("sources", queryset=selection.sources()))


def claim_pages(
    selection: Selection, *, with_sources: bool = True
) -> Iterator[tuple[list[ClaimRow], dict[int, list[SourceRow]]]]:
    """Pages of claims as plain rows, with each claim's sources (in their order).

    Without sources (ClaimReview has none), the sources are never queried.
    Read ahead (`read_ahead`): the next page is read while this one is written.
    """
    return read_ahead(_claim_pages(selection, with_sources=with_sources))


def read_ahead[T](items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """`items`, made in a thread of their own while the caller works on the last ones.

    Reading a page waits on PostgreSQL, and making its rows holds the GIL for
    less than writing them: in a thread, the database and the writer work at
    once, on two cores. The thread has its own database connection, closed
    when it ends, so it cannot see what the caller has not committed: inside
    a transaction (a test's), the items are made here, one after the other.
    """
    if connection.in_atomic_block:
        yield from items
        return
    made: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def hand(item: Any) -> bool:
        """Puts the item on the queue; False once the caller has stopped taking them."""
        while not stop.is_set():
            try:
                made.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not hand(item):
                    return
            hand(end)
        except BaseException as exc:  # handed to the caller, raised there
            hand(exc)
        finally:
            # A generator stopped early is closed here, in the thread whose
            # connection it uses (its transaction ends), before the connection is.
            close = getattr(items, "close", None)
            if close is not None:
                close()
            connections.close_all()

    thread = threading.Thread(target=make, name="export-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := made.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _claim_pages(
    selection: Selection, *, with_sources: bool
) -> Iterator[tuple[list[ClaimRow], dict[int, list[SourceRow]]]]:
    claims = selection.claims()
    sources = selection.sources() if with_sources else VerifiedSource.objects.none()
    # PostgreSQL reads the sources in the claims' statement (SourcesJson).
    in_json = with_sources and connection.vendor == "postgresql"
    values = (*CLAIM_VALUES, SourcesJson(public=selection.public)) if in_json else ()
    last = 0
    while True:
        window = claims.filter(pk__gt=last)[:CHUNK]
        if in_json:
            rows = list(window.values_list(*values))
            page = [ClaimRow._make(row[:-1]) for row in rows]
            by_claim = {row[0]: sources_of_json(row[-1]) for row in rows}
        else:
            page, by_claim = page_rows(window, sources)
        if not page:
            return
        yield page, by_claim
        last = page[-1].id


@contextlib.contextmanager
def in_background(
    work: Callable[[threading.Event], None], name: str
) -> Iterator[Callable[[], None]]:
    """`work(stop)` in a thread with its own database connection, while the block runs.

    The block gets a `check()` that raises the work's error as soon as there
    is one. Leaving the block waits for the work and raises its error, if
    any; leaving it on an error sets `stop` (the work ends early) and waits
    too, so that the thread never outlives the block.
    """
    stop = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work(stop)
        except BaseException as exc:  # raised in the caller
            failed.append(exc)
        finally:
            connections.close_all()

    def check() -> None:
        if failed:
            raise failed[0]

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield check
    except BaseException:
        stop.set()
        thread.join()
        if failed and failed[0] is not sys.exception():
            logger.warning("%s failed too", name, exc_info=failed[0])
        raise
    thread.join()
    check()


@contextlib.contextmanager
def written_behind(out: IO[bytes], depth: int = 2) -> Iterator[Callable[[bytes], None]]:
    """A `write` that hands the bytes to a thread writing them to `out`, in order.

    For a compressing file (a zip member): the compression runs while the
    caller makes the next bytes. An error in the thread is raised here, by the
    next write or on leaving the block.
    """
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
    failed: list[BaseException] = []

    def drain() -> None:
        while (data := pending.get()) is not None:
            if not failed:
                try:
                    out.write(data)
                except BaseException as exc:  # raised in the caller
                    failed.append(exc)

    thread = threading.Thread(target=drain, name="export-write-behind", daemon=True)
    thread.start()

    def write(data: bytes) -> None:
        if failed:
            raise failed[0]
        pending.put(data)

    try:
        yield write
    finally:
        pending.put(None)
        thread.join()
    if failed:
        raise failed[0]
