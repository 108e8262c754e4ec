"""A collection's agreement sums: partial counts added up, taken out, stored.

Everything additive is a count, so the sums of a collection are the sums of
its articles' counts (contributions.py), in any order; a refresh takes an
article's old counts out and puts its new ones in.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson
from isal import isal_zlib

from annotations.agreement.contributions import VERSION, Partial, Scale
from annotations.agreement.packing import is_packed, merge_rows, swap_rows

# Keyed by article, replaced (not added) when an article is counted again.
PER_ARTICLE = ("articles",)
PACKED = ("verdict_counts", "rating_counts", "disputed", "single")
MATRICES = ("confusion", "rating_confusion", "rest")
COUNTS = ("unmatched", "reviewers")
NUMBERS = ("units", "span_units", "disputed_count", "single_count")


def empty_partial() -> Partial:
    return {
        "v": VERSION,
        "pairs": {},
        "confusion": {},
        "rating_confusion": {},
        "rest": {},
        "unmatched": {},
        "reviewers": {},
        "verdict_counts": {},
        "rating_counts": {},
        "articles": {},
        "disputed": {},
        "single": {},
        "units": 0,
        "span_units": 0,
        "disputed_count": 0,
        "single_count": 0,
        "unitizing": [0, 0, 0, 0, 0.0],
    }


def _add_matrix(target: dict[str, Any], key: str, matrix: list[list[int]], sign: int) -> None:
    counts = np.asarray(matrix, dtype=np.int64)
    if key in target:
        target[key] = (np.asarray(target[key], dtype=np.int64) + sign * counts).tolist()
    else:
        target[key] = (sign * counts).tolist()


def add(total: Partial, part: Partial, sign: int = 1) -> Partial:
    """Adds a partial sum to another (in place); sign=-1 takes it out.

    Everything additive is a count, so taking an article's old counts out and
    putting its new ones in gives the same total as adding every article up
    again: that is how a changed claim refreshes a collection in a moment. The
    per-article entries are taken out, or replaced.
    """
    for key, (m, a, b) in part["pairs"].items():
        old = total["pairs"].get(key, [0, 0, 0])
        total["pairs"][key] = [old[0] + sign * m, old[1] + sign * a, old[2] + sign * b]
    for field in MATRICES:
        for key, matrix in part[field].items():
            _add_matrix(total[field], key, matrix, sign)
    for field in COUNTS:
        for key, n in part[field].items():
            value = total[field].get(key, 0) + sign * n
            if value:
                total[field][key] = value
            else:
                total[field].pop(key, None)
    for field in NUMBERS:
        total[field] += sign * part[field]
    total["unitizing"] = [
        x + sign * y for x, y in zip(total["unitizing"], part["unitizing"], strict=True)
    ]
    articles = [int(a) for a in part["articles"]]
    for field in PER_ARTICLE:
        for key in part["articles"]:
            total[field].pop(key, None)
        if sign > 0:
            total[field].update(part[field])
    for field in PACKED:
        width = _width(part[field], total[field])
        if not width:
            continue
        new = part[field] if sign > 0 else None
        total[field] = swap_rows(total[field], width, np.asarray(articles), new)
    return total


def _width(*values: Any) -> int:
    for value in values:
        if is_packed(value):
            return int(value["width"])
    return 0


def merge(partials: Iterable[Partial]) -> Partial:
    """Adds partial sums of disjoint sets of articles together; the order does not matter."""
    total = empty_partial()
    seen: set[frozenset[int]] = set()
    packed: dict[str, list[Any]] = {field: [] for field in PACKED}
    for partial in partials:
        # A chunk delivered twice (acks_late after a worker died) counts once.
        covers = frozenset(int(a) for a in partial["articles"])
        if covers and covers in seen:
            continue
        seen.add(covers)
        for field in PACKED:
            packed[field].append(partial[field])
        # The packed rows are merged once, below, rather than chunk by chunk.
        add(total, {**partial, **{field: {} for field in PACKED}})
        if "scale" in partial:
            total["scale"] = partial["scale"]
    for field in PACKED:
        total[field] = merge_rows(packed[field], _width(*packed[field]))
    return total


def _deflate(partial: Partial) -> bytes:
    return isal_zlib.compress(orjson.dumps(partial), 1)


def _inflate(data: bytes) -> Partial:
    return orjson.loads(isal_zlib.decompress(data))  # type: ignore[no-any-return]


def pack(total: Partial, scale: Scale) -> bytes:
    """The sums as a report stores them: deflated JSON, which the database keeps as
    it is (parsing megabytes of JSON into jsonb was a tenth of a full run)."""
    return _deflate(total | {"scale": scale.key, "v": VERSION})


def to_message(partial: Partial) -> str:
    """A chunk's counts as its task returns them: one deflated string, which Celery's
    JSON carries through the result backend and into the finishing task without
    parsing it (a collection's chunks carry megabytes of counts)."""
    return base64.b64encode(_deflate(partial)).decode("ascii")


def from_message(message: str | Partial) -> Partial:
    """A chunk's counts from its task's result (a plain dict from an older worker)."""
    if isinstance(message, dict):
        return message
    return _inflate(base64.b64decode(message))


def unpack(stored: bytes | memoryview | None) -> Partial | None:
    """A report's stored sums; None if it has none."""
    if not stored:
        return None
    return _inflate(bytes(stored))


def usable(total: Partial | None, scale: Scale) -> bool:
    """Whether stored sums are in this layout and scale (else they are added up again)."""
    return total is not None and total.get("v") == VERSION and total.get("scale") == scale.key
