"""A web page read as an article: fetched by the vetted client, decoded, extracted.

The fetch is core.web's (public addresses only, time, size and redirect
limits); this module adds what a page needs: HTML only, a conditional request
when we know the page's ETag or date, the text decoded by the charset the
page declares (or UTF-8, or Windows-1252 as browsers assume), and
trafilatura's main text with the page's metadata: title, authors, site name,
published and modified dates, canonical URL, language. Every way a page can
fail ends in a PageError with a reason in words; nothing is stored here.
"""

from __future__ import annotations

import codecs
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime

import htmldate
import lxml.html
import nh3
import trafilatura
from django.conf import settings
from django.utils import timezone
from lxml.etree import ParserError

from annotations.core import web
from annotations.core.inputs import ArticleInput, web_address

PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
USER_AGENT = "FactCheckWorkbench/1 (+https://github.com/fact-check-workbench)"
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
PURPOSE = "pages are fetched from public addresses only"
# Query parameters that only say where a reader came from: one article, one URL.
TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|igshid)$", re.I)
# Where a page declares its charset, if not in its Content-Type header.
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
ISO_WITH_TIME = "%Y-%m-%dT%H:%M:%S%z"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


class PageError(Exception):
    """Why a page could not be read as an article; `kind` as core.web's, or "encoding",
    "empty", "status" (an HTTP error), "gone" (404, 410, or a name that no longer resolves)."""

    def __init__(self, kind: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.status = status


def limits(*, content_types: frozenset[str] | None = PAGE_TYPES) -> web.Limits:
    return web.Limits(
        timeout=settings.WORKBENCH_FETCH_TIMEOUT_SECONDS,
        max_bytes=settings.WORKBENCH_FETCH_MAX_BYTES,
        redirects=settings.WORKBENCH_FETCH_MAX_REDIRECTS,
        content_types=content_types,
    )


def page_address(raw: str) -> str | None:
    """The address an article is known by: normalized (core.inputs.web_address), without
    its #fragment or the parameters that only track where a reader came from."""
    url = web_address(raw)
    if url is None:
        return None
    parts = urllib.parse.urlsplit(url)
    kept = parts.query
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(TRACKING.match(name) for name, _ in pairs):
        kept = urllib.parse.urlencode([(k, v) for k, v in pairs if not TRACKING.match(k)])
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, kept, ""))


def get(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    content_types: frozenset[str] | None = PAGE_TYPES,
) -> web.Answer:
    """One GET through the vetted client, conditional when we know the page's ETag or date.

    Raises PageError: a 404 or 410, or a name that no longer resolves, is "gone".
    """
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        answer = web.request(
            "GET",
            url,
            headers=headers,
            limits=limits(content_types=content_types),
            allow_private=settings.WORKBENCH_FETCH_PRIVATE_ADDRESSES,
            purpose=PURPOSE,
        )
    except web.WebError as exc:
        kind = "gone" if exc.kind == "dns" else exc.kind
        raise PageError(kind, exc.reason, status=exc.status) from None
    if answer.status in {404, 410}:
        raise PageError("gone", f"HTTP {answer.status}: the page is gone", status=answer.status)
    if answer.status != 304 and not answer.ok:
        reason = f"HTTP {answer.status}{' ' + answer.reason if answer.reason else ''}"
        if 300 <= answer.status < 400:
            reason += " (a redirect with nowhere to go)"
        raise PageError("status", reason, status=answer.status)
    return answer


def decode(answer: web.Answer) -> str:
    """The page's text: by the charset its header or a <meta> declares, else UTF-8, else
    Windows-1252 (what browsers assume of an undeclared page). A declared charset the
    bytes do not follow is a PageError naming the first bad byte."""
    body = answer.body
    declared = answer.charset
    if declared is None:
        found = META_CHARSET.search(body[:4096])
        declared = found.group(1).decode("ascii", "replace").lower() if found else None
    if body.startswith(codecs.BOM_UTF8):
        declared, body = "utf-8", body[len(codecs.BOM_UTF8) :]
    if declared is not None:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise PageError(
                "encoding", f"the page declares an unknown charset {declared!r}"
            ) from None
        # Browsers read pages that say ISO-8859-1 or ASCII as Windows-1252 (WHATWG).
        if codec in {"latin-1", "iso8859-1", "ascii"}:
            codec = "cp1252"
        try:
            return body.decode(codec)
        except UnicodeDecodeError as exc:
            raise PageError(
                "encoding",
                f"the page says it is {declared}, but byte {exc.start + 1:,} "
                f"({body[exc.start : exc.start + 1]!r}) is not {declared}",
            ) from None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise PageError(
            "encoding",
            f"the page declares no charset and is neither UTF-8 nor Windows-1252 "
            f"(byte {exc.start + 1:,} is {body[exc.start : exc.start + 1]!r})",
        ) from None


@dataclass
class Extracted:
    """An article as a page gives it, with what only a web page says about itself."""

    article: ArticleInput
    canonical_url: str = ""
    site_name: str = ""
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str = ""


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.strptime(value, ISO_WITH_TIME)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _language(tree: lxml.html.HtmlElement) -> str:
    """<html lang>, else the Content-Language or og:locale a <meta> gives."""
    lang = (
        tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    ).strip()
    if not lang:
        for meta in tree.iterfind(".//meta"):
            name = (meta.get("http-equiv") or meta.get("property") or "").lower()
            if name in {"content-language", "og:locale"}:
                lang = (meta.get("content") or "").strip().replace("_", "-")
                break
    lang = lang.split(",")[0].strip()
    return (
        lang if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", lang) and len(lang) <= 16 else ""
    )


def extract(html: str, url: str) -> Extracted:
    """The main text and metadata of a page (trafilatura), or PageError "empty"."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (ParserError, ValueError) as exc:
        raise PageError("empty", f"the page is not HTML that can be read ({exc})") from None
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            favor_recall=True,
            include_comments=False,
            date_extraction_params={"outputformat": ISO_WITH_TIME, "original_date": True},
        )
        text = getattr(document, "text", None) if document is not None else None
        if not text or not text.strip():
            raise PageError("empty", "no article text could be found in the page")
        main_html = trafilatura.extract(
            html, url=url, output_format="html", favor_recall=True, include_comments=False
        )
    except (RecursionError, ValueError, TypeError, LookupError) as exc:
        # A page that trips the extractor (absurdly deep nesting, say) fails its own
        # address with a reason; the job goes on with the next one.
        raise PageError(
            "empty", f"the page could not be read as an article ({type(exc).__name__})"
        ) from None
    authors = [a.strip() for a in (getattr(document, "author", None) or "").split(";") if a.strip()]
    site_name = (getattr(document, "sitename", None) or "").strip()
    published = _when(getattr(document, "date", None))
    try:
        modified = _when(
            htmldate.find_date(
                tree, original_date=False, extensive_search=False, outputformat=ISO_WITH_TIME
            )
        )
    except Exception:
        # A date we cannot read is a date we do not have.
        modified = None
    if modified is not None and published is not None and modified <= published:
        modified = None
    canonical = web_address(getattr(document, "url", None) or "") or ""
    language = _language(tree)
    title = (getattr(document, "title", None) or "").strip() or text.strip().split("\n")[0]
    author = "; ".join(authors)
    return Extracted(
        article=ArticleInput(
            title=title[:500],
            text=text,
            url=url,
            publisher=site_name[:200],
            author=author if len(author) <= 200 else author[:199] + "…",
            published_at=published,
            language=language,
            html=nh3.clean(main_html or ""),
        ),
        canonical_url=canonical if len(canonical) <= 2000 else "",
        site_name=site_name[:200],
        authors=authors,
        published_at=published,
        modified_at=modified,
        language=language,
    )


@dataclass
class Page:
    """A page fetched and read: the answer's facts and the extracted article."""

    url: str
    final_url: str
    status: int
    content_type: str
    etag: str
    last_modified: str
    fetched_at: datetime
    extracted: Extracted


def read(url: str, *, etag: str = "", last_modified: str = "") -> Page | None:
    """The page at `url` as an article; None when the server says it has not changed (304).

    Raises PageError for everything else that goes wrong.
    """
    answer = get(url, etag=etag, last_modified=last_modified)
    if answer.status == 304:
        return None
    return Page(
        url=url,
        final_url=answer.url,
        status=answer.status,
        content_type=answer.media_type,
        etag=answer.header("etag")[:500],
        last_modified=answer.header("last-modified")[:100],
        fetched_at=timezone.now(),
        extracted=extract(decode(answer), url),
    )
