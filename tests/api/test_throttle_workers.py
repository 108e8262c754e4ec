"""The API's rate limit under gunicorn with two workers sharing one Redis.

Each web worker is a process of its own, so the limit holds only if they count
in one place and the count cannot be raced: two workers reading the same
count, each adding one and writing it back, would admit a request the limit
refuses. These tests start gunicorn as production runs it (two workers) on
the test database, with the cache on a private Redis (tests/live_services.py)
they may stop, and send many requests with one key at once. DRF's own
SimpleRateThrottle, which did exactly that, let 21 to 24 of the 20 through.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.api.conftest import key_for
from tests.live_services import (
    PrivateRedis,
    django_env,
    require,
    start_web,
    stop_process,
)
from tests.worker import database_url

RATE = 20
# Five times the limit, from more clients than there are workers, so that the
# two workers are always both inside a request, each racing the other.
REQUESTS = 5 * RATE
CLIENTS = 16
# A lost update needs the two workers inside the throttle at the same moment:
# one burst may by chance have none, several in a row hardly ever do.
KEYS = 5


@pytest.fixture
def redis(tmp_path):
    """A private Redis this test may stop; the machine's own one is never touched."""
    server = PrivateRedis(tmp_path)
    require(server.binary, "redis-server is not installed")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web(transactional_db, redis, tmp_path):
    """gunicorn with two workers on the test database, counting in the private Redis;
    yields its base URL."""
    env = django_env(
        DATABASE_URL=database_url(),
        WORKBENCH_CACHE_URL=redis.url,
        WORKBENCH_API_RATE=f"{RATE}/min",
        DEBUG="false",
    )
    log = (tmp_path / "web.log").open("w")
    process, base = start_web(env, log, workers=2)
    try:
        yield base
    finally:
        stop_process(process)
        log.close()


def claims(base: str, secret: str) -> requests.Response:
    return requests.get(
        f"{base}/api/v1/claims/", headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def burst(base: str, secret: str, count: int) -> list[requests.Response]:
    """`count` requests with one key, CLIENTS at a time."""
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(lambda _: claims(base, secret), range(count)))


def test_two_workers_admit_exactly_the_rate(demo, web):
    # Each key is a limit of its own: a burst with each, one after another.
    bursts = [burst(web, key_for("editor"), REQUESTS) for _ in range(KEYS)]

    statuses = [Counter(response.status_code for response in answers) for answers in bursts]
    assert statuses == [{200: RATE, 429: REQUESTS - RATE}] * KEYS
    for refused in (r for answers in bursts for r in answers if r.status_code == 429):
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["status"] == 429


def test_the_api_answers_unthrottled_while_redis_is_down(demo, web, redis):
    secret = key_for("editor")
    assert Counter(r.status_code for r in burst(web, secret, RATE + 5)) == {200: RATE, 429: 5}

    redis.stop()
    # No count can be kept, so none is enforced: the API answers rather than fails.
    assert {r.status_code for r in burst(web, secret, 2 * RATE)} == {200}

    redis.start()
    # Back, and counting again from the first request after it.
    fresh = key_for("editor")
    answers = Counter(r.status_code for r in burst(web, fresh, 2 * RATE))
    assert answers == {200: RATE, 429: RATE}
