"""The editor's agreement dashboard in real Chromium, on a real worker when CI has one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_editor_runs_agreement_and_sees_the_figures(page, demo, celery_worker):
    log_in(page, "editor")
    page.goto(f"/collections/{demo.collection_id}/")
    page.get_by_role("link", name="Reviewer agreement").click()
    expect(page.get_by_role("heading", name="Reviewer agreement")).to_be_visible()
    expect(page.locator("#run-status")).to_contain_text("No agreement has been computed")

    page.get_by_role("button", name="Run agreement now").click()
    # On a worker the run is followed by a progress bar, then the page reloads.
    expect(page.get_by_text("Verdicts", exact=True)).to_be_visible(timeout=30_000)
    expect(page.locator(".headline")).to_contain_text("α = 0.000")
    expect(page.locator(".headline")).to_contain_text("α undefined")
    expect(page.locator(".headline")).to_contain_text("no pairable units")
    expect(page.get_by_role("img", name="Cohen's kappa per pair")).to_be_visible()
    expect(
        page.get_by_role("img", name="Verdict confusion matrix (pooled over pairs)")
    ).to_be_visible()
    articles = page.get_by_role("table").last
    expect(articles).to_contain_text(demo.title)
    screenshot(page, "agreement-dashboard")

    articles.get_by_role("link", name=demo.title).click()
    expect(page.locator("#claim-list .claim-item")).to_have_count(7)
