"""Partners read published verified claims with a key: filters, sync, ClaimReview, errors."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.keys.services import api_key_revoke
from annotations.models import ApiKey, Article, VerifiedClaim, VerifiedSource
from annotations.newsrooms.services import member_create, organization_create
from annotations.verification import services as verification
from tests.api.conftest import key_for, keyed, publish_many

LIST = "/api/v1/claims/"


def detail(pk: int) -> str:
    return f"/api/v1/claims/{pk}/"


def editor() -> User:
    return User.objects.get(username="editor")


def walk(client: APIClient, url: str) -> list[dict]:
    """Every claim behind a list URL, following `next` to the end."""
    seen = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        seen += response.json()["results"]
        url = response.json()["next"]
    return seen


def test_a_partner_lists_the_published_claims_with_their_public_sources(demo, partner):
    claim = VerifiedClaim.objects.get(quote="reposition its forces")
    VerifiedSource.objects.create(
        claim=claim, url="https://tipster.example/secret", title="Our tipster", confidential=True
    )
    draft = publish_many(demo, 1)[0]
    VerifiedClaim.objects.filter(pk=draft.pk).update(status="draft", published_at=None)

    response = partner.get(LIST)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    claims = {c["quote"]: c for c in response.json()["results"]}
    assert set(claims) == {"reposition its forces", "give peace a chance"}
    forces = claims["reposition its forces"]
    assert forces["verdict"]
    assert forces["status"] == "published"
    assert forces["url"].endswith(f"/newsrooms/demo/claims/{claim.pk}/")
    assert forces["sources"], "the public sources come along"
    assert "https://tipster.example/secret" not in response.content.decode()
    assert "confidential" not in forces["sources"][0]


def test_a_retracted_claim_stays_listed_as_retracted(demo, partner):
    claim = VerifiedClaim.objects.get(quote="give peace a chance")
    verification.verified_retract(claim=claim, editor=editor(), note="The quote was misattributed.")

    found = partner.get(detail(claim.pk)).json()

    assert found["status"] == "retracted"
    assert found["public_note"] == "The quote was misattributed."
    listed = partner.get(LIST, {"status": "retracted"}).json()["results"]
    assert [c["id"] for c in listed] == [claim.pk]


def test_filters_narrow_the_list(demo, partner):
    # The demo article was imported without its address: give it one to filter by.
    Article.objects.filter(pk=demo.pk).update(url="https://news.example/walikale")
    demo.refresh_from_db()
    forces = VerifiedClaim.objects.get(quote="reposition its forces")
    peace = VerifiedClaim.objects.get(quote="give peace a chance")

    def ids(**params) -> set[int]:
        response = partner.get(LIST, params)
        assert response.status_code == 200, response.content
        return {c["id"] for c in response.json()["results"]}

    assert ids(verdict=peace.verdict.slug) == {peace.pk} or forces.verdict == peace.verdict
    assert ids(collection=demo.collection.slug) == {forces.pk, peace.pk}
    assert ids(collection="no-such-collection") == set()
    assert ids(q="peace chance") == {peace.pk}
    assert ids(article_url=demo.url) == {forces.pk, peace.pk}
    assert ids(article_url="https://elsewhere.example/") == set()
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    assert ids(updated_since=later) == set()
    assert ids(published_since=later) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"status": "draft"}, "status"),
        ({"page_size": "1000"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"article_url": "javascript:alert(1)"}, "article_url"),
        ({"format": "xml"}, "format"),
        # Nothing where a value is required is refused too, not read as "no filter".
        ({"page_size": "null"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"verdict": ""}, "verdict"),
        ({"status": ""}, "status"),
        ({"updated_since": ""}, "updated_since"),
        ({"q": ""}, "q"),
        ({"format": ""}, "format"),
    ],
)
def test_a_bad_parameter_answers_400_naming_it(demo, partner, params, field):
    response = partner.get(LIST, params)

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["code"] == "invalid"
    assert field in body["fields"]


def test_a_sync_walks_every_claim_once_and_then_only_what_changed(demo, partner):
    publish_many(demo, 12)
    first = walk(partner, f"{LIST}?page_size=5")
    assert len(first) == 14
    assert len({c["id"] for c in first}) == 14, "no claim twice in one walk"

    # Where the partner stopped: the last claim's change.
    last = first[-1]
    changed = VerifiedClaim.objects.get(quote="give peace a chance")
    verification.verified_retract(claim=changed, editor=editor(), note="Withdrawn.")
    since = walk(partner, f"{LIST}?{urlencode({'updated_since': last['updated_at']})}")

    assert [c["id"] for c in since if c["id"] != last["id"]] == [changed.pk]
    assert since[-1]["status"] == "retracted"


def test_the_next_cursor_continues_where_the_page_ended(demo, partner):
    publish_many(demo, 4)
    page = partner.get(LIST, {"page_size": 3}).json()
    rest = partner.get(page["next"]).json()

    assert len(page["results"]) == 3
    assert len(rest["results"]) == 3
    assert rest["next"] is None
    assert not {c["id"] for c in page["results"]} & {c["id"] for c in rest["results"]}


def test_a_change_just_saved_is_listed_once_it_has_settled(demo, partner, settings):
    settings.WORKBENCH_API_SYNC_LAG_SECONDS = 60
    assert partner.get(LIST).json()["results"] == []
    VerifiedClaim.objects.update(updated_at=timezone.now() - timedelta(minutes=2))
    assert len(partner.get(LIST).json()["results"]) == 2


def test_claimreview_by_format_parameter_or_accept_header(demo, partner):
    claim = VerifiedClaim.objects.get(quote="reposition its forces")

    by_format = partner.get(detail(claim.pk), {"format": "claimreview"})
    by_accept = partner.get(detail(claim.pk), HTTP_ACCEPT="application/ld+json")
    listed = partner.get(LIST, {"format": "claimreview"})

    assert by_format["Content-Type"] == "application/ld+json"
    review = by_format.json()
    assert review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == claim.claim_reviewed
    assert review["reviewRating"]["alternateName"] == claim.verdict.name
    assert by_accept.json() == review
    assert review in listed.json()["results"]


def test_without_a_key_or_with_a_bad_one_the_answer_is_401(demo):
    anonymous = APIClient().get(LIST)
    wrong = keyed("wb_00000000_not-the-secret").get(LIST)
    secret = key_for("editor")
    api_key_revoke(key=ApiKey.objects.get(prefix=secret.split("_")[1]))
    revoked = keyed(secret).get(LIST)

    for response in (anonymous, wrong, revoked):
        assert response.status_code == 401
        assert response.json()["status"] == 401
        assert response.json()["detail"]
    assert anonymous["WWW-Authenticate"].startswith("Bearer")


def test_a_key_without_the_scope_gets_403_naming_it(demo):
    response = keyed(key_for("reviewer1", "read:annotations")).get(LIST)

    assert response.status_code == 403
    assert "read:claims" in response.json()["detail"]


def test_a_method_the_endpoint_lacks_answers_405_whatever_the_keys_scopes(demo, partner):
    response = partner.delete(LIST)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["status"] == 405


def test_another_newsrooms_key_sees_nothing_and_gets_404(demo):
    gazette = organization_create(slug="gazette", name="Rival Gazette")
    member_create(organization=gazette, username="rival", role="admin", password="x" * 12)
    rival = keyed(key_for("rival", org="gazette"))
    claim = VerifiedClaim.objects.get(quote="reposition its forces")

    assert rival.get(LIST).json()["results"] == []
    response = rival.get(detail(claim.pk))
    assert response.status_code == 404
    assert "reposition" not in response.content.decode()
    assert rival.get(detail(claim.pk), {"format": "claimreview"}).status_code == 404


@pytest.mark.parametrize(
    ("cursor", "count"),
    [("0.0", 2), ("1.1", 2), ("999999999999999999.999999999999999999", 0)],
)
def test_every_cursor_of_the_documented_form_is_taken(demo, partner, cursor, count):
    # `<microseconds>.<id>`, as the schema's pattern says: the page after that point.
    response = partner.get(LIST, {"cursor": cursor})

    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == count


def test_a_page_of_100_claims_with_sources_costs_at_most_5_queries(
    demo, partner, django_assert_max_num_queries
):
    publish_many(demo, 120)
    with django_assert_max_num_queries(5):
        page = partner.get(LIST, {"page_size": 100}).json()
    assert len(page["results"]) == 100
    assert all(len(c["sources"]) == 3 for c in page["results"][2:])
    with django_assert_max_num_queries(5):
        partner.get(LIST, {"page_size": 100, "format": "claimreview"})


def test_too_many_requests_get_429_with_retry_after(demo, settings):
    # The throttle reads the rate for each request: the setting applies at once.
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": {"api": "3/min"}}
    client = keyed(key_for("editor"))
    answers = [client.get(LIST).status_code for _ in range(4)]
    limited = client.get(LIST)
    other = keyed(key_for("editor")).get(LIST)

    assert answers == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["status"] == 429
    assert other.status_code == 200, "the limit is per key"


def test_the_schema_and_its_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/v1/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/claims/" in paths
    assert "429" in paths["/api/v1/claims/"]["get"]["responses"]
    page = docs.content.decode()
    assert docs.status_code == 200
    assert "drf_spectacular_sidecar/swagger-ui-dist" in page
    assert "cdn" not in page.lower()
