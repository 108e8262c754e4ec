from __future__ import annotations

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.urls import reverse

from annotations.jobs import enqueue as enqueue_module
from annotations.reader.services import assignment_ensure
from tests.conftest import login
from tests.live_services import wait_until
from workbench import health
from workbench.faults import DatabaseUnavailableMiddleware


def test_healthz_reports_the_database_the_broker_and_the_worker(client, db, celery_worker):
    # With a broker, the session's real worker answers the ping once it has started.
    def answered():
        response = client.get("/healthz")
        return response if response.json()["worker"] != "missing" else None

    response = wait_until(answered, 30, "the worker answering /healthz", every=0.5)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == ("ok" if settings.CELERY_BROKER_URL else "in-process")
    assert body["worker"] == ("ok" if settings.CELERY_BROKER_URL else "in-process")


@pytest.mark.parametrize(
    "broker",
    ["amqp://guest:guest@127.0.0.1:9//", "redis://127.0.0.1:9/0"],
    ids=["rabbitmq", "redis"],
)
def test_healthz_says_which_part_is_down_and_why(client, db, settings, broker):
    # Nothing listens on port 9 (discard): the broker is down, or restarting. The
    # answer names the refused connection, not the library's wrapper around it.
    settings.CELERY_BROKER_URL = broker
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "mode": "queue",
        "database": "ok",
        "broker": "error: ConnectionRefusedError",
        "worker": "unknown",
    }


def test_healthz_tells_wrong_broker_credentials_from_a_broker_that_is_down(client, db, settings):
    if not settings.CELERY_BROKER_URL.startswith("amqp://"):
        pytest.skip("needs the machine's RabbitMQ (CELERY_BROKER_URL=amqp://...)")
    host = settings.CELERY_BROKER_URL.rpartition("@")[2]
    settings.CELERY_BROKER_URL = f"amqp://guest:not-the-password@{host}"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "error: AccessRefused"


def test_healthz_says_tasks_run_in_process_without_a_broker(client, db, settings):
    settings.CELERY_BROKER_URL = ""
    body = client.get("/healthz").json()
    assert (body["status"], body["mode"], body["broker"], body["worker"]) == (
        "ok",
        "in-process",
        "in-process",
        "in-process",
    )


def test_healthz_is_degraded_but_200_when_no_worker_answers(client, db, settings, monkeypatch):
    # Pages and saves still work without a worker; its own health check flags it.
    monkeypatch.setattr(health, "broker_status", lambda: "ok")
    monkeypatch.setattr(health, "worker_status", lambda: "missing")
    settings.CELERY_BROKER_URL = "redis://broker.invalid:6379/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "mode": "queue",
        "database": "ok",
        "broker": "ok",
        "worker": "missing",
    }


def test_healthz_answers_503_when_the_database_is_down(client, db, monkeypatch):
    monkeypatch.setattr(health, "database_status", lambda: "error: OperationalError")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_a_page_says_background_work_is_delayed_when_the_broker_is_down(
    article, alice, settings, monkeypatch
):
    assignment_ensure(article=article, reviewer=alice)
    monkeypatch.setattr(health, "_broker_checked", None)
    reader = reverse("article-reader", args=[article.pk])
    assert "Background work is delayed" not in login(Client(), alice).get(reader).text
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    page = login(Client(), alice).get(reader)
    assert page.status_code == 200
    assert "Background work is delayed" in page.text


def test_a_save_succeeds_when_the_broker_cannot_be_reached(
    article, alice, settings, caplog, django_capture_on_commit_callbacks, monkeypatch
):
    class Unreachable:
        name = "annotations.tasks.agreement_refresh"

        def apply_async(self, *args, **kwargs):
            raise ConnectionRefusedError(111, "Connection refused")

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(enqueue_module, "task_named", lambda name: Unreachable())
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_module.enqueue(Unreachable.name, 1)
    assert "it will be reconciled" in caplog.text


def database_down(request):
    raise OperationalError("connection refused")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/articles/1/", "The database is unavailable; try again in a moment."),
        ("/api/v1/claims/", '"code": "database_unavailable"'),
    ],
)
def test_a_database_that_is_down_answers_503_not_500(rf, path, expected):
    middleware = DatabaseUnavailableMiddleware(database_down)
    request = rf.get(path)
    response = middleware.process_exception(request, OperationalError("gone"))
    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert expected in response.content.decode().replace('":"', '": "')


def test_the_api_error_format_covers_a_database_that_is_down():
    from annotations.api.errors import exception_handler

    response = exception_handler(InterfaceError("connection already closed"), {})
    assert response is not None
    assert response.status_code == 503
    assert response.data == {
        "status": 503,
        "code": "database_unavailable",
        "detail": "The database is unavailable; try again in a moment.",
    }
