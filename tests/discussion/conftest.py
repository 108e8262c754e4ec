"""The Daily Planet's politics desk arguing about one article.

alice and carol review the article (blind review, not yet submitted); bob is
the desk's editor; eve is at the Rival Gazette and must never see any of it.
"""

from __future__ import annotations

import pytest
from django.test import Client

from annotations.models import Assignment, AssignmentStatus, ClaimAnnotation
from annotations.reader.services import assignment_ensure, claim_create
from tests.conftest import login


def mark(article, reviewer, phrase: str) -> ClaimAnnotation:
    start = article.text.index(phrase)
    return claim_create(
        article=article,
        reviewer=reviewer,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        verdict=None,
        rating=None,
    )


def submit(article, reviewer) -> None:
    Assignment.objects.filter(article=article, reviewer=reviewer).update(
        status=AssignmentStatus.SUBMITTED
    )


@pytest.fixture
def reviewing(article, alice, carol):
    """alice and carol are assigned to the article; each has marked one claim."""
    assignment_ensure(article=article, reviewer=alice)
    assignment_ensure(article=article, reviewer=carol)
    return {
        "alice": mark(article, alice, "reposition its forces"),
        "carol": mark(article, carol, "give peace a chance"),
    }


def client_for(user) -> Client:
    return login(Client(), user)


def htmx(client: Client, url: str, data: dict | None = None):
    """A POST as htmx sends it from the page."""
    return client.post(url, data or {}, HTTP_HX_REQUEST="true")
