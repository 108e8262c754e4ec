"""Reading rendered pages the way a person would: text, not markup."""

from __future__ import annotations

from html.parser import HTMLParser


class _Collector(HTMLParser):
    def __init__(self, tag: str, attr: str) -> None:
        super().__init__()
        self.tag, self.attr = tag, attr
        self.depth = 0
        self.items: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            if tag == self.tag:
                self.depth += 1
            return
        if tag == self.tag and any(name == self.attr for name, _ in attrs):
            self.depth = 1
            self.items.append("")

    def handle_endtag(self, tag):
        if self.depth and tag == self.tag:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.items[-1] += data


def texts(html: str, tag: str, attr: str) -> list[str]:
    """The text of every `tag` element that has `attr`."""
    collector = _Collector(tag, attr)
    collector.feed(html)
    return collector.items


def paragraphs(html: str) -> list[str]:
    return texts(html, "p", "data-p")


def claim_quotes(html: str) -> list[str]:
    """The quotes listed in the claims panel, in order."""
    return texts(html, "a", "data-claim")
