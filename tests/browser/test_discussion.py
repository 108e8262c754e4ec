"""The desk's discussion in real Chromium: a mention, a reply, a request for changes and
its answer, seen by those who may see them and by nobody else.

The demo newsroom: reviewer1 and reviewer2 review the Walikale article blind
(neither has submitted), editor is the desk. The editor's email goes through
a real SMTP server the test starts.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from annotations.models import (
    Assignment,
    AssignmentStatus,
    ChangeRequest,
    ChangeRequestStatus,
    ClaimAnnotation,
    Comment,
    Notification,
)
from tests.browser.conftest import ARTIFACTS, log_in, screenshot
from tests.live_services import SmtpServer

pytestmark = pytest.mark.browser

MENTION = "Is this a withdrawal or only words?"
REPLY = "Only words: ACLED still reports fighting near Walikale."
REQUEST = "Make it Misleading → False only if ACLED confirms; add its report as a source."
DONE = "Changed the verdict; ACLED's report is cited."


@pytest.fixture
def mail(settings, tasks_in_process):
    """A real SMTP server for the live server's emails, sent as each comment commits."""
    User.objects.filter(username="editor").update(email="editor@demo.example")
    User.objects.filter(username="reviewer1").update(email="reviewer1@demo.example")
    with SmtpServer() as smtp:
        settings.MAILERS = smtp.mailers
        yield smtp


def shot(locator, name: str) -> None:
    """A picture of one part of a page (the side panel scrolls on its own)."""
    ARTIFACTS.mkdir(exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def unread_badge(page):
    return page.locator("header .inbox-count")


def test_a_mention_a_request_for_changes_and_its_answer_reach_only_who_may_see_them(
    new_page, demo, mail
):
    claim = ClaimAnnotation.objects.get(
        reviewer__username="reviewer1", quote="reposition its forces"
    )

    # reviewer1 comments on their own claim and mentions the editor, completing the name.
    # Tall windows, so that the side panel (which scrolls on its own) shows whole threads.
    reviewer = new_page((1280, 1800))
    log_in(reviewer, "reviewer1")
    reviewer.goto(f"/articles/{demo.pk}/")
    reviewer.locator(f"#item-{claim.pk}").get_by_role("button", name=re.compile("^Discuss")).click()
    panel = reviewer.locator("#discussion-reader")
    expect(panel.locator(".about-label")).to_contain_text("reposition its forces")
    area = panel.locator("#new-thread-reader-body")
    area.press_sequentially(f"{MENTION} @edi")
    expect(reviewer.locator(".mention-list")).to_contain_text("@editor")
    area.press("Enter")
    expect(area).to_have_value(f"{MENTION} @editor ")
    panel.get_by_role("button", name="Comment", exact=True).click()
    thread = panel.locator("article.thread").filter(has_text=MENTION)
    expect(thread).to_be_visible()
    expect(thread.locator(".mention")).to_have_text("@editor")
    expect(area).to_have_value("")
    comment = Comment.objects.get(body__startswith=MENTION)

    # The mention reached the editor's mailbox through SMTP, with a link to the comment.
    [email] = mail.messages_to("editor@demo.example")
    assert "reviewer1 mentioned you" in email["Subject"]
    assert (
        f"/articles/{demo.pk}/#comment-{comment.pk}"
        in email.get_body(preferencelist=("plain",)).get_content()
    )

    # The editor sees the unread count on any page, and opens the notification.
    editor = new_page((1280, 1800))
    log_in(editor, "editor")
    expect(unread_badge(editor)).to_have_text("1")
    editor.locator("header").get_by_role("link", name=re.compile("^Inbox")).click()
    note = editor.locator("li.notification.unread")
    expect(note).to_contain_text("reviewer1 mentioned you")
    screenshot(editor, "discussion-inbox")
    note.get_by_role("link").click()
    editor.wait_for_url(re.compile(rf"/articles/{demo.pk}/#comment-{comment.pk}$"))
    expect(editor.locator(f"#thread-{comment.thread_id}")).to_have_class(re.compile("flash"))
    expect(unread_badge(editor)).to_have_count(0)

    # The editor replies in the thread, then sends the claim back with a request.
    reply = editor.locator(f"#reply-{comment.thread_id}")
    reply.fill(REPLY)
    editor.locator(f"#thread-{comment.thread_id}").get_by_role("button", name="Reply").click()
    expect(editor.locator(f"#thread-{comment.thread_id}")).to_contain_text(REPLY)
    editor.locator(f"#item-{claim.pk}").get_by_role("button", name=re.compile("^Discuss")).click()
    desk = editor.locator("#discussion-reader")
    desk.locator("#new-thread-reader-body").fill(REQUEST)
    desk.get_by_role("button", name="Request changes").click()
    request_thread = desk.locator("article.thread.change-request")
    expect(request_thread).to_contain_text("Changes requested by editor")
    request = ChangeRequest.objects.get(claim=claim)
    shot(desk, "discussion-thread-editor")

    # reviewer1's open page shows the reply without a reload (the poll).
    expect(reviewer.locator(f"#thread-{comment.thread_id}")).to_contain_text(REPLY, timeout=15_000)
    [asked] = mail.messages_to("reviewer1@demo.example")
    assert "editor asked you to change your claim" in asked["Subject"]

    # reviewer1 finds the request in their queue, changes the claim and marks it done.
    reviewer.goto("/")
    queue = reviewer.locator("section.requests-for-changes")
    expect(queue).to_contain_text("reposition its forces")
    expect(queue).to_contain_text("editor")
    queue.get_by_role("link", name=re.compile("reposition its forces")).click()
    reviewer.wait_for_url(re.compile(rf"#thread-{request.thread_id}$"))
    reviewer.locator(f"#item-{claim.pk}").get_by_role("button", name=re.compile("^Edit")).click()
    form = reviewer.locator("#claim-form")
    expect(form.locator(".form-title")).to_have_text("Edit claim")
    form.get_by_role("radio", name="False", exact=True).check()
    form.get_by_role("button", name=re.compile("^Save")).click()
    expect(form).to_be_hidden()
    claim.refresh_from_db()
    assert claim.verdict.name == "False"
    mine = reviewer.locator(f"#thread-{request.thread_id}")
    mine.locator(f"#reply-{request.thread_id}").fill(DONE)
    mine.get_by_role("button", name="Mark done").click()
    expect(mine).to_contain_text("Changes done")
    expect(mine).to_contain_text(DONE)
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.DONE
    shot(reviewer.locator("#discussion-reader"), "discussion-thread-reviewer")
    reviewer.goto("/")
    expect(reviewer.locator("section.requests-for-changes")).to_have_count(0)

    # The editor is told, and the collection's activity says who did what.
    editor.goto("/")
    expect(unread_badge(editor)).to_have_text("1")
    editor.goto(f"/collections/{demo.collection_id}/activity/")
    rows = editor.locator("table.activity tbody tr")
    expect(rows.filter(has_text="requested changes")).to_have_count(1)
    expect(rows.filter(has_text="marked changes done")).to_have_count(1)
    expect(rows.filter(has_text="changed a claim")).not_to_have_count(0)
    editor.get_by_label("What").select_option("requests")
    editor.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    editor.get_by_label("What").select_option("")
    editor.get_by_role("button", name="Filter").click()
    screenshot(editor, "discussion-activity")

    # reviewer2, reviewing blind and not submitted, sees none of it anywhere.
    other = new_page()
    log_in(other, "reviewer2")
    expect(unread_badge(other)).to_have_count(0)
    expect(other.locator("section.requests-for-changes")).to_have_count(0)
    other.goto(f"/articles/{demo.pk}/")
    expect(other.locator("#discussion-reader")).to_be_visible()
    for words in (MENTION, REPLY, REQUEST, DONE):
        expect(other.locator("body")).not_to_contain_text(words)
    expect(other.locator("#discussion-reader article.thread")).to_have_count(0)
    polled = other.request.get(f"/articles/{demo.pk}/discussion/")
    assert all(words not in polled.text() for words in (MENTION, REPLY, REQUEST, DONE))
    assert other.request.get(f"/threads/{request.thread_id}/").status == 404
    other.goto("/notifications/")
    expect(other.locator("li.notification")).to_have_count(0)
    # (The demo's published claims wait in reviewer2's inbox for their submission.)
    assert not Notification.objects.filter(
        recipient__username="reviewer2", thread__isnull=False
    ).exists()
    assert (
        Assignment.objects.get(reviewer__username="reviewer2").status != AssignmentStatus.SUBMITTED
    )
    for page in (reviewer, editor, other):
        assert page.errors == []
        assert page.csp_violations == []
