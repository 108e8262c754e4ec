"""The editor's agreement dashboard in real Chromium, on a real worker when CI has one."""

from __future__ import annotations

import re

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
    summary = page.get_by_role("region", name="In short")
    expect(summary).to_be_visible(timeout=30_000)
    # The demo: two claims both reviewers marked, one of them disputed; too few
    # to put a number on, and said in words, first.
    expect(summary).to_contain_text("Do their verdicts agree? Too few claims to say (n = 2).")
    expect(summary).to_contain_text(
        "1 claim is disputed (different verdicts) and 3 were marked by one reviewer only."
    )
    disputed = page.get_by_role("region", name="Disputed claims")
    expect(disputed).to_contain_text("give peace a chance")
    expect(disputed).to_contain_text("reviewer1: Misleading")
    expect(disputed).to_contain_text("reviewer2: Unverifiable")
    expect(page.locator(".headline")).to_contain_text("Too few claims to say (n = 2)")
    expect(page.locator(".headline")).not_to_contain_text("α = 0.000")
    screenshot(page, "agreement-dashboard")
    # Each disputed claim links to its place on the adjudication page.
    disputed.get_by_role("link", name="Adjudicate").click()
    expect(page).to_have_url(re.compile(r"/adjudicate/#claim-\d+$"))
    expect(page.locator("tr:target")).to_contain_text("give peace a chance")
    page.go_back()
    expect(page.get_by_role("img", name="Cohen's kappa per pair")).to_be_visible()
    expect(
        page.get_by_role("img", name="Verdict confusion matrix (pooled over pairs)")
    ).to_be_visible()
    articles = page.get_by_role("table").last
    expect(articles).to_contain_text(demo.title)

    articles.get_by_role("link", name=demo.title).click()
    expect(page.locator("#claim-list .claim-item")).to_have_count(7)
