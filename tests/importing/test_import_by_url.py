"""Articles imported by URL: from the collection page, the members' API and
`import_articles --url`, fetched from a local server whose pages change between
fetches and misbehave. Bob is the Daily Planet's editor; alice a reviewer; eve
from the Rival Gazette never sees the Planet's jobs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.importing import by_url, fetching
from annotations.models import Article, ArticlePage, FetchJob, JobStatus
from annotations.publishing.records import Context, claim_review
from annotations.publishing.rows import row_of
from tests.conftest import login
from tests.webpages import page, published_claim


def serve(httpserver, path, html, **kwargs):
    httpserver.expect_request(path).respond_with_data(
        html, content_type=kwargs.pop("content_type", "text/html; charset=utf-8"), **kwargs
    )


def run(job: FetchJob) -> FetchJob:
    by_url.fetch_job_run(job=job)
    job.refresh_from_db()
    return job


def test_a_page_is_imported_with_its_metadata(httpserver, desk, bob):
    serve(httpserver, "/ministre", page())
    url = httpserver.url_for("/ministre")
    job = run(by_url.fetch_job_start(collection=desk, user=bob, urls=[url], send=False))
    assert (job.status, job.created, job.failed) == (JobStatus.DONE, 1, 0)
    article = Article.objects.get(collection=desk, url=url)
    assert article.title == "Le ministre parle"
    assert article.publisher == "Le Journal"
    assert article.author == "Anne Dupont; Marc Lévy"
    assert article.language == "fr"
    assert article.published_at.isoformat() == "2026-03-01T08:30:00+00:00"
    assert "repositionnées" in article.text
    assert "Accueil" not in article.text  # the page's navigation is not the article
    web = ArticlePage.objects.get(article=article)
    assert web.canonical_url == "https://news.example/ministre"
    assert web.authors == ["Anne Dupont", "Marc Lévy"]
    assert web.modified_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert (web.http_status, web.content_type, web.final_url) == (200, "text/html", url)


def test_the_same_url_twice_is_the_same_article_and_a_changed_text_a_new_version(
    httpserver, desk, bob
):
    url = httpserver.url_for("/ministre")
    serve(httpserver, "/ministre", page())
    run(by_url.fetch_job_start(collection=desk, user=bob, urls=[url], send=False))
    again = run(by_url.fetch_job_start(collection=desk, user=bob, urls=[url + "#top"], send=False))
    assert (again.created, again.unchanged) == (0, 1)
    httpserver.clear()
    serve(
        httpserver,
        "/ministre",
        page(body="Le ministre a démenti tout repositionnement des forces."),
    )
    changed = run(by_url.fetch_job_start(collection=desk, user=bob, urls=[url], send=False))
    assert changed.new_versions == 1
    versions = Article.objects.filter(collection=desk, url=url).order_by("version")
    assert [a.version for a in versions] == [1, 2]
    assert versions[1].previous_version == versions[0]
    assert ArticlePage.objects.filter(article__in=versions).count() == 2


def test_tracking_parameters_and_fragments_do_not_make_another_article():
    assert (
        fetching.page_address("HTTPS://News.Example/a?utm_source=rss&id=4&fbclid=x#comments")
        == "https://news.example/a?id=4"
    )
    assert (
        fetching.page_address("https://news.example/a?b=1&a=2") == "https://news.example/a?b=1&a=2"
    )


@pytest.mark.parametrize(
    ("path", "respond", "reason"),
    [
        (
            "/pdf",
            {"response_data": b"%PDF-1.7", "content_type": "application/pdf"},
            "application/pdf, not",
        ),
        (
            "/empty",
            {
                "response_data": "<html><head><title>App</title></head><body>"
                "<div id=app></div><script>start()</script></body></html>",
                "content_type": "text/html",
            },
            "no article text",
        ),
        ("/gone", {"response_data": "", "status": 410, "content_type": "text/html"}, "HTTP 410"),
        (
            "/down",
            {"response_data": "oops", "status": 503, "content_type": "text/html"},
            "HTTP 503",
        ),
        (
            "/latin",
            {
                "response_data": page(charset="utf-8")
                .encode("latin-1", "replace")
                .replace(b"e a d\xc3", b"e a d\xe9"),
                "content_type": "text/html; charset=utf-8",
            },
            "says it is utf-8, but byte",
        ),
        (
            "/charset",
            {"response_data": page(), "content_type": "text/html; charset=x-martian"},
            "unknown charset 'x-martian'",
        ),
    ],
)
def test_bad_pages_fail_with_a_reason_and_store_nothing(
    httpserver, desk, bob, path, respond, reason
):
    httpserver.expect_request(path).respond_with_data(**respond)
    url = httpserver.url_for(path)
    job = run(by_url.fetch_job_start(collection=desk, user=bob, urls=[url], send=False))
    assert (job.status, job.failed, job.processed) == (JobStatus.DONE, 1, 1)
    (result,) = job.results
    assert result["status"] == "failed"
    assert reason in result["error"], result["error"]
    assert not Article.objects.filter(collection=desk).exists()
    assert not ArticlePage.objects.exists()


def test_an_undeclared_windows_1252_page_is_read_as_browsers_do(httpserver, desk, bob):
    html = page(charset="x").replace('<meta charset="x">', "").encode("cp1252")
    httpserver.expect_request("/old").respond_with_data(html, content_type="text/html")
    job = run(
        by_url.fetch_job_start(
            collection=desk, user=bob, urls=[httpserver.url_for("/old")], send=False
        )
    )
    assert job.created == 1
    assert "repositionnées" in Article.objects.get(collection=desk).text


def test_one_bad_address_does_not_stop_the_others(httpserver, desk, bob):
    serve(httpserver, "/a", page(slug="a"))
    httpserver.expect_request("/b").respond_with_data("", status=404)
    serve(
        httpserver,
        "/c",
        page(title="Autre article", body="Un tout autre texte, sur un autre sujet.", slug="c"),
    )
    urls = [httpserver.url_for(p) for p in ("/a", "/b", "/c")]
    job = run(by_url.fetch_job_start(collection=desk, user=bob, urls=urls, send=False))
    assert (job.created, job.failed, job.processed, job.total) == (2, 1, 3, 3)
    assert [r["status"] for r in job.results] == ["created", "failed", "created"]
    assert "HTTP 404" in job.errors[0]


def test_a_job_resumes_after_the_last_address_stored(httpserver, desk, bob):
    serve(httpserver, "/a", page(slug="a"))
    serve(
        httpserver, "/c", page(title="Autre", body="Encore un autre texte complet ici.", slug="c")
    )
    urls = [httpserver.url_for("/a"), httpserver.url_for("/c")]
    job = by_url.fetch_job_start(collection=desk, user=bob, urls=urls, send=False)
    # A worker stored the first address and died.
    by_url.fetch_job_run(job=job)
    FetchJob.objects.filter(pk=job.pk).update(
        processed=1, status=JobStatus.RUNNING, results=job.results[:1], created=1
    )
    httpserver.clear()
    serve(
        httpserver, "/c", page(title="Autre", body="Encore un autre texte complet ici.", slug="c")
    )
    job.refresh_from_db()
    job = run(job)
    assert job.processed == 2
    # /a was not fetched again (the server no longer answers it).
    assert [r["status"] for r in job.results] == ["created", "unchanged"]


def test_addresses_are_checked_before_anything_is_queued(desk, bob, settings):
    with pytest.raises(ValidationError) as caught:
        by_url.fetch_job_start(collection=desk, user=bob, urls=["javascript:alert(1)", "ftp://x"])
    assert "not an http(s) address" in str(caught.value)
    with pytest.raises(ValidationError, match="at least one"):
        by_url.fetch_job_start(collection=desk, user=bob, urls=["", "  "])
    settings.WORKBENCH_FETCH_MAX_URLS = 2
    with pytest.raises(ValidationError, match="at most 2"):
        by_url.fetch_job_start(
            collection=desk, user=bob, urls=[f"https://news.example/{n}" for n in range(3)]
        )
    settings.WORKBENCH_FETCH_PRIVATE_ADDRESSES = False
    for address in [
        "http://127.0.0.1/x",
        "http://[::ffff:7f00:1]/",
        "http://0x7f.1/",
        "http://169.254.169.254/",
    ]:
        with pytest.raises(ValidationError, match="private or reserved"):
            by_url.fetch_job_start(collection=desk, user=bob, urls=[address])
    assert not FetchJob.objects.exists()


def test_in_production_a_page_on_a_private_address_is_refused_at_connect(
    httpserver, desk, bob, settings, monkeypatch
):
    # A name (not an address written out) that resolves to loopback: refused as it is connected.
    import socket

    real = socket.getaddrinfo
    port = httpserver.port
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: (
            real("127.0.0.1", *a, **k) if host == "inside.example" else real(host, *a, **k)
        ),
    )
    settings.WORKBENCH_FETCH_PRIVATE_ADDRESSES = False
    serve(httpserver, "/secret", page())
    job = run(
        by_url.fetch_job_start(
            collection=desk, user=bob, urls=[f"http://inside.example:{port}/secret"], send=False
        )
    )
    assert job.failed == 1
    assert "private or reserved" in job.results[0]["error"]
    assert len(httpserver.log) == 0


def test_only_editors_import(desk, alice):
    with pytest.raises(PermissionDenied):
        by_url.fetch_job_start(collection=desk, user=alice, urls=["https://news.example/a"])


def test_the_collection_page_form_starts_a_job_and_its_row_shows_progress(
    client, httpserver, desk, bob, eve, tasks_in_process, django_capture_on_commit_callbacks
):
    serve(httpserver, "/ministre", page())
    login(client, bob)
    panel = client.get(reverse("collection-web", args=[desk.pk]), headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert "Import by URL" in panel.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("collection-fetch", args=[desk.pk]),
            {"urls": httpserver.url_for("/ministre") + "\n"},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200
    job = FetchJob.objects.get()
    assert job.status == JobStatus.DONE
    row = client.get(reverse("fetch-job", args=[job.pk]), headers={"HX-Request": "true"})
    assert "1 created" in row.text
    assert 'max="1" value="1"' in row.text
    bad = client.post(
        reverse("collection-fetch", args=[desk.pk]),
        {"urls": "not a url"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422
    assert "not an http(s) address" in bad.text
    # Another newsroom: no such collection, no such job.
    client.force_login(eve)
    assert client.get(reverse("collection-web", args=[desk.pk])).status_code == 404
    assert client.get(reverse("fetch-job", args=[job.pk])).status_code == 404
    assert (
        client.post(
            reverse("collection-fetch", args=[desk.pk]), {"urls": "https://x.example/"}
        ).status_code
        == 404
    )


def test_import_articles_fetches_urls_and_exits_non_zero_with_the_reason(httpserver, desk):
    serve(httpserver, "/ministre", page())
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 address"):
        call_command(
            "import_articles",
            "--org",
            "planet",
            "--collection",
            "politics",
            "--url",
            httpserver.url_for("/ministre"),
            "--url",
            httpserver.url_for("/gone"),
            stdout=out,
            stderr=err,
        )
    assert "created: " + httpserver.url_for("/ministre") in out.getvalue()
    assert "1 created, 0 new versions, 0 unchanged, 1 failed." in out.getvalue()
    assert "HTTP 404" in err.getvalue()
    assert Article.objects.filter(collection=desk).count() == 1
    with pytest.raises(CommandError, match="or --url"):
        call_command("import_articles", "--org", "planet", stdout=out, stderr=err)


def test_claimreview_item_reviewed_carries_the_article_metadata(httpserver, desk, bob):
    serve(httpserver, "/ministre", page())
    run(
        by_url.fetch_job_start(
            collection=desk, user=bob, urls=[httpserver.url_for("/ministre")], send=False
        )
    )
    article = Article.objects.get(collection=desk)
    claim = published_claim(article, bob)
    review = claim_review(Context.of(desk.organization, public=True), row_of(claim))
    appearance = review["itemReviewed"]["appearance"][0]
    assert appearance["url"] == article.url
    assert appearance["headline"] == "Le ministre parle"
    assert appearance["datePublished"] == "2026-03-01"
    assert appearance["author"] == [
        {"@type": "Person", "name": "Anne Dupont"},
        {"@type": "Person", "name": "Marc Lévy"},
    ]
    assert appearance["publisher"] == {"@type": "Organization", "name": "Le Journal"}
    # Without a claimant, the claim is the article's authors', on the article's date.
    assert review["itemReviewed"]["author"] == appearance["author"]
    assert review["itemReviewed"]["datePublished"] == "2026-03-01"
