"""Which broker, result backend and cache the web, worker and beat processes use.

RabbitMQ (amqp://) is the production broker and Redis keeps the cache and the
results; Redis alone also works. Each case starts a fresh Python with exactly
the variables an operator would set, as tests/site/test_settings.py does; the
last reads docker-compose.yml, where the production shape is set. No service is
needed: nothing here connects to one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.live_services import ROOT

PRINT_CELERY_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "broker": settings.CELERY_BROKER_URL,
    "in_process": settings.CELERY_TASK_ALWAYS_EAGER,
    "results": settings.CELERY_RESULT_BACKEND,
    "cache": settings.CACHES["default"],
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "acks_late": settings.CELERY_TASK_ACKS_LATE,
    "delivery_mode": settings.CELERY_TASK_DEFAULT_DELIVERY_MODE,
}))
"""

VARIABLES = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "WORKBENCH_CACHE_URL")
RABBITMQ = "amqp://workbench:secret@rabbitmq:5672//"
REDIS = "redis://redis:6379/0"
REDIS_CACHE = "redis://redis:6379/1"


def started_with(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    return subprocess.run(
        [sys.executable, "-c", PRINT_CELERY_SETTINGS],
        env=clean | {"DJANGO_SETTINGS_MODULE": "workbench.settings"} | env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def celery_settings(**env: str) -> dict:
    started = started_with(**env)
    assert started.returncode == 0, started.stderr
    return json.loads(started.stdout)


def test_rabbitmq_brokers_keep_results_and_the_cache_in_redis():
    values = celery_settings(CELERY_BROKER_URL=RABBITMQ, WORKBENCH_CACHE_URL=REDIS_CACHE)
    assert values["in_process"] is False
    assert values["results"] == REDIS_CACHE
    assert values["cache"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CACHE,
    }
    # Publisher confirms; tasks acknowledged once they ran, sent persistent.
    assert values["transport"]["confirm_publish"] is True
    assert values["acks_late"] is True
    assert values["delivery_mode"] == "persistent"


def test_a_redis_broker_keeps_results_and_the_cache_itself():
    values = celery_settings(CELERY_BROKER_URL=REDIS)
    assert values["results"] == REDIS
    assert values["cache"]["LOCATION"] == REDIS
    assert "confirm_publish" not in values["transport"]
    assert values["transport"]["visibility_timeout"] == 3600


def test_an_explicit_result_backend_wins():
    values = celery_settings(
        CELERY_BROKER_URL=RABBITMQ,
        WORKBENCH_CACHE_URL=REDIS_CACHE,
        CELERY_RESULT_BACKEND="redis://results:6379/3",
    )
    assert values["results"] == "redis://results:6379/3"
    assert values["cache"]["LOCATION"] == REDIS_CACHE


def test_without_a_broker_tasks_run_in_process_with_no_result_backend():
    values = celery_settings()
    assert values["in_process"] is True
    assert values["results"] is None
    assert values["cache"] == {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # Agreement runs are chords, which need a result backend RabbitMQ cannot be.
        (
            {"CELERY_BROKER_URL": RABBITMQ},
            "needs a result backend for agreement runs: set WORKBENCH_CACHE_URL",
        ),
        (
            {"CELERY_BROKER_URL": RABBITMQ, "WORKBENCH_CACHE_URL": RABBITMQ},
            "WORKBENCH_CACHE_URL='amqp://workbench:secret@rabbitmq:5672//': the cache is Redis",
        ),
        (
            {
                "CELERY_BROKER_URL": RABBITMQ,
                "WORKBENCH_CACHE_URL": REDIS_CACHE,
                "CELERY_RESULT_BACKEND": RABBITMQ,
            },
            "RabbitMQ cannot keep results; use Redis",
        ),
    ],
    ids=["rabbitmq-without-redis", "an-amqp-cache", "amqp-results"],
)
def test_a_broker_setup_that_cannot_work_refuses_to_start_and_says_why(env, message):
    started = started_with(**env)
    assert started.returncode != 0
    assert "ConfigError" in started.stderr
    assert message in started.stderr


def test_every_compose_service_restarts_by_itself_and_has_a_health_check():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "rabbitmq", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name
        assert service.get("healthcheck", {}).get("test"), name
    # Tasks through RabbitMQ, whose queues live on a volume; cache and results in Redis.
    env = compose["x-workbench-env"]
    assert env["CELERY_BROKER_URL"].startswith("amqp://")
    assert env["WORKBENCH_CACHE_URL"].startswith("redis://")
    assert "CELERY_RESULT_BACKEND" not in env
    assert "rabbitmqdata:/var/lib/rabbitmq" in services["rabbitmq"]["volumes"]
