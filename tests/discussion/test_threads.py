"""Threads on claims and articles in the browser: who sees them, who is told, what is refused.

alice and carol review the Daily Planet's article blind; bob is its editor;
eve, at the Rival Gazette, gets a 404 for anything of theirs.
"""

from __future__ import annotations

import re

from django.urls import reverse

from annotations.discussion import services
from annotations.models import (
    Activity,
    ActivityKind,
    Assignment,
    AssignmentStatus,
    ChangeRequest,
    ChangeRequestStatus,
    Comment,
    Notification,
    NotificationKind,
    Thread,
)
from tests.discussion.conftest import client_for, htmx, submit


def start(user, article, body, claim=None, **extra):
    return services.thread_start(user=user, article=article, claim=claim, body=body, **extra)


def reader(client, article) -> str:
    return client.get(reverse("article-reader", args=[article.pk])).content.decode()


def test_a_reviewer_comments_on_their_claim_and_the_mentioned_editor_is_told(
    article, reviewing, alice, bob
):
    page = htmx(
        client_for(alice),
        reverse("discussion", args=[article.pk]),
        {"target": f"claim-{reviewing['alice'].pk}", "body": "Is this a withdrawal, @bob?"},
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert 'class="mention">@bob</span>' in text
    assert "reposition its forces" in text  # the thread names its claim

    note = Notification.objects.get(recipient=bob)
    assert note.kind == NotificationKind.MENTION
    assert "alice mentioned you" in note.text
    assert "withdrawal" in note.text
    # bob sees it counted in the header, on any page, and in the reader's side panel.
    editor = client_for(bob)
    home = editor.get(reverse("home")).content.decode()
    assert re.search(r'class="badge inbox-count">1<', home)
    assert "Is this a withdrawal" in reader(editor, article)


def test_a_reviewers_thread_is_hidden_from_another_reviewer_until_both_have_submitted(
    article, reviewing, alice, carol
):
    outcome = start(alice, article, "My doubts about this one.", claim=reviewing["alice"])
    thread = outcome.comment.thread
    other = client_for(carol)
    assert "My doubts" not in reader(other, article)
    polled = other.get(reverse("discussion", args=[article.pk])).content.decode()
    assert "My doubts" not in polled
    assert (
        other.get(reverse("thread-detail", args=[thread.pk]), HTTP_HX_REQUEST="true").status_code
        == 404
    )
    assert (
        other.get(
            reverse("comment-detail", args=[outcome.comment.pk]), HTTP_HX_REQUEST="true"
        ).status_code
        == 404
    )
    refused = htmx(other, reverse("comment-create", args=[thread.pk]), {"body": "peek"})
    assert refused.status_code == 404

    # carol submitting is not enough: alice's thread waits for alice's own submission.
    submit(article, carol)
    assert "My doubts" not in reader(other, article)
    submit(article, alice)
    assert "My doubts" in reader(other, article)


def test_an_article_thread_shows_a_blind_reviewer_the_desks_comments_not_the_others(
    article, reviewing, alice, carol, bob
):
    thread = start(bob, article, "Desk: check the minister's quote first.").comment.thread
    services.comment_post(user=alice, thread=thread, body="I think Friday is wrong.")
    services.comment_post(user=carol, thread=thread, body="Carol was here.")
    page = reader(client_for(carol), article)
    assert "check the minister" in page
    assert "Carol was here" in page
    assert "Friday is wrong" not in page
    # The editor sees everyone's.
    desk = reader(client_for(bob), article)
    assert "Friday is wrong" in desk
    assert "Carol was here" in desk


def test_an_editor_requests_changes_and_the_submitted_review_comes_back_to_the_queue(
    article, reviewing, alice, bob
):
    submit(article, alice)
    page = htmx(
        client_for(bob),
        reverse("discussion", args=[article.pk]),
        {
            "target": f"claim-{reviewing['alice'].pk}",
            "body": "Add the ACLED source, please.",
            "request_changes": "1",
        },
    )
    assert page.status_code == 200
    assert "Changes requested by bob" in page.content.decode()
    assignment = Assignment.objects.get(article=article, reviewer=alice)
    assert assignment.status != AssignmentStatus.SUBMITTED
    assert Notification.objects.get(recipient=alice).kind == NotificationKind.CHANGE_REQUEST

    queue = client_for(alice).get(reverse("home")).content.decode()
    assert "Requests for changes" in queue
    assert "reposition its forces" in queue.split("Requests for changes", 1)[1]
    assert "Claims you sent back" in client_for(bob).get(reverse("home")).content.decode()


def test_the_reviewer_marks_the_request_done_and_the_editor_who_asked_is_told(
    article, reviewing, alice, bob
):
    thread = start(
        bob, article, "Add a source.", claim=reviewing["alice"], request_changes=True
    ).comment.thread
    page = htmx(
        client_for(alice),
        reverse("thread-resolve", args=[thread.pk]),
        {"body": "Added ACLED's report."},
    )
    assert page.status_code == 200
    assert "Changes done" in page.content.decode()
    request = ChangeRequest.objects.get(thread=thread)
    assert request.status == ChangeRequestStatus.DONE
    assert request.done_by == alice
    # Told once, with alice's last words: not once for the words and again for "done".
    done = Notification.objects.get(recipient=bob)
    assert done.kind == NotificationKind.CHANGE_DONE
    assert "alice marked done" in done.text
    assert "Added ACLED's report." in done.text
    assert "Requests for changes" not in client_for(alice).get(reverse("home")).content.decode()
    assert Comment.objects.filter(thread=thread, body="Added ACLED's report.").exists()


def test_a_reviewer_cannot_request_changes_and_is_told_why(article, reviewing, alice, carol):
    submit(article, carol)
    submit(article, alice)
    page = htmx(
        client_for(carol),
        reverse("discussion", args=[article.pk]),
        {"target": f"claim-{reviewing['alice'].pk}", "body": "Redo it", "request_changes": "1"},
    )
    assert page.status_code == 422
    assert page["HX-Retarget"] == "#new-thread-errors"
    assert "Only editors can send a claim back" in page.content.decode()
    assert not Thread.objects.exists()


def test_a_claim_has_one_open_request_for_changes(article, reviewing, bob):
    start(bob, article, "First.", claim=reviewing["alice"], request_changes=True)
    page = htmx(
        client_for(bob),
        reverse("discussion", args=[article.pk]),
        {
            "target": f"claim-{reviewing['alice'].pk}",
            "body": "Second.",
            "request_changes": "1",
            "form_id": "new-thread-reader",
        },
    )
    assert page.status_code == 422
    assert page["HX-Retarget"] == "#new-thread-reader-errors"
    assert "already has an open request for changes" in page.content.decode()
    assert ChangeRequest.objects.count() == 1


def test_an_empty_comment_is_refused_with_a_message_in_the_form(article, reviewing, alice):
    page = htmx(
        client_for(alice),
        reverse("discussion", args=[article.pk]),
        {"target": "article", "body": "   "},
    )
    assert page.status_code == 422
    assert "Write a comment first." in page.content.decode()


def test_only_its_author_edits_a_comment_and_its_history_keeps_the_words(
    article, reviewing, alice, bob
):
    comment = start(alice, article, "Frist thought.", claim=reviewing["alice"]).comment
    assert client_for(bob).get(reverse("comment-edit", args=[comment.pk])).status_code == 404
    page = htmx(
        client_for(alice), reverse("comment-edit", args=[comment.pk]), {"body": "First thought."}
    )
    assert page.status_code == 200
    assert page["HX-Retarget"] == f"#thread-{comment.thread_id}"
    comment.refresh_from_db()
    assert comment.body == "First thought."
    assert comment.edited_at is not None
    assert [h.body for h in comment.history.order_by("history_date")] == [
        "Frist thought.",
        "First thought.",
    ]
    history = client_for(bob).get(reverse("comment-history", args=[comment.pk])).content.decode()
    assert "Frist thought." in history


def test_a_deleted_comment_leaves_deleted_in_the_thread(article, reviewing, alice, bob):
    comment = start(alice, article, "Oops, wrong claim.", claim=reviewing["alice"]).comment
    services.comment_post(user=bob, thread=comment.thread, body="Noted.")
    page = htmx(client_for(alice), reverse("comment-delete", args=[comment.pk]))
    text = page.content.decode()
    assert "Oops" not in text
    assert "Deleted." in text
    assert "Noted." in text
    comment.refresh_from_db()
    assert comment.body == ""
    assert comment.deleted_at is not None


def test_a_resolved_thread_refuses_replies_until_it_is_reopened(article, reviewing, alice, bob):
    thread = start(bob, article, "Is the date right?").comment.thread
    htmx(client_for(bob), reverse("thread-resolve", args=[thread.pk]))
    refused = htmx(client_for(alice), reverse("comment-create", args=[thread.pk]), {"body": "Wait"})
    assert refused.status_code == 422
    assert "reopen it to reply" in refused.content.decode()
    htmx(client_for(alice), reverse("thread-reopen", args=[thread.pk]))
    assert (
        htmx(
            client_for(alice), reverse("comment-create", args=[thread.pk]), {"body": "Wait"}
        ).status_code
        == 200
    )
    kinds = list(Activity.objects.filter(thread=thread).values_list("kind", flat=True))
    assert ActivityKind.RESOLVED in kinds
    assert ActivityKind.REOPENED in kinds


def test_comment_text_keeps_links_and_emphasis_and_nothing_else(article, reviewing, alice):
    body = (
        "**Bold** and *soft*, see https://acled.example/report?a=1&b=2 "
        "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"
    )
    html = start(alice, article, body).comment.html
    assert "<strong>Bold</strong>" in html
    assert "<em>soft</em>" in html
    assert 'href="https://acled.example/report?a=1&amp;b=2"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "<script" not in html
    assert "<img" not in html
    assert "javascript:" not in html.replace("[x](javascript:alert(3))", "")
    assert "&lt;script&gt;" in html


def test_a_quote_must_be_a_passage_of_the_article(article, reviewing, alice):
    phrase = "before Friday"
    at = article.text.index(phrase)
    comment = start(
        alice, article, "This date.", quote=services.Quote(at, at + len(phrase))
    ).comment
    assert comment.quote == phrase
    page = htmx(
        client_for(alice),
        reverse("discussion", args=[article.pk]),
        {
            "target": "article",
            "body": "x",
            "quote_start": at,
            "quote_end": at + 3,
            "quote": "Friday",
        },
    )
    assert page.status_code == 422
    assert "not “Friday”" in page.content.decode()
    page = htmx(
        client_for(alice),
        reverse("discussion", args=[article.pk]),
        {"target": "article", "body": "x", "quote": "words nobody wrote"},
    )
    assert "This passage is not in the article" in page.content.decode()


def test_another_newsroom_gets_404_on_every_discussion_address(article, reviewing, alice, bob, eve):
    comment = start(alice, article, "Ours only.", claim=reviewing["alice"]).comment
    thread = comment.thread
    outsider = client_for(eve)
    for url in (
        reverse("discussion", args=[article.pk]),
        reverse("discussion-mentions", args=[article.pk]) + "?q=a",
        reverse("thread-detail", args=[thread.pk]),
        reverse("comment-detail", args=[comment.pk]),
        reverse("comment-history", args=[comment.pk]),
        reverse("comment-edit", args=[comment.pk]),
        reverse("collection-activity", args=[article.collection_id]),
    ):
        answer = outsider.get(url, HTTP_HX_REQUEST="true")
        assert answer.status_code == 404, url
        assert "Ours only" not in answer.content.decode()
    for url in (
        reverse("discussion", args=[article.pk]),
        reverse("comment-create", args=[thread.pk]),
        reverse("thread-resolve", args=[thread.pk]),
        reverse("thread-reopen", args=[thread.pk]),
        reverse("comment-delete", args=[comment.pk]),
    ):
        assert htmx(outsider, url, {"body": "x", "target": "article"}).status_code == 404, url
    assert Comment.objects.count() == 1


def test_mentioning_someone_blind_review_hides_the_thread_from_says_so(
    article, reviewing, alice, bob, carol
):
    page = htmx(
        client_for(bob),
        reverse("discussion", args=[article.pk]),
        {"target": f"claim-{reviewing['alice'].pk}", "body": "@carol what do you think?"},
    )
    assert "@carol was not notified: blind review hides this thread" in page.content.decode()
    assert not Notification.objects.filter(recipient=carol).exists()
    # Completion says so too, before anyone posts.
    thread = Thread.objects.get()
    options = (
        client_for(bob)
        .get(reverse("discussion-mentions", args=[article.pk]) + f"?q=car&thread={thread.pk}")
        .content.decode()
    )
    assert 'data-name="carol"' in options
    assert "cannot see this thread yet" in options


def test_replies_tell_the_others_in_the_thread_and_never_the_author(article, reviewing, alice, bob):
    thread = start(bob, article, "Which source?", claim=reviewing["alice"]).comment.thread
    # alice is told: the thread is on her claim.
    first = Notification.objects.get(recipient=alice)
    assert first.kind == NotificationKind.REPLY
    assert "commented on your claim" in first.text
    services.comment_post(user=alice, thread=thread, body="The ministry's statement.")
    reply = Notification.objects.get(recipient=bob)
    assert "alice replied on" in reply.text
    assert (
        not Notification.objects.filter(recipient=alice, kind=NotificationKind.REPLY)
        .exclude(pk=first.pk)
        .exists()
    )


def test_the_poll_answers_204_until_something_changes(article, reviewing, alice, bob):
    thread = start(alice, article, "One.", claim=reviewing["alice"]).comment.thread
    editor = client_for(bob)
    url = reverse("discussion", args=[article.pk])
    first = editor.get(url)
    stamp = re.search(r'data-stamp="([^"]+)"', first.content.decode()).group(1)
    assert editor.get(url, {"stamp": stamp}).status_code == 204
    services.comment_post(user=alice, thread=thread, body="Two.")
    changed = editor.get(url, {"stamp": stamp})
    assert changed.status_code == 200
    assert "Two." in changed.content.decode()


def test_the_poll_says_nothing_of_threads_blind_review_hides(article, reviewing, alice, carol):
    # Carol, reviewing blind, polls the article's discussion; Alice's thread on her own
    # claim is hidden from Carol, and so is the moment it starts.
    url = reverse("discussion", args=[article.pk])
    stamps = {}
    for user in (carol, alice):
        page = client_for(user).get(url).content.decode()
        stamps[user] = re.search(r'data-stamp="([^"]+)"', page).group(1)
    services.thread_start(
        user=alice, article=article, claim=reviewing["alice"], body="my secret reasoning"
    )
    assert client_for(carol).get(url, {"stamp": stamps[carol]}).status_code == 204
    # Alice sees her thread arrive on her own open page.
    assert client_for(alice).get(url, {"stamp": stamps[alice]}).status_code == 200


def test_a_thread_whose_every_comment_is_hidden_is_not_there_at_all(
    article, reviewing, alice, carol
):
    # Carol starts, then resolves, a thread about the article; Alice, reviewing blind,
    # may read none of it, so she is not shown that it exists, nor who started it.
    from annotations.discussion.selectors import article_threads

    out = services.thread_start(user=carol, article=article, body="The minister's quote is false.")
    services.thread_resolve(user=carol, thread=out.comment.thread)
    assert article_threads(alice, article) == []
    page = client_for(alice).get(reverse("discussion", args=[article.pk])).content.decode()
    assert "carol" not in page
    assert [tv.thread.pk for tv in article_threads(carol, article)] == [out.comment.thread.pk]


def test_a_deleted_comments_words_leave_the_inbox_and_its_email_is_not_sent(
    article, reviewing, alice, bob
):
    from annotations.models import EmailState, Notification

    bob.email = "bob@news.example"
    bob.save()
    out = services.thread_start(
        user=alice, article=article, claim=reviewing["alice"], body="@bob WORDS I REGRET"
    )
    told = Notification.objects.get(recipient=bob, comment=out.comment)
    assert told.email == EmailState.PENDING
    services.comment_delete(user=alice, comment=out.comment)
    told.refresh_from_db()
    assert "REGRET" not in told.text
    assert told.email == EmailState.SKIPPED
    inbox = client_for(bob).get(reverse("notifications")).content.decode()
    assert "REGRET" not in inbox
    assert "The comment was deleted" in inbox
