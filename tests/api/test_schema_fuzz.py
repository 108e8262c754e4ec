"""The live API against its own schema: no 5xx, and every answer is one the schema documents.

Schemathesis reads /api/v1/schema/ from the running server, so an endpoint
added under /api/v1/ is fuzzed the moment it is in the schema. Every call
carries a key of the demo editor holding every scope, so the operations are
exercised past their permission checks, not just answered with 401 or 403.

Schemathesis' own pytest loader (`schemathesis.pytest.from_fixture`) reaches
into pytest internals that pytest 9.2 removed (`Node._nodeid`), so this test
drives each operation's Hypothesis strategy itself: one test, every operation,
and a list of every failing one at the end rather than the first only.
"""

from __future__ import annotations

import re
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from django.contrib.auth.models import User
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from annotations.api.throttles import KeyRateThrottle
from annotations.models import (
    Article,
    ClaimAnnotation,
    ExportFormat,
    ExportJob,
    Scope,
    VerifiedClaim,
    VerifiedStatus,
)
from tests.api.conftest import key_for

# Small enough for a slow two-core CI machine to get through the whole schema
# in a minute or two. Derandomized: a failure comes back on every run.
MAX_EXAMPLES = 10

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

FUZZ_SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # Shrinking costs a request per step and could double the run; the failing
    # request is reported as a curl command either way.
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    suppress_health_check=list(hypothesis.HealthCheck),
    verbosity=hypothesis.Verbosity.quiet,
)


@pytest.fixture
def api_schema(live_server, demo, settings, monkeypatch):
    """The schema as the running server serves it, every call made with an all-scope key."""
    # The claims list hides changes younger than the sync lag: with it, a claim
    # the fuzzer just changed would vanish from the list it is checked against.
    settings.WORKBENCH_API_SYNC_LAG_SECONDS = 0
    # Hundreds of requests with one key would hit the rate limit and turn the
    # run into a test of the 429. DRF reads the rates once, into the class.
    monkeypatch.setattr(KeyRateThrottle, "THROTTLE_RATES", {"api": "none"})
    secret = key_for("editor", scopes=",".join(Scope.values))

    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    schema.config.update(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"})
    return schema


def newsroom_objects(article: Article) -> dict[str, Any]:
    """The demo newsroom's own objects, by the path segment before a parameter (`articles/{id}`).

    Random ids almost never hit a real row; these make the fuzzer read real
    documents too, so their bodies are checked against the schema.
    """
    export = ExportJob.objects.create(
        organization=article.organization,
        created_by=User.objects.get(username="editor"),
        format=ExportFormat.JSONL,
    )
    return {
        "articles": article.pk,
        "annotations": ClaimAnnotation.objects.filter(article=article).first().pk,
        "claims": VerifiedClaim.objects.filter(article=article, status=VerifiedStatus.PUBLISHED)
        .first()
        .pk,
        "collections": article.collection.slug,
        "exports": export.pk,
    }


def real_path_parameters(path: str, objects: dict[str, Any]) -> dict[str, Any] | None:
    """`{"id": 7}` for `/api/v1/articles/{id}/`; None when a parameter names nothing known."""
    found = {}
    for before, name in re.findall(r"([^/{}]+)/\{([^}]+)\}", path):
        if before not in objects:
            return None
        found[name] = objects[before]
    return found or None


def fuzz(operation, session: requests.Session, **strategy: Any) -> str | None:
    """None, or what went wrong with the first failing request and how to send it again."""
    failing = []

    @FUZZ_SETTINGS
    @hypothesis.given(case=operation.as_strategy(**strategy))
    def run(case):
        try:
            case.call_and_validate(session=session, checks=CHECKS)
        except (Exception, BaseExceptionGroup):
            failing.append(case)
            raise

    try:
        run()
    except Unsatisfiable:
        # No invalid value fits this operation's parameters (a slug in the
        # path, say): nothing to send in this mode.
        return None
    except (Exception, BaseExceptionGroup) as error:
        repro = failing[-1].as_curl_command() if failing else "(no request)"
        mode = strategy.get("generation_mode", "")
        return f"{operation.label} [{mode}]: {error}\n    {repro}"
    return None


def test_every_operation_answers_as_the_schema_says(api_schema, demo):
    objects = newsroom_objects(demo)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert operations, "the schema lists no operations"

    failures = []
    with requests.Session() as session:
        for operation in operations:
            runs: list[dict[str, Any]] = [
                {"generation_mode": GenerationMode.POSITIVE},
                {"generation_mode": GenerationMode.NEGATIVE},
            ]
            real = real_path_parameters(operation.path, objects)
            if real:
                runs.append({"generation_mode": GenerationMode.POSITIVE, "path_parameters": real})
            for strategy in runs:
                failure = fuzz(operation, session, **strategy)
                if failure:
                    failures.append(failure)

    assert not failures, "\n\n".join(failures)
