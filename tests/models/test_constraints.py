"""The database itself refuses what the services would refuse: a row written
around them (a script, the shell, a future bug) cannot break the invariants."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from annotations.models import ClaimAnnotation, Membership, Role, Source
from annotations.reader.services import claim_create


def raw_claim(article, reviewer, **fields) -> ClaimAnnotation:
    values = {"start": 4, "end": 12, "quote": article.text[4:12]} | fields
    return ClaimAnnotation.objects.create(article=article, reviewer=reviewer, **values)


@pytest.mark.parametrize(
    "fields",
    [
        {"start": 10, "end": 10, "quote": ""},
        {"start": 12, "end": 4, "quote": "x"},
        {"rating": 6},
        {"rating": 0},
        {"quote": "not eight chars long"},
    ],
)
def test_the_database_rejects_impossible_claims(article, alice, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_claim(article, alice, **fields)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://files.example/x"]
)
def test_the_database_rejects_non_http_source_urls(article, alice, url):
    claim = raw_claim(article, alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(claim=claim, url=url)


def test_a_user_has_one_membership_per_newsroom(planet, alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=alice, organization=planet, role=Role.EDITOR)


def test_a_claim_with_an_emoji_satisfies_the_quote_length_constraint(article, alice):
    # Python, SQLite and PostgreSQL must agree on what a character is.
    phrase = "way 🚙"
    start = article.text.index(phrase)
    claim = claim_create(
        article=article,
        reviewer=alice,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        verdict=None,
        rating=None,
    )
    claim.refresh_from_db()
    assert claim.quote == phrase


def test_a_failed_claim_leaves_nothing_behind(article, alice):
    from django.core.exceptions import ValidationError

    from annotations.core.inputs import SourceInput

    with pytest.raises(ValidationError) as error:
        claim_create(
            article=article,
            reviewer=alice,
            start=4,
            end=12,
            quote=article.text[4:12],
            verdict=None,
            rating=None,
            sources=[SourceInput(url="https://ok.example"), SourceInput(url="data:,x")],
        )
    assert "sources[1].url" in error.value.message_dict
    assert not ClaimAnnotation.objects.exists()
    assert not Source.objects.exists()
