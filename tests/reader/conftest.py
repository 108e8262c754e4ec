"""The reader's people, places and claims: alice and carol assigned to the
article, a claim of alice's on it, and the requests the reader's form sends.

People as in tests/conftest.py; tests/reader/pages.py reads what comes back.
test_claim_services.py has an `alices` and a `claim` of its own.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotations.core.inputs import SourceInput
from annotations.models import Assignment, ClaimAnnotation
from annotations.reader import services
from annotations.reader.services import assignment_ensure
from tests.conftest import login

HTMX = {"HX-Request": "true"}


def verdict(article, slug: str):
    return article.collection.taxonomy.labels.get(slug=slug)


def mark(article, reviewer, phrase: str, **judgement):
    """The reviewer marks `phrase` (its first occurrence) as a claim."""
    start = article.text.index(phrase)
    judgement.setdefault("verdict", None)
    judgement.setdefault("rating", None)
    return services.claim_create(
        article=article,
        reviewer=reviewer,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        **judgement,
    )


def claim_post(article, phrase: str, *, quote: str | None = None, **fields) -> dict:
    """The POST the reader's form sends for a selection of `phrase`."""
    start = article.text.index(phrase)
    data = {
        "start": start,
        "end": start + len(phrase),
        "quote": phrase if quote is None else quote,
        "verdict": "",
        "rating": "",
        "note": "",
        "source_url": [],
        "source_title": [],
        "source_quote": [],
        "source_stance": [],
    }
    data.update(fields)
    return data


def as_user(user) -> Client:
    return login(Client(), user)


@pytest.fixture
def alices(article, alice) -> Assignment:
    return assignment_ensure(article=article, reviewer=alice)


@pytest.fixture
def carols(article, carol) -> Assignment:
    return assignment_ensure(article=article, reviewer=carol)


@pytest.fixture
def claim(article, alice, alices) -> ClaimAnnotation:
    return mark(
        article,
        alice,
        "reposition its forces",
        verdict=verdict(article, "misleading"),
        rating=2,
        note="Words, not deeds.",
        sources=[SourceInput(url="https://un.example/report", title="UN report", stance="refutes")],
    )


def reader_url(article) -> str:
    return reverse("article-reader", args=[article.pk])
