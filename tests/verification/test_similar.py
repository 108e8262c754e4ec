"""Claims checked before: suggested while adjudicating and in the reader, reused in one click."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse

from annotations.core.inputs import SourceInput
from annotations.models import Article, VerdictLabel, VerifiedClaim
from annotations.newsrooms.services import collection_ensure, taxonomy_ensure_default
from annotations.verification import services as verification
from annotations.verification import similar
from tests.conftest import demo_login
from tests.factories import ArticleFactory, OrganizationFactory

EARLIER = "Rwanda backs the M23 rebels in eastern Congo"


def checked_before(article: Article, text: str, *, status: str = "published", **extra):
    """A verified claim on another article of the newsroom, checked some time ago."""
    other = ArticleFactory(
        organization=article.organization,
        collection=article.collection,
        title=extra.pop("title", "Earlier report from Goma"),
        text=f"Officials said that {text.lower()} last year.",
    )
    start = other.text.index(text.lower())
    draft = verification.verified_claim_save(
        article=other,
        editor=User.objects.get(username="editor"),
        judgement=verification.Judgement(
            start=start,
            end=start + len(text),
            claim_reviewed=text,
            verdict=VerdictLabel.objects.get(
                taxonomy=article.collection.taxonomy, slug=extra.pop("verdict", "true")
            ),
            summary=extra.pop("summary", "UN experts documented the support in 2024."),
            sources=extra.pop(
                "sources",
                [
                    SourceInput(
                        url="https://un.example/experts-2024",
                        title="UN Group of Experts",
                        stance="supports",
                    )
                ],
            ),
        ),
    )
    if status != "draft":
        draft = verification.verified_publish(
            claim=draft, editor=draft.editor, confirm_open_reviews=True
        )
    if status == "retracted":
        draft = verification.verified_retract(claim=draft, editor=draft.editor, note="Wrong.")
    return draft


def test_the_most_alike_claim_comes_first_and_another_newsroom_never_shows(demo):
    earlier = checked_before(demo, EARLIER)
    gazette = OrganizationFactory(slug="gazette")
    collection, _ = collection_ensure(organization=gazette, slug="desk", name="Desk")
    taxonomy_ensure_default(organization=gazette)
    theirs = ArticleFactory(organization=gazette, collection=collection, text=EARLIER)
    VerifiedClaim.objects.create(
        organization=gazette,
        article=theirs,
        start=0,
        end=len(EARLIER),
        quote=EARLIER,
        claim_reviewed=EARLIER,
        verdict=VerdictLabel.objects.filter(taxonomy__organization=gazette).first(),
        lineage="single",
        editor=User.objects.get(username="editor"),
    )

    found = similar.similar_claims(
        organization_id=demo.organization_id, text="M23 rebels, backed by Rwanda"
    )

    assert found[0].claim == earlier
    assert all(s.claim.organization_id == demo.organization_id for s in found)
    assert found[0].similarity > similar.MIN_SIMILARITY
    assert [s.similarity for s in found] == sorted((s.similarity for s in found), reverse=True)


def test_unrelated_wording_and_excluded_claims_are_not_suggested(demo):
    earlier = checked_before(demo, EARLIER)
    assert (
        similar.similar_claims(
            organization_id=demo.organization_id, text="Kinshasa hosts a jazz festival every June"
        )
        == []
    )
    assert earlier not in [
        s.claim
        for s in similar.similar_claims(
            organization_id=demo.organization_id,
            text="M23 rebels, backed by Rwanda",
            exclude_claims=[earlier.pk],
        )
    ]
    assert similar.similar_claims(organization_id=demo.organization_id, text="   ") == []


def test_the_adjudication_view_offers_claims_checked_before(client, demo):
    earlier = checked_before(demo, EARLIER)
    page = demo_login(client, "editor").get(reverse("adjudicate", args=[demo.pk]))
    assert page.status_code == 200
    unit = next(
        u for u in page.context["units"] if u.claims[0].quote == "M23 rebels, backed by Rwanda"
    )
    assert [s.claim for s in unit.suggestions][:1] == [earlier]
    assert "Checked before" in page.text
    assert f'name="reuse" value="{earlier.pk}"' in page.text


def test_reusing_a_claim_checked_before_takes_its_verdict_and_sources_in_one_click(client, demo):
    earlier = checked_before(demo, EARLIER, verdict="mostly-true")
    demo_login(client, "editor")
    page = client.get(reverse("adjudicate", args=[demo.pk]))
    unit = next(
        u for u in page.context["units"] if u.claims[0].quote == "M23 rebels, backed by Rwanda"
    )
    reviewer_claim = unit.claims[0]

    response = client.post(
        reverse("adjudicate", args=[demo.pk]),
        {
            "unit": unit.index,
            "version": 0,
            "span_from": reviewer_claim.pk,
            "verdict_from": reviewer_claim.pk,  # the reviewer said "true"; the reuse wins
            "claim_reviewed": "Rwanda backs the M23",
            "summary": "",
            "sources": [pk for pk, *_ in unit.sources],
            "reuse": earlier.pk,
        },
    )

    assert response.status_code == 302
    saved = VerifiedClaim.objects.get(article=demo, quote="M23 rebels, backed by Rwanda")
    assert saved.status == "draft"
    assert saved.verdict.slug == "mostly-true"
    assert saved.summary == earlier.summary
    urls = [s.url for s in saved.sources.all()]
    # Its sources first, then the reviewer's that it did not have.
    assert urls[0] == "https://un.example/experts-2024"
    assert set(urls) == {"https://un.example/experts-2024"} | {s[1] for s in unit.sources}


def test_another_newsrooms_claim_cannot_be_reused(client, demo):
    theirs = VerifiedClaim.objects.filter(article=demo).first()
    # Not via the service: a claim that belongs to another newsroom.
    VerifiedClaim.objects.filter(pk=theirs.pk).update(
        organization=OrganizationFactory(slug="elsewhere")
    )
    demo_login(client, "editor")
    page = client.get(reverse("adjudicate", args=[demo.pk]))
    unit = next(u for u in page.context["units"] if not u.verified)
    response = client.post(
        reverse("adjudicate", args=[demo.pk]),
        {
            "unit": unit.index,
            "version": 0,
            "span_from": unit.claims[0].pk,
            "claim_reviewed": "x",
            "reuse": theirs.pk,
        },
    )
    assert response.status_code == 404
    assert not VerifiedClaim.objects.filter(article=demo, start=unit.claims[0].start).exists()


def test_a_retracted_claim_is_shown_as_a_warning_not_offered_for_reuse(client, demo):
    retracted = checked_before(demo, EARLIER, status="retracted")
    page = demo_login(client, "editor").get(reverse("adjudicate", args=[demo.pk]))
    assert f'name="reuse" value="{retracted.pk}"' not in page.text
    assert "Retracted: do not reuse." in page.text


def similar_in_reader(client, article: Article, text: str):
    return client.get(reverse("similar-claims", args=[article.pk]), {"q": text})


def test_the_reader_suggests_published_claims_to_reviewers_and_drafts_only_to_editors(client, demo):
    published = checked_before(demo, EARLIER)
    draft = checked_before(demo, "Rwanda backs the M23 rebels in North Kivu", status="draft")

    reviewer = similar_in_reader(
        demo_login(client, "reviewer1"), demo, "M23 rebels, backed by Rwanda"
    )
    assert reviewer.status_code == 200
    assert published.claim_reviewed in reviewer.text
    assert draft.claim_reviewed not in reviewer.text
    assert "Use its verdict and 1 source" in reviewer.text
    assert 'id="reuse-' in reviewer.text  # the verdict and sources the button fills in

    client.logout()
    editor = similar_in_reader(demo_login(client, "editor"), demo, "M23 rebels, backed by Rwanda")
    assert draft.claim_reviewed in editor.text


def test_the_reader_keeps_this_articles_verdicts_from_a_reviewer_until_they_submit(client, demo):
    # The demo article's own published claim on "give peace a chance".
    demo_login(client, "reviewer2")
    text = "M23 says its withdrawal is to give peace a chance"
    assert "give peace a chance”" not in similar_in_reader(client, demo, text).text
    reader = client.get(reverse("article-reader", args=[demo.pk]))
    assert "Verified by the desk" not in reader.text
    assert "appear here once you submit your review" in reader.text

    client.post(reverse("assignment-submit", args=[demo.pk]), {"confirm": "1"})

    assert "give peace a chance”" in similar_in_reader(client, demo, text).text
    reader = client.get(reverse("article-reader", args=[demo.pk]))
    assert "Verified by the desk" in reader.text
    assert "advances towards Mubi settle it" in reader.text  # what we found


def test_drafts_never_show_in_the_readers_verified_panel(client, demo):
    VerifiedClaim.objects.filter(article=demo).update(status="draft", published_at=None)
    reader = demo_login(client, "editor").get(reverse("article-reader", args=[demo.pk]))
    assert "Verified by the desk" not in reader.text


def test_another_newsroom_gets_a_404_for_suggestions(client, demo, eve):
    from tests.conftest import login

    assert similar_in_reader(login(client, eve), demo, "peace").status_code == 404


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only"
)
def test_postgresql_answers_from_the_trigram_index(demo):
    checked_before(demo, EARLIER)
    with connection.cursor() as cursor:
        # With a handful of rows reading them all is cheapest; with 100,000 it is not (bench/).
        cursor.execute("SET enable_seqscan = off")
    plan = (
        VerifiedClaim.objects.filter(
            claim_reviewed__trigram_word_similar="M23 rebels, backed by Rwanda"
        )
        .order_by()
        .values_list("pk")
        .explain()
    )
    assert "Bitmap Index Scan on verified_claim_reviewed_trgm" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a statement timeout of PostgreSQL")
def test_suggestions_that_take_too_long_are_given_up_and_the_page_still_answers(
    client, demo, monkeypatch
):
    from django.db.models.expressions import RawSQL

    checked_before(demo, EARLIER)
    monkeypatch.setattr(similar, "TIMEOUT_MS", 50)
    # A query that takes a second, as one over thousands of candidates might.
    monkeypatch.setattr(
        similar,
        "nearest",
        lambda scope, text, limit: (
            scope.queryset()
            .annotate(slow=RawSQL("pg_sleep(1)::text", []))
            .values_list("pk", "slow")
        ),
    )

    page = demo_login(client, "editor").get(reverse("adjudicate", args=[demo.pk]))

    assert page.status_code == 200
    assert "Checked before" not in page.text
    # The connection is left as it was: the next query has no timeout.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
