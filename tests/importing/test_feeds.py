"""Feeds on a collection: an RSS or Atom feed served by a local server whose items change
between readings, that answers 304, and that sends broken XML. Bob is the Daily
Planet's editor; alice a reviewer; eve from the Rival Gazette never sees its feeds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from annotations.importing import by_url, feeds
from annotations.models import Article, Feed, FeedItem, FetchJob, JobStatus
from tests.conftest import login
from tests.webpages import feed, page

RSS = "application/rss+xml"


def serve_page(httpserver, path: str, title: str) -> str:
    httpserver.expect_request(path).respond_with_data(
        page(title=title, slug=path.strip("/")), content_type="text/html; charset=utf-8"
    )
    return httpserver.url_for(path)


def serve_feed(httpserver, items, **kwargs) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed(items), content_type=RSS, **kwargs
    )


def read(feed_row: Feed) -> feeds.FeedReading:
    """One reading, and the import job it queued run here."""
    reading = feeds.feed_fetch(feed_row.pk)
    if reading.job is not None:
        by_url.fetch_job_run(job=reading.job)
    return reading


@pytest.fixture
def planet_feed(httpserver, desk, bob) -> Feed:
    return Feed.objects.create(
        organization=desk.organization,
        collection=desk,
        url=httpserver.url_for("/feed.xml"),
        created_by=bob,
        next_fetch_at=timezone.now(),
    )


def test_new_items_are_imported_once_by_id_and_by_address(httpserver, desk, planet_feed):
    a = serve_page(httpserver, "/a", "Premier article")
    b = serve_page(httpserver, "/b", "Deuxième article")
    serve_feed(httpserver, [("id-a", a, "Premier"), ("id-b", b, "Deuxième")])

    first = read(planet_feed)

    assert (first.status, first.new) == ("read", 2)
    assert first.job is not None
    assert first.job.feed_id == planet_feed.pk
    assert set(Article.objects.filter(collection=desk).values_list("title", flat=True)) == {
        "Premier article",
        "Deuxième article",
    }
    planet_feed.refresh_from_db()
    assert (planet_feed.title, planet_feed.items_imported, planet_feed.last_error) == (
        "Le Journal: monde",
        2,
        "",
    )
    assert planet_feed.last_fetched_at is not None

    # The feed changes: a new item, the same article under a new id, and one already read.
    httpserver.clear()
    c = serve_page(httpserver, "/c", "Troisième article")
    serve_feed(httpserver, [("id-c", c, "Troisième"), ("id-a2", a, "Premier"), ("id-b", b, "")])

    second = read(planet_feed)

    assert (second.status, second.new) == ("read", 1)
    assert Article.objects.filter(collection=desk).count() == 3
    assert FeedItem.objects.filter(feed=planet_feed).count() == 4
    assert [r["url"] for r in FetchJob.objects.get(pk=second.job.pk).results] == [c]


def test_an_unchanged_feed_is_asked_for_conditionally(httpserver, planet_feed):
    serve_feed(httpserver, [], headers={"ETag": '"v1"'})
    read(planet_feed)
    httpserver.clear()
    httpserver.expect_request("/feed.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )

    again = read(planet_feed)

    assert again.status == "unchanged"
    assert httpserver.log[-1][0].headers["If-None-Match"] == '"v1"'


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"<?xml version='1.0'?><rss version='2.0'><channel><title>Le", RSS, "not well-formed"),
        (b"just some words", "text/plain", "not well-formed XML"),
        (b"<html><body><p>Our front page</p></body></html>", "text/html", "text/html, not"),
        (b"%PDF-1.7", "application/pdf", "application/pdf, not"),
    ],
)
def test_a_broken_feed_keeps_its_error_imports_nothing_and_backs_off(
    httpserver, desk, planet_feed, body, content_type, reason
):
    httpserver.expect_request("/feed.xml").respond_with_data(body, content_type=content_type)

    reading = read(planet_feed)

    assert reading.status == "failed"
    planet_feed.refresh_from_db()
    assert reason in planet_feed.last_error, planet_feed.last_error
    assert planet_feed.last_error_at is not None
    assert planet_feed.failures == 1
    wait = planet_feed.next_fetch_at - planet_feed.last_error_at
    assert wait >= timedelta(minutes=29)
    assert not Article.objects.filter(collection=desk).exists()
    assert not FeedItem.objects.exists()
    assert not FetchJob.objects.exists()
    read(planet_feed)
    planet_feed.refresh_from_db()
    assert planet_feed.failures == 2
    assert planet_feed.next_fetch_at - planet_feed.last_error_at >= 2 * wait - timedelta(minutes=7)


def test_a_feed_served_as_plain_text_is_read_without_a_false_error(httpserver, planet_feed):
    a = serve_page(httpserver, "/a", "Premier article")
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed([("id-a", a, "Premier")]), content_type="text/plain; charset=utf-8"
    )

    reading = read(planet_feed)

    assert (reading.status, reading.new, reading.reason) == ("read", 1, "")
    planet_feed.refresh_from_db()
    assert planet_feed.last_error == ""


def test_a_feed_with_a_fault_still_gives_its_items_and_says_so(httpserver, desk, planet_feed):
    a = serve_page(httpserver, "/a", "Premier article")
    broken = feed([("id-a", a, "Premier")]).replace("</channel></rss>", "<oops></channel>")
    httpserver.expect_request("/feed.xml").respond_with_data(broken, content_type=RSS)

    reading = read(planet_feed)

    assert (reading.status, reading.new) == ("read", 1)
    planet_feed.refresh_from_db()
    assert "its items were read anyway" in planet_feed.last_error
    assert Article.objects.filter(collection=desk, title="Premier article").exists()


def test_a_paused_feed_is_not_read_and_the_cycle_sends_only_due_feeds(
    httpserver, planet_feed, bob, django_capture_on_commit_callbacks
):
    serve_feed(httpserver, [])
    feeds.feed_pause(feed=planet_feed, user=bob, paused=True)
    assert feeds.feed_fetch(planet_feed.pk).status == "skipped"
    assert feeds.feeds_due() == []
    with django_capture_on_commit_callbacks() as sent:
        feeds.feed_pause(feed=planet_feed, user=bob, paused=False)
    assert len(sent) == 1
    assert feeds.feeds_due() == [planet_feed.pk]
    # Held while a worker reads it: the next cycle does not send it twice.
    assert feeds.feeds_due() == []


def test_only_editors_add_feeds_and_addresses_are_checked(desk, alice, bob, settings):
    with pytest.raises(PermissionDenied):
        feeds.feed_add(collection=desk, user=alice, url="https://news.example/feed")
    settings.WORKBENCH_FETCH_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError, match="public addresses only"):
        feeds.feed_add(collection=desk, user=bob, url="http://10.0.0.8/feed")
    with pytest.raises(ValidationError, match="http"):
        feeds.feed_add(collection=desk, user=bob, url="file:///etc/passwd")
    assert not Feed.objects.exists()


def test_the_collection_page_adds_reads_pauses_a_feed_and_shows_its_last_error(
    client, httpserver, desk, bob, eve, tasks_in_process, django_capture_on_commit_callbacks
):
    a = serve_page(httpserver, "/a", "Premier article")
    serve_feed(httpserver, [("id-a", a, "Premier")])
    login(client, bob)
    htmx = {"HX-Request": "true"}

    with django_capture_on_commit_callbacks(execute=True):
        added = client.post(
            reverse("feed-create", args=[desk.pk]),
            {"url": httpserver.url_for("/feed.xml")},
            headers=htmx,
        )

    assert added.status_code == 200
    feed_row = Feed.objects.get()
    assert FetchJob.objects.get().status == JobStatus.DONE
    panel = client.get(reverse("collection-web", args=[desk.pk]), headers=htmx).text
    assert "Le Journal: monde" in panel
    assert "1 article imported" in panel
    assert "last read" in panel
    twice = client.post(reverse("feed-create", args=[desk.pk]), {"url": feed_row.url}, headers=htmx)
    assert twice.status_code == 422
    assert "already reads this feed" in twice.text

    httpserver.clear()
    httpserver.expect_request("/feed.xml").respond_with_data("<rss><oops", content_type=RSS)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("feed-action", args=[feed_row.pk, "read"]), headers=htmx)
    panel = client.get(reverse("collection-web", args=[desk.pk]), headers=htmx).text
    assert "not well-formed XML" in panel

    paused = client.post(reverse("feed-action", args=[feed_row.pk, "pause"]), headers=htmx)
    assert "paused" in paused.text
    assert "Resume" in paused.text

    client.force_login(eve)
    for action in ("resume", "read", "delete"):
        assert client.post(reverse("feed-action", args=[feed_row.pk, action])).status_code == 404
    assert Feed.objects.filter(pk=feed_row.pk, paused=True).exists()


def test_an_item_that_may_not_be_fetched_does_not_bury_the_others(settings):
    # In production, an item at a private network's address is refused by name, and
    # the story beside it still goes to the import.
    settings.WORKBENCH_FETCH_PRIVATE_ADDRESSES = False
    fetchable, refusals = feeds.fetchable_items(
        ["http://10.0.0.1/intranet", "https://news.example/story"]
    )
    assert fetchable == ["https://news.example/story"]
    assert refusals == [
        "http://10.0.0.1/intranet is a private or reserved address: "
        "pages are fetched from public addresses only"
    ]
