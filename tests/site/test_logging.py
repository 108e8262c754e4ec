"""Logs carry the request's id, into the tasks it queues; JSON in production.

The tests read what the console handler would write: a handler with the same
filter and formatter as settings.LOGGING, on the root logger.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import shared_task
from django.http import HttpRequest, HttpResponse
from django.urls import path

from workbench import logs
from workbench.celery import app

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("tests.request")

# A page that logs and queues a task that logs: @pytest.mark.urls(__name__).


@shared_task(name="tests.test_logging.log_from_task")
def log_from_task(word: str) -> str:
    logging.getLogger("tests.task").warning("task says %s", word)
    return word


def queue_a_task(request: HttpRequest) -> HttpResponse:
    log.warning("view says hello")
    log_from_task.delay("hello")
    return HttpResponse("queued")


urlpatterns = [path("queue/", queue_a_task)]


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def records(stream: io.StringIO, logger: str = "") -> list[dict]:
    """The lines written, as JSON; only those of `logger` and its children when given."""
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    if not logger:
        return lines
    return [r for r in lines if r["logger"] == logger or r["logger"].startswith(logger + ".")]


@pytest.fixture
def eager(monkeypatch):
    """Tasks run in-process, as without a broker, whatever this run's settings."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def test_a_requests_log_lines_carry_its_id_and_the_response_header_has_it(client, db, json_lines):
    response = client.get("/no-such-page/")
    rid = response["X-Request-ID"]
    assert len(rid) == 32
    int(rid, 16)
    (line,) = records(json_lines, "django.request")
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == rid


def test_each_request_gets_its_own_id(client, db):
    first, second = client.get("/no-such-page/"), client.get("/no-such-page/")
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_an_incoming_request_id_is_kept(client, db, json_lines):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "edge-7f3a.1_B"})
    assert response["X-Request-ID"] == "edge-7f3a.1_B"
    assert {r["request_id"] for r in records(json_lines)} == {"edge-7f3a.1_B"}


@pytest.mark.parametrize(
    "hostile",
    [
        "abc\nFAKE log line",
        "abc\r\nSet-Cookie: x=1",
        "a" * 65,
        "has space",
        "quote\"and'apostrophe",
        "<script>",
        "",
    ],
)
def test_a_hostile_request_id_is_replaced(client, db, json_lines, hostile):
    # The test client passes the header as it is, as a raw HTTP client could.
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID=hostile)
    rid = response["X-Request-ID"]
    assert rid != hostile
    assert len(rid) == 32
    assert {r["request_id"] for r in records(json_lines)} == {rid}


def test_a_64_character_id_is_the_longest_kept():
    assert logs.request_id_from("a" * 64) == "a" * 64
    assert logs.request_id_from("a" * 65) != "a" * 65


def test_no_request_no_id(json_lines):
    logging.getLogger("tests.outside").warning("from a command")
    (line,) = records(json_lines, "tests")
    assert line["request_id"] is None
    assert "task_id" not in line


@pytest.mark.urls(__name__)
def test_an_in_process_task_logs_with_the_requests_id(client, db, json_lines, eager):
    response = client.get("/queue/")
    rid = response["X-Request-ID"]
    view, task = records(json_lines, "tests")
    assert (view["message"], view["request_id"]) == ("view says hello", rid)
    assert "task_id" not in view
    assert (task["message"], task["request_id"]) == ("task says hello", rid)
    assert task["task_name"] == "tests.test_logging.log_from_task"
    assert task["task_id"]


def test_after_an_in_process_task_the_request_keeps_its_id_and_no_task(json_lines, eager):
    token = logs.current_request_id.set("outer")
    try:
        log_from_task.delay("inside")
        logging.getLogger("tests.after").warning("after the task")
    finally:
        logs.current_request_id.reset(token)
    inside, after = records(json_lines, "tests")
    assert inside["request_id"] == after["request_id"] == "outer"
    assert "task_id" in inside
    assert "task_id" not in after


def test_a_task_message_carries_the_request_id():
    headers: dict[str, str] = {}
    token = logs.current_request_id.set("abc123")
    try:
        logs.on_before_task_publish(headers=headers)
    finally:
        logs.current_request_id.reset(token)
    assert headers == {"request_id": "abc123"}
    # Outside a request, nothing is added.
    headers = {}
    logs.on_before_task_publish(headers=headers)
    assert headers == {}


def test_the_worker_takes_the_id_from_the_message_and_clears_it_afterwards(json_lines):
    class Request:
        request_id = "from-the-message"

    class Task:
        name = "annotations.tasks.ping"
        request = Request()

    logs.on_task_prerun(task_id="t-1", task=Task())
    logging.getLogger("tests.worker").warning("running")
    logs.on_task_postrun(task_id="t-1")
    logging.getLogger("tests.worker").warning("idle")
    running, idle = records(json_lines, "tests")
    assert (running["request_id"], running["task_id"], running["task_name"]) == (
        "from-the-message",
        "t-1",
        "annotations.tasks.ping",
    )
    assert idle["request_id"] is None
    assert "task_id" not in idle


def test_a_hostile_id_in_a_message_is_dropped(json_lines):
    class Request:
        request_id = "x\nFAKE"

    class Task:
        name = "annotations.tasks.ping"
        request = Request()

    logs.on_task_prerun(task_id="t-2", task=Task())
    logging.getLogger("tests.worker").warning("running")
    logs.on_task_postrun(task_id="t-2")
    (line,) = records(json_lines, "tests")
    assert line["request_id"] is None


def test_the_json_format_writes_one_valid_object_per_line(json_lines):
    token = logs.current_request_id.set("r-1")
    try:
        logging.getLogger("tests.json").warning('two\nlines, "quotes" and é')
        try:
            raise ValueError("broken")
        except ValueError:
            logging.getLogger("tests.json").exception("it failed")
    finally:
        logs.current_request_id.reset(token)
    lines = json_lines.getvalue().splitlines()
    assert len(lines) == 2
    message, failure = (json.loads(line) for line in lines)
    assert message["message"] == 'two\nlines, "quotes" and é'
    assert set(message) == {"timestamp", "level", "logger", "message", "request_id"}
    assert message["timestamp"].endswith("+00:00")
    assert (failure["level"], failure["request_id"]) == ("ERROR", "r-1")
    assert failure["exc_info"].startswith("Traceback")
    assert "ValueError: broken" in failure["exc_info"]


def test_the_text_format_shows_the_request_and_the_task():
    from django.conf import settings

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["text"]["format"]))
    record = logging.LogRecord("tests.text", logging.INFO, __file__, 1, "hello", None, None)
    ids = (logs.current_request_id.set("r-2"), logs.current_task_id.set("t-3"))
    name = logs.current_task_name.set("annotations.tasks.ping")
    try:
        handler.handle(record)
    finally:
        logs.current_task_name.reset(name)
        logs.current_task_id.reset(ids[1])
        logs.current_request_id.reset(ids[0])
    assert "[req=r-2 task=annotations.tasks.ping[t-3]] hello" in stream.getvalue()


PRINT_LOG_FORMAT = """
import django, logging
django.setup()
logging.getLogger("tests.format").warning("hello")
"""


def log_output(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "WORKBENCH_ENV"}}
    return subprocess.run(
        [sys.executable, "-c", PRINT_LOG_FORMAT],
        env=clean | {"DJANGO_SETTINGS_MODULE": "workbench.settings"} | env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_production_logs_json_and_development_text():
    production = last_line(log_output(WORKBENCH_ENV="production", SECRET_KEY="x" * 50))
    assert json.loads(production)["message"] == "hello"
    development = last_line(log_output())
    assert development.endswith("tests.format [req=-] hello")


def test_log_format_overrides_the_environments_default():
    assert json.loads(last_line(log_output(LOG_FORMAT="json")))["logger"] == "tests.format"
    text = last_line(log_output(WORKBENCH_ENV="production", SECRET_KEY="x" * 50, LOG_FORMAT="text"))
    assert text.endswith("[req=-] hello")


def test_an_unknown_log_format_is_refused():
    result = log_output(LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT='xml'" in result.stderr
