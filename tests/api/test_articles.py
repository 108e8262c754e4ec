"""Members list, read and import articles through the API, under the browser's rules.

In the demo newsroom the editor imports; reviewer1 and reviewer2 may read
articles but never import them. The Rival Gazette's members see nothing of it.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from annotations.models import Article
from annotations.newsrooms.services import member_create, organization_create
from tests.api.conftest import key_for, keyed

LIST = "/api/v1/articles/"
WRITE = "read:articles,write:articles"


def detail(pk: int) -> str:
    return f"/api/v1/articles/{pk}/"


def importer() -> APIClient:
    return keyed(key_for("editor", WRITE))


def body(**changes) -> dict:
    return {
        "collection": "great-lakes",
        "title": "Ceasefire talks resume in Doha",
        "text": "Talks resumed on Monday.\n\nBoth sides sent delegations.",
        "url": "https://news.example/doha",
        "publisher": "News Example",
        "author": "A. Reporter",
        "published_at": "2026-03-01T09:00:00Z",
        "language": "en",
    } | changes


def test_an_editor_imports_an_article_and_reads_it_back(demo):
    client = importer()

    response = client.post(LIST, body(), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "created"
    article = response.json()["article"]
    assert article["text"] == "Talks resumed on Monday.\n\nBoth sides sent delegations."
    assert article["collection"] == "great-lakes"
    assert article["version"] == 1
    assert article["published_at"].startswith("2026-03-01T09:00:00")
    read = client.get(detail(article["id"])).json()
    assert read == article
    listed = client.get(LIST).json()["results"]
    assert listed[0]["id"] == article["id"], "newest first"
    assert "text" not in listed[0]
    assert {a["title"] for a in listed} == {article["title"], demo.title}


def test_the_same_text_again_is_unchanged_and_a_new_text_is_a_new_version(demo):
    client = importer()
    first = client.post(LIST, body(), format="json").json()["article"]

    again = client.post(LIST, body(), format="json")
    changed = client.post(LIST, body(text="Talks resumed on Tuesday."), format="json")

    assert again.status_code == 200
    assert again.json()["status"] == "unchanged"
    assert again.json()["article"]["id"] == first["id"]
    assert changed.status_code == 201
    assert changed.json()["status"] == "new version"
    assert changed.json()["article"]["version"] == 2
    assert changed.json()["article"]["previous_version"] == first["id"]
    assert Article.objects.filter(url="https://news.example/doha").count() == 2


def test_html_alone_is_sanitized_and_its_text_extracted(demo):
    html = (
        "<html><head><title>Doha talks</title></head><body><article>"
        "<h1>Doha talks</h1><p>Talks resumed on Monday in Doha, the mediators said.</p>"
        "<p>Both sides sent delegations to the capital.</p>"
        "<script>alert(1)</script></article></body></html>"
    )

    response = importer().post(LIST, body(text="", html=html), format="json")

    assert response.status_code == 201, response.content
    article = response.json()["article"]
    assert "Talks resumed on Monday" in article["text"]
    assert "<script" not in article["html"]
    assert article["title"] == "Ceasefire talks resume in Doha", "what the caller gave wins"


def test_bad_input_answers_400_naming_the_fields(demo):
    client = importer()
    cases = {
        "url": body(url="javascript:alert(1)"),
        "collection": body(collection="no-such-desk"),
        "text": body(text="", html=""),
        "title": body(title="   "),
        "published_at": body(published_at="last Tuesday"),
    }
    for field, sent in cases.items():
        response = client.post(LIST, sent, format="json")
        assert response.status_code == 400, (field, response.content)
        assert response.json()["code"] == "invalid"
        assert field in response.json()["fields"], (field, response.json())
    assert not Article.objects.exclude(pk=demo.pk).exists()


def test_a_body_over_the_limit_answers_413(demo, settings):
    settings.WORKBENCH_API_MAX_BODY_BYTES = 2_000

    response = importer().post(LIST, body(text="word " * 1_000), format="json")

    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert not Article.objects.exclude(pk=demo.pk).exists()


def test_reviewers_read_articles_but_cannot_import_them(demo):
    session = APIClient()
    session.force_login(User.objects.get(username="reviewer1"))

    assert session.get(detail(demo.pk)).json()["text"] == demo.text
    response = session.post(LIST, body(), format="json")

    assert response.status_code == 403
    assert "editors" in response.json()["detail"].lower()


def test_a_key_without_the_scope_gets_403_naming_it(demo):
    reader = keyed(key_for("editor", "read:articles"))

    response = reader.post(LIST, body(), format="json")

    assert response.status_code == 403
    assert "write:articles" in response.json()["detail"]
    assert keyed(key_for("editor", "read:claims")).get(LIST).status_code == 403


def test_the_list_filters_by_collection_and_pages(demo):
    client = importer()
    client.post(LIST, body(collection="great-lakes"), format="json")

    in_desk = client.get(LIST, {"collection": "great-lakes", "page_size": 1}).json()
    elsewhere = client.get(LIST, {"collection": "no-such-desk"}).json()

    assert len(in_desk["results"]) == 1
    rest = client.get(in_desk["next"]).json()
    assert [a["id"] for a in rest["results"]] == [demo.pk]
    assert elsewhere["results"] == []


@pytest.mark.parametrize("page_size", ["null", "", "0", "101", "ten"])
def test_a_page_size_that_is_not_1_to_100_answers_400_naming_it(demo, page_size):
    # DRF's paginator would quietly use its default instead.
    response = importer().get(LIST, {"page_size": page_size})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["page_size"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"title": 5}, "title"), ({"language": 0}, "language")],
)
def test_a_value_of_the_wrong_json_type_answers_400_naming_it(demo, changes, field):
    # DRF would have stored the number 5 as the title "5".
    response = importer().post(LIST, body(**changes), format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert not Article.objects.filter(title="5").exists()


def test_an_empty_collection_filter_answers_400_naming_it(demo):
    response = importer().get(LIST, {"collection": ""})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["collection"]


def test_another_newsroom_sees_none_of_the_articles(demo):
    gazette = organization_create(slug="gazette", name="Rival Gazette")
    member_create(organization=gazette, username="rival", role="editor", password="x" * 12)
    rival = keyed(key_for("rival", WRITE, org="gazette"))

    assert rival.get(LIST).json()["results"] == []
    response = rival.get(detail(demo.pk))
    assert response.status_code == 404
    assert "Walikale" not in response.content.decode()
    imported = rival.post(LIST, body(), format="json")
    assert imported.status_code == 400
    assert "collection" in imported.json()["fields"], "their collection slug is not ours"
