"""Members import articles by URL through the API: a job of addresses fetched from a
local server, followed until it is done.

In the demo newsroom the editor imports; reviewer1 may not. The Rival
Gazette's editor never sees the demo newsroom's jobs.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework.test import APIClient

from annotations.models import Article, ArticlePage, FetchJob
from annotations.newsrooms.services import member_create, organization_create
from tests.api.conftest import key_for, keyed
from tests.webpages import page

LIST = "/api/v1/articles/fetches/"
WRITE = "read:articles,write:articles"


def importer() -> APIClient:
    return keyed(key_for("editor", WRITE))


def test_an_editor_imports_by_url_and_follows_the_job(
    demo, httpserver, tasks_in_process, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/ministre").respond_with_data(
        page(), content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    client = importer()
    urls = [httpserver.url_for("/ministre"), httpserver.url_for("/gone")]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LIST, {"collection": "great-lakes", "urls": urls}, format="json")

    assert response.status_code == 202, response.content
    assert response.headers["Location"].endswith(f"{LIST}{response.json()['id']}/")
    job = client.get(response.headers["Location"]).json()
    assert (job["status"], job["progress"], job["created"], job["failed"]) == ("done", 100, 1, 1)
    created, gone = job["results"]
    article = Article.objects.get(pk=created["article"])
    assert (created["status"], article.title, article.author) == (
        "created",
        "Le ministre parle",
        "Anne Dupont; Marc Lévy",
    )
    assert ArticlePage.objects.get(article=article).site_name == "Le Journal"
    assert gone == {"url": urls[1], "status": "failed", "article": None, "error": gone["error"]}
    assert "HTTP 410" in gone["error"]
    assert client.get(LIST).json()["results"][0]["id"] == job["id"]


def test_bad_addresses_answer_400_and_nothing_is_queued(demo, settings):
    client = importer()
    settings.WORKBENCH_FETCH_PRIVATE_ADDRESSES = False
    cases = {
        "urls": {"collection": "great-lakes", "urls": ["javascript:alert(1)"]},
        "collection": {"collection": "no-such-desk", "urls": ["https://news.example/a"]},
    }
    for field, sent in cases.items():
        response = client.post(LIST, sent, format="json")
        assert response.status_code == 400, (field, response.content)
        assert field in str(response.json()["fields"]), response.json()
    metadata = {"collection": "great-lakes", "urls": ["http://169.254.169.254/latest/"]}
    private = client.post(LIST, metadata, format="json")
    assert private.status_code == 400
    # An address written out is refused by the schema (names only); a name that resolves
    # inside is refused as the job connects (tests/importing/test_import_by_url.py).
    assert "169.254.169.254" in str(private.json()["fields"])
    assert not FetchJob.objects.exists()


def test_reviewers_and_other_newsrooms_cannot_import_or_see_jobs(demo):
    job = FetchJob.objects.create(
        organization=demo.organization,
        collection=demo.collection,
        urls=["https://news.example/a"],
        total=1,
    )
    session = APIClient()
    session.force_login(User.objects.get(username="reviewer1"))
    refused = session.post(
        LIST, {"collection": "great-lakes", "urls": ["https://news.example/b"]}, format="json"
    )
    assert refused.status_code == 403
    assert "editors" in refused.json()["detail"].lower()

    gazette = organization_create(slug="gazette", name="Rival Gazette")
    member_create(organization=gazette, username="rival", role="editor", password="x" * 12)
    rival = keyed(key_for("rival", WRITE, org="gazette"))
    assert rival.get(LIST).json()["results"] == []
    assert rival.get(f"{LIST}{job.pk}/").status_code == 404
    into_theirs = rival.post(
        LIST, {"collection": "great-lakes", "urls": ["https://news.example/c"]}, format="json"
    )
    assert into_theirs.status_code == 400
    assert FetchJob.objects.count() == 1
