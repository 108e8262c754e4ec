"""The reader through the Django test client: what a reviewer or editor gets back
for each click, with and without htmx. Here reading, marking claims, the verdict
colours and the reader's queries; editing, deleting, submitting and reopening in
test_reader_edits_and_reviews.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import ClaimAnnotation, Source
from annotations.newsrooms.services import collection_ensure
from annotations.reader import services
from annotations.reader.services import assignment_ensure
from tests.factories import ArticleFactory
from tests.html import claim_quotes, paragraphs
from tests.reader.conftest import HTMX, as_user, claim_post, mark, reader_url, verdict
from tests.reader.pages import (
    claim_form,
    form_errors,
    form_values,
    highlights,
    mark_classes,
    oob_paragraphs,
    sends_claim_list_out_of_band,
)

# Reading -----------------------------------------------------------------------------


def test_the_reader_draws_each_claim_as_a_highlight_and_lists_them_in_reading_order(
    article, alice, claim
):
    unchecked = mark(article, alice, "give peace a chance")
    page = as_user(alice).get(reader_url(article))
    assert page.status_code == 200
    assert highlights(page.text) == {
        claim.pk: "reposition its forces",
        unchecked.pk: "give peace a chance",
    }
    assert f"v{claim.verdict_id}" in mark_classes(page.text, claim.pk)[0]
    assert "todo" in mark_classes(page.text, unchecked.pk)[0]  # "to check" is drawn dashed
    assert claim_quotes(page.text) == ["reposition its forces", "give peace a chance"]
    assert "Words, not deeds." in page.text
    assert "\n".join(paragraphs(page.text)) == article.text


def test_an_emoji_and_curly_quotes_are_highlighted_exactly(article, alice, alices):
    claim = mark(article, alice, "a “long” way 🚙")
    page = as_user(alice).get(reader_url(article))
    assert highlights(page.text)[claim.pk] == "a “long” way 🚙"


# Marking a claim -----------------------------------------------------------------------


def test_saving_a_claim_with_htmx_swaps_its_paragraph_and_the_claim_list(article, alice, alices):
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(
            article,
            "give peace a chance",
            verdict=verdict(article, "unverifiable").pk,
            note="Said on radio.",
            source_url=["https://radio.example/interview"],
            source_title=["Radio interview"],
            source_quote=["we want peace"],
            source_stance=["supports"],
        ),
        headers=HTMX,
    )
    assert response.status_code == 200
    claim = ClaimAnnotation.objects.get()
    assert (claim.quote, claim.verdict.slug, claim.note) == (
        "give peace a chance",
        "unverifiable",
        "Said on radio.",
    )
    assert [(s.url, s.title, s.quote, s.stance) for s in claim.sources.all()] == [
        ("https://radio.example/interview", "Radio interview", "we want peace", "supports")
    ]
    # Only the touched paragraph comes back, to be swapped in place.
    assert oob_paragraphs(response.text) == [1]
    assert highlights(response.text) == {claim.pk: "give peace a chance"}
    assert sends_claim_list_out_of_band(response.text)
    assert claim_quotes(response.text) == ["give peace a chance"]
    assert "Saved “give peace a chance”." in response.text
    # The form comes back closed and empty, ready for the next claim.
    assert "closed" in (claim_form(response.text).get("class") or "").split()
    assert form_values(response.text)["note"] == [""]


def test_a_claim_across_two_paragraphs_swaps_both(article, alice, alices):
    phrase = "before Friday.\nRebels said"
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]), claim_post(article, phrase), headers=HTMX
    )
    assert response.status_code == 200
    claim = ClaimAnnotation.objects.get()
    assert oob_paragraphs(response.text) == [0, 1]
    assert highlights(response.text)[claim.pk] == "before Friday.Rebels said"


def test_saving_a_claim_without_javascript_redirects_to_it(article, alice, alices):
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]), claim_post(article, "give peace a chance")
    )
    claim = ClaimAnnotation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reader_url(article)}#c{claim.pk}"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        pytest.param(
            {"quote": "withdraw its forces"},
            "is “reposition its forces”, not “withdraw its forces”.",
            id="quote-not-at-offsets",
        ),
        pytest.param(
            {"source_url": ["javascript:alert(1)"]},
            "'javascript:alert(1)' is not an http(s) address.",
            id="javascript-source",
        ),
        pytest.param(
            {"rating": "9"},
            "Select a valid choice. 9 is not one of the available choices.",
            id="rating-out-of-range",
        ),
    ],
)
def test_a_rejected_save_shows_the_error_in_the_form_and_keeps_what_was_typed(
    article, alice, alices, fields, error
):
    typed = {
        "note": "Ministry denied it <b>twice</b> & more.",
        "verdict": str(verdict(article, "false").pk),
        "source_url": ["https://ministry.example/statement"],
        "source_title": ["Ministry statement"],
        "source_quote": ["no redeployment"],
        "source_stance": ["refutes"],
    }
    typed.update(fields)
    data = claim_post(article, "reposition its forces", **typed)
    if "quote" in fields:
        data["quote"] = fields["quote"]

    response = as_user(alice).post(reverse("claim-create", args=[article.pk]), data, headers=HTMX)

    assert response.status_code == 422
    assert error in form_errors(response.text)
    shown = form_values(response.text)
    assert shown["note"] == ["Ministry denied it <b>twice</b> & more."]
    assert shown["verdict"] == [typed["verdict"]]
    assert shown["source_url"] == typed["source_url"]
    assert shown["source_title"] == ["Ministry statement"]
    assert shown["source_quote"] == ["no redeployment"]
    assert shown["source_stance"] == ["refutes"]
    assert "<b>twice</b>" not in response.text  # typed text is escaped, never markup
    assert not ClaimAnnotation.all_objects.exists()
    assert not Source.objects.exists()


def test_a_form_with_thousands_of_source_rows_says_so_in_the_form_and_keeps_it(
    article, alice, alices
):
    # The hostile test sent 10,000 rows: a bare "Bad Request (400)" replaced nothing
    # and said nothing. Now the message goes into the form's alert, and the form
    # itself (what was typed) is left as it is.
    rows = 10_000
    data = claim_post(
        article,
        "reposition its forces",
        source_url=[f"https://s{i}.example/" for i in range(rows)],
        source_title=["t"] * rows,
        source_quote=["q"] * rows,
        source_stance=["refutes"] * rows,
    )
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]), data, headers=HTMX | {"HX-Target": "claim-form"}
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#claim-form .form-alert"
    assert response["HX-Reswap"] == "innerHTML"
    assert "nothing was saved" in response.text
    assert "at most 20 sources" in response.text
    assert not ClaimAnnotation.all_objects.exists()
    # Without htmx, a page that says the same.
    plain = as_user(alice).post(reverse("claim-create", args=[article.pk]), data)
    assert plain.status_code == 400
    assert "nothing was saved" in plain.content.decode()


def test_the_claim_form_offers_no_more_source_rows_than_a_claim_may_hold(article, alice, alices):
    page = as_user(alice).get(reader_url(article)).text
    assert 'data-max="20"' in page
    assert "A claim has at most 20 sources." in page


def test_a_reviewer_not_assigned_cannot_mark_claims(article, carol):
    response = as_user(carol).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "give peace a chance", note="Sneaky."),
        headers=HTMX,
    )
    assert response.status_code == 403
    assert "You are not assigned to this article." in form_errors(response.text)
    assert not ClaimAnnotation.all_objects.exists()


def test_a_reviewer_who_submitted_cannot_mark_claims(article, alice, alices):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "give peace a chance"),
        headers=HTMX,
    )
    assert response.status_code == 403
    assert "ask an editor to reopen it" in form_errors(response.text)
    assert not ClaimAnnotation.all_objects.exists()


def test_another_newsrooms_reviewer_cannot_mark_claims_on_our_articles(article, eve):
    response = as_user(eve).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "give peace a chance"),
        headers=HTMX,
    )
    assert response.status_code == 404
    assert article.title not in response.text
    assert not ClaimAnnotation.all_objects.exists()


# Verdict colours --------------------------------------------------------------------


def test_the_verdict_colours_are_served_as_css(article, alice):
    taxonomy = article.collection.taxonomy
    response = as_user(alice).get(reverse("taxonomy-css", args=[taxonomy.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    false = taxonomy.labels.get(slug="false")
    misleading = taxonomy.labels.get(slug="misleading")
    assert f".v{false.pk}{{--c:#c0392b}}" in response.text
    assert f".v{misleading.pk}{{--c:#8e44ad}}" in response.text
    assert len(response.text.splitlines()) == 7


def test_another_newsrooms_verdict_colours_are_a_404(article, eve):
    response = as_user(eve).get(reverse("taxonomy-css", args=[article.collection.taxonomy_id]))
    assert response.status_code == 404


# Query count ------------------------------------------------------------------------


def article_with_claims(collection, count: int, reviewers):
    words = [f"w{i:04d}" for i in range(count + 20)]
    text = "\n".join(" ".join(words[i : i + 10]) for i in range(0, len(words), 10))
    article = ArticleFactory(collection=collection, text=text, title=f"{count} claims")
    for reviewer in reviewers:
        assignment_ensure(article=article, reviewer=reviewer)
    labels = [*collection.taxonomy.labels.all(), None]
    claims = []
    for i in range(count):
        start = text.index(words[i])
        end = start + len(words[i]) + (6 if i % 3 == 0 else 0)  # some overlap the next word
        claims.append(
            ClaimAnnotation(
                article=article,
                reviewer=reviewers[i % len(reviewers)],
                start=start,
                end=end,
                quote=text[start:end],
                verdict=labels[i % len(labels)],
            )
        )
    ClaimAnnotation.objects.bulk_create(claims)
    return article


def test_the_reader_costs_the_same_few_queries_for_10_or_200_claims(
    planet, alice, carol, bob, django_assert_max_num_queries
):
    collection, _ = collection_ensure(organization=planet, slug="busy")
    small = article_with_claims(collection, 10, [alice, carol])
    large = article_with_claims(collection, 200, [alice, carol])
    client = as_user(bob)
    counts = []
    for article, expected in ((small, 10), (large, 200)):
        # The reader's own 8, the header's unread count (one on every page), and the
        # discussion panel's threads with their poll stamp (what the user may see of
        # the threads, and of the comments): 12, whatever the claims.
        with django_assert_max_num_queries(12) as captured:
            page = client.get(reader_url(article))
        assert page.status_code == 200
        assert len(highlights(page.text)) == expected
        assert len(claim_quotes(page.text)) == expected
        counts.append(len(captured))
    assert counts[0] == counts[1]
