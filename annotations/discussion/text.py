"""A comment's words as shown: links, simple emphasis and mentions, and nothing else.

Plain data in and out (no Django), so it is fast and tested on its own. The
text is escaped first and only then given its few tags; nh3 sanitises the
result again, so that no mistake here can let markup or a script through.

    **bold**  *emphasis* or _emphasis_  `code`  [a link](https://…)  https://…  @username
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

import nh3

MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]+)")
# After escaping: a bare address, up to a space or an angle bracket (&lt; &gt;).
URL = re.compile(r"\bhttps?://[^\s<>\"']+?(?=[.,;:!?)\]]*(?:\s|$|&lt;|&gt;|&quot;))", re.I)
LINK = re.compile(r"\[([^\]\n]{1,300})\]\((https?://[^\s)<>\"']+)\)", re.I)
CODE = re.compile(r"`([^`\n]{1,500})`")
STRONG = re.compile(r"\*\*(?=\S)([^\n*]{1,500}?)(?<=\S)\*\*")
EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^\n*]{1,500}?)(?<=\S)\*(?![\w*])")
EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)([^\n_]{1,500}?)(?<=\S)_(?![\w_])")

ALLOWED_TAGS = {"a", "strong", "em", "code", "p", "br", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "span": {"class"}}


def mentioned_names(body: str) -> list[str]:
    """The names after an @, in order of appearance, each once; a trailing dot is the
    sentence's, not the name's."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(body):
        seen.setdefault(match.group(1).rstrip("."), None)
    return [name for name in seen if name]


def _placeholder(store: list[str], html_text: str) -> str:
    store.append(html_text)
    return f"\x00{len(store) - 1}\x00"


def render(body: str, *, members: Iterable[str] = ()) -> str:
    """The comment as safe HTML: paragraphs, line breaks, links, emphasis, and the
    mentions of `members` (user names) marked as such."""
    known = set(members)
    kept: list[str] = []
    text = html.escape(body.strip(), quote=True)

    # Code and links first, into placeholders, so nothing inside them is changed again.
    text = CODE.sub(lambda m: _placeholder(kept, f"<code>{m.group(1)}</code>"), text)
    text = LINK.sub(
        lambda m: _placeholder(kept, f'<a href="{m.group(2)}">{m.group(1)}</a>'),
        text,
    )
    text = URL.sub(lambda m: _placeholder(kept, f'<a href="{m.group(0)}">{m.group(0)}</a>'), text)

    def mention(match: re.Match[str]) -> str:
        name = match.group(1).rstrip(".")
        rest = match.group(1)[len(name) :]
        if name not in known:
            return match.group(0)
        return _placeholder(kept, f'<span class="mention">@{name}</span>') + rest

    text = MENTION.sub(mention, text)
    text = STRONG.sub(r"<strong>\1</strong>", text)
    text = EM_STAR.sub(r"<em>\1</em>", text)
    text = EM_UNDERSCORE.sub(r"<em>\1</em>", text)

    restore: Callable[[re.Match[str]], str] = lambda m: kept[int(m.group(1))]  # noqa: E731
    for _ in range(3):  # a link's text may hold code: placeholders inside placeholders
        text = re.sub(r"\x00(\d+)\x00", restore, text)

    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    rendered = "".join(f"<p>{p.strip().replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_excerpt(body: str, limit: int = 140) -> str:
    """The comment's first words on one line, for a notification or an email subject."""
    one_line = " ".join(body.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"
