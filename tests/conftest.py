"""Shared people and places.

Two newsrooms. At the Daily Planet: alice and carol are reviewers, bob is the
editor. Eve is a reviewer at the Rival Gazette and must never see anything of
the Daily Planet's (a 404, never its data).
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client, RequestFactory

from annotations.models import Article, Collection, Organization, Role
from annotations.newsrooms.services import collection_ensure, member_create
from tests.factories import ArticleFactory, OrganizationFactory
from tests.worker import celery_worker, wait_until_idle, worker_media  # noqa: F401

PASSWORD = "correct horse battery"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    # Before the test's fixtures (and its database) are torn down: let the
    # real worker finish what this test gave it.
    wait_until_idle()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs a third of a second per user; the tests are about who
    # may do what, not about PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tasks_in_process(settings):
    """Tasks run here and now, as without a broker, whatever this run's settings.

    For tests that watch a job finish in the test's own process (its storage,
    its mocks of nothing): they run in every pass, the broker's included,
    where the same paths are also covered through the real worker
    (tests/integration/).
    """
    from workbench.celery import app

    # Celery reads Django's settings the first time its configuration is used: read
    # it before changing them, or the change becomes Celery's "before" for the rest of
    # the session, and the worker tests that follow run their tasks in-process.
    previous = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS = 0
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def planet(db):
    return OrganizationFactory(slug="planet", name="Daily Planet")


@pytest.fixture
def gazette(db):
    return OrganizationFactory(slug="gazette", name="Rival Gazette")


def _member(organization: Organization, username: str, role: str):
    return member_create(
        organization=organization, username=username, role=role, password=PASSWORD
    ).membership.user


@pytest.fixture
def alice(planet):
    return _member(planet, "alice", Role.REVIEWER)


@pytest.fixture
def carol(planet):
    return _member(planet, "carol", Role.REVIEWER)


@pytest.fixture
def bob(planet):
    return _member(planet, "bob", Role.EDITOR)


@pytest.fixture
def eve(gazette):
    return _member(gazette, "eve", Role.REVIEWER)


@pytest.fixture
def desk(planet) -> Collection:
    """The Daily Planet's politics desk: blind review, two reviewers per article."""
    collection, _ = collection_ensure(organization=planet, slug="politics", name="Politics desk")
    return collection


@pytest.fixture
def article(desk):
    return ArticleFactory(collection=desk, url="https://news.example/minister")


@pytest.fixture
def demo(db) -> Article:
    """The demo newsroom, as `manage.py demo` loads it: the Walikale article."""
    call_command("demo", stdout=StringIO())
    return Article.objects.get(organization__slug="demo")


def login_request() -> HttpRequest:
    """The request a login form makes: django-axes counts logins per address and needs one."""
    return RequestFactory().post("/accounts/login/")


def demo_login(client: Client, username: str) -> Client:
    """Logs a demo user in with their demo password."""
    assert client.login(request=login_request(), username=username, password=f"walikale-{username}")
    return client


def login(client: Client, user) -> Client:
    assert client.login(request=login_request(), username=user.get_username(), password=PASSWORD)
    return client
