"""Addresses are stored as browsers read them (WHATWG URL parsing): one valid URI each."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from annotations.core.inputs import ArticleInput, SourceInput, web_address
from annotations.importing.services import article_import
from annotations.models import Source
from annotations.reader.services import assignment_ensure, claim_create


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ('https://ministry.example/a"b<c>', "https://ministry.example/a%22b%3Cc%3E"),
        ("https://ministry.example/two words", "https://ministry.example/two%20words"),
        ("  HTTPS://Ministry.Example/Page ", "https://ministry.example/Page"),
        ('https://bücher.example/é?q="x"', "https://xn--bcher-kva.example/%C3%A9?q=%22x%22"),
    ],
)
def test_an_address_is_normalized_to_one_valid_uri(typed, stored):
    assert web_address(typed) == stored


@pytest.mark.parametrize(
    "typed", ["javascript:alert(1)", "data:text/html,<b>", "ftp://files.example/", "https://", "x"]
)
def test_anything_but_an_http_address_is_refused(typed):
    assert web_address(typed) is None


def test_a_claims_source_is_stored_normalized_and_so_reaches_partners(article, alice):
    # The hostile test stored `"`, `<` and `>` as typed and handed them to partners.
    assignment_ensure(article=article, reviewer=alice)
    start = article.text.index("reposition its forces")
    claim_create(
        article=article,
        reviewer=alice,
        start=start,
        end=start + len("reposition its forces"),
        quote="reposition its forces",
        verdict=None,
        rating=None,
        sources=[SourceInput(url='https://ministry.example/"><script>', stance="refutes")],
    )
    assert Source.objects.get().url == "https://ministry.example/%22%3E%3Cscript%3E"


def test_a_source_that_is_not_an_http_address_is_refused_naming_it(article, alice):
    assignment_ensure(article=article, reviewer=alice)
    start = article.text.index("reposition its forces")
    with pytest.raises(ValidationError) as refused:
        claim_create(
            article=article,
            reviewer=alice,
            start=start,
            end=start + len("reposition its forces"),
            quote="reposition its forces",
            verdict=None,
            rating=None,
            sources=[SourceInput(url="javascript:alert(1)")],
        )
    assert "sources[0].url" in refused.value.message_dict
    assert not Source.objects.exists()


def test_an_articles_address_is_normalized_so_one_article_is_one_address(desk):
    first = article_import(
        collection=desk,
        data=ArticleInput(title="T", text="One text.", url="HTTPS://News.Example/a b"),
    )
    again = article_import(
        collection=desk,
        data=ArticleInput(title="T", text="One text.", url="https://news.example/a%20b"),
    )
    assert first.article.url == "https://news.example/a%20b"
    assert again.status == "unchanged"
    assert again.article == first.article


@pytest.mark.parametrize(
    ("field", "length", "limit"),
    [("title", 501, "500"), ("publisher", 201, "200"), ("quote", 2001, "2,000")],
)
def test_a_source_field_longer_than_its_column_is_refused_naming_it(
    article, alice, field, length, limit
):
    # PostgreSQL refused these with a server error (the columns hold 500 and 200).
    assignment_ensure(article=article, reviewer=alice)
    start = article.text.index("reposition its forces")
    source = SourceInput(url="https://ministry.example/", stance="refutes")
    setattr(source, field, "x" * length)
    with pytest.raises(ValidationError) as refused:
        claim_create(
            article=article,
            reviewer=alice,
            start=start,
            end=start + len("reposition its forces"),
            quote="reposition its forces",
            verdict=None,
            rating=None,
            sources=[source],
        )
    assert refused.value.message_dict[f"sources[0].{field}"] == [f"Longer than {limit} characters."]
    assert not Source.objects.exists()


def test_an_address_that_grows_past_its_column_when_normalized_is_refused(desk):
    # 1,990 characters as typed, 2,070 once its spaces are percent-encoded.
    typed = "https://news.example/" + "a b " * 492
    assert len(typed) < 2000 < len(web_address(typed))
    with pytest.raises(ValidationError) as refused:
        article_import(collection=desk, data=ArticleInput(title="T", text="One text.", url=typed))
    assert refused.value.message_dict["url"] == ["The address is longer than 2,000 characters."]
