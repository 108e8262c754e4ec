from __future__ import annotations

from django.conf import settings


def test_healthz_reports_the_database_and_the_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == ("ok" if settings.CELERY_BROKER_URL else "in-process")


def test_healthz_says_which_part_is_down(client, db, settings):
    # Nothing listens on port 9 (discard): the broker is unreachable.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"
