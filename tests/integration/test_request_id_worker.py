"""A task queued by a request is logged by the real worker with that request's id.

Runs when CELERY_BROKER_URL is set (CI sets it, with PostgreSQL): the
session's worker (tests/worker.py) writes its log to a file, which the test
reads. The tasks the worker itself queues for the run (a chord of chunks)
carry the id on.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import login
from tests.worker import worker_log

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL (a real broker)"
    ),
]


def lines_with(text: str, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in worker_log().splitlines() if text in line]
        if any("agreement_finish" in line and "succeeded" in line for line in lines):
            return lines
        time.sleep(0.2)
    raise AssertionError(
        f"no finished agreement run with {text} in the worker's log:\n{worker_log()}"
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_logs_a_task_queued_by_a_request_with_the_requests_id(
    celery_worker, client, desk, alice, bob
):
    from tests.agreement.test_agreement_runs import make_collection

    make_collection(desk, [alice, bob], articles=3)
    login(client, bob)
    rid = f"ci-{uuid.uuid4().hex}"
    response = client.post(reverse("agreement-run", args=[desk.pk]), headers={"X-Request-ID": rid})
    assert response.status_code == 302
    assert response["X-Request-ID"] == rid

    lines = lines_with(f"req={rid} ")
    tasks = {
        name
        for line in lines
        for name in ("agreement_run", "agreement_chunk", "agreement_finish")
        if f"task=annotations.tasks.{name}[" in line and "succeeded" in line
    }
    assert tasks == {"agreement_run", "agreement_chunk", "agreement_finish"}
