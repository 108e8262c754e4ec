"""Re-anchoring highlights in a re-imported article (annotations.core.anchoring).

Pure: no database. Each test makes a selector on an old text, as the reader
does when a reviewer highlights a claim, changes the text the way a newsroom
does, and checks where the highlight lands.
"""

from __future__ import annotations

import random

import pytest

from annotations.core.anchoring import (
    CONTEXT_CHARS,
    Anchor,
    TextSelector,
    _match_ends,
    _Reanchorer,
    reanchor,
    reanchor_all,
    reanchored_selector,
    selector_for,
)

INTRO = (
    "The city council met on Tuesday evening to debate the new transport plan, "
    "which has divided residents for months."
)
BUDGET = (
    "According to the finance office, the plan will cost 48 million euros over "
    "five years, most of it for new tram lines."
)
JOBS = (
    "Unemployment in the region fell to 3.9 percent in March, the lowest level "
    "since the statistics office began counting."
)
CRITICS = (
    "Critics say the figures leave out the cost of maintenance, which the "
    "opposition puts at another 12 million euros."
)
VOTE = "The final vote is expected before the summer recess."
PARAGRAPHS = [INTRO, BUDGET, JOBS, CRITICS, VOTE]
ARTICLE = "\n\n".join(PARAGRAPHS)

CLAIM = "fell to 3.9 percent in March"
COST = "the plan will cost 48 million euros over five years"


def select(text: str, quote: str, occurrence: int = 0) -> TextSelector:
    """The selector a reviewer makes by highlighting the given occurrence of quote."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(quote, start + 1)
    return selector_for(text, start, start + len(quote))


def assert_lands_on(anchor: Anchor, text: str, start: int, quote: str) -> None:
    assert (anchor.start, anchor.end, anchor.quote) == (start, start + len(quote), quote)
    assert text[start : start + len(quote)] == quote


# Unchanged text, and edits outside the claim.


def test_an_unchanged_text_keeps_every_highlight_in_place():
    selectors = [select(ARTICLE, quote) for quote in (CLAIM, COST, "Critics", VOTE)]

    anchors = reanchor_all(ARTICLE, selectors, old_length=len(ARTICLE))

    for selector, anchor in zip(selectors, anchors, strict=True):
        assert anchor == Anchor("unchanged", selector.start, selector.end, selector.exact, 1.0)


def test_an_edit_before_the_claim_moves_it_by_the_length_of_the_edit():
    selector = select(ARTICLE, CLAIM)
    inserted = " The meeting ran late."
    new = ARTICLE.replace(INTRO, INTRO + inserted)

    anchor = reanchor(new, selector, old_length=len(ARTICLE))

    assert anchor.status == "moved"
    assert_lands_on(anchor, new, selector.start + len(inserted), CLAIM)
    assert anchor.score > 0.99


def test_a_deletion_before_the_claim_moves_it_back():
    selector = select(ARTICLE, CLAIM)
    new = ARTICLE.replace(", most of it for new tram lines", "")

    anchor = reanchor(new, selector)

    assert anchor.status == "moved"
    assert_lands_on(anchor, new, selector.start - len(", most of it for new tram lines"), CLAIM)


def test_an_edit_after_the_claim_leaves_it_unchanged():
    selector = select(ARTICLE, CLAIM)
    new = ARTICLE.replace("12 million euros", "15 million euros")

    anchor = reanchor(new, selector)

    assert anchor == Anchor("unchanged", selector.start, selector.end, CLAIM, 1.0)


def test_an_edit_right_next_to_the_claim_leaves_it_unchanged_with_a_lower_score():
    # The span and its quote are the same: that is what "unchanged" means. The
    # changed context only lowers the score.
    selector = select(ARTICLE, CLAIM)
    new = ARTICLE.replace("in March, the lowest", "in March; the lowest")

    anchor = reanchor(new, selector)

    assert anchor.status == "unchanged"
    assert (anchor.start, anchor.end) == (selector.start, selector.end)
    assert 0.9 < anchor.score < 1.0


# Edits inside the claim.


def test_an_edit_inside_the_claim_returns_the_new_quote():
    selector = select(ARTICLE, CLAIM)
    new = ARTICLE.replace("3.9 percent", "3.8 percent")

    anchor = reanchor(new, selector)

    assert anchor.status == "edited"
    assert_lands_on(anchor, new, selector.start, "fell to 3.8 percent in March")
    assert 0.9 < anchor.score < 1.0


def test_an_insertion_inside_the_claim_widens_the_span():
    selector = select(ARTICLE, COST)
    new = ARTICLE.replace("48 million euros", "48.5 million euros")

    anchor = reanchor(new, selector)

    assert anchor.status == "edited"
    assert_lands_on(
        anchor, new, selector.start, "the plan will cost 48.5 million euros over five years"
    )


def test_an_edited_claim_that_also_moved_is_found_at_its_new_place():
    selector = select(ARTICLE, CLAIM)
    inserted = "A spokesman declined to comment.\n\n"
    new = inserted + ARTICLE.replace("3.9 percent", "four percent")

    anchor = reanchor(new, selector, old_length=len(ARTICLE))

    assert anchor.status == "edited"
    assert_lands_on(anchor, new, selector.start + len(inserted), "fell to four percent in March")


# Repeated phrases.

REPEATED = "the council approved the budget"
MINUTES = "\n".join(
    [
        f"In January, after a short debate, {REPEATED} for the schools.",
        f"In February, despite loud protests, {REPEATED} for the trams.",
        f"In March, with two abstentions, {REPEATED} for the parks.",
    ]
)


def test_the_context_picks_the_right_occurrence_of_a_repeated_phrase():
    selector = select(MINUTES, REPEATED, occurrence=1)
    first = MINUTES.index(REPEATED)
    # The insertion puts the first occurrence exactly where the highlighted
    # second one was: the offsets and the quote match there, the context does not.
    inserted = "x" * (selector.start - first)
    new = inserted + MINUTES

    anchor = reanchor(new, selector)

    assert new[selector.start : selector.end] == REPEATED
    assert anchor.status == "moved"
    assert_lands_on(anchor, new, selector.start + len(inserted), REPEATED)


def test_the_context_picks_the_right_occurrence_when_the_text_is_reordered():
    lines = MINUTES.split("\n")
    selector = select(MINUTES, REPEATED, occurrence=2)
    new = "\n".join([lines[2], lines[0], lines[1]])

    anchor = reanchor(new, selector)

    assert anchor.status == "moved"
    assert_lands_on(anchor, new, new.index(REPEATED), REPEATED)


CHORUS = "Prices rose again. " * 12


def test_with_an_ambiguous_context_the_nearest_occurrence_to_the_old_position_wins():
    selector = select(CHORUS, "Prices rose", occurrence=6)
    new = "Note: " + CHORUS

    anchor = reanchor(new, selector)

    assert anchor.status == "moved"
    assert_lands_on(anchor, new, selector.start + len("Note: "), "Prices rose")


def test_with_an_ambiguous_context_an_unmoved_occurrence_stays():
    selector = select(CHORUS, "Prices rose", occurrence=6)
    new = CHORUS + "Wages did not."

    anchor = reanchor(new, selector, old_length=len(CHORUS))

    assert anchor.status == "unchanged"
    assert (anchor.start, anchor.end) == (selector.start, selector.end)


def test_the_old_position_is_scaled_by_the_documents_change_in_length():
    # Every sentence gets a sentence before it, so the document doubles in
    # length and every context looks alike. Only the scaled old position
    # still points at the sixth occurrence.
    old = "Same words here. " * 12
    new = "Other news. Same words here. " * 12
    selector = select(old, "Same words here", occurrence=5)
    sixth = 5 * len("Other news. Same words here. ") + len("Other news. ")

    scaled = reanchor(new, selector, old_length=len(old))
    unscaled = reanchor(new, selector)

    assert scaled.status == "moved"
    assert_lands_on(scaled, new, sixth, "Same words here")
    assert unscaled.start != sixth


# Deletions.


def test_deleting_the_claim_orphans_it():
    selector = select(ARTICLE, CLAIM)
    new = "\n\n".join([INTRO, BUDGET, CRITICS, VOTE])

    anchor = reanchor(new, selector)

    assert anchor == Anchor("orphaned", None, None, None, 0.0)
    assert not anchor.found
    assert reanchored_selector(new, anchor) is None


def test_deleting_the_surrounding_paragraphs_moves_the_claim():
    quote = "Unemployment in the region fell to 3.9 percent"
    selector = select(ARTICLE, quote)
    new = "\n\n".join([INTRO, JOBS, VOTE])

    anchor = reanchor(new, selector)

    assert anchor.status == "moved"
    assert_lands_on(anchor, new, new.index(quote), quote)
    # The suffix is intact; the prefix was the end of the deleted paragraph.
    assert 0.7 < anchor.score < 0.9


def test_a_last_sentence_whose_neighbour_was_deleted_is_found():
    # Its prefix is gone and, at the end of the text, it has no suffix: the
    # exact sentence alone is evidence enough.
    selector = select(ARTICLE, VOTE)
    new = "\n\n".join([INTRO, BUDGET, JOBS, VOTE])

    anchor = reanchor(new, selector)

    assert anchor.status == "moved"
    assert_lands_on(anchor, new, len(new) - len(VOTE), VOTE)


def test_deleting_the_paragraph_after_the_claim_leaves_it_unchanged():
    selector = select(ARTICLE, "the lowest level since the statistics office began counting")
    new = "\n\n".join([INTRO, BUDGET, JOBS, VOTE])

    anchor = reanchor(new, selector)

    assert anchor.status == "unchanged"
    assert (anchor.start, anchor.end) == (selector.start, selector.end)
    assert anchor.score < 1.0


def test_a_short_quote_whose_words_were_deleted_is_not_moved_to_the_same_words_elsewhere():
    # "12 million euros" still appears, but in a sentence the highlight never
    # was in: a wrong highlight would be worse than an orphan shown for review.
    selector = select(ARTICLE, "12 million euros")
    new = "\n\n".join(
        [INTRO, BUDGET, JOBS, VOTE, "The mayor's office spent 12 million euros on ads."]
    )

    anchor = reanchor(new, selector)

    assert anchor.status == "orphaned"


def test_a_short_quote_that_moved_with_its_context_is_found():
    selector = select(ARTICLE, "12 million euros")
    new = "\n\n".join([CRITICS, INTRO, BUDGET, JOBS, VOTE])

    anchor = reanchor(new, selector)

    assert anchor.status == "moved"
    assert_lands_on(anchor, new, new.index("12 million euros"), "12 million euros")


# Offsets count code points.

UNICODE_ARTICLE = (
    "Zürich 🇨🇭 — Die Müller AG sagte am Montag, das Werk in São Paulo koste 2,4 Mrd. €. "
    "Die Forscherin 👩‍🔬 Ana Lima widersprach: „Das ist zu wenig.“ Das Werk öffnet 2027."
)


def test_offsets_around_emoji_count_code_points():
    quote = "das Werk in São Paulo koste 2,4 Mrd. €"
    selector = select(UNICODE_ARTICLE, quote)
    inserted = "🚋🚋 "
    new = inserted + UNICODE_ARTICLE

    anchor = reanchor(new, selector)

    assert len(inserted) == 3
    assert anchor.status == "moved"
    assert_lands_on(anchor, new, selector.start + 3, quote)


def test_an_edited_claim_next_to_emoji_keeps_code_point_offsets():
    quote = "Die Forscherin 👩‍🔬 Ana Lima widersprach"
    selector = select(UNICODE_ARTICLE, quote)
    new = UNICODE_ARTICLE.replace("2,4 Mrd.", "2,6 Milliarden").replace("Ana Lima", "Ana Lins")

    anchor = reanchor(new, selector)

    assert anchor.status == "edited"
    assert_lands_on(
        anchor, new, new.index("Die Forscherin"), "Die Forscherin 👩‍🔬 Ana Lins widersprach"
    )


# The edges of the text.


def test_a_claim_at_the_very_start_survives_edits():
    selector = select(ARTICLE, "The city council met on Tuesday evening")
    assert selector.start == 0
    assert selector.prefix == ""

    after = reanchor(ARTICLE + " Updated.", selector)
    before = reanchor("UPDATE: " + ARTICLE, selector)
    edited = reanchor(ARTICLE.replace("Tuesday", "Wednesday"), selector)

    assert after == Anchor("unchanged", 0, selector.end, selector.exact, 1.0)
    assert before.status == "moved"
    assert_lands_on(before, "UPDATE: " + ARTICLE, len("UPDATE: "), selector.exact)
    assert edited.status == "edited"
    assert (edited.start, edited.quote) == (0, "The city council met on Wednesday evening")


def test_a_claim_at_the_very_end_survives_edits():
    selector = select(ARTICLE, "expected before the summer recess.")
    assert selector.end == len(ARTICLE)
    assert selector.suffix == ""

    moved = reanchor("UPDATE: " + ARTICLE, selector)
    edited_text = ARTICLE.replace("summer recess.", "summer break.")
    edited = reanchor(edited_text, selector)

    assert moved.status == "moved"
    assert moved.end == len(ARTICLE) + len("UPDATE: ")
    assert edited.status == "edited"
    assert edited.quote == "expected before the summer break."
    assert edited.end == len(edited_text)


def test_a_claim_that_is_the_whole_text_is_found_after_a_small_edit():
    old = "Turnout was 61 percent."
    selector = selector_for(old, 0, len(old))

    anchor = reanchor("Turnout was 62 percent.", selector)

    assert anchor == Anchor("edited", 0, len(old), "Turnout was 62 percent.", anchor.score)


def test_an_empty_new_text_orphans_everything():
    selectors = [select(ARTICLE, CLAIM), select(ARTICLE, "The")]

    assert [anchor.status for anchor in reanchor_all("", selectors)] == ["orphaned"] * 2


# The edit threshold.


def test_a_slightly_edited_quote_is_found_and_a_rewritten_one_is_orphaned():
    selector = select(ARTICLE, COST)
    # Six edits, then 38, in 51 characters; the default allows 12.
    slightly = ARTICLE.replace("48 million euros over five", "49 million euro over 5")
    rewritten = ARTICLE.replace(COST, "the scheme is priced at 48m across half a decade")

    assert reanchor(slightly, selector).status == "edited"
    assert reanchor(rewritten, selector).status == "orphaned"


def test_max_edit_ratio_sets_the_threshold():
    selector = select(ARTICLE, COST)
    # Three edits in 51 characters: 6 percent of the quote.
    new = ARTICLE.replace("48 million euros", "49 millon euro")

    assert reanchor(new, selector, max_edit_ratio=0.1).status == "edited"
    assert reanchor(new, selector, max_edit_ratio=0.05).status == "orphaned"
    assert reanchor(new, selector, max_edit_ratio=0.0).status == "orphaned"


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 2.0])
def test_max_edit_ratio_must_be_a_fraction_below_one(ratio):
    with pytest.raises(ValueError, match="max_edit_ratio"):
        reanchor(ARTICLE, select(ARTICLE, CLAIM), max_edit_ratio=ratio)


# Many selectors, and determinism.


def sentence_selectors(text: str) -> list[TextSelector]:
    selectors = []
    start = 0
    for sentence in text.replace("\n\n", " ").split(". "):
        start = text.index(sentence, start)
        selectors.append(selector_for(text, start, start + len(sentence)))
        start += len(sentence)
    return selectors


def test_reanchor_all_matches_reanchor_one_by_one_and_keeps_the_order():
    selectors = sentence_selectors(ARTICLE) + [select(ARTICLE, CLAIM)] * 3
    new = "Breaking: " + ARTICLE.replace("3.9", "4.1").replace(CRITICS, "")

    anchors = reanchor_all(new, selectors, old_length=len(ARTICLE))

    assert anchors == [reanchor(new, s, old_length=len(ARTICLE)) for s in selectors]
    reversed_anchors = reanchor_all(new, selectors[::-1], old_length=len(ARTICLE))
    assert reversed_anchors == anchors[::-1]
    assert [anchor.status for anchor in anchors] == [
        "moved",  # The council met ...
        "moved",  # According to the finance office ...
        "edited",  # Unemployment ... fell to 4.1 percent ...
        "orphaned",  # Critics say ... (deleted)
        "moved",  # The final vote ...
        "edited",
        "edited",
        "edited",
    ]


def test_the_results_are_deterministic():
    selectors = [select(CHORUS, "Prices rose", occurrence=i) for i in range(12)]
    new = "Note: " + CHORUS.replace("again", "agian", 3)

    first = reanchor_all(new, selectors)

    assert all(reanchor_all(new, selectors) == first for _ in range(3))


def test_the_new_selector_is_made_from_the_new_text():
    selector = select(ARTICLE, CLAIM)
    new = "UPDATE: " + ARTICLE.replace("3.9", "3.8")

    anchor = reanchor(new, selector)
    updated = reanchored_selector(new, anchor)

    assert anchor.start is not None
    assert anchor.end is not None
    assert updated == selector_for(new, anchor.start, anchor.end)
    assert updated.exact == "fell to 3.8 percent in March"
    assert len(updated.prefix) == CONTEXT_CHARS


# The machinery behind the approximate search.


def naive_end_distances(pattern: str, text: str) -> list[int]:
    """The textbook dynamic programme: the least edit distance of pattern to a span ending at
    each end of text."""
    previous = list(range(len(pattern) + 1))
    distances = []
    for char in text:
        current = [0]
        for i, expected in enumerate(pattern, start=1):
            current.append(
                min(previous[i] + 1, current[i - 1] + 1, previous[i - 1] + (expected != char))
            )
        distances.append(current[-1])
        previous = current
    return distances


def test_the_bit_parallel_scan_agrees_with_the_textbook_algorithm():
    generator = random.Random(20240611)
    for _ in range(300):
        alphabet = generator.choice(["ab", "abc ", "the cat sat"])
        pattern = "".join(generator.choices(alphabet, k=generator.randint(1, 80)))
        text = "".join(generator.choices(alphabet, k=generator.randint(0, 120)))
        max_edits = generator.randint(0, len(pattern))

        expected = [
            (end, distance)
            for end, distance in enumerate(naive_end_distances(pattern, text), start=1)
            if distance <= max_edits
        ]
        assert _match_ends(pattern, text, max_edits) == expected


class WholeTextReanchorer(_Reanchorer):
    """Scans the whole text, with no filter in front."""

    def _candidate_regions(self, exact: str, max_edits: int) -> list[tuple[int, int]]:
        return [(0, len(self.text))]


def test_the_chunk_filter_loses_no_approximate_match():
    # The filters in C may only skip what a scan of the whole text rejects.
    generator = random.Random(7)
    for _ in range(400):
        alphabet = generator.choice(["ab", "abcdefgh ", "the cat sat on a mat"])
        text = "".join(generator.choices(alphabet, k=generator.randint(0, 300)))
        length = generator.randint(1, 70)
        if len(text) > length and generator.random() < 0.6:
            start = generator.randrange(len(text) - length)
            quote = list(text[start : start + length])
            for _ in range(generator.randint(0, length // 4 + 1)):
                quote[generator.randrange(length)] = generator.choice(alphabet)
            exact = "".join(quote)
        else:
            exact = "".join(generator.choices(alphabet, k=length))
        max_edits = min(length - 1, generator.randint(1, max(1, length // 2)))

        filtered = _Reanchorer(text, 0.25)._approximate_matches(exact, max_edits)
        assert filtered == WholeTextReanchorer(text, 0.25)._approximate_matches(exact, max_edits)
