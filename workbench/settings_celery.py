"""Celery's settings, read from the environment: the broker, where task results and
the cache live, how tasks are sent and acknowledged, and celery beat's schedule.

workbench/settings.py imports all of it (the settings Django and Celery read are
its names); nothing here reads settings.py.
"""

from __future__ import annotations

from typing import Any

from workbench.env import ConfigError, env_int, env_str

# Celery. Without a broker the tasks run in-process (eagerly), so the
# embedded default needs no broker; with CELERY_BROKER_URL set, a real
# `celery -A workbench worker` does the work. RabbitMQ (amqp://) is the
# production broker: its durable queues keep what they hold through a restart,
# and it hands a worker's unacknowledged messages back the moment that
# worker's connection drops. Redis (redis://) works too.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True


def url_scheme(url: str) -> str:
    """`amqp` for amqp://guest@rabbit//; empty for an empty or scheme-less string."""
    return url.partition("://")[0].lower() if "://" in url else ""


AMQP_SCHEMES = {"amqp", "amqps", "pyamqp"}
REDIS_SCHEMES = {"redis", "rediss"}
BROKER_IS_AMQP = url_scheme(CELERY_BROKER_URL) in AMQP_SCHEMES
BROKER_IS_REDIS = url_scheme(CELERY_BROKER_URL) in REDIS_SCHEMES

# The cache (the API's throttle counts) lives in Redis: WORKBENCH_CACHE_URL, or
# the broker when the broker is Redis; an amqp:// URL is never a cache. Without
# either, each process counts in its own memory (the embedded default).
CACHE_URL = env_str("WORKBENCH_CACHE_URL", CELERY_BROKER_URL if BROKER_IS_REDIS else "")
if CACHE_URL and url_scheme(CACHE_URL) not in {*REDIS_SCHEMES, "unix"}:
    raise ConfigError(f"WORKBENCH_CACHE_URL={CACHE_URL!r}: the cache is Redis (redis://...)")

# Results: an agreement run is a chord, and a chord's last step needs a result
# backend, which RabbitMQ cannot be in Celery 5. So results go to the broker
# when it is Redis, else to the cache's Redis; CELERY_RESULT_BACKEND wins over
# both. In-process tasks hand their results back directly and need no backend.
CELERY_RESULT_BACKEND = (
    env_str(
        "CELERY_RESULT_BACKEND",
        CELERY_BROKER_URL if BROKER_IS_REDIS else (CACHE_URL if CELERY_BROKER_URL else ""),
    )
    or None
)
if CELERY_RESULT_BACKEND and url_scheme(CELERY_RESULT_BACKEND) in AMQP_SCHEMES:
    raise ConfigError(
        f"CELERY_RESULT_BACKEND={CELERY_RESULT_BACKEND!r}: RabbitMQ cannot keep results; "
        "use Redis (redis://...)"
    )
if CELERY_BROKER_URL and not CELERY_RESULT_BACKEND:
    raise ConfigError(
        f"CELERY_BROKER_URL={url_scheme(CELERY_BROKER_URL)}://... needs a result backend for "
        "agreement runs: set WORKBENCH_CACHE_URL (or CELERY_RESULT_BACKEND) to a Redis"
    )
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "workbench")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged after it ran, so a worker that dies mid-task hands
# the task back to the queue instead of losing it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that lost its broker keeps trying to reconnect for as long as the
# outage lasts, instead of giving up (and exiting) after 100 attempts.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Tasks are sent persistent (Celery's default, spelt out): on RabbitMQ's durable
# queues they survive a broker restart.
CELERY_TASK_DEFAULT_DELIVERY_MODE = "persistent"
# Redis: a task a dead worker held is handed to another after this long
# unacknowledged. Longer than any task runs, or a task still running would be
# handed out twice. (RabbitMQ needs no such timeout: it knows when a worker's
# connection is gone.)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
}
if BROKER_IS_AMQP:
    # Publisher confirms: sending a task returns once RabbitMQ has taken it
    # (a persistent message on a durable queue: written to disk), and a message
    # it refuses raises, so the save logs it for the reconciliation instead of
    # losing it without a word.
    CELERY_BROKER_TRANSPORT_OPTIONS["confirm_publish"] = True
# How long a save waits for RabbitMQ's confirm before it leaves the task to the
# reconciliation (a broker with a memory or disk alarm blocks publishers).
WORKBENCH_PUBLISH_CONFIRM_SECONDS = env_int("WORKBENCH_PUBLISH_CONFIRM_SECONDS", 3)
# A send that fails is tried once more (a pooled connection the broker closed
# meanwhile), not three times: against a blocked broker each try costs the
# confirm wait and the channel's close, so a save waits at most four times
# WORKBENCH_PUBLISH_CONFIRM_SECONDS.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if BROKER_IS_AMQP:
    # ...and closing the channel after that wait reads from the same blocked
    # broker: the socket gives up after as long. Web processes and commands
    # only; a worker's own connection reads without these (workbench/celery.py).
    CELERY_BROKER_TRANSPORT_OPTIONS["read_timeout"] = WORKBENCH_PUBLISH_CONFIRM_SECONDS
    CELERY_BROKER_TRANSPORT_OPTIONS["write_timeout"] = WORKBENCH_PUBLISH_CONFIRM_SECONDS
# celery beat touches <schedule file>.alive at every tick (its health check,
# docker-compose.yml), and ticks at least this often even when nothing is due.
CELERY_BEAT_SCHEDULER = "workbench.celery:BeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 60
# celery beat: expired exports are deleted every hour.
# Work a save asked for while the broker was down, and jobs whose worker died,
# are sent again this often (annotations.tasks.background_reconcile); also once
# when a worker starts.
WORKBENCH_RECONCILE_SECONDS = env_int("WORKBENCH_RECONCILE_SECONDS", 20)
# A running import or export beats a heartbeat this often (a thread of its own,
# so a long PDF layout beats too; annotations.jobs.heartbeat).
WORKBENCH_JOB_HEARTBEAT_SECONDS = env_int("WORKBENCH_JOB_HEARTBEAT_SECONDS", 5)
# One silent this long lost its worker: the next reconciliation sends it again
# and another worker takes it over, so a dead worker's job resumes in about a
# minute. Its page says so once a few heartbeats are missed.
WORKBENCH_JOB_STALE_SECONDS = env_int("WORKBENCH_JOB_STALE_SECONDS", 45)
CELERY_BEAT_SCHEDULE = {
    "exports-expire": {"task": "annotations.tasks.exports_expire", "schedule": 3600.0},
    "background-reconcile": {
        "task": "annotations.tasks.background_reconcile",
        "schedule": float(WORKBENCH_RECONCILE_SECONDS),
    },
}
