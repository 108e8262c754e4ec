"""Unit rows packed for storage: a report keeps every pairable unit's counts.

Pure: no Django. The bootstrap interval resamples units, so a report's sums
keep each pairable unit's row of category counts, with its article (so that a
refresh can swap one article's rows). As JSON lists these would be most of a
report's size; packed, they are two base64 strings of little-endian int32,
deflated (mostly small counts and repeated article ids: about an eighth of
their size, so the sums travel from a run's chunks and into the database
quickly).
Rows are kept in article order, then in each article's reading order, so a
seeded bootstrap gives the same interval however the sums were reached.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import numpy.typing as npt
from isal import isal_zlib

Ints = npt.NDArray[np.int64]


def is_packed(value: Any) -> bool:
    return isinstance(value, dict) and "packed" in value


# 1: plain int32; 2: deflated (what pack_rows writes). Both are read.
DEFLATED = 2


def _encode(array: npt.ArrayLike) -> str:
    data = np.ascontiguousarray(array, dtype="<i4").tobytes()
    # ISA-L's deflate: zlib's format, in a third of its time.
    return base64.b64encode(isal_zlib.compress(data, 1)).decode("ascii")


def _decode(text: str, deflated: bool) -> Ints:
    data = base64.b64decode(text)
    if deflated:
        data = isal_zlib.decompress(data)
    return np.frombuffer(data, dtype="<i4").astype(np.int64)


def pack_rows(ids: npt.ArrayLike, rows: npt.ArrayLike, width: int) -> dict[str, Any]:
    return {"packed": DEFLATED, "width": width, "ids": _encode(ids), "rows": _encode(rows)}


def unpack_rows(value: Any, width: int) -> tuple[Ints, Ints]:
    """(article id per row, rows), in article order."""
    if not value:
        return np.zeros(0, dtype=np.int64), np.zeros((0, width), dtype=np.int64)
    if is_packed(value):
        stored = int(value["width"]) or width
        deflated = value["packed"] == DEFLATED
        ids = _decode(value["ids"], deflated)
        if not ids.size or not stored:
            return ids, np.zeros((len(ids), stored), dtype=np.int64)
        return ids, _decode(value["rows"], deflated).reshape(-1, stored)
    keys = sorted(value, key=int)
    rows = np.asarray([row for key in keys for row in value[key]], dtype=np.int64).reshape(
        -1, width
    )
    ids = np.repeat(
        np.asarray([int(k) for k in keys], dtype=np.int64), [len(value[k]) for k in keys]
    )
    return ids, rows


def merge_rows(parts: list[Any], width: int) -> dict[str, Any]:
    """Packed rows of disjoint sets of articles, together, in article order."""
    unpacked = [unpack_rows(part, width) for part in parts if part]
    if not unpacked:
        return pack_rows(np.zeros(0), np.zeros((0, width)), width)
    ids = np.concatenate([u[0] for u in unpacked])
    rows = np.concatenate([u[1].reshape(len(u[0]), width) for u in unpacked])
    order = np.argsort(ids, kind="stable")
    return pack_rows(ids[order], rows[order], width)


def swap_rows(value: Any, width: int, articles: Ints, new: Any) -> dict[str, Any]:
    """These articles' rows taken out, and `new` (packed rows of the same articles) put in."""
    ids, rows = unpack_rows(value, width)
    keep = ~np.isin(ids, articles)
    return merge_rows([pack_rows(ids[keep], rows[keep], width), new], width)
