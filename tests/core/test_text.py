from __future__ import annotations

import pytest

from annotations.core.anchoring import SpanError, selector_for
from annotations.core.text import normalize_text, paragraph_spans


def test_it_normalizes_line_endings_and_unicode():
    decomposed = "Th\u0065\u0301re\u0300se said:\r\n\r\n\r\n\r\n“yes”  \rend\ufeff"
    assert normalize_text(decomposed) == "Thérèse said:\n\n“yes”\nend"


def test_normalizing_twice_changes_nothing():
    once = normalize_text("  Title\r\n\r\nBody  with\u200b  spaces\t\n\n\n")
    assert normalize_text(once) == once


def test_paragraphs_are_non_empty_lines_with_their_offsets():
    text = "First line\nSecond\n\nThird 🚙 line"
    spans = paragraph_spans(text)
    assert [text[s:e] for s, e in spans] == ["First line", "Second", "Third 🚙 line"]


def test_offsets_count_characters_not_bytes_around_emoji():
    text = "Car 🚙 goes to Kisangani"
    start = text.index("goes")
    selector = selector_for(text, start, start + 4)
    assert selector.exact == "goes"
    assert selector.prefix == "Car 🚙 "


@pytest.mark.parametrize(
    ("start", "end", "field"), [(-1, 3, "start"), (2, 99, "end"), (5, 5, "end"), (6, 2, "end")]
)
def test_it_rejects_spans_outside_or_empty(start, end, field):
    with pytest.raises(SpanError) as error:
        selector_for("short text", start, end)
    assert error.value.field == field
