"""Two editors settle the same unit at the same moment, each from their own browser session.

Each client runs in its own thread with its own PostgreSQL connection, and a
barrier releases both saves together, so the database, not the test, decides
who is first. The second save must get a conflict that shows the first one's
version; nothing is overwritten and nothing is lost. PostgreSQL only: that is
where two writers really run at once (SQLite takes one writer at a time).
"""

from __future__ import annotations

import threading
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from annotations.models import Article, VerifiedClaim
from annotations.newsrooms.services import member_create
from tests.conftest import demo_login

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="two concurrent writers need PostgreSQL"
    ),
]

PHRASE = "give peace a chance"


@pytest.fixture
def demo(transactional_db) -> Article:
    call_command("demo", stdout=StringIO())
    article = Article.objects.get(organization__slug="demo")
    member_create(
        organization=article.organization,
        username="perry",
        role="editor",
        password="walikale-perry",
    )
    # The disputed unit, not yet settled.
    VerifiedClaim.objects.filter(article=article, quote=PHRASE).delete()
    return article


def editors() -> dict[str, Client]:
    clients = {}
    for name in ("editor", "perry"):
        clients[name] = demo_login(Client(), name)
    return clients


def at_once(posts: dict[str, dict[str, Any]], clients: dict[str, Client], url: str):
    """Sends every editor's form together; returns each one's response."""
    barrier = threading.Barrier(len(posts))
    responses: dict[str, Any] = {}
    failures: list[BaseException] = []

    def save(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            responses[name] = clients[name].post(url, posts[name])
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(name,)) for name in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return responses


def unit_form(client: Client, article: Article) -> dict[str, Any]:
    page = client.get(reverse("adjudicate", args=[article.pk]))
    unit = next(u for u in page.context["units"] if u.claims[0].quote == PHRASE)
    by_reviewer = {c.reviewer.username: c for c in unit.claims}
    return {
        "unit": unit.index,
        "version": unit.form["version"],
        "span_from": by_reviewer["reviewer2"].pk,
        "sources": [pk for pk, *_ in unit.sources],
        "_verdicts": {name: c.pk for name, c in by_reviewer.items()},
    }


def post_for(form: dict[str, Any], wording: str, verdict_from: str) -> dict[str, Any]:
    data = {k: v for k, v in form.items() if not k.startswith("_")}
    return data | {"claim_reviewed": wording, "verdict_from": form["_verdicts"][verdict_from]}


def test_two_editors_settling_one_unit_at_once_one_wins_and_the_other_sees_a_conflict(demo):
    clients = editors()
    url = reverse("adjudicate", args=[demo.pk])
    # Both pages are loaded before either saves: neither knows of a verified claim.
    forms = {name: unit_form(client, demo) for name, client in clients.items()}
    assert forms["editor"]["version"] == forms["perry"]["version"] == 0
    wording = {
        "editor": "M23 says the pullback will “give peace a chance” (editor)",
        "perry": "M23 says the pullback will “give peace a chance” (perry)",
    }
    posts = {
        "editor": post_for(forms["editor"], wording["editor"], "reviewer1"),
        "perry": post_for(forms["perry"], wording["perry"], "reviewer2"),
    }

    responses = at_once(posts, clients, url)

    codes = sorted(r.status_code for r in responses.values())
    assert codes == [302, 422]
    winner = next(n for n, r in responses.items() if r.status_code == 302)
    loser = next(n for n, r in responses.items() if r.status_code == 422)
    stored = VerifiedClaim.objects.get(article=demo, quote=PHRASE)
    assert stored.claim_reviewed == wording[winner]
    assert stored.editor.username == winner
    conflict = responses[loser].text
    assert f"{winner} saved this claim meanwhile" in conflict
    assert wording[winner][:60] in conflict  # the newer version is shown
    assert wording[loser] in conflict  # and the loser's own work is still in the form


def test_two_editors_changing_one_draft_at_once_one_wins_and_the_other_sees_a_conflict(demo):
    clients = editors()
    url = reverse("adjudicate", args=[demo.pk])
    first = unit_form(clients["editor"], demo)
    assert (
        clients["editor"].post(url, post_for(first, "First draft", "reviewer1")).status_code == 302
    )
    forms = {name: unit_form(client, demo) for name, client in clients.items()}
    version = forms["editor"]["version"]
    assert version == forms["perry"]["version"] > 0
    posts = {
        "editor": post_for(forms["editor"], "Second draft by the editor", "reviewer2"),
        "perry": post_for(forms["perry"], "Second draft by perry", "reviewer1"),
    }

    responses = at_once(posts, clients, url)

    assert sorted(r.status_code for r in responses.values()) == [302, 422]
    winner = next(n for n, r in responses.items() if r.status_code == 302)
    loser = next(n for n, r in responses.items() if r.status_code == 422)
    stored = VerifiedClaim.objects.get(article=demo, quote=PHRASE)
    assert stored.version == version + 1
    assert stored.claim_reviewed == posts[winner]["claim_reviewed"]
    assert posts[loser]["claim_reviewed"] in responses[loser].text
    # Saving again, now against the newer version, replaces it: nothing was lost.
    again = post_for(unit_form(clients[loser], demo), posts[loser]["claim_reviewed"], "reviewer1")
    assert clients[loser].post(url, again).status_code == 302
    assert VerifiedClaim.objects.get(pk=stored.pk).claim_reviewed == posts[loser]["claim_reviewed"]
