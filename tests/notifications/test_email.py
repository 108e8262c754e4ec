"""Emails for mentions and requests for changes: at once, in a daily digest, or never,
each person's choice; a signed link in each turns them off without logging in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from annotations.discussion import services
from annotations.models import EmailChoice, EmailState, Notification
from annotations.notifications.delivery import digests_send
from annotations.notifications.services import email_preference_set, unsubscribe_token
from tests.discussion.conftest import client_for
from tests.live_services import SmtpServer


@pytest.fixture
def addresses(alice, bob, carol):
    for user in (alice, bob, carol):
        user.email = f"{user.username}@planet.example"
        user.save()


@pytest.fixture
def in_process(tasks_in_process):
    """The email task runs here, on commit, whatever this run's broker."""


def mention_bob(article, alice, claim, body="@bob please check"):
    return services.thread_start(user=alice, article=article, body=body, claim=claim)


@pytest.mark.django_db(transaction=True)
def test_a_mention_is_emailed_at_once_with_a_link_to_it_and_a_way_out(
    article, reviewing, alice, bob, addresses, in_process
):
    mention_bob(article, alice, reviewing["alice"])
    [message] = mail.outbox
    assert message.to == ["bob@planet.example"]
    assert "alice mentioned you" in message.subject
    assert f"/articles/{article.pk}/#comment-" in message.body
    token = unsubscribe_token(bob)
    assert f"/notifications/unsubscribe/{token}/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert Notification.objects.get(recipient=bob).email == EmailState.SENT


@pytest.mark.django_db(transaction=True)
def test_a_digest_person_gets_one_email_a_day_and_a_none_person_none(
    article, reviewing, alice, bob, carol, addresses, in_process
):
    email_preference_set(user=bob, email=EmailChoice.DIGEST)
    email_preference_set(user=carol, email=EmailChoice.OFF)
    mention_bob(article, alice, reviewing["alice"], "@bob first")
    services.thread_start(user=alice, article=article, body="@bob second")
    # The desk's comment on the article reaches carol, who wants no email.
    services.thread_start(user=bob, article=article, body="@carol have a look too")
    assert mail.outbox == []
    assert digests_send() == {"emails": 1, "notifications": 2}
    [digest] = mail.outbox
    assert digest.to == ["bob@planet.example"]
    assert "2 things need you" in digest.subject
    assert "first" in digest.body
    assert "second" in digest.body
    # Sent once: the next digest has nothing.
    assert digests_send() == {"emails": 0, "notifications": 0}
    assert Notification.objects.get(recipient=carol).email == EmailState.NONE


@pytest.mark.django_db(transaction=True)
def test_what_blind_review_hides_is_not_emailed(
    article, reviewing, alice, bob, carol, addresses, in_process
):
    # bob mentions carol on alice's claim: carol may not see it, so she is neither
    # notified nor emailed.
    services.thread_start(user=bob, article=article, body="@carol?", claim=reviewing["alice"])
    assert [m.to for m in mail.outbox] == [["alice@planet.example"]] or mail.outbox == []
    assert not Notification.objects.filter(recipient=carol).exists()
    assert not [m for m in mail.outbox if "carol@planet.example" in m.to]


def test_the_unsubscribe_link_asks_then_turns_emails_off_without_logging_in(bob, client):
    url = reverse("notifications-unsubscribe", args=[unsubscribe_token(bob)])
    page = client.get(url)
    assert page.status_code == 200
    assert "Stop emails" in page.content.decode()
    assert bob.notification_preference.email if hasattr(bob, "notification_preference") else True
    done = client.post(url)
    assert done.status_code == 200
    assert "No more emails" in done.content.decode()
    bob.refresh_from_db()
    assert bob.notification_preference.email == EmailChoice.OFF
    forged = client.post(reverse("notifications-unsubscribe", args=["eyJ1IjoxfQ:forged"]))
    assert forged.status_code == 404


def test_the_inbox_says_which_address_and_saves_the_choice(bob):
    editor = client_for(bob)
    page = editor.get(reverse("notifications")).content.decode()
    assert "has no email address" in page
    editor.post(reverse("notifications-email"), {"email": "digest"})
    bob.refresh_from_db()
    assert bob.notification_preference.email == EmailChoice.DIGEST
    refused = editor.post(reverse("notifications-email"), {"email": "hourly"}, follow=True)
    assert "Choose when to get emails" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_request_for_changes_reaches_a_real_smtp_server(
    article, reviewing, alice, bob, addresses, in_process, settings
):
    with SmtpServer() as smtp:
        settings.MAILERS = smtp.mailers
        services.thread_start(
            user=bob,
            article=article,
            body="Please add the ACLED source.",
            claim=reviewing["alice"],
            request_changes=True,
        )
        [message] = smtp.messages_to("alice@planet.example")
    assert "bob asked you to change your claim" in message["Subject"]
    assert message["List-Unsubscribe"].startswith("<http")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Please add the ACLED source." in text
    assert "/notifications/unsubscribe/" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<a href=" in html


@pytest.mark.django_db(transaction=True)
def test_the_daily_digest_arrives_by_smtp_and_its_unsubscribe_link_stops_the_next(
    article, reviewing, alice, bob, addresses, in_process, settings, client
):
    email_preference_set(user=bob, email=EmailChoice.DIGEST)
    with SmtpServer() as smtp:
        settings.MAILERS = smtp.mailers
        mention_bob(article, alice, reviewing["alice"], "@bob is the date right?")
        services.thread_start(user=alice, article=article, body="@bob and the minister's name?")
        assert smtp.received == []  # nothing leaves before the digest
        assert digests_send() == {"emails": 1, "notifications": 2}
        [digest] = smtp.messages_to("bob@planet.example")
        text = digest.get_body(preferencelist=("plain",)).get_content()
        assert "is the date right?" in text
        assert "the minister's name?" in text
        assert "once a day" in text

        # The link in the List-Unsubscribe header works without logging in.
        link = digest["List-Unsubscribe"].strip("<>")
        path = link.removeprefix(settings.WORKBENCH_PUBLIC_URL.rstrip("/"))
        assert client.post(path).status_code == 200
        services.thread_start(user=alice, article=article, body="@bob one more")
        assert digests_send() == {"emails": 0, "notifications": 0}
        assert len(smtp.received) == 1
    bob.refresh_from_db()
    assert bob.notification_preference.email == EmailChoice.OFF
    # The inbox still has all three.
    assert Notification.objects.filter(recipient=bob).count() == 3


def _email_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """The MAILERS a fresh Python makes of these variables, any deprecation an error."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    clean.pop("WORKBENCH_ENV", None)
    return subprocess.run(
        [
            sys.executable,
            "-W",
            "error::DeprecationWarning",
            "-c",
            "import json, django; from django.conf import settings; django.setup(); "
            "from django.core.management import call_command; call_command('check'); "
            "print(json.dumps(settings.MAILERS))",
        ],
        env=clean | {"DJANGO_SETTINGS_MODULE": "workbench.settings"} | env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_email_variables_make_django_mailers_without_a_deprecation():
    console = _email_settings()
    assert console.returncode == 0, console.stderr
    assert json.loads(console.stdout.splitlines()[-1])["default"]["BACKEND"].endswith(
        "console.EmailBackend"
    )
    smtp = _email_settings(
        EMAIL_HOST="smtp.planet.example",
        EMAIL_PORT="587",
        EMAIL_USE_TLS="true",
        EMAIL_HOST_USER="workbench",
        EMAIL_HOST_PASSWORD="s3cret",
    )
    assert smtp.returncode == 0, smtp.stderr
    mailer = json.loads(smtp.stdout.splitlines()[-1])["default"]
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] | {"timeout": 10} == {
        "host": "smtp.planet.example",
        "port": 587,
        "username": "workbench",
        "password": "s3cret",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 10,
    }
    both = _email_settings(EMAIL_HOST="smtp.planet.example", EMAIL_USE_TLS="1", EMAIL_USE_SSL="1")
    assert both.returncode != 0
    assert "set one of them, not both" in both.stderr
