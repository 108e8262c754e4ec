"""Plain-text normalization: the coordinate system every offset is measured in.

Pure: no Django. Normalization runs once, on import; the stored text is never
normalized again, so an offset stays valid for the life of the article version.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")
# Zero-width and control characters carry nothing a reader can see and would
# shift offsets between what is displayed and what is stored.
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufeff\u200b]")


def normalize_text(raw: str) -> str:
    """Line endings to LF, Unicode NFC, invisible characters removed.

    Trailing spaces on lines go, runs of blank lines become one blank line,
    and the text is stripped at both ends. Paragraphs are lines; a blank line
    is only spacing.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_SPACE.sub("\n", text + "\n")
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-empty line, in order: the reader's paragraphs."""
    spans = []
    position = 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((position, position + len(line)))
        position += len(line) + 1
    return spans


def text_direction(text: str, default: str = "ltr") -> str:
    """`rtl` when the first letter is Arabic, Hebrew or another right-to-left script.

    What `dir="auto"` does in a browser, done here so that every page and the
    PDF agree (WeasyPrint reads `auto` as left to right): a paragraph or a
    claim in Arabic starts at the right edge, its full stop on the left of it.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in {"R", "AL"}:
            return "rtl"
        if kind == "L":
            return "ltr"
    return default
