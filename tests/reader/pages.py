"""Reading what the reader sends back: the highlights, the paragraphs swapped out of
band, the buttons and the claim form."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser


class _Elements(HTMLParser):
    """Every element's tag and attributes, and the text of each `mark`."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.marks: list[tuple[dict[str, str | None], str]] = []
        self._mark: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "mark":
            self._mark = dict(attrs)
            self.marks.append((self._mark, ""))

    def handle_endtag(self, tag):
        if tag == "mark":
            self._mark = None

    def handle_data(self, data):
        if self._mark is not None:
            attrs, text = self.marks[-1]
            self.marks[-1] = (attrs, text + data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def highlights(html: str) -> dict[int, str]:
    """Claim id → the text highlighted for it, its segments joined."""
    found: dict[int, str] = {}
    for attrs, text in _parse(html).marks:
        for claim_id in map(int, (attrs.get("data-c") or "").split()):
            found[claim_id] = found.get(claim_id, "") + text
    return found


def mark_classes(html: str, claim_id: int) -> list[str]:
    return [
        attrs.get("class") or ""
        for attrs, _ in _parse(html).marks
        if str(claim_id) in (attrs.get("data-c") or "").split()
    ]


def oob_paragraphs(html: str) -> list[int]:
    """Indexes of the paragraphs sent to be swapped out of band."""
    return [
        int(attrs["data-p"] or "")
        for tag, attrs in _parse(html).elements
        if tag == "p" and "data-p" in attrs and attrs.get("hx-swap-oob")
    ]


def sends_claim_list_out_of_band(html: str) -> bool:
    return any(
        attrs.get("id") == "claim-list" and attrs.get("hx-swap-oob")
        for _, attrs in _parse(html).elements
    )


def posts_to(html: str, url: str) -> bool:
    """Whether a button or form on the page posts to `url`, with or without htmx."""
    return any(
        url in (attrs.get("hx-post"), attrs.get("action") if tag == "form" else None)
        for tag, attrs in _parse(html).elements
    )


def claim_form(html: str) -> dict[str, str | None]:
    return next(
        a for tag, a in _parse(html).elements if tag == "form" and a.get("id") == "claim-form"
    )


class _Form(HTMLParser):
    """The values a person sees in the claim form: inputs, checked radios,
    selected options and the note."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_template = 0

    def _add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._in_template += 1
        if self._in_template:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in {"radio", "checkbox"}:
                if "checked" in a:
                    self._add(a["name"], a.get("value") or "")
            else:
                self._add(a["name"], a.get("value") or "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value") or "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._add(self._textarea or "", "")

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and not self._in_template:
            self.values[self._textarea][-1] += data


def form_values(html: str) -> dict[str, list[str]]:
    """What the claim form shows, by field name; the note is stripped of the leading newline."""
    start = html.index('id="claim-form"')
    end = html.index("</form>", start)
    parser = _Form()
    parser.feed(html[start:end])
    values = parser.values
    if "note" in values:
        values["note"] = [v.removeprefix("\n") for v in values["note"]]
    return values


def form_errors(html: str) -> str:
    """The text of every error shown, unescaped."""
    return " ".join(
        unescape(re.sub(r"<[^>]+>", "", e))
        for e in re.findall(r'class="error"[^>]*>(.*?)</(?:div|p|span)>', html, re.S)
    )
