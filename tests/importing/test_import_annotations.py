from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Assignment, ClaimAnnotation, Source
from tests.factories import ArticleFactory


def claim_line(target, phrase: str = "reposition its forces", **overrides) -> dict:
    start = target.text.index(phrase)
    record = {
        "article": target.url,
        "reviewer": "alice",
        "start": start,
        "end": start + len(phrase),
        "quote": phrase,
        "verdict": "misleading",
        "rating": None,
        "note": "Words, not deeds.",
        "sources": [
            {
                "url": "https://un.example/report",
                "title": "UN report",
                "stance": "refutes",
                "quote": "no withdrawal",
            }
        ],
    }
    record.update(overrides)
    return record


def run(tmp_path, *records, org: str = "planet") -> tuple[str, str]:
    path = tmp_path / "claims.jsonl"
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
        + "\n"
    )
    out, err = StringIO(), StringIO()
    try:
        call_command("import_annotations", "--org", org, str(path), stdout=out, stderr=err)
    except CommandError:
        err.write("\nEXIT NON-ZERO")
    return out.getvalue(), err.getvalue()


def test_a_claim_line_is_stored_with_its_selectors_and_sources(tmp_path, article, alice):
    out, err = run(tmp_path, claim_line(article))
    assert "1 created" in out, err
    claim = ClaimAnnotation.objects.get()
    assert claim.reviewer == alice
    assert claim.quote == "reposition its forces"
    assert article.text[claim.start : claim.end] == claim.quote
    assert claim.prefix.endswith("army would ")
    assert claim.suffix.startswith(" before Friday")
    assert claim.verdict.slug == "misleading"
    assert [(s.url, s.stance) for s in claim.sources.all()] == [
        ("https://un.example/report", "refutes")
    ]


def test_offsets_count_characters_so_emoji_and_accents_line_up(tmp_path, article, alice):
    out, err = run(
        tmp_path, claim_line(article, "a “long” way 🚙", verdict="mostly-true", rating=4)
    )
    assert "1 created" in out, err
    assert ClaimAnnotation.objects.get().quote == "a “long” way 🚙"


def test_a_member_not_yet_assigned_is_assigned_by_the_import(tmp_path, article, alice):
    assert not Assignment.objects.exists()
    run(tmp_path, claim_line(article))
    assignment = Assignment.objects.get(article=article, reviewer=alice)
    assert assignment.status == "in_progress"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start": 0, "end": 9999, "quote": "x"}, "end: End 9999 is past the end of the text"),
        ({"quote": "withdraw its forces"}, "quote: The text at"),
        ({"verdict": "pants-on-fire"}, "verdict: Unknown verdict 'pants-on-fire'"),
        ({"reviewer": "mallory"}, "reviewer: 'mallory' is not a member of this newsroom"),
        ({"rating": 9}, "rating: Rating 9 is outside 1–5"),
        ({"start": "12"}, "start: expected a whole number"),
        (
            {"sources": [{"url": "javascript:alert(1)"}]},
            "sources[0].url: 'javascript:alert(1)' is not an http(s) address",
        ),
        (
            {"sources": [{"url": "https://ok.example", "stance": "maybe"}]},
            "sources[0].stance: 'maybe' is not a stance",
        ),
        ({"article": "https://news.example/unknown"}, "article: No article with URL"),
    ],
)
def test_a_bad_line_names_its_line_and_stores_nothing(tmp_path, article, alice, overrides, message):
    good = claim_line(article, "give peace a chance", verdict="unverifiable", sources=[])
    _out, err = run(tmp_path, good, claim_line(article, **overrides))
    assert f"claims.jsonl:2: {message}" in err
    assert "EXIT NON-ZERO" in err
    # The good line went in; nothing of the bad line did.
    assert list(ClaimAnnotation.objects.values_list("quote", flat=True)) == ["give peace a chance"]
    assert Source.objects.count() == 0


def test_importing_the_same_file_twice_does_not_duplicate(tmp_path, article, alice):
    run(tmp_path, claim_line(article))
    out, _ = run(tmp_path, claim_line(article))
    assert "0 created, 1 already present" in out
    assert ClaimAnnotation.objects.count() == 1


def test_it_rejects_other_newsrooms_articles(tmp_path, gazette, eve, article, alice):
    # Eve's newsroom cannot attach claims to the Daily Planet's article.
    _out, err = run(tmp_path, claim_line(article, reviewer="eve"), org="gazette")
    assert "claims.jsonl:1: article: No article with URL" in err
    assert not ClaimAnnotation.objects.exists()


def test_the_latest_version_of_an_article_is_annotated(tmp_path, article, alice):
    newer = ArticleFactory(
        collection=article.collection,
        url=article.url,
        version=2,
        previous_version=article,
        text="Update: " + article.text,
    )
    run(tmp_path, claim_line(newer))
    assert ClaimAnnotation.objects.get().article == newer


def test_a_to_check_claim_has_no_verdict(tmp_path, article, alice):
    out, err = run(tmp_path, claim_line(article, verdict=None, sources=[]))
    assert "1 created" in out, err
    assert not ClaimAnnotation.objects.get().is_checked
