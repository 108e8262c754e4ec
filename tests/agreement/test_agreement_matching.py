from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.agreement.matching import (
    PairCounts,
    Span,
    iou,
    match_spans,
    mean_f1,
    sum_pair_counts,
    unit_labels,
)

TEXT = "Officials said the rebels will reposition their forces near Walikale on Monday."


def phrase(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


def unit_ids(matching):
    return [sorted(span.id for span in unit.spans.values()) for unit in matching.units]


def test_iou_counts_characters():
    assert iou(Span(1, "a", 0, 10), Span(2, "b", 5, 15)) == pytest.approx(5 / 15)
    assert iou(Span(1, "a", 0, 10), Span(2, "b", 10, 20)) == 0.0
    assert iou(Span(1, "a", 3, 7), Span(2, "b", 3, 7)) == 1.0


def test_boundaries_one_word_apart_match_under_overlap_but_not_exact():
    alice = Span(1, "alice", *phrase(TEXT, "will reposition their forces"), verdict="misleading")
    bob = Span(2, "bob", *phrase(TEXT, "reposition their forces"), verdict="misleading")
    assert iou(alice, bob) == pytest.approx(23 / 28)

    overlap = match_spans([alice, bob])
    assert unit_ids(overlap) == [[1, 2]]
    assert overlap.units[0].spans == {"alice": alice, "bob": bob}
    assert overlap.unmatched == {"alice": (), "bob": ()}

    exact = match_spans([alice, bob], mode="exact")
    assert unit_ids(exact) == [[1], [2]]
    assert exact.unmatched == {"alice": (alice,), "bob": (bob,)}


def test_exact_mode_matches_identical_spans_of_three_reviewers():
    spans = [Span(i, reviewer, 10, 20) for i, reviewer in enumerate(["a", "b", "c"], start=1)]
    matching = match_spans(spans, mode="exact")
    assert unit_ids(matching) == [[1, 2, 3]]
    assert all(counts.f1 == 1.0 for counts in matching.pairs.values())


def test_threshold_is_configurable():
    a, b = Span(1, "a", 0, 10), Span(2, "b", 4, 10)  # IoU 0.6
    assert unit_ids(match_spans([a, b], threshold=0.6)) == [[1, 2]]
    assert unit_ids(match_spans([a, b], threshold=0.61)) == [[1], [2]]


def test_a_long_span_matches_only_one_of_two_short_ones():
    long = Span(1, "a", 0, 20)
    first, second = Span(2, "b", 0, 12), Span(3, "b", 12, 20)  # IoU 0.6 and 0.4
    matching = match_spans([second, long, first], threshold=0.4)
    assert unit_ids(matching) == [[1, 2], [3]]
    assert matching.unmatched == {"a": (), "b": (second,)}
    assert matching.pairs[("a", "b")] == PairCounts(matched=1, spans_a=1, spans_b=2)


def test_equal_iou_is_settled_by_position():
    long = Span(10, "a", 0, 20)
    right, left = Span(1, "b", 10, 20), Span(2, "b", 0, 10)  # both IoU 0.5
    assert unit_ids(match_spans([right, long, left])) == [[2, 10], [1]]


def test_every_two_spans_in_a_unit_match():
    # b and c each match a (IoU 0.6), but not each other (IoU 0.2): a unit
    # never chains them through a.
    a, b, c = Span(1, "a", 0, 10), Span(2, "b", 0, 6), Span(3, "c", 4, 10)
    matching = match_spans([c, b, a])
    assert unit_ids(matching) == [[1, 2], [3]]
    assert matching.unmatched["c"] == (c,)


def test_a_reviewer_never_has_two_spans_in_a_unit():
    spans = [Span(1, "a", 0, 10), Span(2, "a", 1, 10), Span(3, "b", 0, 10)]
    # Both of a's spans match b's (IoU 1 and 0.9); units are keyed by
    # reviewer, so the second one must stay a unit of its own, not be lost.
    assert unit_ids(match_spans(spans)) == [[1, 3], [2]]


def test_pair_figures_on_a_hand_worked_example():
    spans = [
        Span(1, 1, 0, 10),
        Span(2, 1, 20, 30),
        Span(3, 1, 40, 50),
        Span(4, 2, 0, 10),
        Span(5, 2, 21, 30),  # IoU 0.9 with span 2
        Span(6, 2, 60, 70),
        Span(7, 3, 40, 50),
    ]
    matching = match_spans(spans, reviewers=[3, 2, 1, 4])
    assert unit_ids(matching) == [[1, 4], [2, 5], [3, 7], [6]]

    one_two, one_three, two_three = (
        matching.pairs[(1, 2)],
        matching.pairs[(1, 3)],
        matching.pairs[(2, 3)],
    )
    assert one_two == PairCounts(2, 3, 3)
    assert (one_two.precision, one_two.recall, one_two.f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    # Reviewer 1 has 3 spans, reviewer 3 one: 1 of 1's spans is confirmed by
    # 3 (precision 1/3), all of 3's by 1 (recall 1), F1 = 2·1 / (3 + 1).
    assert one_three == PairCounts(1, 3, 1)
    assert (one_three.precision, one_three.recall, one_three.f1) == pytest.approx((1 / 3, 1, 0.5))
    assert (two_three.precision, two_three.recall, two_three.f1) == (0.0, 0.0, 0.0)
    # Reviewer 4 was assigned and marked nothing.
    assert matching.pairs[(1, 4)] == PairCounts(0, 3, 0)
    assert (matching.pairs[(1, 4)].precision, matching.pairs[(1, 4)].recall) == (0.0, None)
    assert list(matching.pairs) == [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    assert matching.pairs[(3, 4)].f1 == 0.0
    # Six pairs, all defined: (2/3 + 1/2 + 0 + 0 + 0 + 0) / 6.
    assert matching.mean_f1 == pytest.approx((2 / 3 + 1 / 2) / 6)
    assert matching.unmatched == {1: (), 2: (spans[5],), 3: (), 4: ()}


def test_f1_is_symmetric_and_undefined_without_spans():
    counts = PairCounts(matched=2, spans_a=4, spans_b=2)
    swapped = PairCounts(matched=2, spans_a=2, spans_b=4)
    assert counts.f1 == swapped.f1 == pytest.approx(2 / 3)
    assert counts.precision == swapped.recall == 0.5
    empty = PairCounts()
    assert (empty.precision, empty.recall, empty.f1) == (None, None, None)
    assert mean_f1({("a", "b"): empty}) is None


def test_counts_add_up_across_articles():
    first_spans = [
        Span(1, "a", 0, 10),
        Span(2, "b", 0, 10),
        Span(3, "a", 20, 30),
        Span(4, "c", 50, 60),
    ]
    second_spans = [
        Span(5, "a", 0, 10),
        Span(6, "c", 1, 10),
        Span(7, "b", 40, 45),
        Span(8, "c", 40, 44),
    ]
    first, second = match_spans(first_spans), match_spans(second_spans)
    pooled = sum_pair_counts([first.pairs, second.pairs])
    assert pooled == {
        ("a", "b"): PairCounts(1, 3, 2),
        ("a", "c"): PairCounts(1, 3, 3),
        ("b", "c"): PairCounts(1, 2, 3),
    }
    # The two articles as one long text, the second far to the right: the
    # sums are the figures of the whole.
    shifted = [Span(s.id, s.reviewer, s.start + 1000, s.end + 1000) for s in second_spans]
    assert match_spans(first_spans + shifted).pairs == pooled
    # Pooled F1 comes from the sums, not from averaging the articles' F1.
    assert pooled[("a", "b")].f1 == pytest.approx(2 / 5)


def test_summing_accepts_a_pair_spelled_the_other_way():
    pooled = sum_pair_counts([{("b", "a"): PairCounts(1, 2, 3)}, {("a", "b"): PairCounts(1, 1, 1)}])
    assert pooled == {("a", "b"): PairCounts(2, 4, 3)}


def test_mixed_reviewer_ids_have_one_order():
    matching = match_spans([Span(1, "zoe", 0, 5), Span(2, 7, 0, 5)])
    assert list(matching.pairs) == [(7, "zoe")]


def test_units_carry_labels_with_missing_values():
    spans = [
        Span(1, "a", 0, 10, verdict="false", rating=1),
        Span(2, "b", 0, 10, verdict=None, rating=None),
        Span(3, "a", 30, 40, verdict="true", rating=5),
    ]
    units = match_spans(spans).units
    assert unit_labels(units, "verdict") == [{"a": "false", "b": None}, {"a": "true"}]
    assert unit_labels(units, "rating") == [{"a": 1, "b": None}, {"a": 5}]


def test_no_spans_gives_empty_figures():
    matching = match_spans([], reviewers=["a", "b"])
    assert matching.units == ()
    assert matching.pairs == {("a", "b"): PairCounts()}
    assert matching.mean_f1 is None


@pytest.mark.parametrize(
    ("spans", "kwargs"),
    [
        ([Span(1, "a", 5, 5)], {}),
        ([Span(1, "a", 0, 5), Span(1, "b", 0, 5)], {}),
        ([Span(1, "a", 0, 5)], {"threshold": 0.0}),
        ([Span(1, "a", 0, 5)], {"threshold": 1.5}),
        ([Span(1, "a", 0, 5)], {"mode": "fuzzy"}),
        ([Span(1, "a", 0, 5)], {"reviewers": ["b"]}),
    ],
)
def test_malformed_input_is_refused(spans, kwargs):
    with pytest.raises(ValueError, match=r"."):
        match_spans(spans, **kwargs)


span_lists = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(min_value=0, max_value=60),
        st.integers(min_value=1, max_value=15),
    ),
    max_size=25,
).map(lambda rows: [Span(i, r, start, start + length) for i, (r, start, length) in enumerate(rows)])


@settings(max_examples=60, deadline=None)
@given(spans=span_lists, data=st.data(), mode=st.sampled_from(["overlap", "exact"]))
def test_matching_does_not_depend_on_input_order(spans, data, mode):
    shuffled = data.draw(st.permutations(spans))
    assert match_spans(shuffled, mode=mode) == match_spans(spans, mode=mode)


@settings(max_examples=60, deadline=None)
@given(spans=span_lists, threshold=st.sampled_from([0.3, 0.5, 0.8, 1.0]))
def test_units_are_one_to_one_and_every_two_spans_match(spans, threshold):
    matching = match_spans(spans, threshold=threshold)
    seen = [span.id for unit in matching.units for span in unit.spans.values()]
    assert sorted(seen) == [span.id for span in spans]
    for unit in matching.units:
        members = list(unit.spans.values())
        assert all(iou(x, y) >= threshold for i, x in enumerate(members) for y in members[i + 1 :])
    for (a, b), counts in matching.pairs.items():
        together = sum(1 for unit in matching.units if a in unit.spans and b in unit.spans)
        assert counts.matched == together
        assert counts.spans_a == sum(1 for span in spans if span.reviewer == a)


def test_threshold_one_is_exact():
    spans = [Span(1, "a", 0, 10), Span(2, "b", 0, 10), Span(3, "c", 0, 9), Span(4, "a", 3, 9)]
    overlap, exact = match_spans(spans, threshold=1.0), match_spans(spans, mode="exact")
    assert (overlap.units, overlap.pairs) == (exact.units, exact.pairs)
