"""Two texts with the words that changed marked: the claims' history and the changes a
new version of an article brought show them the same way."""

from __future__ import annotations

import difflib
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Texts longer than this show only the changed words with a little around them.
AROUND = 8
WORDS = re.compile(r"\S+\s*|\s+")


def words_changed(old: str, new: str) -> tuple[SafeString, SafeString]:
    """Both texts with the words that differ marked: <del> in the old, <ins> in the new.

    Long unchanged stretches are cut to a few words either side of a change, so
    a late edit in a long text shows where it is, and not only its start.
    """
    a, b = WORDS.findall(old), WORDS.findall(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    left: list[str] = []
    right: list[str] = []
    opcodes = matcher.get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            same = a[i1:i2]
            if len(same) > 2 * AROUND + 1:
                head = same[:AROUND] if n > 0 else []
                tail = same[-AROUND:] if n < len(opcodes) - 1 else []
                text = escape("".join(head)) + " … " + escape("".join(tail))
            else:
                text = escape("".join(same))
            left.append(text)
            right.append(text)
            continue
        if i2 > i1:
            left.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            right.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return mark_safe("".join(left)), mark_safe("".join(right))  # noqa: S308 - escaped above
