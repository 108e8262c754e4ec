"""Watched articles: fetched again with conditional requests from a local server whose
page changes; a silent edit of a published claim's passage raises an alert on the
claim, a notification and a signed webhook; errors back off; gone pages are marked.

Bob (editor) imported the minister's article by URL and published a claim on it."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from annotations.importing import by_url
from annotations.models import (
    AnchorChange,
    Article,
    ArticleWatch,
    Notification,
    PassageAlert,
    WatchOutcome,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.watching import services as watching
from annotations.watching.alerts import alerts_pending
from tests.conftest import login
from tests.webpages import BODY, CLAIM, page, published_claim

EDITED = BODY.replace("avant la fin du mois", "avant la fin de l'année")
REMOVED = "Le ministre n'a rien déclaré sur les forces."


@pytest.fixture
def server(httpserver):
    """The minister's page, with an ETag: a conditional request with it gets a 304."""

    def serve(body: str = BODY, etag: str = '"v1"') -> None:
        httpserver.clear()
        httpserver.expect_request("/ministre", headers={"If-None-Match": etag}).respond_with_data(
            "", status=304, headers={"ETag": etag}
        )
        httpserver.expect_request("/ministre").respond_with_data(
            page(body=body), content_type="text/html; charset=utf-8", headers={"ETag": etag}
        )

    serve()
    serve.url = httpserver.url_for("/ministre")
    serve.log = httpserver.log
    return serve


@pytest.fixture
def claim(desk, bob, server):
    job = by_url.fetch_job_start(collection=desk, user=bob, urls=[server.url], send=False)
    by_url.fetch_job_run(job=job)
    return published_claim(Article.objects.get(collection=desk), bob)


@pytest.fixture
def hook(planet, claim):
    return Webhook.objects.create(
        organization=planet,
        url="http://127.0.0.1:9/hooks",
        events=[WebhookEvent.PASSAGE_CHANGED],
        secret="whsec_test",
    )


def check_all(django_capture_on_commit_callbacks) -> dict[str, int]:
    """The beat's cycle and the checks it sends, with the re-anchoring and alerts they ask
    for, here and now."""
    with django_capture_on_commit_callbacks(execute=True):
        watching.watches_ensure()
        ids = list(ArticleWatch.objects.filter(active=True).values_list("pk", flat=True))
        return dict(watching.watches_check(ids))


def test_an_article_with_a_published_claim_is_watched_by_default(claim, desk):
    assert watching.watches_ensure() == 1
    watch = ArticleWatch.objects.get()
    assert (watch.collection, watch.url, watch.article) == (desk, claim.article.url, claim.article)
    assert watch.reason == "published"
    assert watch.active
    assert watching.watches_ensure() == 0


def test_unchanged_pages_are_asked_for_conditionally(
    claim, server, tasks_in_process, django_capture_on_commit_callbacks
):
    assert check_all(django_capture_on_commit_callbacks) == {"unchanged": 1}
    watch = ArticleWatch.objects.get()
    assert watch.etag == '"v1"'
    assert check_all(django_capture_on_commit_callbacks) == {"unchanged": 1}
    request, response = server.log[-1]
    assert request.headers["If-None-Match"] == '"v1"'
    assert response.status_code == 304
    watch.refresh_from_db()
    assert watch.last_outcome == WatchOutcome.UNCHANGED
    assert watch.next_check_at > timezone.now() + timedelta(hours=5)
    assert Article.objects.count() == 1


def test_a_silent_edit_raises_an_alert_a_notification_and_a_signed_webhook(
    claim, server, hook, bob, client, tasks_in_process, django_capture_on_commit_callbacks
):
    check_all(django_capture_on_commit_callbacks)
    server(body=EDITED, etag='"v2"')
    assert check_all(django_capture_on_commit_callbacks) == {"changed": 1}
    new = Article.objects.get(version=2)
    watch = ArticleWatch.objects.get()
    assert (watch.article, watch.etag, watch.last_outcome) == (new, '"v2"', "changed")
    claim.refresh_from_db()
    assert claim.article == new  # re-anchored to the edited passage
    (alert,) = PassageAlert.objects.all()
    assert (alert.claim, alert.kind, alert.article) == (claim, "edited", new)
    assert alert.old_quote == CLAIM
    assert "de l'an" in alert.new_quote
    # Its editor is told.
    assert Notification.objects.filter(recipient=bob, kind="article_changed").exists()
    # Partners get the claim and the change, signed like every delivery.
    (delivery,) = WebhookDelivery.objects.filter(event=WebhookEvent.PASSAGE_CHANGED)
    body = json.loads(delivery.body)
    assert body["event"] == "claim.passage_changed"
    assert body["claim"]["id"] == claim.pk
    assert body["change"]["kind"] == "edited"
    assert body["change"]["old_quote"] == CLAIM
    assert body["change"]["article"]["version"] == 2
    # Checking again raises nothing more.
    check_all(django_capture_on_commit_callbacks)
    assert PassageAlert.objects.count() == 1
    # The claim's page shows the alert with the words that changed; an editor marks it seen.
    login(client, bob)
    shown = client.get(reverse("verified-claim", args=[claim.pk])).text
    assert "Its passage was edited" in shown
    assert "<del>du mois</del>" in shown
    assert "<ins>" in shown
    assert "<ins>de l&#x27;an</ins>" in shown
    client.post(reverse("passage-alert-seen", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.seen_by == bob
    # The change list shows the word diff too.
    changes = client.get(reverse("version-changes", args=[new.pk])).text
    assert "What changed in the text" in changes
    assert "<ins>" in changes


def test_a_removed_passage_is_an_alert_of_its_own(
    claim, server, tasks_in_process, django_capture_on_commit_callbacks
):
    check_all(django_capture_on_commit_callbacks)
    server(body=REMOVED, etag='"v3"')
    check_all(django_capture_on_commit_callbacks)
    (alert,) = PassageAlert.objects.all()
    assert (alert.kind, alert.new_quote) == ("removed", "")


def test_a_lost_alert_is_found_by_the_reconciliation(
    claim, server, tasks_in_process, django_capture_on_commit_callbacks, monkeypatch
):
    from annotations.importing import tasks as importing_tasks

    # The re-anchoring ran, but the message asking for the alerts was lost.
    monkeypatch.setattr(importing_tasks, "enqueue", lambda *a, **k: None)
    server(body=EDITED, etag='"v2"')
    check_all(django_capture_on_commit_callbacks)
    assert AnchorChange.objects.filter(verified=claim).exists()
    assert not PassageAlert.objects.exists()
    new = Article.objects.get(version=2)
    assert alerts_pending(timezone.now() + timedelta(seconds=1)) == [new.pk]


def test_errors_back_off_and_gone_pages_are_marked(
    claim, server, httpserver, tasks_in_process, django_capture_on_commit_callbacks, settings
):
    settings.WORKBENCH_WATCH_INTERVAL_MINUTES = 60
    httpserver.clear()
    httpserver.expect_request("/ministre").respond_with_data("busy", status=503)
    check_all(django_capture_on_commit_callbacks)
    watch = ArticleWatch.objects.get()
    assert (watch.last_outcome, watch.failures) == ("failed", 1)
    assert "HTTP 503" in watch.last_error
    first_wait = watch.next_check_at - watch.last_checked_at
    assert first_wait == timedelta(hours=2)
    check_all(django_capture_on_commit_callbacks)
    watch.refresh_from_db()
    assert watch.failures == 2
    assert watch.next_check_at - watch.last_checked_at == timedelta(hours=4)
    httpserver.clear()
    httpserver.expect_request("/ministre").respond_with_data("", status=404)
    check_all(django_capture_on_commit_callbacks)
    watch.refresh_from_db()
    assert (watch.last_outcome, watch.failures) == ("gone", 0)
    assert watch.gone_since is not None
    assert Article.objects.count() == 1


def test_the_cycle_sends_due_watches_in_batches_once(claim, django_capture_on_commit_callbacks):
    watching.watches_ensure()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert watching.watch_cycle() == {"new": 0, "sent": 1}
    assert len(sent) == 1
    # Held while it is checked: the next cycle does not send it again.
    with django_capture_on_commit_callbacks(execute=False) as again:
        assert watching.watch_cycle()["sent"] == 0
    assert again == []


def test_refresh_articles_prints_what_it_found(
    claim, server, tasks_in_process, django_capture_on_commit_callbacks, httpserver
):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("refresh_articles", "--org", "planet", stdout=out)
    assert out.getvalue().strip().endswith("1 unchanged, 0 changed, 0 gone, 0 failed.")
    server(body=EDITED, etag='"v2"')
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("refresh_articles", "--org", "planet", stdout=out)
    assert "0 unchanged, 1 changed, 0 gone, 0 failed." in out.getvalue()
    httpserver.clear()
    httpserver.expect_request("/ministre").respond_with_data("", status=500)
    err = StringIO()
    with pytest.raises(CommandError, match="could not be checked"):
        call_command("refresh_articles", "--org", "planet", stdout=StringIO(), stderr=err)
    assert "HTTP 500" in err.getvalue()
    with pytest.raises(CommandError, match="No organization"):
        call_command("refresh_articles", "--org", "nowhere")


def test_editors_watch_and_unwatch_from_the_collection_page(claim, client, bob, alice, eve, desk):
    login(client, bob)
    article = claim.article
    client.post(reverse("article-watch", args=[article.pk]), {"watch": "off"})
    watch = ArticleWatch.objects.get()
    assert not watch.active
    # Unwatched by an editor: not watched again by default.
    assert watching.watches_ensure() == 0
    panel = client.get(reverse("collection-web", args=[desk.pk]), headers={"HX-Request": "true"})
    assert "not watched (unwatched)" in panel.text
    client.post(reverse("article-watch", args=[article.pk]), {"watch": "on"})
    watch.refresh_from_db()
    assert watch.active
    for user in (alice, eve):
        client.force_login(user)
        response = client.post(reverse("article-watch", args=[article.pk]), {"watch": "off"})
        assert response.status_code == 404
    watch.refresh_from_db()
    assert watch.active
