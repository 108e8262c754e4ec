"""Pages load nothing from outside the workbench: a newsroom behind a strict
firewall (or offline on a train) gets the same pages, and the browser logs no
refusal or missing file."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def watch_requests(page, live_server):
    """Every request the page makes that leaves the server, and every 404."""
    ours = urlsplit(live_server.url).netloc
    outside: list[str] = []
    missing: list[str] = []

    def on_request(request):
        address = urlsplit(request.url)
        if address.scheme in ("http", "https") and address.netloc != ours:
            outside.append(request.url)

    def on_response(response):
        if response.status == 404:
            missing.append(response.url)

    page.on("request", on_request)
    page.on("response", on_response)
    return outside, missing


def test_the_api_documentation_loads_nothing_from_outside(page, demo, live_server):
    outside, missing = watch_requests(page, live_server)
    log_in(page, "editor")

    page.goto("/api/v1/redoc/")
    # Redoc has drawn the schema: the title and an operation are on the page.
    expect(page.get_by_role("heading", name="Fact-check Workbench API")).to_be_visible()
    expect(page.get_by_text("API docs by Redocly")).to_be_visible()
    page.wait_for_load_state("networkidle")

    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Fact-check Workbench API")
    page.wait_for_load_state("networkidle")

    assert outside == []
    assert missing == []


def test_every_page_has_an_icon_and_no_request_misses(page, demo, live_server):
    outside, missing = watch_requests(page, live_server)
    log_in(page, "editor")
    page.goto("/")
    page.wait_for_load_state("networkidle")
    icon = page.locator('link[rel="icon"]')
    href = icon.get_attribute("href")
    assert href
    assert page.request.get(href).status == 200
    # Pages without the link (the admin, the API's JSON) get it at /favicon.ico.
    assert page.request.get("/favicon.ico").status == 200
    page.goto("/admin/")
    page.wait_for_load_state("networkidle")
    assert outside == []
    assert missing == []
