"""Nothing of one newsroom reaches another, on any URL of the site or of the API.

The demo newsroom gets one of everything a URL can name: articles, claims
(live and deleted), assignments, verified claims (a draft, a published one
with a confidential source, a retracted one), an import job, an export job
with its file, an agreement report, an API key, a webhook and a delivery.
Gail is an admin of the Rival Gazette, the second newsroom. She walks every
URL pattern of the root URLconf, its parameters filled with the demo
newsroom's ids and slugs, with her browser session and with an all-scope key
of the Gazette. Where a URL names a demo object she must get what she would
get for an object that does not exist; and no answer may hold anything of the
demo newsroom. The public claim page and the corrections log are for
everyone: they may show what the demo newsroom published, never its drafts or
confidential sources.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.static import serve
from rest_framework.test import APIClient

from annotations.api.permissions import scope_for
from annotations.models import Role, Scope, VerifiedClaim
from annotations.newsrooms.services import collection_ensure, member_create
from tests.api.conftest import key_for
from tests.conftest import PASSWORD
from tests.factories import ArticleFactory
from tests.site.demo_newsroom import (
    RETRACTION_NOTE,
    Value,
    everything,
    leaked,
    private_strings,
    the_demo_newsroom,
)

# URL patterns that are not walked, and why.
SKIPPED = {
    "admin": "Django's admin: staff only, with its own permissions; no newsroom scoping.",
    "api-v1:schema": "The OpenAPI document: the same for everyone, no newsroom data.",
    "api-v1:docs": "Swagger UI around the schema: no newsroom data.",
    "api-v1:redoc": "Redoc around the schema: no newsroom data.",
    "static": "Static files (served by URL only when DEBUG): the same for everyone.",
}

# What a URL parameter names, by the path segment before it: `articles/<int:pk>/`
# names an article. Every kind listed is tried. A new route whose parameter
# this cannot fill fails the walk until it is added here.
BROWSER_OBJECTS = {
    "articles": ["article"],
    "claims": ["annotation", "deleted_annotation"],
    "assignments": ["assignment"],
    "collections": ["collection"],
    "imports": ["import_job"],
    "verified": ["draft", "published"],
    "newsrooms": ["organization", "own_organization"],
    "api-keys": ["api_key"],
    "exports": ["export"],
    "webhooks": ["webhook"],
    "webhook-deliveries": ["delivery"],
    "taxonomies": ["taxonomy"],
    "threads": ["thread"],
    "comments": ["comment"],
    "notifications": ["notification"],
    "fetches": ["fetch_job"],
    "feeds": ["feed"],
    "archives": ["source_archive"],
    "alerts": ["passage_alert"],
}
API_OBJECTS = {
    "claims": ["published", "retracted", "draft"],
    "articles": ["article"],
    "annotations": ["annotation", "deleted_annotation"],
    "collections": ["collection_slug"],
    "exports": ["export"],
    "threads": ["thread"],
    "comments": ["comment"],
    "notifications": ["notification"],
    "fetches": ["fetch_job"],
}
# Where the segment does not say it: route name -> parameter -> kinds.
ROUTE_OBJECTS = {
    "public-claim": {"pk": ["published", "retracted", "draft"]},
    "notifications-unsubscribe": {"token": ["unsubscribe_token"]},
    "public-source-archive": {
        "pk": ["published", "retracted", "draft"],
        "source": ["public_source", "confidential_source"],
    },
}
# `<str:action>` parameters: every action the view knows, and one it does not.
ACTIONS = {
    "verified-claim-action": ["publish", "retract", "correct", "no-such-action"],
    "webhook-action": ["activate", "deactivate", "delete", "no-such-action"],
    "feed-action": ["pause", "resume", "read", "delete", "no-such-action"],
}
# Public pages: for everyone, so they may show the demo newsroom's published
# claims, but never its drafts or confidential sources.
# The unsubscribe link of an email works without logging in (its token is signed):
# it shows nothing of anyone's.
# The text kept of a published claim's public source is public beside the claim.
PUBLIC = {
    "public-claim",
    "corrections-log",
    "notifications-unsubscribe",
    "public-source-archive",
}


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    callback: Any

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    def parameters(self) -> list[tuple[str, str]]:
        """(segment before it, name) of each parameter: `("articles", "pk")`."""
        found = []
        for match in re.finditer(r"<(?:\w+:)?(\w+)>", self.route):
            literal = [part for part in self.route[: match.start()].split("/") if part]
            found.append((literal[-1] if literal else "", match.group(1)))
        return found


def routes(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> Iterator:
    """Every URL pattern of the root URLconf, or the name of a skipped namespace."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            if inner in SKIPPED:
                yield inner
                continue
            yield from routes(entry, prefix + str(entry.pattern), inner)
        elif entry.callback is serve:
            yield "static"
        else:
            assert isinstance(entry, URLPattern)
            name = f"{namespace}:{entry.name}" if namespace else str(entry.name)
            yield Route(name=name, route=prefix + str(entry.pattern), callback=entry.callback)


@pytest.fixture
def gail(gazette):
    """An admin of the Rival Gazette, which has a desk and an article of its own."""
    user = member_create(
        organization=gazette, username="gail", role=Role.ADMIN, password=PASSWORD
    ).membership.user
    desk, _ = collection_ensure(organization=gazette, slug="city-desk", name="City desk")
    ArticleFactory(
        collection=desk,
        title="The bridge opens",
        text="The mayor opened the new bridge on Monday, two years late.",
    )
    return user


@pytest.fixture
def media(settings, tmp_path):
    """Where the demo newsroom's export file is stored."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@dataclass
class Answer:
    status: int
    location: str
    body: str


def ask(client: Client, method: str, url: str) -> Answer:
    if method == "GET":
        response = client.get(url)
    else:
        # An empty body; JSON so the API parses it as "no fields" rather than 415.
        response = client.generic(method, url, b"", content_type="application/json")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return Answer(
        status=response.status_code,
        location=response.get("Location", ""),
        body=content.decode("utf-8", "replace"),
    )


def refusal_problem(route: Route, method: str, answer: Answer, *, as_key: bool) -> str | None:
    """Why this answer to a URL naming a demo object is not a refusal, or None.

    404: the object does not exist for this caller. Besides it:
    - 405: the view does not take this method; Django and DRF answer before any lookup.
    - 302 to the login page: the browser views see an API key's caller as anonymous.
    - 403 from the API: a key's scopes are checked before the method, and no scope
      allows a method the view does not serve.
    """
    if answer.status in (404, 405):
        return None
    login = resolve_url(settings.LOGIN_URL)
    if as_key and not route.is_api and answer.status == 302 and answer.location.startswith(login):
        return None
    if as_key and route.is_api and answer.status == 403:
        view = getattr(route.callback, "view_class", None)
        if view is not None and scope_for(view, method) is None:
            return None
    return f"answered {answer.status} {answer.location}".strip()


def fill(route: Route, demo: dict[str, Value], own: dict[str, Value]) -> list[dict[str, Value]]:
    """Every combination of values for the route's parameters; raises KeyError if unknown."""
    choices = {}
    kinds_by_segment = API_OBJECTS if route.is_api else BROWSER_OBJECTS
    for segment, name in route.parameters():
        if name == "action":
            choices[name] = [Value(action, theirs=False) for action in ACTIONS[route.name]]
            continue
        kinds = ROUTE_OBJECTS.get(route.name, {}).get(name) or kinds_by_segment[segment]
        choices[name] = [own[kind] if kind.startswith("own_") else demo[kind] for kind in kinds]
    return [dict(zip(choices, values, strict=True)) for values in product(*choices.values())]


def url_of(route: Route, values: dict[str, Value]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)].value, route.route)


def test_another_newsrooms_member_and_key_get_nothing_of_the_demo_newsroom(
    demo, gail, gazette, media
):
    demo_objects = the_demo_newsroom(demo, media)
    own = {"own_organization": Value(gazette.slug, theirs=False)}
    anything, private = everything(demo), private_strings(demo)
    secret = key_for("gail", scopes=",".join(Scope.values), org="gazette")
    # The Gazette's key, and the query parameters a list may be narrowed with, naming
    # the demo newsroom's things: they must narrow the Gazette's own lists, or refuse.
    by_demo = (
        f"?organization={demo.organization.slug}&article={demo.pk}"
        f"&collection={demo.collection.slug}"
    )

    walked, unfillable, problems = [], [], []
    skipped = []
    for route in routes():
        if isinstance(route, str) or route.name in SKIPPED:
            skipped.append(route if isinstance(route, str) else route.name)
            continue
        try:
            combinations = fill(route, demo_objects, own)
        except KeyError as missing:
            unfillable.append(f"{route.name} ({route.route}): nothing fills {missing}")
            continue
        walked.append(route.name)
        methods = ["GET", "POST", "PATCH", "DELETE"] if route.is_api else ["GET", "POST"]
        for values, method, as_key in product(combinations, methods, (False, True)):
            names_theirs = any(value.theirs for value in values.values())
            url = url_of(route, values)
            urls = [url, url + by_demo] if method == "GET" else [url]
            for address in urls:
                # A fresh client per request: one URL (the logout) ends the session.
                # A view that raises is a 500 in the list below, not the end of the walk.
                if as_key:
                    client = APIClient(raise_request_exception=False)
                    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
                else:
                    client = Client(raise_request_exception=False)
                    client.force_login(gail)
                answer = ask(client, method, address)
                who = "key" if as_key else "session"
                where = f"{method} {address} ({route.name}, {who})"
                if answer.status >= 500:
                    problems.append(f"{where}: {answer.status}")
                if route.name in PUBLIC:
                    # Checked in full by test_public_pages_show_what_was_published….
                    found = leaked(answer.body, private)
                else:
                    if names_theirs and answer.status < 500:
                        refused = refusal_problem(route, method, answer, as_key=as_key)
                        if refused:
                            problems.append(f"{where}: {refused}")
                    found = leaked(answer.body, anything)
                if found:
                    problems.append(f"{where}: shows {found}")

    assert not unfillable, (
        "New URL patterns whose parameters this walk cannot fill; say what they name "
        "in BROWSER_OBJECTS, API_OBJECTS, ROUTE_OBJECTS or ACTIONS:\n" + "\n".join(unfillable)
    )
    assert set(SKIPPED) - set(skipped) <= {"static"}, "a skipped pattern is gone: update SKIPPED"
    assert {"article-reader", "api-v1:claim-detail", "public-claim"} <= set(walked)
    assert not problems, "\n".join(problems)


def test_public_pages_show_what_was_published_and_nothing_else(demo, gail, media):
    """The public claim page and the corrections log, as anyone sees them."""
    objects = the_demo_newsroom(demo, media)
    slug = demo.organization.slug
    published = VerifiedClaim.objects.get(pk=objects["published"].value)
    private = private_strings(demo)
    anyone = Client()

    page = anyone.get(f"/newsrooms/{slug}/claims/{published.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert html.escape(published.claim_reviewed) in body
    assert not leaked(body, private), "a draft or a confidential source on a public page"

    retracted = anyone.get(f"/newsrooms/{slug}/claims/{objects['retracted'].value}/")
    assert retracted.status_code == 200
    assert html.escape(RETRACTION_NOTE) in retracted.content.decode()

    assert anyone.get(f"/newsrooms/{slug}/claims/{objects['draft'].value}/").status_code == 404
    # The text kept of a public source is public; a confidential source's is not.
    archived = f"/newsrooms/{slug}/claims/{published.pk}/sources/"
    kept = anyone.get(f"{archived}{objects['public_source'].value}/archive/")
    assert kept.status_code == 200
    assert "The public page as archived." in kept.content.decode()
    assert not leaked(kept.content.decode(), private)
    hidden = anyone.get(f"{archived}{objects['confidential_source'].value}/archive/")
    assert hidden.status_code == 404
    # Under another newsroom's name, a claim is not found.
    assert anyone.get(f"/newsrooms/gazette/claims/{published.pk}/").status_code == 404

    log = anyone.get(f"/newsrooms/{slug}/corrections/")
    assert log.status_code == 200
    assert html.escape(RETRACTION_NOTE) in log.content.decode()
    assert not leaked(log.content.decode(), private)
    gazette_log = anyone.get("/newsrooms/gazette/corrections/").content.decode()
    assert not leaked(gazette_log, everything(demo))
