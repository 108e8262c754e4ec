"""Two editors start an agreement run at the same moment: one run starts, both see it.

PostgreSQL only: that is where two writers really run at once. The first start
holds its transaction open; the second, in its own thread and connection, must
wait for it and then find the first run under way rather than start another.
"""

from __future__ import annotations

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from annotations.agreement import runs as agreement_runs
from annotations.models import AgreementReport, Collection

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="two concurrent writers need PostgreSQL"
    ),
]


@pytest.fixture
def collection(transactional_db) -> Collection:
    call_command("demo", stdout=StringIO())
    return Collection.objects.get(slug="great-lakes")


def test_a_second_start_while_the_first_commits_answers_with_the_first_run(collection):
    first_started, first_may_commit = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                outcome["first"] = agreement_runs.report_start(collection=collection)
                first_started.set()
                first_may_commit.wait(timeout=30)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            agreement_runs.report_start(collection=collection)
            outcome["second"] = "started another run"
        except agreement_runs.RunUnderWay as exc:
            outcome["second"] = exc.report
        finally:
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_started.wait(timeout=30)
    two = threading.Thread(target=second)
    two.start()
    time.sleep(0.5)
    waiting = two.is_alive()  # it waits for the first to commit
    first_may_commit.set()
    one.join(timeout=30)
    two.join(timeout=30)

    assert waiting
    run = outcome["first"]
    assert isinstance(run, AgreementReport)
    assert outcome["second"] == run
    assert AgreementReport.objects.filter(collection=collection).count() == 1
