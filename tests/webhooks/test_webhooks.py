"""Webhooks: signed POSTs of published, corrected and retracted claims to a partner.

Here registering them, by the services and on the page, and who may see the page.
People and the partner: tests/webhooks/conftest.py. Sending them:
test_webhook_deliveries.py.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from annotations.models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent
from annotations.webhooks import services as webhooks
from tests.conftest import login
from tests.webhooks.conftest import ALL_EVENTS, editor, publish, send_all

# Registering -----------------------------------------------------------------------------


def test_an_admin_registers_a_webhook_and_gets_a_secret(newsroom, ada, receiver):
    hook = webhooks.webhook_create(
        organization=newsroom,
        user=ada,
        url=receiver.url,
        events=[WebhookEvent.RETRACTED, WebhookEvent.PUBLISHED],
    )
    assert hook.secret.startswith("whsec_")
    assert len(hook.secret) > 40
    # Stored in a fixed order, whatever order they were chosen in.
    assert hook.events == ["claim.published", "claim.retracted"]
    assert hook.active
    other = webhooks.webhook_create(
        organization=newsroom, user=ada, url=receiver.url + "/2", events=ALL_EVENTS
    )
    assert other.secret != hook.secret


def test_only_a_newsrooms_admins_register_webhooks(newsroom, ada, grace, receiver):
    for user in (editor(), User.objects.get(username="reviewer1"), grace):
        with pytest.raises(PermissionDenied):
            webhooks.webhook_create(
                organization=newsroom, user=user, url=receiver.url, events=ALL_EVENTS
            )
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("url", "events", "field", "message"),
    [
        ("ftp://partner.example/hooks", ALL_EVENTS, "url", "http:// or https://"),
        ("javascript:alert(1)", ALL_EVENTS, "url", "http:// or https://"),
        ("https://", ALL_EVENTS, "url", "not a valid web address"),
        ("", ALL_EVENTS, "url", "Give the address"),
        ("https://partner.example/hooks", [], "events", "at least one event"),
        ("https://partner.example/hooks", ["claim.deleted"], "events", "claim.deleted"),
    ],
)
def test_a_bad_url_or_event_is_refused_naming_the_field(newsroom, ada, url, events, field, message):
    with pytest.raises(ValidationError) as refused:
        webhooks.webhook_create(organization=newsroom, user=ada, url=url, events=events)
    assert message in " ".join(refused.value.message_dict[field])
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "http://[::ffff:10.0.0.1]/hooks",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 to 169.254.169.254
        "http://[2002:a9fe:a9fe::1]/hooks",  # 6to4
        "http://[fec0::1]/hooks",  # site-local
    ],
)
def test_in_production_an_address_on_a_private_network_is_refused(newsroom, ada, settings, url):
    settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError) as refused:
        webhooks.webhook_create(organization=newsroom, user=ada, url=url, events=ALL_EVENTS)
    assert "public internet addresses only" in " ".join(refused.value.message_dict["url"])
    assert not Webhook.objects.exists()


def test_in_production_a_public_address_is_accepted(newsroom, ada, settings):
    settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES = False
    hook = webhooks.webhook_create(
        organization=newsroom, user=ada, url="https://93.184.215.14/hooks", events=ALL_EVENTS
    )
    assert hook.active


def test_a_receiver_that_moved_to_a_private_address_gets_nothing(
    hook, draft, receiver, settings, django_capture_on_commit_callbacks
):
    # Registered while allowed; its name (here an address) now points inside.
    settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES = False
    publish(draft, django_capture_on_commit_callbacks)

    (delivery,) = send_all()

    # In-process, the retries follow one another at once, to the last.
    assert delivery.status == DeliveryStatus.FAILED
    assert "is at 127.0.0.1, a private or reserved address" in delivery.error
    assert receiver.requests == []


def test_the_same_address_twice_is_refused(newsroom, ada, hook):
    with pytest.raises(ValidationError, match="already sends webhooks"):
        webhooks.webhook_create(organization=newsroom, user=ada, url=hook.url, events=ALL_EVENTS)


# The page ------------------------------------------------------------------------------------


def test_an_admin_registers_on_the_page_and_sees_the_secret(client, newsroom, ada, receiver):
    client = login(client, ada)
    url = reverse("webhooks", args=[newsroom.slug])
    refused = client.post(url, {"url": "ftp://x.example/", "events": ALL_EVENTS})
    assert refused.status_code == 400
    assert "http:// or https://" in refused.text
    response = client.post(url, {"url": receiver.url, "events": ["claim.published"]})
    assert response.status_code == 302
    hook = Webhook.objects.get()
    assert (hook.url, hook.events, hook.created_by) == (receiver.url, ["claim.published"], ada)
    page = client.get(url)
    assert hook.secret in page.text
    assert receiver.url in page.text
    assert "Nothing sent yet." in page.text
    assert 'hx-trigger="every' not in page.text


def test_the_log_polls_while_a_delivery_waits_and_stops_once_delivered(
    client, newsroom, ada, hook, draft, django_capture_on_commit_callbacks
):
    publish(draft, django_capture_on_commit_callbacks)
    client = login(client, ada)
    page = client.get(reverse("webhooks", args=[newsroom.slug]))
    log_url = reverse("webhook-deliveries", args=[newsroom.slug])
    assert f'hx-get="{log_url}"' in page.text
    assert "Pending" in page.text
    send_all()
    log = client.get(log_url, headers={"HX-Request": "true"})
    assert log.status_code == 200
    assert "<html" not in log.text
    assert "Delivered" in log.text
    assert "HTTP 200" in log.text
    assert "hx-trigger" not in log.text


def test_an_admin_deactivates_reactivates_and_deletes(client, newsroom, ada, hook):
    client = login(client, ada)
    client.post(reverse("webhook-action", args=[hook.pk, "deactivate"]))
    hook.refresh_from_db()
    assert not hook.active
    client.post(reverse("webhook-action", args=[hook.pk, "activate"]))
    hook.refresh_from_db()
    assert hook.active
    assert client.post(reverse("webhook-action", args=[hook.pk, "explode"])).status_code == 404
    response = client.post(reverse("webhook-action", args=[hook.pk, "delete"]))
    assert response.status_code == 302
    assert not Webhook.objects.exists()


def test_editors_reviewers_and_other_newsrooms_get_a_404(
    client, newsroom, grace, hook, draft, django_capture_on_commit_callbacks
):
    publish(draft, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    gets = [
        reverse("webhooks", args=[newsroom.slug]),
        reverse("webhook-deliveries", args=[newsroom.slug]),
    ]
    posts = [
        reverse("webhook-action", args=[hook.pk, "deactivate"]),
        reverse("webhook-action", args=[hook.pk, "delete"]),
        reverse("webhook-redeliver", args=[delivery.pk]),
    ]
    for user in (editor(), User.objects.get(username="reviewer1"), grace):
        client.logout()
        client.force_login(user)
        for url in gets:
            assert client.get(url).status_code == 404, (user, url)
        for url in posts:
            assert client.post(url).status_code == 404, (user, url)
        register = {"url": "https://evil.example/", "events": ALL_EVENTS}
        assert client.post(gets[0], register).status_code == 404
    client.logout()
    assert client.get(gets[0]).status_code == 302  # to the login page
    hook.refresh_from_db()
    assert hook.active
    assert Webhook.objects.count() == 1
    assert WebhookDelivery.objects.get().status == "failed"


def test_the_home_page_links_admins_to_webhooks(client, newsroom, ada):
    url = reverse("webhooks", args=[newsroom.slug])
    assert url in login(client, ada).get(reverse("home")).text
    client.logout()
    client.force_login(editor())
    assert url not in client.get(reverse("home")).text
