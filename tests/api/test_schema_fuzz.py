"""The live API against its own schema, with every check Schemathesis has.

Schemathesis reads /api/v1/schema/ from the running server, so an endpoint
added under /api/v1/ is fuzzed the moment it is in the schema. Every call
carries a key of the demo editor holding every scope, so the operations are
exercised past their permission checks, not just answered with 401 or 403.

The run is the one `st run --checks all` makes: the coverage phase (each
parameter at its boundaries, and each way to break it), fuzzing, and
stateful sequences following the links between operations (create, then read
or change what was created), with all of Schemathesis' checks: no 5xx; every
status, content type, header and body as the schema documents it; data the
schema allows is accepted and data it refuses is refused; a method the schema
does not list answers 405; credentials are enforced. Schemathesis' own pytest
loader reaches into pytest internals that pytest 9.2 removed (`Node._nodeid`),
so this test drives its engine, as the command line does, and lists every
finding at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import (
    NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES,
    POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES,
)
from schemathesis.engine import events
from schemathesis.engine.statistic import Statistic
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from annotations.discussion.services import QUOTE_MAX_CHARS
from annotations.exports import services as exports
from annotations.models import (
    Article,
    ClaimAnnotation,
    ExportFormat,
    ExportJob,
    Scope,
    VerdictLabel,
    VerifiedClaim,
    VerifiedStatus,
)
from tests.api.conftest import key_for

# Cases per operation and phase: small enough for a slow two-core CI machine
# to get through the whole schema in a minute or two. A fixed seed: a finding
# comes back on every run.
MAX_EXAMPLES = 10
SEED = 20261206


@pytest.fixture
def api_url(live_server, settings, tmp_path):
    # The claims list hides changes younger than the sync lag: with it, a claim
    # the fuzzer just changed would vanish from the list it is checked against.
    settings.WORKBENCH_API_SYNC_LAG_SECONDS = 0
    # Thousands of requests with one key would hit the rate limit and turn the
    # run into a test of the 429 (tests/api/test_throttle_workers.py is that).
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": {"api": "none"}}
    # Export files are written and read here, by this process.
    settings.MEDIA_ROOT = str(tmp_path)
    return live_server.url


def finished_export(article: Article, export_format: str) -> ExportJob:
    """A job of this format, done, with its file: its download is a file to check."""
    job = ExportJob.objects.create(
        organization=article.organization,
        created_by=User.objects.get(username="editor"),
        format=export_format,
    )
    return exports.export_run(job.pk)


def newsroom_data(article: Article) -> dict[str, list[Any]]:
    """The demo newsroom's own identifiers, by what they name, for paths and filters.

    Random ids and slugs almost never name a row of the newsroom (they answer
    404, or an empty list): these make the fuzzer reach real documents too,
    whose bodies are then checked against the schema. Finished exports of a
    JSON, a JSON-LD, an NDJSON and an HTML file give their downloads a file.
    """
    verdicts = VerdictLabel.objects.filter(taxonomy=article.collection.taxonomy)
    return {
        "articles": [article.pk],
        "annotations": list(
            ClaimAnnotation.objects.filter(article=article).values_list("pk", flat=True)
        ),
        "claims": list(
            VerifiedClaim.objects.filter(
                article=article, status=VerifiedStatus.PUBLISHED
            ).values_list("pk", flat=True)
        ),
        "collections": [article.collection.slug],
        "verdicts": list(verdicts.values_list("slug", flat=True)),
        "exports": [
            finished_export(article, export_format).pk
            for export_format in (
                ExportFormat.JSONL,
                ExportFormat.CLAIMREVIEW,
                ExportFormat.WEBANNOTATION,
                ExportFormat.REPORT_HTML,
            )
        ],
    }


def config_for(base_url: str, secret: str, data: dict[str, list[Any]]) -> SchemathesisConfig:
    """What `st run --checks all` would read from schemathesis.toml for this run."""
    # Half of the ids in paths and the filters are the newsroom's, half generated:
    # an id or slug that names nothing there answers 404, or an empty list.
    real = {"probability": 0.5}
    path_ids = [
        {"include-path-regex": f"^/api/v1/{name}/\\{{id\\}}/", "parameters": {
            "path.id": {"dictionary": name, **real},
        }}
        for name in ("articles", "annotations", "claims", "exports")
    ]  # fmt: skip
    return SchemathesisConfig.from_dict(
        {
            "base-url": base_url,
            "headers": {"Authorization": f"Bearer {secret}"},
            "seed": SEED,
            "workers": 1,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "dictionaries": {name: {"values": values} for name, values in data.items() if values},
            "parameters": {
                "path.slug": {"dictionary": "collections", **real},
                "query.collection": {"dictionary": "collections", **real},
                "query.verdict": {"dictionary": "verdicts", **real},
                "query.article": {"dictionary": "articles", **real},
            },
            "operations": path_ids,
            "checks": {
                # A request line over gunicorn's limit (4,094 bytes) is refused
                # with 414 before the API sees it; the schema documents it. Run
                # against gunicorn, a long enough query, valid or not, gets it.
                "negative_data_rejection": {
                    "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "414"]
                },
                "positive_data_acceptance": {
                    "expected-statuses": [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "414"]
                },
            },
        }
    )


SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Any character a reader sees (annotations.api.schema.VISIBLE).
VISIBLE = re.compile(r"[^\s\x00-\x1f\x7f\u200b\ufeff]")
PAGE = (
    "<html><head><title>Talks resume in Doha</title></head><body><article>"
    "<h1>Talks resume in Doha</h1><p>Negotiators met again on Monday, the mediators said.</p>"
    "</article></body></html>"
)


def facts_no_schema_can_state(article: Article) -> Callable[..., None]:
    """A hook that makes the bodies the fuzzer sends agree with what the API checks
    beyond any schema.

    JSON Schema describes each value on its own; these rules depend on the
    newsroom's data or on two values together. A request breaking one answers
    400 naming the field, as it should; but then every valid-looking request
    would look "valid data refused", and the fuzzer would learn nothing past
    that first check. So before each call, a well-formed value is made to hold:

    - a collection, a verdict or an article named in a body is one of the
      newsroom's (which ones exist is the newsroom's data);
    - an export's `date_from` is not after its `date_to`;
    - an article given as `html` alone is a page with text in it (finding the
      article's text in a page is trafilatura's judgement, not a pattern);
    - a comment's quoted passage (`quote`: start, end) lies within the article's
      text, its start before its end, and is at most QUOTE_MAX_CHARS long (the
      text's length is the newsroom's data, the rest two values together).

    A malformed value (a slug of the wrong shape, a date that is not one) is
    the fuzzer's invalid data, and stays as it is. A hook before each call,
    because the coverage phase does not apply configured values to bodies.
    """
    names = {
        "collection": article.collection.slug,
        "verdict": VerdictLabel.objects.filter(taxonomy=article.collection.taxonomy)
        .values_list("slug", flat=True)
        .first(),
        "article": article.pk,
    }
    length = len(article.text)

    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        body = case.body
        if not isinstance(body, dict):
            return
        for name, real in names.items():
            given = body.get(name)
            a_slug = isinstance(given, str) and SLUG.match(given) is not None
            an_id = type(given) is int and given >= 1
            if (a_slug and isinstance(real, str)) or (an_id and isinstance(real, int)):
                body[name] = real
        start, end = body.get("date_from"), body.get("date_to")
        if isinstance(start, str) and isinstance(end, str):
            dates = DATE.match(start) is not None and DATE.match(end) is not None
            if dates and start > end:
                body["date_from"], body["date_to"] = end, start
        html, text = body.get("html"), body.get("text")
        a_page = isinstance(html, str) and VISIBLE.search(html) is not None
        a_text = isinstance(text, str) and VISIBLE.search(text) is not None
        if a_page and not a_text:
            body["html"] = PAGE
        quote = body.get("quote")
        if isinstance(quote, dict) and {type(quote.get("start")), type(quote.get("end"))} == {int}:
            start, end = sorted((quote["start"], quote["end"]))
            if start >= 0:
                start = min(start, length - 1)
                end = min(max(end, start + 1), length, start + QUOTE_MAX_CHARS)
                quote["start"], quote["end"] = start, end

    return before_call


@pytest.fixture
def newsroom_facts(demo):
    """facts_no_schema_can_state for the demo newsroom, for the length of the test."""
    hook = facts_no_schema_can_state(demo)
    GLOBAL_HOOK_DISPATCHER.register_hook_with_name(hook, "before_call")
    yield
    GLOBAL_HOOK_DISPATCHER.unregister(hook)


def findings(schema: Any) -> list[str]:
    """Every failure of every check, as the command line lists them, with a curl command."""
    statistic = Statistic()
    errors: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            statistic.on_scenario_finished(event.recorder)
        elif isinstance(event, events.EngineFinished) and event.failures:
            statistic.record_run_check_failures(event.failures, label="after the run")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(f"error: {getattr(event, 'label', '')}: {event}")
    found = []
    for label, groups in statistic.failures.items():
        for group in groups.values():
            answer = ""
            if group.response is not None:
                body = group.response.content[:500].decode(errors="replace")
                answer = f"\n    [{group.response.status_code}] {body}"
            for failure in group.failures:
                found.append(
                    f"{label}: {failure.code} {failure.title}\n{failure.message}{answer}\n"
                    f"    {group.code_sample}"
                )
    return found + errors


def test_every_operation_answers_as_the_schema_says(api_url, demo, newsroom_facts):
    secret = key_for("editor", scopes=",".join(Scope.values))
    config = config_for(api_url, secret, newsroom_data(demo))
    schema = schemathesis.openapi.from_url(f"{api_url}/api/v1/schema/?format=json", config=config)

    found = findings(schema)

    assert not found, f"{len(found)} findings:\n\n" + "\n\n".join(found)
