from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from annotations.models import Article, Assignment, ClaimAnnotation, Membership, Organization


def demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Organization, Membership, Article, Assignment, ClaimAnnotation)
    }


def test_demo_loads_the_newsroom_the_article_and_claims(db):
    out = demo()
    assert "reviewer1" in out
    assert "walikale-reviewer1" in out
    article = Article.objects.get(organization__slug="demo")
    assert article.title == "M23 rebels say they will withdraw from Walikale in eastern Congo"
    assert article.collection.reviewers_per_article == 2
    assert set(article.assignments.values_list("reviewer__username", flat=True)) == {
        "reviewer1",
        "reviewer2",
    }


def test_both_reviewers_mark_the_same_two_claims_and_partly_disagree(db):
    demo()
    verdicts = {
        (c.reviewer.username, c.quote): c.verdict.slug
        for c in ClaimAnnotation.objects.filter(
            quote__in=["reposition its forces", "give peace a chance"]
        )
    }
    assert (
        verdicts[("reviewer1", "reposition its forces")]
        == verdicts[("reviewer2", "reposition its forces")]
    )
    assert (
        verdicts[("reviewer1", "give peace a chance")]
        != verdicts[("reviewer2", "give peace a chance")]
    )


def test_running_demo_twice_changes_nothing(db):
    demo()
    before = counts()
    demo()
    assert counts() == before
