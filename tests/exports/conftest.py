"""The demo newsroom's verified claims as the export tests start from them, and
the export command run as an operator runs it.

`desk` here is the demo article with its claims settled (three published, one of
them with a confidential source, and a draft): in this folder it stands in for
tests/conftest.py's politics desk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from annotations.core.inputs import SourceInput
from annotations.models import Article, VerdictLabel
from annotations.verification import services as verification


def editor() -> User:
    return User.objects.get(username="editor")


def verdict(slug: str) -> VerdictLabel:
    return VerdictLabel.objects.get(taxonomy__organization__slug="demo", slug=slug)


def settle(article: Article, phrase: str, slug: str, *, publish: bool = True, **extra):
    start = article.text.index(phrase)
    claim = verification.verified_claim_save(
        article=article,
        editor=editor(),
        judgement=verification.Judgement(
            start=start,
            end=start + len(phrase),
            claim_reviewed=extra.pop("claim_reviewed", phrase),
            verdict=verdict(slug),
            rating=extra.pop("rating", verdict(slug).rating),
            summary=extra.pop("summary", "What we found."),
            claimant=extra.pop("claimant", "Congo River Alliance (M23)"),
            claimant_kind=extra.pop("claimant_kind", "Organization"),
            sources=extra.pop(
                "sources", [SourceInput(url="https://maps.example/kisangani", title="Map")]
            ),
        ),
    )
    return (
        verification.verified_publish(claim=claim, editor=editor(), confirm_open_reviews=True)
        if publish
        else claim
    )


@pytest.fixture
def desk(demo) -> Article:
    """The demo's two published claims, one more with a confidential source, and a draft."""
    settle(
        demo,
        "within 400 km (250 miles) of Kisangani",
        "mostly-true",
        claim_reviewed='=HYPERLINK("http://evil.example")',
        sources=[
            SourceInput(url="https://roads.example/atlas", title="@SUM(A1:A9)", stance="supports"),
            SourceInput(
                url="https://tipster.example/private", title="Our source", confidential=True
            ),
        ],
    )
    settle(demo, "approximately 1,500 km (930 miles) from the capital", "true", publish=False)
    return demo


def export(desk: Article, export_format: str, tmp_path: Path, **options) -> bytes:
    out = tmp_path / f"out.{export_format}"
    args = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    call_command(
        "export_claims", "--org", "demo", "--format", export_format, "--out", str(out), *args
    )
    return out.read_bytes()


def jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines()]
