"""The editor settles the demo article's disagreement in real Chromium, publishes, corrects."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from annotations.models import Article, ClaimAnnotation, VerifiedClaim
from tests.browser.conftest import drag_select, log_in, screenshot
from tests.verification.test_similar import checked_before

pytestmark = pytest.mark.browser


@pytest.fixture
def open_demo(transactional_db) -> Article:
    """The demo newsroom with its reviewers' claims, nothing adjudicated yet."""
    call_command("demo", "--without-verdicts", stdout=StringIO())
    return Article.objects.get(organization__slug="demo")


def test_editor_merges_the_disputed_unit_publishes_it_and_corrects_it(page, open_demo):
    log_in(page, "editor")
    page.goto(f"/collections/{open_demo.collection_id}/adjudication/")
    page.get_by_role("link", name=open_demo.title).click()

    unit = page.locator("section.unit", has_text="give peace a chance")
    expect(unit.locator(".badge").first).to_have_text("Disputed")
    # Merge: reviewer2's span, reviewer1's verdict (misleading), every source.
    unit.locator("tr[data-key='2'] input[name=span_from]").check()
    unit.locator("tr[data-key='1'] input[name=verdict_from]").check()
    unit.locator("textarea[name=claim_reviewed]").fill(
        "M23 says its withdrawal is to “give peace a chance”"
    )
    unit.locator("textarea[name=summary]").fill("Advances towards Mubi continued after the pledge.")
    screenshot(page, "adjudication-unit")
    unit.get_by_role("button", name=re.compile("Save verified claim")).click()

    expect(page.get_by_text("Verified claim saved as a draft")).to_be_visible()
    unit = page.locator("section.unit", has_text="give peace a chance")
    unit.get_by_role("link", name="verified: Draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "M23 says its withdrawal is to “give peace a chance”"
    )
    expect(page.locator("header.page-head")).to_contain_text("Adjudicated")
    expect(page.locator("header.page-head .verdict")).to_have_text("Misleading")

    page.get_by_role("button", name="Publish…").click()
    # First what partners will receive: the public page and its ClaimReview; and
    # both reviewers are still reviewing, which publishing says, naming them.
    preview = page.locator("#preview")
    expect(preview.locator(".public-preview h1")).to_have_text(
        "M23 says its withdrawal is to “give peace a chance”"
    )
    expect(preview.locator("pre.jsonld")).to_contain_text('"@type": "ClaimReview"')
    expect(preview.get_by_role("alert")).to_contain_text(
        "reviewer1 and reviewer2 have not submitted a review of this article yet"
    )
    expect(page.locator("header.page-head .badge")).to_have_text("Draft")
    screenshot(page, "publish-preview")
    preview.get_by_role("button", name="Confirm: publish").click()
    expect(page.locator("header.page-head .badge")).to_have_text("Published")
    expect(page.get_by_role("link", name="its public page")).to_be_visible()

    page.get_by_label("Verdict").select_option(label="Unverifiable")
    page.get_by_label("Public note (required)").first.fill(
        "We first rated this misleading; the pledge is an intention that cannot be verified yet."
    )
    page.get_by_role("button", name="Publish correction…").click()
    expect(page.locator("#preview .public-preview")).to_contain_text("Unverifiable")
    expect(page.locator("#preview .public-preview")).to_contain_text(
        "the pledge is an intention that cannot be verified yet"
    )
    page.get_by_role("button", name="Confirm: publish the correction").click()
    expect(page.locator("header.page-head .badge")).to_have_text("Corrected")
    expect(page.locator("header.page-head .verdict")).to_have_text("Unverifiable")

    history = page.locator("#claim-history table.history")
    expect(history.locator("tbody tr")).to_have_count(3)  # created, published, corrected
    expect(history).to_contain_text("Status: Published → Corrected")
    expect(history).to_contain_text("Status: Draft → Published")
    expect(history).to_contain_text("Verdict: Misleading → Unverifiable")
    expect(history).to_contain_text("editor")
    screenshot(page, "verified-claim-history")

    page.goto("/newsrooms/demo/corrections/")
    log = page.locator("ol.corrections")
    expect(log).to_contain_text("Correction")
    expect(log).to_contain_text("the pledge is an intention that cannot be verified yet")
    expect(log).to_contain_text("now Unverifiable")
    expect(log).to_contain_text("First published")
    claim = VerifiedClaim.objects.get(article=open_demo)
    assert (claim.status, claim.verdict.slug, claim.lineage) == (
        "corrected",
        "unverifiable",
        "adjudicated",
    )


def test_the_reviewers_claim_form_reuses_a_claim_checked_before(page, open_demo):
    # The desk checked a claim like this one on an earlier article.
    checked_before(open_demo, "Rwanda backs the M23 rebels in eastern Congo", verdict="mostly-true")
    log_in(page, "reviewer2")
    page.goto(f"/articles/{open_demo.pk}/")

    drag_select(page, "M23 rebels, backed by Rwanda")
    claim_form = page.locator("#claim-form")
    expect(claim_form).to_be_visible()
    suggestion = claim_form.locator(".suggestion").first
    expect(suggestion).to_contain_text("Rwanda backs the M23 rebels in eastern Congo")
    screenshot(page, "reader-checked-before")
    suggestion.get_by_role("button", name="Use its verdict and 1 source").click()

    expect(claim_form.get_by_label("Mostly true")).to_be_checked()
    expect(claim_form.locator("[name=source_url]").last).to_have_value(
        "https://un.example/experts-2024"
    )
    claim_form.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator("#claim-list")).to_contain_text("M23 rebels, backed by Rwanda")
    saved = open_demo.claims.get(
        reviewer__username="reviewer2", quote="M23 rebels, backed by Rwanda"
    )
    assert saved.verdict.slug == "mostly-true"
    assert [s.url for s in saved.sources.all()] == ["https://un.example/experts-2024"]


def test_a_saved_merge_is_shown_as_saved_and_a_typo_fix_changes_nothing_else(page, open_demo):
    # The new user's path: reviewer2's span with reviewer1's verdict, saved; the
    # page reloaded showed the span back on reviewer1, and fixing a typo in
    # "What we found" moved the verified claim's span (its history: start 25 -> 30).
    # reviewer2 marked less of the phrase than reviewer1 did.
    second = open_demo.claims.get(reviewer__username="reviewer2", quote="give peace a chance")
    ClaimAnnotation.objects.filter(pk=second.pk).update(
        start=second.start + 5, quote="peace a chance"
    )
    log_in(page, "editor")
    page.goto(f"/articles/{open_demo.pk}/adjudicate/")
    unit = page.locator("section.unit", has_text="give peace a chance")
    # In context: the sentence around it, each reviewer's span marked by number.
    context = unit.locator(".unit-context")
    expect(context.locator("blockquote mark").first).to_be_visible()
    expect(context.locator("sup.by-who").first).to_be_visible()
    reviewed = unit.locator("textarea[name=claim_reviewed]")
    # "Claim as reviewed" follows the span chosen, until edited by hand.
    unit.locator("tr[data-key='2'] input[name=span_from]").check()
    second_quote = unit.locator("tr[data-key='2'] input[name=span_from]").get_attribute(
        "data-quote"
    )
    expect(reviewed).to_have_value(second_quote)
    unit.locator("tr[data-key='1'] input[name=verdict_from]").check()
    unit.locator("textarea[name=summary]").fill("Advances towards Mubi continued after the plegde.")
    screenshot(page, "adjudication-in-context")
    unit.get_by_role("button", name=re.compile("Save verified claim")).click()
    expect(page.get_by_text("Verified claim saved as a draft")).to_be_visible()
    saved = VerifiedClaim.objects.get(article=open_demo)
    span = (saved.start, saved.end)

    page.reload()
    unit = page.locator("section.unit", has_text="give peace a chance")
    expect(unit.locator("tr[data-key='2'] input[name=span_from]")).to_be_checked()
    expect(unit.locator("tr[data-key='1'] input[name=verdict_from]")).to_be_checked()
    unit.locator("textarea[name=summary]").fill("Advances towards Mubi continued after the pledge.")
    unit.get_by_role("button", name=re.compile("Save changes")).click()
    expect(page.get_by_text("Verified claim saved as a draft")).to_be_visible()

    saved.refresh_from_db()
    assert (saved.start, saved.end) == span
    assert saved.summary == "Advances towards Mubi continued after the pledge."
    assert saved.verdict.slug == "misleading"
    changed = [
        change.field
        for newer, older in zip(
            saved.history.order_by("-history_date"),
            saved.history.order_by("-history_date")[1:],
            strict=False,
        )
        for change in newer.diff_against(older).changes
    ]
    assert "start" not in changed
    assert "end" not in changed
