"""Parsers that turn article and annotation files into plain records.

No Django here: a parser reads bytes and yields records or errors, each with
the line it came from, and the import service decides what to store. One bad
line never hides the good ones around it.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import nh3
import trafilatura

from annotations.core.inputs import (
    AnnotationInput,
    ArticleInput,
    ParseError,
    SourceInput,
    is_http_url,
)

ARTICLE_SUFFIXES = (".txt", ".html", ".htm", ".jsonl")

JSONL_ARTICLE_FIELDS = {
    "title",
    "url",
    "publisher",
    "author",
    "published_at",
    "language",
    "text",
    "html",
}


def decode(data: bytes, line: int | None = None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"not valid UTF-8 (byte {exc.start + 1} is {data[exc.start : exc.start + 1]!r})",
            line,
        ) from None


def parse_datetime(value: Any, name: str, line: int | None) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ParseError(f"{name}: expected an ISO 8601 date, got {value!r}", line)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            raise ParseError(f"{name}: {value!r} is not an ISO 8601 date", line) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_txt(data: bytes) -> ArticleInput:
    """First line the title, then a blank line, then the body."""
    content = decode(data).replace("\r\n", "\n").replace("\r", "\n")
    title, _, body = content.partition("\n")
    title = title.strip()
    if not title:
        raise ParseError("the first line must be the title", 1)
    if not body.strip():
        raise ParseError("there is a title but no text after it", 2)
    if body[:1] != "\n":
        raise ParseError("the title must be followed by a blank line", 2)
    return ArticleInput(title=title, text=body)


def parse_html(data: bytes) -> ArticleInput:
    """The main text of a web page (trafilatura) and its sanitized HTML (nh3)."""
    page = decode(data)
    document = trafilatura.bare_extraction(page, with_metadata=True, favor_recall=True)
    text = getattr(document, "text", None) if document is not None else None
    if not text or not text.strip():
        raise ParseError("no article text could be found in this HTML page")
    main_html = trafilatura.extract(page, output_format="html", favor_recall=True) or ""
    url = getattr(document, "url", None) or ""
    return ArticleInput(
        title=(getattr(document, "title", None) or "").strip() or text.strip().split("\n")[0],
        text=text,
        url=url if is_http_url(url) else "",
        publisher=getattr(document, "sitename", None) or "",
        author=getattr(document, "author", None) or "",
        published_at=parse_datetime(getattr(document, "date", None), "date", None),
        language=getattr(document, "language", None) or "",
        html=nh3.clean(main_html),
    )


# What core.inputs.unstorable finds (a NUL, an unpaired surrogate), found by the
# regular-expression engine: a claims file has hundreds of thousands of strings.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _string_field(record: dict[str, Any], name: str, line: int, required: bool = False) -> str:
    value = record.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ParseError(f"{name}: expected a string, got {type(value).__name__}", line)
    if _UNSTORABLE.search(value) is not None:
        raise ParseError(f"{name}: contains a NUL or an unpaired surrogate character", line)
    if required and not value.strip():
        raise ParseError(f"{name}: is required", line)
    return value


class ByteStream(Protocol):
    """A file open for reading bytes: an open file, a BytesIO, a stored upload."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def __iter__(self) -> Iterator[bytes]: ...


def numbered_lines(handle: Iterable[bytes], *, after: int = 0) -> Iterator[tuple[int, bytes]]:
    """The lines of a file read as it streams, numbered from 1, without their newline.

    Lines up to `after` are counted and passed over (an import resumed where it stopped).
    """
    for number, raw in enumerate(handle, start=1):
        if number > after:
            yield number, raw.removesuffix(b"\n")


def count_lines(handle: ByteStream) -> int:
    """How many lines numbered_lines() will number in this file, read in chunks."""
    count, last = 0, b"\n"
    while chunk := handle.read(1 << 20):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count + (last != b"\n")


def _json_lines(data: bytes) -> Iterator[tuple[int, dict[str, Any] | ParseError]]:
    return _json_records(enumerate(data.split(b"\n"), start=1))


def _json_records(
    numbered: Iterable[tuple[int, bytes]],
) -> Iterator[tuple[int, dict[str, Any] | ParseError]]:
    """Each non-blank line parsed as a JSON object, or the error that line has."""
    for number, raw in numbered:
        if not raw.strip():
            continue
        try:
            record = json.loads(decode(raw, number))
        except ParseError as exc:
            yield number, exc
            continue
        except json.JSONDecodeError as exc:
            yield number, ParseError(f"not valid JSON ({exc.msg} at column {exc.colno})", number)
            continue
        if not isinstance(record, dict):
            yield number, ParseError("each line must be a JSON object", number)
            continue
        yield number, record


def parse_article_jsonl(data: bytes) -> Iterator[tuple[int, ArticleInput | ParseError]]:
    for number, record in _json_lines(data):
        if isinstance(record, ParseError):
            yield number, record
            continue
        try:
            yield number, _article_record(record, number)
        except ParseError as exc:
            yield number, exc


def _article_record(record: dict[str, Any], line: int) -> ArticleInput:
    unknown = sorted(set(record) - JSONL_ARTICLE_FIELDS)
    if unknown:
        expected = ", ".join(sorted(JSONL_ARTICLE_FIELDS))
        raise ParseError(f"unknown field(s) {', '.join(unknown)}; expected {expected}", line)
    url = _string_field(record, "url", line)
    if url and not is_http_url(url):
        raise ParseError(f"url: {url!r} is not an http(s) address", line)
    html = _string_field(record, "html", line)
    return ArticleInput(
        title=_string_field(record, "title", line, required=True).strip(),
        text=_string_field(record, "text", line, required=True),
        url=url,
        publisher=_string_field(record, "publisher", line),
        author=_string_field(record, "author", line),
        published_at=parse_datetime(record.get("published_at"), "published_at", line),
        language=_string_field(record, "language", line),
        html=nh3.clean(html) if html else "",
    )


# The first bytes of the binary files people upload by mistake, or on purpose
# under a text file's name. Our own list rather than libmagic: we only need to
# tell "text of the kind the name says" from everything else.
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (or a Word or OpenDocument file)"),
    (b"PK\x05\x06", "a zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office document"),
    (b"\x7fELF", "a program"),
    (b"MZ\x90\x00", "a Windows program"),
    (b"\xff\xfe", "UTF-16 text (save it as UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (save it as UTF-8)"),
)

# How much of a file the upload form reads to judge its type before storing it.
SNIFF_BYTES = 64 * 1024


def binary_kind(head: bytes) -> str | None:
    """What binary file these first bytes start, if they start a known one."""
    return next((kind for signature, kind in BINARY_SIGNATURES if head.startswith(signature)), None)


def json_lines_problem(head: bytes) -> ParseError | None:
    """Why a file is not JSON lines at all: binary, or its first record is not an object.

    Only the first non-blank line is judged here; the others are judged one by
    one as they are parsed, so that one bad line never hides the good ones.
    """
    if (kind := binary_kind(head)) is not None:
        return ParseError(f"this is {kind}, not JSON lines")
    start, number = 0, 1
    while start < len(head):
        end = head.find(b"\n", start)
        end = len(head) if end < 0 else end
        first = head[start:end].removeprefix(b"\xef\xbb\xbf").lstrip()
        if first:
            if first[:1] == b"{":
                return None
            return ParseError(
                "this is not JSON lines: each line must be a JSON object, "
                f"and this one starts with {first[:10]!r}",
                number,
            )
        start, number = end + 1, number + 1
    return None


def content_problem(name: str, head: bytes, *, complete: bool = True) -> ParseError | None:
    """Why these bytes are not the kind of file `name` says, judged by content; None if they are.

    `head` is the start of the file, or all of it when `complete`. A .txt or
    .html must be UTF-8 text without NUL bytes; a .jsonl must be JSON lines.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        return ParseError(f"unsupported file type {suffix!r}; use .txt, .html or .jsonl")
    if suffix == ".jsonl":
        return json_lines_problem(head)
    if (kind := binary_kind(head)) is not None:
        return ParseError(f"this is {kind}, not a {suffix} file")
    if b"\x00" in head:
        return ParseError("this is a binary file, not text: it contains NUL bytes")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError as exc:
        return ParseError(
            f"not valid UTF-8 (byte {exc.start + 1} is {head[exc.start : exc.start + 1]!r})"
        )
    return None


def parse_article_data(
    name: str, data: bytes
) -> Iterator[tuple[int | None, ArticleInput | ParseError]]:
    """Every article in one file's bytes, or the error that stops each one.

    `name` is the file's name; its suffix says the format, and the content must agree.
    """
    suffix = Path(name).suffix.lower()
    if (problem := content_problem(name, data)) is not None:
        yield problem.line, problem
        return
    if suffix == ".jsonl":
        yield from parse_article_jsonl(data)
        return
    try:
        yield None, parse_txt(data) if suffix == ".txt" else parse_html(data)
    except ParseError as exc:
        yield exc.line, exc


def _int_field(record: dict[str, Any], name: str, line: int, nullable: bool = False) -> int | None:
    value = record.get(name)
    if value is None and nullable:
        return None
    # bool is an int in Python; `true` is not an offset.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ParseError(f"{name}: expected a whole number, got {json.dumps(value)}", line)
    return value


def _source_record(raw: Any, index: int, line: int) -> SourceInput:
    where = f"sources[{index}]"
    if not isinstance(raw, dict):
        raise ParseError(f"{where}: expected an object", line)
    # The addresses are checked, and normalized, with the claim's other checks
    # (core.inputs.validate_sources): once, and in the same words as in the reader.
    url = _string_field(raw, "url", line, required=True).strip()
    archived = _string_field(raw, "archived_url", line).strip()
    confidential = raw.get("confidential", False)
    if not isinstance(confidential, bool):
        raise ParseError(f"{where}.confidential: expected true or false", line)
    return SourceInput(
        url=url,
        title=_string_field(raw, "title", line),
        publisher=_string_field(raw, "publisher", line),
        quote=_string_field(raw, "quote", line),
        stance=_string_field(raw, "stance", line) or "context",
        archived_url=archived,
        confidential=confidential,
    )


def _annotation_record(record: dict[str, Any], line: int) -> AnnotationInput:
    sources = record.get("sources") or []
    if not isinstance(sources, list):
        raise ParseError("sources: expected a list", line)
    verdict = record.get("verdict")
    if verdict is not None and not isinstance(verdict, str):
        raise ParseError("verdict: expected a label slug or null", line)
    start = _int_field(record, "start", line)
    end = _int_field(record, "end", line)
    assert start is not None
    assert end is not None
    return AnnotationInput(
        article_url=_string_field(record, "article", line, required=True).strip(),
        reviewer=_string_field(record, "reviewer", line, required=True).strip(),
        start=start,
        end=end,
        quote=_string_field(record, "quote", line, required=True),
        verdict=verdict or None,
        rating=_int_field(record, "rating", line, nullable=True),
        note=_string_field(record, "note", line),
        sources=[_source_record(s, i, line) for i, s in enumerate(sources)],
    )


def parse_annotation_jsonl(data: bytes) -> Iterator[tuple[int, AnnotationInput | ParseError]]:
    return parse_annotation_records(enumerate(data.split(b"\n"), start=1))


def parse_annotation_records(
    numbered: Iterable[tuple[int, bytes]],
) -> Iterator[tuple[int, AnnotationInput | ParseError]]:
    """Our JSONL of claims, from numbered lines (numbered_lines), one record or error each."""
    for number, record in _json_records(numbered):
        if isinstance(record, ParseError):
            yield number, record
            continue
        try:
            yield number, _annotation_record(record, number)
        except ParseError as exc:
            yield number, exc


class Skipped:
    """A record that is deliberately not imported, and why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _first_record(data: bytes) -> Any:
    """The first non-blank line's JSON value; None if there is none, or it is not JSON."""
    for raw in data.split(b"\n"):
        if raw.strip():
            try:
                return json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return None
    return None


def is_web_annotation(data: bytes) -> bool:
    """Whether a file holds W3C Web Annotations: its first record says type Annotation."""
    first = _first_record(data)
    return isinstance(first, dict) and first.get("type") == "Annotation"


def first_line(handle: ByteStream) -> bytes:
    """A file's first non-blank line (what tells its kind apart), read from where the
    handle is; the caller seeks back."""
    for raw in handle:
        if raw.strip():
            return raw
    return b""


def jsonl_kind(first: bytes) -> Literal["articles", "claims"]:
    """What a JSON-lines file holds, judged by its first record (`first_line`).

    Claims, in our fields (an `article` and a `reviewer`) or as W3C Web
    Annotations (`type` Annotation); otherwise articles, whose lines have
    neither field (they are refused by parse_article_jsonl).
    """
    record = _first_record(first)
    if isinstance(record, dict) and (
        record.get("type") == "Annotation" or {"article", "reviewer"} & record.keys()
    ):
        return "claims"
    return "articles"


def _selector(selectors: list[Any], kind: str) -> dict[str, Any] | None:
    return next((s for s in selectors if isinstance(s, dict) and s.get("type") == kind), None)


def _web_annotation_record(record: dict[str, Any], line: int) -> AnnotationInput | Skipped:
    if record.get("workbench:kind") == "verified-claim":
        return Skipped("a verified claim")
    target = record.get("target")
    if isinstance(target, list):
        target = target[0] if target else None
    if not isinstance(target, dict):
        raise ParseError("target: expected an object with source and selector", line)
    source = target.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ParseError("target.source: the article's URL is required", line)
    selectors = target.get("selector")
    selectors = selectors if isinstance(selectors, list) else [selectors]
    position = _selector(selectors, "TextPositionSelector")
    quote = _selector(selectors, "TextQuoteSelector")
    if position is None or quote is None:
        raise ParseError(
            "target.selector: needs a TextPositionSelector and a TextQuoteSelector", line
        )
    creator = record.get("creator")
    reviewer = ""
    if isinstance(creator, dict):
        reviewer = str(creator.get("nickname") or creator.get("name") or "")
    elif isinstance(creator, str):
        reviewer = creator
    if not reviewer.strip():
        raise ParseError("creator: the reviewer's user name (nickname) is required", line)
    bodies = record.get("body") or []
    bodies = bodies if isinstance(bodies, list) else [bodies]
    verdict: str | None = None
    rating: int | None = None
    note = ""
    sources: list[SourceInput] = []
    for index, body in enumerate(bodies):
        if not isinstance(body, dict):
            raise ParseError(f"body[{index}]: expected an object", line)
        purpose = body.get("purpose")
        if purpose == "assessing":
            verdict = str(body.get("workbench:verdict") or body.get("value") or "") or None
        elif purpose == "classifying":
            value = str(body.get("value", ""))
            if not value.isdigit():
                raise ParseError(f"body[{index}]: a rating must be a whole number", line)
            rating = int(value)
        elif purpose == "commenting":
            note = str(body.get("value") or "")
        elif purpose == "linking":
            sources.append(
                _source_record(
                    {
                        "url": body.get("source", ""),
                        "title": body.get("workbench:title", ""),
                        "publisher": body.get("workbench:publisher", ""),
                        "quote": body.get("workbench:quote", ""),
                        "stance": body.get("workbench:stance", ""),
                        "confidential": body.get("workbench:confidential", False),
                    },
                    len(sources),
                    line,
                )
            )
    return AnnotationInput(
        article_url=source.strip(),
        reviewer=reviewer.strip(),
        start=_int_field(position, "start", line) or 0,
        end=_int_field(position, "end", line) or 0,
        quote=_string_field(quote, "exact", line, required=True),
        verdict=verdict,
        rating=rating,
        note=note,
        sources=sources,
    )


def parse_web_annotation_jsonl(
    data: bytes,
) -> Iterator[tuple[int, AnnotationInput | Skipped | ParseError]]:
    return parse_web_annotation_records(enumerate(data.split(b"\n"), start=1))


def parse_web_annotation_records(
    numbered: Iterable[tuple[int, bytes]],
) -> Iterator[tuple[int, AnnotationInput | Skipped | ParseError]]:
    """W3C Web Annotations, from numbered lines (numbered_lines), one record or error each."""
    for number, record in _json_records(numbered):
        if isinstance(record, ParseError):
            yield number, record
            continue
        try:
            yield number, _web_annotation_record(record, number)
        except ParseError as exc:
            yield number, exc
