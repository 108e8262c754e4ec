from __future__ import annotations

from annotations.core.highlights import Span, paragraphs_touching, segment

TEXT = "Rebels will reposition their forces.\nThey want to give peace a chance."


def pieces(text, spans):
    return [[(text[s.start : s.end], s.claims) for s in p.segments] for p in segment(text, spans)]


def test_text_without_claims_is_one_segment_per_paragraph():
    assert pieces(TEXT, []) == [
        [("Rebels will reposition their forces.", ())],
        [("They want to give peace a chance.", ())],
    ]


def test_nested_highlights_become_flat_segments_with_both_claims():
    outer = Span(1, TEXT.index("will"), TEXT.index("forces") + 6)
    inner = Span(2, TEXT.index("reposition"), TEXT.index("reposition") + 10)
    assert pieces(TEXT, [inner, outer])[0] == [
        ("Rebels ", ()),
        ("will ", (1,)),
        ("reposition", (1, 2)),
        (" their forces", (1,)),
        (".", ()),
    ]


def test_overlapping_highlights_share_the_middle():
    a = Span(1, 0, TEXT.index("their"))
    b = Span(2, TEXT.index("reposition"), TEXT.index("."))
    first = pieces(TEXT, [a, b])[0]
    assert first == [
        ("Rebels will ", (1,)),
        ("reposition ", (1, 2)),
        ("their forces", (2,)),
        (".", ()),
    ]


def test_a_highlight_across_a_paragraph_break_is_split_per_paragraph():
    start = TEXT.index("forces")
    end = TEXT.index("want") + 4
    result = pieces(TEXT, [Span(7, start, end)])
    assert result[0][-1] == ("forces.", (7,))
    assert result[1][0] == ("They want", (7,))
    assert paragraphs_touching(TEXT, start, end) == [0, 1]


def test_segments_cover_every_character_of_every_paragraph_exactly_once():
    spans = [Span(i, i * 3 % 50, i * 3 % 50 + 7) for i in range(1, 30)]
    for paragraph in segment(TEXT, spans):
        covered = "".join(TEXT[s.start : s.end] for s in paragraph.segments)
        assert covered == TEXT[paragraph.start : paragraph.end]
