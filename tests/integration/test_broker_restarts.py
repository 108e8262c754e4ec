"""The broker restarts while the worker holds messages, on RabbitMQ (production) and Redis.

The worker (a pool of two processes, as in docker-compose.yml) holds seven webhook
deliveries waiting out their retry countdown (unacknowledged, as every task is
until it has run: `acks_late`) and is writing an export when its broker goes
away; an import is asked for while it is away. Every job and delivery must
finish, and none twice:

- RabbitMQ hands back what a worker held the moment the worker's connection
  drops, keeps it through its restart (durable queues, persistent messages), and
  the worker reconnects by itself: the deliveries come back from the broker, not
  from the reconciliation.
- Redis: celery 5.7's worker exits ("Unrecoverable error: AttributeError") when
  its Redis goes away while it holds unacknowledged messages and is waiting for
  more (docs/operations.md, "Health and faults"). Its supervisor starts it again
  (compose's `restart: unless-stopped`; here tests.worker.SupervisedWorker), and
  the reconciliation sends again what the restarted, empty Redis lost.

/healthz says what is happening throughout. Each test starts its own broker on a
free port (tests/live_services.py): the machine's brokers are never stopped.

Runs when CELERY_BROKER_URL is set (CI sets it, with PostgreSQL).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.utils import timezone
from kombu import Connection

from annotations import tasks
from annotations.models import (
    Article,
    DeliveryStatus,
    ExportJob,
    ImportJob,
    JobStatus,
    Role,
    VerdictLabel,
    VerifiedClaim,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.newsrooms import services as newsrooms_services
from annotations.webhooks import services as webhooks
from tests.factories import ARTICLE_TEXT, ArticleFactory
from tests.live_services import (
    ROOT,
    PrivateRabbitMQ,
    PrivateRedis,
    django_env,
    require,
    start_web,
    stop_process,
    wait_until,
)
from tests.receiver import running_receiver
from tests.worker import SupervisedWorker, database_url, queued

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL,
        reason="needs CELERY_BROKER_URL (a real broker; these tests also start their own)",
    ),
]

DELIVERIES = 7
# The worker's log line for each delivery message it takes in.
RECEIVED = re.compile(r"annotations\.tasks\.deliver_webhook\[[-0-9a-f]+\] received")
# Long enough for the PDF report to be still running when the broker stops.
REPORT_CLAIMS = 150


@dataclass
class Brokers:
    """The broker a test restarts, and the Redis that keeps the cache and results.

    With RabbitMQ that is a Redis of its own, as in docker-compose.yml. With a
    Redis broker it is the same Redis: the defaults put the cache and results
    there too, so its restart takes them away as well.
    """

    kind: str
    broker: PrivateRabbitMQ | PrivateRedis
    cache: PrivateRedis | None

    def env(self, **overrides: str) -> dict[str, str]:
        """What a web or worker process changes: the test database, the private broker,
        and the cache on the private Redis. CELERY_RESULT_BACKEND is left to its default."""
        env = {"DATABASE_URL": database_url(), "CELERY_BROKER_URL": self.broker.url}
        if self.cache is not None:
            env["WORKBENCH_CACHE_URL"] = self.cache.url
        return env | {"DEBUG": "false"} | overrides

    def restart(
        self, worker: SupervisedWorker, watch: HealthWatch, during: Callable[[], None]
    ) -> None:
        """Stops the broker, does `during`, and starts the broker again once /healthz
        has said it is down and the worker has noticed (or after 20 s)."""
        runs, answers = len(worker.runs), len(watch.seen)
        # RabbitMQ: a clean shutdown, as `docker compose restart rabbitmq`, then a boot
        # on the same data. Redis: gone at once and back empty, as a Redis without a
        # disk comes back.
        self.broker.stop()
        during()
        with contextlib.suppress(AssertionError):
            wait_until(
                lambda: (
                    any(code == 503 for code, _ in watch.seen[answers:])
                    and (
                        "Connection to broker lost" in worker.log()
                        or len(worker.runs) > runs
                        or (worker.current is not None and worker.current.poll() is not None)
                    )
                ),
                20,
                "the outage noticed",
                every=0.1,
            )
        self.broker.start()


@pytest.fixture
def brokers(request, tmp_path, monkeypatch):
    """The broker named by the test's parameter, with its cache Redis; stopped at the end."""
    # The web and worker processes inherit this process's environment: the
    # session's own cache and results settings would hide the defaults under test.
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    monkeypatch.delenv("WORKBENCH_CACHE_URL", raising=False)
    started: list[PrivateRabbitMQ | PrivateRedis] = []
    try:
        if request.param == "rabbitmq":
            rabbit = PrivateRabbitMQ(tmp_path / "rabbitmq")
            require(rabbit.binary, "rabbitmq-server is not installed")
            cache = PrivateRedis(tmp_path)
            require(cache.binary, "redis-server is not installed")
            for server in (rabbit, cache):
                server.start()
                started.append(server)
            yield Brokers("rabbitmq", rabbit, cache)
        else:
            redis = PrivateRedis(tmp_path)
            require(redis.binary, "redis-server is not installed")
            redis.start()
            started.append(redis)
            yield Brokers("redis", redis, None)
    finally:
        for server in started:
            server.stop()


def member_session(base: str, user, path: str) -> tuple[requests.Session, str]:
    """An HTTP session of a logged-in member, and the CSRF token the page at `path` gives."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    page = session.get(f"{base}{path}", timeout=10)
    assert page.status_code == 200
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page.text)
    assert token is not None
    return session, token.group(1)


def published_claims(article: Article, editor, count: int) -> None:
    """`count` published verified claims on the article, stored in bulk."""
    label = VerdictLabel.objects.get(taxonomy__organization=article.organization, slug="false")
    now = timezone.now()
    VerifiedClaim.objects.bulk_create(
        VerifiedClaim(
            organization=article.organization,
            article=article,
            start=i,
            end=i + 1,
            quote=article.text[i],
            claim_reviewed=f"Claim number {i} about the road to Kisangani",
            verdict=label,
            rating=label.rating,
            lineage="single",
            editor=editor,
            status="published",
            published_at=now,
        )
        for i in range(count)
    )


@dataclass
class HealthWatch:
    """Asks /healthz four times a second in a thread and keeps every answer."""

    base: str
    seen: list[tuple[int | str, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        http = requests.Session()
        while not self.stop.is_set():
            try:
                answer = http.get(f"{self.base}/healthz", timeout=15)
                self.seen.append((answer.status_code, answer.json()))
            except (requests.RequestException, ValueError) as exc:
                self.seen.append((type(exc).__name__, {}))
            self.stop.wait(0.25)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


@pytest.mark.parametrize("brokers", ["rabbitmq", "redis"], indirect=True)
def test_a_restarted_broker_loses_no_job_and_sends_no_webhook_twice(
    transactional_db, desk, bob, brokers, tmp_path
):
    media = tmp_path / "media"
    media.mkdir()
    article = ArticleFactory(collection=desk, text=ARTICLE_TEXT * 2)
    published_claims(article, bob, REPORT_CLAIMS)
    ada = newsrooms_services.member_create(
        organization=desk.organization, username="ada", role=Role.ADMIN
    )
    rabbitmq = brokers.kind == "rabbitmq"
    # The first attempt of each delivery fails; the next is due 24 to 36 s later.
    env = brokers.env(
        MEDIA_ROOT=str(media),
        WORKBENCH_EXPORT_TMP=str(tmp_path / "scratch"),
        WORKBENCH_WEBHOOK_BACKOFF_SECONDS="30",
        WORKBENCH_RECONCILE_SECONDS="2",
        WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS="5",
    )
    # A pool of two processes, as in docker-compose.yml: the worker's main process
    # keeps listening to its broker while a child writes the report. celery beat
    # runs inside it, reconciling every 2 s work asked for more than 10 s ago
    # (twice the agreement debounce) and never taken up.
    args = ["--pool=prefork", "--concurrency=2", "-B", "-s", str(tmp_path / "beat-schedule")]
    worker = SupervisedWorker(database_url(), media, tmp_path, env=env, args=args)
    web = None
    watch = None
    with running_receiver() as partner, (tmp_path / "web.log").open("w") as web_log:
        hook = webhooks.webhook_create(
            organization=desk.organization,
            user=ada.membership.user,
            url=partner.url,
            events=[WebhookEvent.PUBLISHED],
        )
        partner.fail(DELIVERIES, status=503)
        try:
            worker.start()
            web, base = start_web(django_env(**env), web_log)
            wait_until(lambda: " ready." in worker.log(), 60, "the worker ready")
            session, token = member_session(base, bob, f"/collections/{desk.pk}/")

            # Seven deliveries, each failing once: the worker holds their retries.
            deliveries = [
                WebhookDelivery.objects.create(
                    webhook=hook,
                    event=WebhookEvent.PUBLISHED,
                    body=json.dumps({"event": "claim.published", "n": n}),
                    next_attempt_at=timezone.now(),
                )
                for n in range(DELIVERIES)
            ]
            with Connection(brokers.broker.url) as connection:
                for delivery in deliveries:
                    tasks.deliver_webhook.apply_async(
                        [delivery.pk], connection=connection, ignore_result=True
                    )
            waiting = WebhookDelivery.objects.filter(
                status=DeliveryStatus.RETRYING, attempts=1, next_attempt_at__gt=timezone.now()
            )
            wait_until(lambda: waiting.count() == DELIVERIES, 30, "the first attempts failed")
            # The worker takes a retry in as soon as it makes room for one (its prefetch
            # grows by one per message it holds): wait until it holds all seven.
            wait_until(
                lambda: len(RECEIVED.findall(worker.log())) == 2 * DELIVERIES,
                30,
                "the worker holding every retry",
            )

            # A PDF report: a few seconds' work in one of the worker's processes.
            export = session.post(
                f"{base}/newsrooms/{desk.organization.slug}/exports/",
                data={
                    "format": "report-pdf",
                    "status": "published",
                    "audience": "public",
                    "date_field": "published_at",
                },
                headers={"X-CSRFToken": token},
                allow_redirects=False,
                timeout=15,
            )
            assert export.status_code == 302, export.text[:500]
            exported = ExportJob.objects.get()
            wait_until(
                lambda: ExportJob.objects.filter(pk=exported.pk, status=JobStatus.RUNNING).exists(),
                30,
                "the report started",
                every=0.05,
            )
            assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 0

            def upload() -> None:
                """An import asked for while the broker is away: saved, at once."""
                started = time.monotonic()
                response = session.post(
                    f"{base}/collections/{desk.pk}/upload/",
                    files={"uploads": ("minister.txt", f"The minister\n\n{ARTICLE_TEXT}".encode())},
                    headers={"X-CSRFToken": token},
                    allow_redirects=False,
                    timeout=15,
                )
                assert response.status_code == 302, response.text[:500]
                assert time.monotonic() - started < 5

            watch = HealthWatch(base)
            wait_until(lambda: watch.seen, 15, "a first answer from /healthz")
            brokers.restart(worker, watch, during=upload)
            imported = ImportJob.objects.get()
            # Everything finishes: the report, the import, every delivery.
            wait_until(
                lambda: (
                    ExportJob.objects.get(pk=exported.pk).is_finished
                    and ImportJob.objects.get(pk=imported.pk).is_finished
                    and WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count()
                    == DELIVERIES
                ),
                120,
                "every job and delivery finished (see worker-*.log)",
                every=0.3,
            )
            wait_until(lambda: watch.seen[-1][1].get("status") == "ok", 30, "/healthz ok again")
            # Whatever the broker still gives back, or the reconciliation sends again,
            # has the time to arrive and come to nothing.
            wait_until(
                lambda: queued(settings.CELERY_TASK_DEFAULT_QUEUE, brokers.broker.url) == 0,
                30,
                "the queue drained",
            )
            time.sleep(4)
            running = worker.current
            assert running is not None
            assert running.poll() is None, "the worker is not running"
            # celery beat, inside it, still ticks: what compose's beat check reads.
            alive = tmp_path / "beat-schedule.alive"
            assert time.time() - alive.stat().st_mtime < 10
        finally:
            if watch is not None:
                watch.close()
            stop_process(web)
            worker.stop()

    log = worker.log()
    exported.refresh_from_db()
    imported.refresh_from_db()
    # Each job ran once, to the end.
    assert exported.status == JobStatus.DONE, exported.failure
    assert exported.attempts == 1
    assert [p.name for p in (media / "exports").rglob("*") if p.is_file()] == [exported.filename]
    assert imported.status == JobStatus.DONE, imported.failure
    assert Article.objects.filter(collection=desk, title="The minister").count() == 1
    # Each delivery reached the partner once after its failed first attempt.
    sent = Counter(r.headers["x-workbench-delivery"] for r in partner.requests)
    assert sent == {str(d.pk): 2 for d in deliveries}, sent
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {2}

    # /healthz said the broker was down while it was, never failed itself, and
    # recovered with the broker.
    answers = watch.seen
    assert {code for code, _ in answers} <= {200, 503}, answers
    down = [body for code, body in answers if code == 503]
    assert down, "no answer while the broker was down"
    assert all(body["status"] == "error" and body["database"] == "ok" for body in down), down
    assert {body["worker"] for body in down} == {"unknown"}
    assert "error: ConnectionRefusedError" in {body["broker"] for body in down}, down
    assert answers[-1] == (
        200,
        {"status": "ok", "mode": "queue", "database": "ok", "broker": "ok", "worker": "ok"},
    )

    # The import asked for during the outage was sent by the reconciliation.
    assert re.search(r"Reconciled .*\b1 imports", log), log[-3000:]
    if rabbitmq:
        # The same worker kept going, and RabbitMQ gave back the retries it held.
        assert worker.restarts == 0, log[-3000:]
        assert "Unrecoverable error" not in log
        assert not re.search(r"Reconciled .*webhook deliveries", log), log[-3000:]
    else:
        # Redis came back empty: the reconciliation sent the retries again.
        assert re.search(r"Reconciled .*webhook deliveries", log), log[-3000:]


SEND_AFTER_COMMIT = """
from django.db import transaction
from annotations.jobs.enqueue import enqueue
with transaction.atomic():
    enqueue("annotations.tasks.run_export", {pk})
"""


def test_a_task_rabbitmq_refuses_is_logged_for_the_reconciliation_not_lost_silently(
    transactional_db, desk, bob, tmp_path, monkeypatch
):
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    rabbit, cache = PrivateRabbitMQ(tmp_path / "rabbitmq"), PrivateRedis(tmp_path)
    require(rabbit.binary, "rabbitmq-server is not installed")
    require(cache.binary, "redis-server is not installed")
    job = ExportJob.objects.create(organization=desk.organization, format="jsonl", created_by=bob)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    try:
        rabbit.start()
        cache.start()
        # The queue takes no more messages, as when it reaches a length limit.
        rabbit.ctl(
            "set_policy",
            "--apply-to",
            "queues",
            "full",
            f"^{re.escape(queue)}$",
            '{"max-length": 0, "overflow": "reject-publish"}',
        )
        sent = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SEND_AFTER_COMMIT.format(pk=job.pk)],
            cwd=ROOT,
            env=django_env(
                DATABASE_URL=database_url(),
                CELERY_BROKER_URL=rabbit.url,
                WORKBENCH_CACHE_URL=cache.url,
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        in_queue = queued(queue, rabbit.url)
    finally:
        rabbit.stop(kill=True)
        cache.stop()

    # The save went through; the refusal is in the log, and the job waits for the
    # reconciliation, which finds it pending in the database.
    assert sent.returncode == 0, sent.stderr[-3000:]
    assert "Could not reach the broker for annotations.tasks.run_export" in sent.stderr
    assert "it will be reconciled" in sent.stderr
    assert "MessageNacked" in sent.stderr
    assert in_queue == 0
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING


TIMED_SEND = """
import time
from django.db import transaction
from annotations.jobs.enqueue import enqueue
started = time.monotonic()
with transaction.atomic():
    enqueue("annotations.tasks.run_export", {pk})
print(f"sent in {{time.monotonic() - started:.1f}} s")
"""


def test_a_save_waits_for_a_blocked_rabbitmq_only_as_long_as_the_confirm_timeout(
    transactional_db, desk, bob, tmp_path, monkeypatch
):
    # A broker under a memory alarm blocks publishers: without a confirm
    # timeout the save that sends the task hangs with it (the whole request).
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    rabbit, cache = PrivateRabbitMQ(tmp_path / "rabbitmq"), PrivateRedis(tmp_path)
    require(rabbit.binary, "rabbitmq-server is not installed")
    require(cache.binary, "redis-server is not installed")
    job = ExportJob.objects.create(organization=desk.organization, format="jsonl", created_by=bob)
    try:
        rabbit.start()
        cache.start()
        rabbit.ctl("set_vm_memory_high_watermark", "0")
        sent = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", TIMED_SEND.format(pk=job.pk)],
            cwd=ROOT,
            env=django_env(
                DATABASE_URL=database_url(),
                CELERY_BROKER_URL=rabbit.url,
                WORKBENCH_CACHE_URL=cache.url,
                WORKBENCH_PUBLISH_CONFIRM_SECONDS="2",
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        rabbit.stop(kill=True)
        cache.stop()

    assert sent.returncode == 0, sent.stderr[-3000:]
    seconds = float(re.search(r"sent in ([\d.]+) s", sent.stdout).group(1))
    assert seconds < 10, sent.stdout
    assert "it will be reconciled" in sent.stderr
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
