"""The Content-Security-Policy in real Chromium: every page works under it and
the browser reports no violation, while the editor and a reviewer do their work.

The `page` fixture (conftest.py) fails any browser test whose page the
policy refused something on; the tests here walk every kind of page."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from annotations.models import ClaimAnnotation, VerifiedClaim, VerifiedStatus
from tests.browser.conftest import drag_select, log_in, screenshot
from tests.site.test_security import POLICY

pytestmark = pytest.mark.browser


def visit(page, url: str):
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, url
    assert response.headers["content-security-policy"] == POLICY, url
    page.wait_for_load_state("networkidle")
    return response


def test_the_editors_pages_run_under_the_policy_without_a_violation(page, demo, worker_media):
    call_command(
        "compute_agreement",
        "--org",
        "demo",
        "--collection",
        demo.collection.slug,
        stdout=StringIO(),
    )
    log_in(page, "editor")
    visit(page, "/")
    visit(page, f"/collections/{demo.collection_id}/")
    visit(page, f"/collections/{demo.collection_id}/agreement/")
    # The server-drawn charts are there, and drawn (their colours are attributes).
    chart = page.get_by_role("img", name="Cohen's kappa per pair")
    expect(chart).to_be_visible()
    assert chart.locator("rect").count() > 0
    visit(page, f"/collections/{demo.collection_id}/adjudication/")
    visit(page, f"/articles/{demo.pk}/adjudicate/")
    expect(page.locator("section.unit").first).to_be_visible()
    claim = VerifiedClaim.objects.filter(article=demo, status=VerifiedStatus.PUBLISHED).first()
    assert claim is not None
    visit(page, f"/verified/{claim.pk}/")
    visit(page, f"/articles/{demo.pk}/")
    expect(page.locator("#reader-text mark").first).to_be_visible()

    # An export, started and polled through htmx, is swapped in without a violation.
    visit(page, "/newsrooms/demo/exports/")
    page.get_by_label("Format").select_option("csv")
    page.get_by_role("button", name="Start the export").click()
    expect(
        page.locator(".export-job").first.get_by_role("link", name=re.compile("^Download "))
    ).to_be_visible(timeout=30_000)
    screenshot(page, "csp-exports")
    visit(page, "/newsrooms/demo/corrections/")
    visit(page, f"/newsrooms/demo/claims/{claim.pk}/")


def test_the_admins_pages_run_under_the_policy_without_a_violation(page, demo):
    log_in(page, "admin")
    visit(page, "/newsrooms/demo/api-keys/")
    visit(page, "/newsrooms/demo/webhooks/")


def test_a_reviewer_highlights_a_claim_under_the_policy(page, demo):
    ClaimAnnotation.objects.filter(reviewer__username="reviewer1").delete()
    log_in(page, "reviewer1")
    visit(page, f"/articles/{demo.pk}/")

    drag_select(page, "reposition its forces")
    form = page.locator("#claim-form")
    expect(form).to_be_visible()
    expect(form.locator("#selected-quote")).to_have_text("reposition its forces")
    form.get_by_role("radio", name="Misleading", exact=True).check()
    form.get_by_role("button", name=re.compile("^Save")).click()

    expect(form).to_be_hidden()
    claim = ClaimAnnotation.objects.get(reviewer__username="reviewer1")
    mark = page.locator(f'mark[data-c~="{claim.pk}"]')
    expect(mark).to_have_text("reposition its forces")
    # The verdict's colour reached the highlight from the taxonomy's stylesheet.
    colour = mark.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour not in ("", "transparent", "rgba(0, 0, 0, 0)")
    screenshot(page, "csp-reader-highlight")


def test_the_violation_watch_does_catch_an_inline_script(new_page, demo):
    # The policy does block, and the tests would see it: an inline script
    # added to a page is refused and reported.
    page = new_page()
    log_in(page, "reviewer1")
    visit(page, "/")
    page.evaluate(
        """() => { const s = document.createElement("script");
        s.textContent = "window.ran = true"; document.body.append(s); }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.ran === undefined")
    assert any("script-src" in line for line in page.csp_violations), page.csp_violations
