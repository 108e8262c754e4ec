"""A reviewer's day in the reader, in real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from annotations.models import Assignment, ClaimAnnotation, Source
from annotations.newsrooms.services import collection_ensure, member_create
from annotations.reader.services import assignment_ensure
from tests.browser.conftest import drag_select, log_in, screenshot
from tests.factories import ArticleFactory

pytestmark = pytest.mark.browser


def open_demo(page, demo):
    page.goto(f"/articles/{demo.pk}/")
    expect(page.locator("#reader-text")).to_be_visible()


def test_reviewer_marks_a_claim_with_a_source_and_it_survives_a_reload(page, demo):
    # reviewer1 starts this article afresh (the demo gave them claims already).
    ClaimAnnotation.objects.filter(reviewer__username="reviewer1").delete()
    log_in(page, "reviewer1")
    open_demo(page, demo)

    drag_select(page, "reposition its forces")
    form = page.locator("#claim-form")
    expect(form).to_be_visible()
    expect(form.locator("#selected-quote")).to_have_text("reposition its forces")
    form.get_by_role("radio", name="Misleading", exact=True).check()
    form.get_by_label("Note").fill("Words, not a withdrawal.")
    form.get_by_role("button", name="+ Add a source").click()
    form.locator("input[name=source_url]").fill("https://acleddata.example/walikale")
    form.locator("input[name=source_title]").fill("ACLED: fighting continues near Walikale")
    form.locator("select[name=source_stance]").select_option("refutes")
    form.get_by_role("button", name=re.compile("^Save")).click()

    expect(form).to_be_hidden()
    claim = ClaimAnnotation.objects.get(reviewer__username="reviewer1")
    assert claim.quote == "reposition its forces"
    assert demo.text[claim.start : claim.end] == "reposition its forces"
    assert claim.verdict.slug == "misleading"
    assert Source.objects.get(claim=claim).stance == "refutes"
    highlight = page.locator(f'mark[data-c~="{claim.pk}"]')
    expect(highlight).to_have_text("reposition its forces")
    expect(page.locator("#claim-list")).to_contain_text("reposition its forces")
    screenshot(page, "reader-after-save")

    page.reload()
    expect(page.locator(f'mark[data-c~="{claim.pk}"]')).to_have_text("reposition its forces")
    expect(page.locator("#claim-list .claim-item")).to_have_count(1)


def test_a_second_reviewer_does_not_see_it_while_blind(new_page, demo):
    first = new_page()
    log_in(first, "reviewer1")
    open_demo(first, demo)
    own = ClaimAnnotation.objects.get(
        reviewer__username="reviewer1", quote="M23 rebels, backed by Rwanda"
    )
    expect(first.locator(f'mark[data-c~="{own.pk}"]')).to_have_count(1)

    second = new_page()
    log_in(second, "reviewer2")
    open_demo(second, demo)
    expect(second.locator(f'mark[data-c~="{own.pk}"]')).to_have_count(0)
    expect(second.locator("#claim-list")).not_to_contain_text("backed by Rwanda")
    expect(second.locator("#claim-list")).to_contain_text("within 400 km")
    # Not through the edit URL either.
    response = second.request.get(f"/claims/{own.pk}/edit/")
    assert response.status == 404


def test_a_claim_can_be_made_with_the_keyboard_alone(page, demo):
    log_in(page, "reviewer2")
    open_demo(page, demo)
    page.locator("#reader-text").focus()
    # v selects the first word ("M23"); two words on is "backed"; extend by two.
    page.keyboard.press("v")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Enter")
    form = page.locator("#claim-form")
    expect(form).to_be_visible()
    expect(form.locator("#selected-quote")).to_have_text("backed by Rwanda")
    page.keyboard.press("5")  # the fifth verdict: True
    expect(form.get_by_role("radio", name="True", exact=True)).to_be_checked()
    page.keyboard.press("Control+Enter")
    expect(form).to_be_hidden()
    claim = ClaimAnnotation.objects.get(reviewer__username="reviewer2", quote="backed by Rwanda")
    assert claim.verdict.slug == "true"
    expect(page.locator(f'mark[data-c~="{claim.pk}"]')).to_have_text("backed by Rwanda")


def test_overlapping_claims_both_show(page, demo):
    log_in(page, "reviewer1")
    open_demo(page, demo)
    existing = ClaimAnnotation.objects.get(
        reviewer__username="reviewer1", quote="reposition its forces"
    )
    # A longer claim that starts inside the existing one and runs past it.
    drag_select(page, "its forces” from Walikale")
    page.locator("#claim-form").get_by_role("radio", name="Mixed", exact=True).check()
    page.locator("#claim-form").get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator("#claim-form")).to_be_hidden()
    overlapping = ClaimAnnotation.objects.get(
        reviewer__username="reviewer1", quote="its forces” from Walikale"
    )
    both = page.locator(f'mark[data-c~="{existing.pk}"][data-c~="{overlapping.pk}"]')
    expect(both).to_have_text("its forces")
    expect(page.locator(f'mark[data-c="{overlapping.pk}"]')).to_have_text("” from Walikale")
    screenshot(page, "reader-overlap")


def test_a_rejected_save_keeps_what_was_typed(page, demo):
    log_in(page, "reviewer2")
    open_demo(page, demo)
    drag_select(page, "Kisangani, Congo’s fourth-largest city")
    form = page.locator("#claim-form")
    form.get_by_role("radio", name="True", exact=True).check()
    form.get_by_label("Note").fill("Population figures from the 2020 estimate.")
    form.get_by_role("button", name="+ Add a source").click()
    form.locator("input[name=source_url]").fill("javascript:alert(document.cookie)")
    form.locator("input[name=source_title]").fill("Suspicious link")
    form.locator("select[name=source_stance]").select_option("supports")
    form.get_by_role("button", name=re.compile("^Save")).click()

    expect(form.locator(".error")).to_contain_text("is not an http(s) address")
    expect(form).to_be_visible()
    expect(form.get_by_label("Note")).to_have_value("Population figures from the 2020 estimate.")
    expect(form.locator("input[name=source_url]")).to_have_value(
        "javascript:alert(document.cookie)"
    )
    expect(form.get_by_role("radio", name="True", exact=True)).to_be_checked()
    assert not ClaimAnnotation.objects.filter(quote__startswith="Kisangani").exists()

    form.locator("input[name=source_url]").fill("https://citypopulation.example/kisangani")
    form.get_by_role("button", name=re.compile("^Save")).click()
    expect(form).to_be_hidden()
    assert (
        ClaimAnnotation.objects.get(quote="Kisangani, Congo’s fourth-largest city").sources.count()
        == 1
    )


def test_delete_can_be_undone(page, demo):
    log_in(page, "reviewer2")
    open_demo(page, demo)
    claim = ClaimAnnotation.objects.get(reviewer__username="reviewer2", quote="give peace a chance")
    page.locator(f"#item-{claim.pk}").get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.locator(f"#item-{claim.pk}")).to_have_count(0)
    expect(page.locator(f'mark[data-c~="{claim.pk}"]')).to_have_count(0)
    page.locator("#status").get_by_role("button", name="Undo").click()
    expect(page.locator(f"#item-{claim.pk}")).to_be_visible()
    expect(page.locator(f'mark[data-c~="{claim.pk}"]')).to_have_text("give peace a chance")
    assert ClaimAnnotation.objects.filter(pk=claim.pk).exists()


def test_offsets_are_exact_around_emoji_and_in_right_to_left_text(page, demo):
    planet = demo.organization
    desk, _ = collection_ensure(organization=planet, slug="mixed-scripts")
    reviewer = member_create(
        organization=planet, username="reviewer1", role="reviewer"
    ).membership.user
    emoji = ArticleFactory(
        collection=desk,
        url="https://news.example/emoji",
        text="Crowds 🎉🎉 cheered. Thérèse said the 🚙 convoy reached Kisangani on Friday.",
    )
    hebrew = ArticleFactory(
        collection=desk,
        url="https://news.example/he",
        language="he",
        text="הממשלה הודיעה כי הכוחות ייסוגו מהעיר עד יום שישי.",
    )
    for article in (emoji, hebrew):
        assignment_ensure(article=article, reviewer=reviewer)
    log_in(page, "reviewer1")

    page.goto(f"/articles/{emoji.pk}/")
    drag_select(page, "convoy reached Kisangani")
    page.locator("#claim-form").get_by_role("radio", name="True", exact=True).check()
    page.locator("#claim-form").get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator("#claim-form")).to_be_hidden()
    claim = ClaimAnnotation.objects.get(article=emoji)
    assert claim.quote == "convoy reached Kisangani"
    assert emoji.text[claim.start : claim.end] == claim.quote

    page.goto(f"/articles/{hebrew.pk}/")
    expect(page.locator("#reader-text")).to_have_attribute("dir", "rtl")
    drag_select(page, "הכוחות ייסוגו")
    page.locator("#claim-form").get_by_role("radio", name="Unverifiable", exact=True).check()
    page.locator("#claim-form").get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator("#claim-form")).to_be_hidden()
    claim = ClaimAnnotation.objects.get(article=hebrew)
    assert claim.quote == "הכוחות ייסוגו"
    screenshot(page, "reader-rtl")


def test_submitting_with_claims_to_check_asks_first(page, demo):
    log_in(page, "reviewer1")
    open_demo(page, demo)
    page.get_by_role("button", name="Submit my review").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("1 claim(s) are still to check")
    dialog.get_by_role("button", name="Submit anyway").click()
    expect(page.locator(".assignment-bar")).to_contain_text("Submitted")
    assert Assignment.objects.get(reviewer__username="reviewer1").status == "submitted"
    # Blind review has lifted: reviewer2's claims show now.
    expect(page.locator("#claim-list")).to_contain_text("within 400 km")


def test_shortcuts_and_claim_navigation(page, demo):
    log_in(page, "reviewer1")
    open_demo(page, demo)
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("n")
    expect(page.locator(".claim-item.current")).to_contain_text("M23 rebels, backed by Rwanda")
    page.keyboard.press("n")
    expect(page.locator(".claim-item.current")).to_contain_text("reposition its forces")
    page.keyboard.press("e")
    form = page.locator("#claim-form")
    expect(form.locator(".form-title")).to_have_text("Edit claim")
    expect(form.get_by_role("radio", name="Misleading", exact=True)).to_be_checked()
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()


def test_the_page_reads_without_javascript(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    log_in(page, "editor")
    open_demo(page, demo)
    expect(page.locator("#claim-list .claim-item")).to_have_count(7)
    expect(page.locator("mark").first).to_be_visible()
    screenshot(page, "reader-editor-no-js")
    context.close()


def test_the_form_stops_adding_source_rows_at_the_limit_and_says_why(page, demo):
    ClaimAnnotation.objects.filter(reviewer__username="reviewer1").delete()
    log_in(page, "reviewer1")
    open_demo(page, demo)
    drag_select(page, "reposition its forces")
    form = page.locator("#claim-form")
    add = form.get_by_role("button", name="+ Add a source")
    for _ in range(20):
        add.click()
    expect(form.locator(".source-rows .source-row")).to_have_count(20)
    expect(add).to_be_hidden()
    expect(form.get_by_text("A claim has at most 20 sources.")).to_be_visible()
    form.locator(".remove-source").first.click()
    expect(add).to_be_visible()


def test_a_source_says_its_stance_and_the_form_stays_beside_the_selection(page, demo):
    # The new user's path: every source silently "supported"; a rejected save
    # jumped the form below the article; a 552 px row cut its error off in a
    # 418 px form.
    ClaimAnnotation.objects.filter(reviewer__username="reviewer1").delete()
    log_in(page, "reviewer1")
    for width in (320, 1400):
        page.set_viewport_size({"width": width, "height": 900})
        open_demo(page, demo)
        drag_select(page, "reposition its forces")
        form = page.locator("#claim-form")
        top = "e => e.getBoundingClientRect().top + window.scrollY"
        placed = form.evaluate(top)
        form.get_by_role("button", name="+ Add a source").click()
        expect(form.locator("select[name=source_stance]")).to_have_value("")
        form.locator("input[name=source_url]").fill("https://acleddata.example/" + "walikale-" * 12)
        form.get_by_role("button", name=re.compile("^Save")).click()
        error = form.locator(".source-row .error")
        expect(error).to_contain_text("Choose whether it supports, refutes or gives context")
        # Still where it was, beside the selection, and nothing wider than the form.
        assert abs(form.evaluate(top) - placed) < 2
        row, box = form.locator(".source-row").bounding_box(), form.bounding_box()
        assert row["x"] + row["width"] <= box["x"] + box["width"] + 1
        assert error.evaluate("e => e.scrollWidth <= e.clientWidth")
        screenshot(page, f"claim-form-{width}px")
    assert not ClaimAnnotation.objects.filter(reviewer__username="reviewer1").exists()


def test_selecting_a_passage_already_marked_says_so_at_once(page, demo):
    log_in(page, "reviewer1")
    open_demo(page, demo)
    mine = ClaimAnnotation.objects.filter(reviewer__username="reviewer1").first()
    drag_select(page, mine.quote)
    alert = page.locator("#claim-form .form-alert")
    expect(alert).to_contain_text("You already marked exactly this passage")
    alert.get_by_role("link", name="edit that claim").click()
    expect(page.locator(f"#item-{mine.pk}")).to_have_class(re.compile(r"\bcurrent\b"))


def test_the_claim_list_says_how_many_sources_each_claim_has(page, demo):
    log_in(page, "reviewer1")
    open_demo(page, demo)
    for claim in ClaimAnnotation.objects.filter(reviewer__username="reviewer1"):
        n = claim.sources.count()
        said = "no source" if n == 0 else f"{n} source{'s' if n > 1 else ''}"
        expect(page.locator(f"#item-{claim.pk} .claim-meta")).to_contain_text(said)


def test_an_arabic_paragraph_in_an_english_article_reads_right_to_left(page, demo):
    planet = demo.organization
    desk, _ = collection_ensure(organization=planet, slug="mixed-directions")
    reviewer = member_create(
        organization=planet, username="reviewer1", role="reviewer"
    ).membership.user
    article = ArticleFactory(
        collection=desk,
        url="https://news.example/mixed",
        language="en",
        text=(
            "The ministry issued a statement in Arabic on Friday.\n"
            "قالت الوزارة إن القوات ستنسحب من المدينة يوم الجمعة.\n"
            "Observers doubted it."
        ),
    )
    assignment_ensure(article=article, reviewer=reviewer)
    log_in(page, "reviewer1")
    page.goto(f"/articles/{article.pk}/")
    arabic = page.locator("#reader-text p", has_text="قالت الوزارة")
    expect(arabic).to_have_attribute("dir", "rtl")
    expect(page.locator("#reader-text p", has_text="Observers")).to_have_attribute("dir", "ltr")
    # Right to left: the sentence starts at the right edge, its full stop at the left.
    box = arabic.bounding_box()
    first = arabic.evaluate(
        """p => { const r = document.createRange(); const t = p.querySelector('span').firstChild;
                  r.setStart(t, 0); r.setEnd(t, 1); return r.getBoundingClientRect().right; }"""
    )
    assert first > box["x"] + box["width"] / 2
    screenshot(page, "reader-mixed-directions")
    drag_select(page, "القوات ستنسحب")
    page.locator("#claim-form").get_by_role("radio", name="Unverifiable", exact=True).check()
    page.locator("#claim-form").get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator("#claim-form")).to_be_hidden()
    claim = ClaimAnnotation.objects.get(article=article)
    assert claim.quote == "القوات ستنسحب"
    assert article.text[claim.start : claim.end] == claim.quote
