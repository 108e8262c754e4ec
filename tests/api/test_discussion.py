"""The discussion and the notifications through the members' API: the browser's rules.

The demo article is under blind review: reviewer1 and reviewer2 are assigned
and have not submitted; the editor is not assigned. A partner's key
(read:claims) reaches none of it, and another newsroom's member finds nothing.
"""

from __future__ import annotations

from annotations.models import ClaimAnnotation, Comment
from annotations.newsrooms.services import member_create, organization_create
from tests.api.conftest import key_for, keyed

READ_WRITE = "read:annotations,write:annotations"
THREADS = "/api/v1/threads/"
NOTIFICATIONS = "/api/v1/notifications/"


def client_of(username: str, scopes: str = READ_WRITE, org: str = "demo"):
    return keyed(key_for(username, scopes, org))


def own_claim(username: str = "reviewer1") -> ClaimAnnotation:
    claim = ClaimAnnotation.objects.filter(reviewer__username=username).order_by("start").first()
    assert claim is not None
    return claim


def start(client, target: str, body: str, **extra):
    return client.post(THREADS, {"target": target, "body": body, **extra}, format="json")


def bodies(document: dict) -> list[str]:
    return [c["body"] for t in document["results"] for c in t["comments"]]


def test_a_reviewers_thread_reaches_the_editor_and_not_the_other_reviewer(demo):
    claim = own_claim()
    one, two, editor = client_of("reviewer1"), client_of("reviewer2"), client_of("editor")
    made = start(one, f"claim-{claim.pk}", "Is this right, @editor?")
    assert made.status_code == 201, made.content
    thread = made.json()
    assert (thread["about"], thread["claim"]) == ("claim", claim.pk)
    assert 'class="mention">@editor<' in thread["comments"][0]["html"]

    assert "Is this right, @editor?" in bodies(editor.get(THREADS, {"article": demo.pk}).json())
    assert bodies(two.get(THREADS, {"article": demo.pk}).json()) == []
    assert two.get(f"{THREADS}{thread['id']}/").status_code == 404
    reply = two.post(f"{THREADS}{thread['id']}/comments/", {"body": "peek"}, format="json")
    assert reply.status_code == 404
    comment = thread["comments"][0]["id"]
    assert two.get(f"/api/v1/comments/{comment}/").status_code == 404

    [note] = editor.get(NOTIFICATIONS).json()["results"]
    assert note["kind"] == "mention"
    assert note["read_at"] is None
    assert note["url"].endswith(f"#comment-{comment}")
    # (The demo's published claims wait in reviewer2's inbox for their submission.)
    assert two.get(NOTIFICATIONS).json()["results"] == []
    read = editor.post(f"{NOTIFICATIONS}{note['id']}/read/")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert editor.get(NOTIFICATIONS, {"unread": "true"}).json()["results"] == []


def test_an_editor_requests_changes_and_the_reviewer_marks_them_done(demo):
    claim = own_claim()
    one, editor = client_of("reviewer1"), client_of("editor")
    asked = editor.post(
        "/api/v1/change-requests/",
        {"annotation": claim.pk, "body": "Add ACLED's report."},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    thread = asked.json()
    assert thread["change_request"]["status"] == "open"
    again = editor.post(
        "/api/v1/change-requests/", {"annotation": claim.pk, "body": "Again"}, format="json"
    )
    assert again.status_code == 409
    # A reviewer cannot send a claim back: a matter of role; another reviewer's claim,
    # hidden by blind review, is not found.
    refused = one.post(
        "/api/v1/change-requests/",
        {"annotation": own_claim("reviewer1").pk, "body": "Redo"},
        format="json",
    )
    assert refused.status_code == 403
    assert "Only editors" in refused.json()["detail"]
    hidden = one.post(
        "/api/v1/change-requests/",
        {"annotation": own_claim("reviewer2").pk, "body": "Redo"},
        format="json",
    )
    assert hidden.status_code == 404

    kinds = [n["kind"] for n in one.get(NOTIFICATIONS).json()["results"]]
    assert "change_request" in kinds
    done = one.post(f"{THREADS}{thread['id']}/resolve/", {"body": "Added."}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["change_request"]["status"] == "done"
    assert done.json()["resolved_by"] == "reviewer1"
    told = editor.get(NOTIFICATIONS).json()["results"]
    assert [n["kind"] for n in told][:1] == ["change_done"]
    # A resolved thread takes no reply until it is reopened.
    late = one.post(f"{THREADS}{thread['id']}/comments/", {"body": "PS"}, format="json")
    assert late.status_code == 409
    assert editor.post(f"{THREADS}{thread['id']}/reopen/").json()["change_request"]["status"] == (
        "open"
    )
    marked = editor.post(f"{NOTIFICATIONS}read/").json()["marked"]
    assert marked >= 1
    assert editor.get(NOTIFICATIONS, {"unread": "true"}).json()["results"] == []


def test_only_the_author_edits_a_comment_and_history_keeps_each_version(demo):
    one, editor = client_of("reviewer1"), client_of("editor")
    thread = start(one, f"claim-{own_claim().pk}", "Frist draft").json()
    comment = thread["comments"][0]["id"]
    url = f"/api/v1/comments/{comment}/"
    assert editor.patch(url, {"body": "Hijacked"}, format="json").status_code == 403
    changed = one.patch(url, {"body": "First draft"}, format="json")
    assert changed.status_code == 200
    assert changed.json()["edited_at"] is not None
    assert [h.body for h in Comment.objects.get(pk=comment).history.order_by("history_date")] == [
        "Frist draft",
        "First draft",
    ]
    assert editor.delete(url).status_code == 403
    assert one.delete(url).status_code == 204
    gone = editor.get(f"{THREADS}{thread['id']}/").json()["comments"][0]
    assert gone["body"] == ""
    assert gone["deleted_at"] is not None
    assert one.patch(url, {"body": "Back"}, format="json").status_code == 409


def test_partners_and_other_newsrooms_reach_no_discussion(demo):
    thread = start(client_of("editor"), f"article-{demo.pk}", "Desk only.").json()
    partner = keyed(key_for("editor"))  # read:claims, as partners hold
    for url in (f"{THREADS}?article={demo.pk}", f"{THREADS}{thread['id']}/", NOTIFICATIONS):
        assert partner.get(url).status_code == 403, url
    assert partner.post(THREADS, {"target": f"article-{demo.pk}", "body": "x"}).status_code == 403

    rival = organization_create(slug="rival", name="Rival Gazette")
    member_create(organization=rival, username="eve", role="editor")
    eve = client_of("eve", org="rival")
    assert eve.get(f"{THREADS}{thread['id']}/").status_code == 404
    assert eve.get(THREADS, {"article": demo.pk}).status_code == 404
    assert eve.post(f"{THREADS}{thread['id']}/resolve/").status_code == 404
    assert start(eve, f"article-{demo.pk}", "Ours now").status_code == 404
    assert "Desk only." not in eve.get(NOTIFICATIONS).content.decode()
