"""Articles from the web in real Chromium: the demo newsroom's editor imports a page by
its URL from the collection page, publishes a claim on it, and then sees the claim's
sources archived, with the text kept, on the verified claim and on the public page.

The pages come from a local HTTP server (pytest-httpserver); with a broker the
session's real Celery worker fetches them, otherwise the tasks run in-process.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from annotations.archiving.services import archive_cycle
from annotations.core.inputs import SourceInput
from annotations.models import ArchiveStatus, Article, SourceArchive
from tests.browser.conftest import log_in, screenshot
from tests.webpages import feed, published_claim
from tests.webpages import page as article_page

pytestmark = pytest.mark.browser

REPORT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Troop movements, week 9 | Monitoring mission</title></head><body><main><article>
<h1>Troop movements, week 9</h1>
<p>The mission observed no repositioning of forces near the border during week 9.</p>
<p>Patrols reported the same positions on Monday and on Friday, at all six posts.</p>
</article></main><script>document.title = "ran";</script></body></html>"""


def wait_for(condition, timeout: float = 30) -> None:
    ends = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < ends, "timed out"
        time.sleep(0.2)


def test_editor_imports_by_url_and_sees_the_sources_archived(page, demo, worker_media, httpserver):
    httpserver.expect_request("/ministre").respond_with_data(
        article_page(), content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/report").respond_with_data(
        REPORT, content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/statement").respond_with_data("", status=410)
    url = httpserver.url_for("/ministre")

    log_in(page, "editor")
    page.goto(f"/collections/{demo.collection_id}/")
    panel = page.locator("#web-panel")
    expect(panel.get_by_role("heading", name="Import by URL")).to_be_visible()
    panel.get_by_label("Addresses").fill(f"{url}\nnot an address")
    panel.get_by_role("button", name="Fetch and import").click()
    expect(panel.get_by_role("alert")).to_contain_text("'not an address' is not an http(s)")
    panel.get_by_label("Addresses").fill(url)
    panel.get_by_role("button", name="Fetch and import").click()
    job = panel.locator(".fetch-job").first
    expect(job.get_by_role("progressbar", name="Import by URL progress")).to_be_visible()
    expect(job).to_contain_text("1 created", timeout=30_000)
    job.get_by_role("link", name="Reload the list").click()
    expect(page.locator("table").first).to_contain_text("Le ministre parle")
    expect(page.locator("#web-panel .web-articles")).to_contain_text("Le ministre parle")
    screenshot(page, "web-import")

    article = Article.objects.get(collection=demo.collection, url=url)
    assert (article.publisher, article.author) == ("Le Journal", "Anne Dupont; Marc Lévy")
    claim = published_claim(
        article,
        User.objects.get(username="editor"),
        sources=[
            SourceInput(url=httpserver.url_for("/report"), title="Mission report, week 9"),
            SourceInput(url=httpserver.url_for("/statement"), title="Ministry statement"),
        ],
    )
    archive_cycle()
    ours = SourceArchive.objects.filter(
        organization=demo.organization,
        url__in=[httpserver.url_for("/report"), httpserver.url_for("/statement")],
    )
    wait_for(lambda: ours.exclude(status=ArchiveStatus.PENDING).count() == 2)

    page.goto(f"/verified/{claim.pk}/")
    sources = page.locator("li", has_text="Mission report, week 9").last
    expect(sources).to_contain_text("archived")
    expect(page.locator("li", has_text="Ministry statement").last).to_contain_text(
        "not archived: HTTP 410"
    )
    screenshot(page, "web-verified-claim-archives")
    sources.get_by_role("link", name="the text kept").click()
    expect(page.get_by_role("heading", name="Troop movements, week 9")).to_be_visible()
    expect(page.locator(".archived-text")).to_contain_text("no repositioning of forces")
    # The archived page's own script never runs on our origin: its text is shown, not its HTML.
    expect(page).not_to_have_title("ran")
    screenshot(page, "web-archived-text")

    page.goto(f"/newsrooms/{demo.organization.slug}/claims/{claim.pk}/")
    kept = page.get_by_role("link", name="archived")
    expect(kept.first).to_be_visible()
    kept.first.click()
    expect(page.locator(".archived-text")).to_contain_text("at all six posts")
    expect(page.get_by_role("button", name="Archive again now")).to_have_count(0)


def test_editor_adds_a_feed_whose_items_arrive_then_pauses_it(page, demo, worker_media, httpserver):
    httpserver.expect_request("/ministre").respond_with_data(
        article_page(), content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed([("item-1", httpserver.url_for("/ministre"), "Le ministre parle")]),
        content_type="application/rss+xml",
    )
    log_in(page, "editor")
    page.goto(f"/collections/{demo.collection_id}/")
    panel = page.locator("#web-panel")
    panel.get_by_label("Feed address (RSS or Atom)").fill(httpserver.url_for("/feed.xml"))
    panel.get_by_role("button", name="Add the feed").click()
    expect(panel.locator(".feed").first).to_be_visible()
    # The worker reads the feed, then imports its item; the page shows it once reloaded.
    ends = time.monotonic() + 60
    while True:
        page.reload()
        row = page.locator("#web-panel .feed").first
        if "1 article imported" in row.inner_text():
            break
        assert time.monotonic() < ends, row.inner_text()
        time.sleep(0.5)
    # Once more: the page that saw the count may have read its article list a moment
    # before the import committed (each of the page's queries sees what is committed).
    page.reload()
    row = page.locator("#web-panel .feed").first
    expect(row).to_contain_text("Le Journal: monde")
    expect(row).to_contain_text("last read")
    expect(page.locator("#web-panel .web-articles")).to_contain_text("Le ministre parle")
    row.get_by_role("button", name="Pause").click()
    row = page.locator("#web-panel .feed").first
    expect(row).to_contain_text("paused")
    expect(row.get_by_role("button", name="Resume")).to_be_visible()
    screenshot(page, "web-feed")
