"""Faults with the real services: Redis stops, a worker is killed, PostgreSQL restarts.

Each test takes a service away and ends with nothing lost. The machine's own
PostgreSQL and Redis serve CI and other people's tests at the same time, so
these tests never stop them: they start private copies (tests/live_services.py) on
free ports. A worker killed during an export is
tests/integration/test_export_worker.py.

Runs when CELERY_BROKER_URL is set (CI sets it, with PostgreSQL).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.utils import timezone
from kombu import Connection

from annotations import tasks
from annotations.agreement import runs as agreement_runs
from annotations.models import (
    AgreementReport,
    Article,
    ArticleAgreement,
    Assignment,
    ClaimAnnotation,
    DeliveryStatus,
    ExportJob,
    ImportJob,
    JobStatus,
    Role,
    VerdictLabel,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.newsrooms import services as newsrooms_services
from annotations.reader import services
from annotations.webhooks import services as webhooks
from tests.factories import ARTICLE_TEXT, ArticleFactory
from tests.live_services import (
    PrivateCluster,
    PrivateRedis,
    django_env,
    manage,
    postgres_binaries,
    require,
    start_web,
    stop_process,
    wait_until,
)
from tests.receiver import running_receiver
from tests.worker import database_url, start_worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL,
        reason="needs CELERY_BROKER_URL (a real broker; these tests also start their own)",
    ),
]

DELAYED = "Background work is delayed"


@pytest.fixture
def redis(tmp_path):
    """A private Redis this test may stop; the machine's own one is never touched."""
    server = PrivateRedis(tmp_path)
    require(server.binary, "redis-server is not installed")
    server.start()
    yield server
    server.stop()


def on_private_redis(redis: PrivateRedis, **overrides: str) -> dict[str, str]:
    """What a web or worker process changes: the test database; broker, results and
    cache on the private Redis."""
    return {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": redis.url,
        "CELERY_RESULT_BACKEND": redis.url,
        "WORKBENCH_CACHE_URL": redis.url,
        "DEBUG": "false",
        **overrides,
    }


def wait_for_ready(log: Path, timeout: float = 30) -> None:
    wait_until(lambda: " ready." in log.read_text(), timeout, f"worker ready ({log})")


# 1. Redis stops while reviewers save claims --------------------------------------------


def span(phrase: str) -> dict[str, object]:
    start = ARTICLE_TEXT.index(phrase)
    return {"start": start, "end": start + len(phrase), "quote": phrase}


def claim_form(phrase: str, verdict: VerdictLabel) -> dict[str, object]:
    return span(phrase) | {
        "verdict": verdict.pk,
        "rating": verdict.rating or "",
        "note": "",
    }


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


def reviewer_session(base: str, user, article: Article) -> tuple[requests.Session, str]:
    return member_session(base, user, f"/articles/{article.pk}/")


def save_claim(base: str, who: tuple[requests.Session, str], article: Article, data) -> None:
    session, token = who
    started = time.monotonic()
    response = session.post(
        f"{base}/articles/{article.pk}/claims/",
        data=data,
        headers={"X-CSRFToken": token},
        allow_redirects=False,
        timeout=15,
    )
    # Saved (the redirect to the claim), and without waiting on the broker.
    assert response.status_code == 302, response.text[:500]
    assert time.monotonic() - started < 5


def test_saves_succeed_while_redis_is_down_and_agreement_catches_up_when_it_is_back(
    transactional_db, desk, alice, carol, redis, tmp_path, monkeypatch
):
    labels = {v.slug: v for v in VerdictLabel.objects.filter(taxonomy=desk.taxonomy)}
    article = ArticleFactory(collection=desk)
    other = ArticleFactory(collection=desk)
    # The starting claims, saved here without queueing refreshes anywhere.
    with monkeypatch.context() as patch:
        patch.setattr(agreement_runs, "enqueue", lambda *args, **kwargs: None)
        for a in (article, other):
            for reviewer in (alice, carol):
                services.assignment_ensure(article=a, reviewer=reviewer)
                services.claim_create(
                    article=a,
                    reviewer=reviewer,
                    **span("reposition its forces"),
                    verdict=labels["false"],
                    rating=labels["false"].rating,
                )
    report = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    first_units = report.results["units_total"]

    env = on_private_redis(
        redis,
        WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS="1",
        WORKBENCH_RECONCILE_SECONDS="2",
    )
    worker_log, web_log = tmp_path / "worker.log", tmp_path / "web.log"
    url = database_url()
    with worker_log.open("w") as wlog, web_log.open("w") as hlog:
        # celery beat runs inside the worker (-B), sending the reconciliation every 2 s.
        worker = start_worker(
            url, tmp_path, wlog, env=env, args=["-B", "-s", str(tmp_path / "beat-schedule")]
        )
        web = None
        try:
            web, base = start_web(django_env(**env), hlog)
            wait_for_ready(worker_log)
            as_alice = reviewer_session(base, alice, article)
            as_carol = reviewer_session(base, carol, article)

            # Redis up: a save refreshes the figures within a moment.
            save_claim(base, as_alice, article, claim_form("give peace a chance", labels["true"]))
            wait_until(
                lambda: (
                    AgreementReport.objects.get(pk=report.pk).results["units_total"] > first_units
                ),
                30,
                "the refresh after a save",
            )
            assert requests.get(f"{base}/healthz", timeout=10).json()["status"] == "ok"

            redis.stop()
            stopped_at = timezone.now()
            save_claim(base, as_carol, article, claim_form("give peace a chance", labels["false"]))
            save_claim(base, as_alice, article, claim_form("before Friday", labels["mixed"]))
            assert ClaimAnnotation.objects.filter(article=article).count() == 5
            # The change is marked, for the reconciliation to find.
            assert ArticleAgreement.objects.get(article=article).requested_at >= stopped_at
            # The reader says so (each web process checks the broker every few seconds).
            wait_until(
                lambda: (
                    DELAYED in as_alice[0].get(f"{base}/articles/{article.pk}/", timeout=10).text
                ),
                15,
                "the delayed-work notice",
                every=0.5,
            )
            health = requests.get(f"{base}/healthz", timeout=10)
            assert health.status_code == 503
            assert health.json()["broker"].startswith("error")
            assert health.json()["database"] == "ok"
            before = AgreementReport.objects.get(pk=report.pk).refreshed_at

            # Back, empty: whatever was queued is gone; the database says what is pending.
            redis.start()
            wait_until(
                lambda: (
                    ArticleAgreement.objects.filter(
                        article=article, requested_at__isnull=True
                    ).exists()
                    and AgreementReport.objects.get(pk=report.pk).refreshed_at > before
                ),
                45,
                "the reconciled refresh (see worker.log)",
                every=0.2,
            )
            wait_until(
                lambda: (
                    DELAYED
                    not in as_alice[0].get(f"{base}/articles/{article.pk}/", timeout=10).text
                ),
                15,
                "the notice gone",
                every=0.5,
            )
            assert "Reconciled 1 agreement refreshes" in worker_log.read_text()
        finally:
            stop_process(web)
            stop_process(worker)

    # Nothing lost: the refreshed figures are those of a full run over every claim.
    refreshed = AgreementReport.objects.get(pk=report.pk)
    full = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert refreshed.results == full.results
    assert full.results["units_total"] > first_units


def test_imports_exports_and_webhooks_asked_for_while_redis_is_down_run_once_it_is_back(
    transactional_db, desk, bob, redis, tmp_path
):
    media = tmp_path / "media"
    media.mkdir()
    ada = newsrooms_services.member_create(
        organization=desk.organization, username="ada", role=Role.ADMIN
    )
    env = on_private_redis(redis, WORKBENCH_RECONCILE_SECONDS="2", MEDIA_ROOT=str(media))
    worker_log, web_log = tmp_path / "worker.log", tmp_path / "web.log"
    with (
        running_receiver() as partner,
        worker_log.open("w") as wlog,
        web_log.open("w") as hlog,
    ):
        hook = webhooks.webhook_create(
            organization=desk.organization,
            user=ada.membership.user,
            url=partner.url,
            events=[WebhookEvent.PUBLISHED],
        )
        worker = start_worker(
            database_url(), media, wlog, env=env, args=["-B", "-s", str(tmp_path / "beat")]
        )
        web = None
        try:
            web, base = start_web(django_env(**env), hlog)
            wait_for_ready(worker_log)
            session, token = member_session(base, bob, f"/collections/{desk.pk}/")

            redis.stop()
            started = time.monotonic()
            upload = session.post(
                f"{base}/collections/{desk.pk}/upload/",
                files={"uploads": ("minister.txt", f"The minister\n\n{ARTICLE_TEXT}".encode())},
                headers={"X-CSRFToken": token},
                allow_redirects=False,
                timeout=15,
            )
            export = session.post(
                f"{base}/newsrooms/{desk.organization.slug}/exports/",
                data={
                    "format": "jsonl",
                    "status": "all",
                    "audience": "public",
                    "date_field": "published_at",
                },
                headers={"X-CSRFToken": token},
                allow_redirects=False,
                timeout=15,
            )
            # Both asked for, without waiting on the broker; nothing has run.
            assert (upload.status_code, export.status_code) == (302, 302), export.text[:500]
            assert time.monotonic() - started < 10
            imported, exported = ImportJob.objects.get(), ExportJob.objects.get()
            assert (imported.status, exported.status) == (JobStatus.PENDING, JobStatus.PENDING)
            # A retry Redis was holding when it went: due long ago, never sent.
            delivery = WebhookDelivery.objects.create(
                webhook=hook,
                event=WebhookEvent.PUBLISHED,
                body='{"event": "claim.published"}',
                status=DeliveryStatus.RETRYING,
                attempts=1,
                next_attempt_at=timezone.now() - timedelta(minutes=5),
            )

            redis.start()
            wait_until(
                lambda: (
                    ImportJob.objects.get(pk=imported.pk).is_finished
                    and ExportJob.objects.get(pk=exported.pk).is_finished
                    and WebhookDelivery.objects.get(pk=delivery.pk).status
                    == DeliveryStatus.DELIVERED
                ),
                60,
                "the reconciled import, export and delivery (see worker.log)",
                every=0.3,
            )
            # Beat keeps reconciling: give a second copy the time to come to nothing.
            time.sleep(3)
        finally:
            stop_process(web)
            stop_process(worker)

    imported.refresh_from_db()
    exported.refresh_from_db()
    delivery.refresh_from_db()
    assert imported.status == JobStatus.DONE, imported.failure
    assert imported.created == 1
    assert Article.objects.filter(collection=desk, title="The minister").count() == 1
    assert exported.status == JobStatus.DONE, exported.failure
    assert exported.attempts == 1
    assert [p.name for p in (media / "exports").rglob("*") if p.is_file()] == [exported.filename]
    assert delivery.attempts == 2
    assert len(partner.requests) == 1
    log = worker_log.read_text()
    # Each sent again by a reconciliation (one pass or several, as each came of age).
    for kind in ("imports", "exports", "webhook deliveries"):
        assert re.search(rf"Reconciled .*\b1 {kind}", log), log[-3000:]


# 2. A worker is killed during an agreement run ----------------------------------------


def many_articles(desk, reviewers, count: int) -> None:
    """`count` articles, each with three claims by each reviewer, stored in bulk."""
    labels = list(VerdictLabel.objects.filter(taxonomy=desk.taxonomy).order_by("order"))
    articles = Article.objects.bulk_create(
        ArticleFactory.build(collection=desk, organization=desk.organization) for _ in range(count)
    )
    Assignment.objects.bulk_create(
        Assignment(article=a, reviewer=r) for a in articles for r in reviewers
    )
    phrases = ["reposition its forces", "give peace a chance", "400 km"]
    claims = []
    for n, a in enumerate(articles):
        for k, phrase in enumerate(phrases):
            start = ARTICLE_TEXT.index(phrase)
            for m, r in enumerate(reviewers):
                verdict = labels[(n + k + (m if k == 2 else 0)) % 3]
                claims.append(
                    ClaimAnnotation(
                        article=a,
                        reviewer=r,
                        start=start,
                        end=start + len(phrase),
                        quote=phrase,
                        verdict=verdict,
                        rating=verdict.rating,
                    )
                )
    ClaimAnnotation.objects.bulk_create(claims)


def test_a_worker_killed_during_an_agreement_run_is_redelivered_and_finishes_once(
    transactional_db, desk, alice, carol, bob, redis, tmp_path
):
    size = agreement_runs.CHUNK_SIZE
    many_articles(desk, [alice, carol], 3 * size)
    report = agreement_runs.report_start(collection=desk)
    # A message a dead worker held goes back on the queue after 3 s.
    env = on_private_redis(redis, CELERY_VISIBILITY_TIMEOUT="3")
    url = database_url()
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    files = [log.open("w") for log in logs]
    first = start_worker(url, tmp_path, files[0], env=env)
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_for_ready(logs[0])
        with Connection(redis.url) as broker:
            tasks.agreement_run.apply_async([report.pk], connection=broker, ignore_result=True)
        # Killed mid-run: the first chunk counted, the run not finished.
        report = wait_until(
            lambda: AgreementReport.objects.filter(
                pk=report.pk, processed__gte=size, status=JobStatus.RUNNING
            ).first(),
            60,
            "the first chunk",
            every=0.02,
        )
        # Into the next chunk: killed between taking a message off the list and noting
        # it as unacknowledged, a worker on a Redis broker loses it (kombu's Redis
        # transport has that window; RabbitMQ, production's broker, has none).
        time.sleep(0.25)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        report.refresh_from_db()
        assert report.status == JobStatus.RUNNING
        # The chunk it was running, or the chord's last step that adds them up.
        unfinished = "agreement_chunk" if report.processed < report.total else "agreement_finish"
        time.sleep(3.5)  # past the visibility timeout: the message is handed out again
        second = start_worker(url, tmp_path, files[1], env=env)
        report = wait_until(
            lambda: AgreementReport.objects.filter(pk=report.pk, status=JobStatus.DONE).first(),
            60,
            "the run to finish on the second worker",
            every=0.2,
        )
        finished_at = report.finished_at
        # Finished once: nothing else arrives to finish it again.
        with Connection(redis.url) as broker:
            wait_until(
                lambda: broker.default_channel.client.llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 0,
                20,
                "the queue drained",
            )
        time.sleep(1)
    finally:
        for process in (first, second):
            stop_process(process)
        for file in files:
            file.close()

    report.refresh_from_db()
    assert report.finished_at == finished_at
    assert report.processed == report.total == 3 * size
    second_log = logs[1].read_text()
    assert f"annotations.tasks.{unfinished}" in second_log  # what the dead worker held
    assert second_log.count("annotations.tasks.agreement_finish") >= 1
    assert AgreementReport.objects.filter(collection=desk).count() == 1
    assert ArticleAgreement.objects.filter(article__collection=desk).count() == 3 * size
    # The totals are those of the same run in one process.
    here = agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    assert report.results == here.results


# 3. PostgreSQL restarts under load -----------------------------------------------------

SETUP = """
from django.core.management import call_command
from django.test import Client
from annotations.models import Organization, Role
from annotations.newsrooms.services import member_create

call_command("migrate", verbosity=0)
org = Organization.objects.create(slug="faults", name="Faults desk")
user = member_create(organization=org, username="editor", role=Role.EDITOR).membership.user
client = Client()
client.force_login(user)
call_command(
    "create_api_key", org="faults", name="load", scopes="read:claims", user="editor"
)
print(client.cookies["sessionid"].value)
"""


@pytest.fixture
def cluster():
    binaries = postgres_binaries()
    require(binaries, "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    assert binaries is not None
    require(
        subprocess.run(["id", "postgres"], capture_output=True).returncode == 0,
        "no `postgres` user to run a private PostgreSQL cluster as",
    )
    private = PrivateCluster(binaries)
    try:
        private.init()
        private.start()
        private.create_database("workbench")
        yield private
    finally:
        private.remove()


def test_postgresql_restarting_under_load_answers_503_then_recovers_without_a_restart(
    cluster, tmp_path
):
    env = django_env(
        DATABASE_URL=cluster.url("workbench"),
        # Persistent connections, as in production: after the restart each is
        # found broken by the health check and replaced.
        DATABASE_CONN_MAX_AGE="60",
        CELERY_BROKER_URL="",
        CELERY_RESULT_BACKEND="",
        WORKBENCH_CACHE_URL="",
        DEBUG="false",
    )
    key, session = manage("shell", "-c", SETUP, env=env).split()[-2:]
    log = (tmp_path / "web.log").open("w")
    web, base = start_web(env, log)
    # A page, the API and the health check, each reading the database.
    targets = {
        "page": ("/", {"Cookie": f"sessionid={session}"}),
        "api": ("/api/v1/claims/", {"Authorization": f"Bearer {key}"}),
        "health": ("/healthz", {}),
    }
    phase = "before"
    seen: list[tuple[str, str, int | str, float, str]] = []
    stop = threading.Event()

    def load() -> None:
        http = requests.Session()
        while not stop.is_set():
            for name, (path, headers) in targets.items():
                started = time.monotonic()
                at = phase
                try:
                    r = http.get(base + path, headers=headers, timeout=10, allow_redirects=False)
                    outcome: int | str = r.status_code
                    body = r.text
                except requests.RequestException as exc:
                    outcome, body = type(exc).__name__, ""
                # A request that began in one phase and ended in another was
                # there while the database was stopping or starting.
                at = at if at == phase else "restarting"
                seen.append((at, name, outcome, time.monotonic() - started, body))
            time.sleep(0.02)

    workers_before = gunicorn_workers(web.pid)
    threads = [threading.Thread(target=load) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        phase = "restarting"
        cluster.stop("fast")
        phase = "down"
        time.sleep(2)
        phase = "restarting"
        cluster.start()
        time.sleep(0.5)
        phase = "after"
        time.sleep(2)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        workers_after = gunicorn_workers(web.pid)
    finally:
        stop.set()
        stop_process(web)
        log.close()

    def outcomes(at: str) -> set[tuple[str, int | str]]:
        return {(name, outcome) for p, name, outcome, _, _ in seen if p == at}

    assert outcomes("before") == {("page", 200), ("api", 200), ("health", 200)}
    # Down: a clean 503 every time, quickly, in each one's own format.
    assert outcomes("down") == {("page", 503), ("api", 503), ("health", 503)}
    down = [s for s in seen if s[0] == "down"]
    assert max(elapsed for *_, elapsed, _ in down) < 5
    for _, name, _, _, body in down:
        if name == "page":
            assert "The database is unavailable; try again in a moment." in body
        elif name == "api":
            assert json.loads(body) == {
                "status": 503,
                "code": "database_unavailable",
                "detail": "The database is unavailable; try again in a moment.",
            }
    # While it stops and starts: the same answers or a success, never a 500.
    assert {o for _, o in outcomes("restarting")} <= {200, 503}
    # Back: every request succeeds again, served by the same processes.
    assert outcomes("after") == {("page", 200), ("api", 200), ("health", 200)}
    assert workers_after == workers_before


def gunicorn_workers(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    if not children.exists():
        return set()
    return {int(pid) for pid in children.read_text().split()}
