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
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import product
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.views.static import serve
from rest_framework.test import APIClient

from annotations.agreement import runs as agreement_runs
from annotations.api.permissions import scope_for
from annotations.discussion import services as discussion
from annotations.keys.services import api_key_create
from annotations.models import (
    AlertKind,
    AnchorChange,
    AnchorStatus,
    ArchiveStatus,
    Article,
    Assignment,
    ClaimAnnotation,
    ExportFormat,
    ExportJob,
    Feed,
    FetchJob,
    ImportJob,
    JobStatus,
    Lineage,
    Notification,
    PassageAlert,
    Role,
    Scope,
    SourceArchive,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.newsrooms.services import collection_ensure, member_create
from annotations.notifications.services import unsubscribe_token
from annotations.reader.services import claim_delete
from annotations.verification import services as verification
from tests.api.conftest import key_for
from tests.conftest import PASSWORD
from tests.factories import ArticleFactory

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

DRAFT_TEXT = "Walikale is 1,500 km from Kinshasa (draft, not checked yet)"
DRAFT_SUMMARY = "Our draft finding about the road distance"
CONFIDENTIAL_URL = "https://tipster.example/goma-contact"
CONFIDENTIAL_TITLE = "Our contact in Goma"
WEBHOOK_URL = "https://wire.partner.example/hooks/demo-newsroom"
KEY_NAME = "Wire partner of the demo newsroom"
EXPORT_FILENAME = "demo-newsroom-claims.jsonl"
EXPORT_CONTENT = b'{"claim": "the demo export file"}\n'
IMPORT_ERROR = "walikale-draft.txt: the demo newsroom's broken upload"
RETRACTION_NOTE = "The quote was the alliance's slogan, not a stated aim."
COMMENT_TEXT = "Desk discussion: is the Goma contact reliable enough?"
FEED_URL = "https://wire.demo.example/feeds/great-lakes.xml"
FETCH_ERROR = "https://demo.example/private-draft: HTTP 404 (the demo newsroom's fetch)"
ARCHIVED_TEXT = "What the tipster's page said when the demo newsroom archived it"
ALERT_QUOTE = "the demo newsroom's alert on a passage that changed"


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


@dataclass(frozen=True)
class Value:
    """A parameter's value, and whether it names something of the demo newsroom."""

    value: str
    theirs: bool


def the_demo_newsroom(article: Article, media) -> dict[str, Value]:
    """One of each thing a URL can name, in the demo newsroom, by kind."""
    organization = article.organization
    editor = User.objects.get(username="editor")
    reviewer2 = User.objects.get(username="reviewer2")
    forces, peace = VerifiedClaim.objects.filter(
        article=article, status=VerifiedStatus.PUBLISHED
    ).order_by("start")
    VerifiedSource.objects.create(
        claim=forces,
        url=CONFIDENTIAL_URL,
        title=CONFIDENTIAL_TITLE,
        confidential=True,
        order=9,
    )
    webhook = Webhook.objects.create(
        organization=organization,
        url=WEBHOOK_URL,
        secret="s" * 64,
        events=list(WebhookEvent.values),
        created_by=editor,
    )
    # A retraction: a correction for the public log, and a webhook delivery.
    retracted = verification.verified_retract(claim=peace, editor=editor, note=RETRACTION_NOTE)
    phrase = "approximately 1,500 km (930 miles) from the capital"
    start = article.text.index(phrase)
    draft = VerifiedClaim.objects.create(
        organization=organization,
        article=article,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        claim_reviewed=DRAFT_TEXT,
        summary=DRAFT_SUMMARY,
        verdict=VerdictLabel.objects.filter(taxonomy__organization=organization).first(),
        lineage=Lineage.ADJUDICATED,
        editor=editor,
        status=VerifiedStatus.DRAFT,
    )
    deleted = ClaimAnnotation.objects.get(article=article, reviewer=reviewer2, rating=4)
    claim_delete(claim=deleted, user=reviewer2)
    import_job = ImportJob.objects.create(
        organization=organization,
        collection=article.collection,
        created_by=editor,
        status=JobStatus.DONE,
        errors=[IMPORT_ERROR],
    )
    export = ExportJob.objects.create(
        organization=organization,
        created_by=editor,
        format=ExportFormat.JSONL,
        status=JobStatus.DONE,
        file=default_storage.save("exports/demo.jsonl", ContentFile(EXPORT_CONTENT)),
        filename=EXPORT_FILENAME,
        expires_at=timezone.now() + timedelta(days=7),
    )
    report = agreement_runs.report_start(collection=article.collection, requested_by=editor)
    agreement_runs.report_run_here(report)
    key = api_key_create(organization=organization, user=editor, name=KEY_NAME, scopes="exports")
    # A thread with a request for changes: a comment, its notification, and an email's link.
    reviewer1 = User.objects.get(username="reviewer1")
    claim = ClaimAnnotation.objects.filter(article=article, reviewer=reviewer1).first()
    comment = discussion.thread_start(
        user=editor, article=article, claim=claim, body=COMMENT_TEXT, request_changes=True
    ).comment

    # What the web brought: an import by URL, a feed, archived sources (the confidential
    # one's text is the newsroom's alone), and an alert on a changed passage.
    fetch_job = FetchJob.objects.create(
        organization=organization,
        collection=article.collection,
        created_by=editor,
        status=JobStatus.DONE,
        urls=["https://demo.example/private-draft"],
        total=1,
        processed=1,
        failed=1,
        results=[
            {
                "url": "https://demo.example/private-draft",
                "status": "failed",
                "article": None,
                "error": FETCH_ERROR.split(": ", 1)[1],
            }
        ],
    )
    feed = Feed.objects.create(
        organization=organization, collection=article.collection, url=FEED_URL, created_by=editor
    )
    public_source = forces.sources.filter(confidential=False).first()
    confidential_source = forces.sources.get(url=CONFIDENTIAL_URL)
    archives = [
        SourceArchive.objects.create(
            organization=organization,
            url=url,
            status=ArchiveStatus.ARCHIVED,
            requested_at=timezone.now(),
            archived_at=timezone.now(),
            content_hash="a" * 64,
            warc=default_storage.save("archives/demo.warc.gz", ContentFile(b"warc")),
            text=text,
        )
        for url, text in ((public_source.url, "The public page as archived."),
                          (CONFIDENTIAL_URL, ARCHIVED_TEXT))
    ]  # fmt: skip
    change = AnchorChange.objects.create(
        article=article,
        verified=forces,
        status=AnchorStatus.EDITED,
        old_start=forces.start,
        old_end=forces.end,
        old_quote=forces.quote,
        new_quote=ALERT_QUOTE,
    )
    alert = PassageAlert.objects.create(
        organization=organization,
        claim=forces,
        change=change,
        article=article,
        kind=AlertKind.EDITED,
        old_quote=forces.quote,
        new_quote=ALERT_QUOTE,
    )

    objects = {
        "organization": organization.slug,
        "article": article.pk,
        "collection": article.collection.pk,
        "collection_slug": article.collection.slug,
        "annotation": ClaimAnnotation.objects.filter(article=article).first().pk,
        "deleted_annotation": deleted.pk,
        "assignment": Assignment.objects.filter(article=article).first().pk,
        "published": forces.pk,
        "retracted": retracted.pk,
        "draft": draft.pk,
        "import_job": import_job.pk,
        "export": export.pk,
        "api_key": key.key.pk,
        "webhook": webhook.pk,
        "delivery": WebhookDelivery.objects.get(webhook=webhook).pk,
        "taxonomy": article.collection.taxonomy_id,
        "thread": comment.thread_id,
        "comment": comment.pk,
        "notification": Notification.objects.get(recipient=reviewer1, comment=comment).pk,
        "unsubscribe_token": unsubscribe_token(reviewer1),
        "fetch_job": fetch_job.pk,
        "feed": feed.pk,
        "source_archive": archives[1].pk,
        "passage_alert": alert.pk,
        "public_source": public_source.pk,
        "confidential_source": confidential_source.pk,
    }
    return {kind: Value(str(value), theirs=True) for kind, value in objects.items()}


def published_strings(article: Article) -> set[str]:
    """What the demo newsroom has made public: its public pages may show these."""
    strings = {article.organization.name, article.title}
    for claim in VerifiedClaim.objects.filter(article=article).exclude(status=VerifiedStatus.DRAFT):
        strings |= {claim.claim_reviewed, claim.summary, claim.claimant, claim.public_note}
        for source in claim.sources.filter(confidential=False):
            strings |= {source.url, source.title}
    return strings


def private_strings(article: Article) -> set[str]:
    """What only the demo newsroom may see, even on its public pages."""
    strings = {
        DRAFT_TEXT,
        DRAFT_SUMMARY,
        CONFIDENTIAL_URL,
        CONFIDENTIAL_TITLE,
        WEBHOOK_URL,
        KEY_NAME,
        EXPORT_FILENAME,
        EXPORT_CONTENT.decode(),
        IMPORT_ERROR,
        COMMENT_TEXT,
        FEED_URL,
        FETCH_ERROR.split(": ", 1)[1],
        ARCHIVED_TEXT,
        ALERT_QUOTE,
        article.collection.name,
        "reviewer1",
        "reviewer2",
    }
    for claim in ClaimAnnotation.all_objects.filter(article=article):
        strings |= {claim.note, *(source.title for source in claim.sources.all())}
    # A reviewer's source the newsroom has since published with a claim is public.
    return strings - published_strings(article)


def everything(article: Article) -> set[str]:
    """Anything distinctive of the demo newsroom, public or not."""
    quotes = ClaimAnnotation.all_objects.filter(article=article).values_list("quote", flat=True)
    return published_strings(article) | private_strings(article) | set(quotes) | {"Walikale"}


def leaked(body: str, strings: set[str]) -> list[str]:
    """The strings found in the body, as written or escaped for HTML or JSON."""
    found = []
    for string in sorted(s for s in strings if s):
        forms = {string, html.escape(string), json.dumps(string)[1:-1]}
        if any(form in body for form in forms):
            found.append(string)
    return found


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
