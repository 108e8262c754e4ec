"""Hostile markup in articles, notes and sources never runs, in real Chromium.

An article imported from HTML full of scripts and event handlers, a reviewer's
note and a source title that try to break out of their element and attribute,
and a verified claim, published and corrected, that carries them on: every page
that shows them, and the report file, is opened and must neither set
`window.__pwned` nor open a dialog. bob is the editor, alice the reviewer.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from annotations.core.inputs import SourceInput
from annotations.exports import reports
from annotations.importing.services import articles_import
from annotations.models import (
    Article,
    Organization,
    Role,
    VerdictLabel,
    VerifiedClaim,
)
from annotations.newsrooms.services import collection_ensure, member_create, organization_create
from annotations.reader.services import assignment_ensure, claim_create
from annotations.verification import services as verification
from tests.browser.conftest import log_in, screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SCRIPT = "<script>window.__pwned=1</script>"
BREAKOUT = '"><img src=x onerror="window.__pwned=1">'
HOSTILE_PAGE = f"""<html><head><title>Hostile page</title>
<script>window.__pwned = 1; alert("head")</script></head>
<body onload="window.__pwned=1"><article><h1>Hostile page</h1>
<p>The minister said the army would withdraw before Friday.{SCRIPT}</p>
<p>Rebels said they wanted to give peace a chance.
<img src=x onerror="window.__pwned=1;alert(2)"></p>
<p><svg onload="window.__pwned=1;alert(3)"></svg>Observers saw no withdrawal.
<a href="javascript:window.__pwned=1;alert(4)">Read more</a>
<iframe src="javascript:window.__pwned=1"></iframe></p>
</article></body></html>"""


@pytest.fixture
def hostile(transactional_db) -> VerifiedClaim:
    newsroom: Organization = organization_create(slug="planet", name="Daily Planet")
    for name, role in (("alice", Role.REVIEWER), ("bob", Role.EDITOR)):
        member_create(organization=newsroom, username=name, role=role, password=PASSWORD)
    desk, _ = collection_ensure(organization=newsroom, slug="politics")
    desk.min_sources = 1
    desk.save(update_fields=["min_sources"])
    report = articles_import(collection=desk, files=[("hostile.html", HOSTILE_PAGE.encode())])
    assert report.errors == []
    article = Article.objects.get()
    alice = newsroom.memberships.get(user__username="alice").user
    bob = newsroom.memberships.get(user__username="bob").user
    assignment_ensure(article=article, reviewer=alice)
    phrase = "give peace a chance"
    start = article.text.index(phrase)
    hostile_source = SourceInput(
        url="https://source.example/report", title=f"{SCRIPT}{BREAKOUT}", quote=BREAKOUT
    )
    annotation = claim_create(
        article=article,
        reviewer=alice,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        verdict=VerdictLabel.objects.get(taxonomy=desk.taxonomy, slug="misleading"),
        rating=None,
        note=f"{SCRIPT} {BREAKOUT}",
        sources=[hostile_source],
    )
    judgement = verification.Judgement(
        start=start,
        end=start + len(phrase),
        claim_reviewed=f"Rebels {SCRIPT} want peace {BREAKOUT}",
        verdict=annotation.verdict,
        summary=f"{SCRIPT}{BREAKOUT}",
        claimant=BREAKOUT,
        sources=[hostile_source],
        annotation_ids=[annotation.pk],
    )
    claim = verification.verified_claim_save(article=article, editor=bob, judgement=judgement)
    claim = verification.verified_publish(claim=claim, editor=bob, confirm_open_reviews=True)
    return verification.verified_correct(
        claim=claim, editor=bob, note=f"Corrected {SCRIPT} {BREAKOUT}", judgement=judgement
    )


def assert_nothing_ran(page, url: str, dialogs: list[str]) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.__pwned") == "undefined", url
    assert dialogs == [], url


def test_hostile_markup_shows_as_text_and_never_runs(page, hostile, tmp_path):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    article = hostile.article

    log_in(page, "alice", PASSWORD)
    assert_nothing_ran(page, f"/articles/{article.pk}/", dialogs)
    # The note is in the claim list as the text it is.
    expect(page.get_by_role("complementary", name="My claims")).to_contain_text(SCRIPT)
    page.context.clear_cookies()

    log_in(page, "bob", PASSWORD)
    for url in (
        f"/articles/{article.pk}/",
        f"/articles/{article.pk}/adjudicate/",
        f"/verified/{hostile.pk}/",
        f"/newsrooms/planet/claims/{hostile.pk}/",
        "/newsrooms/planet/corrections/",
    ):
        assert_nothing_ran(page, url, dialogs)
        if url != f"/articles/{article.pk}/":
            expect(page.locator("main")).to_contain_text("window.__pwned=1")
    screenshot(page, "hostile-corrections")
    page.context.clear_cookies()
    # The public pages, as anyone sees them.
    assert_nothing_ran(page, f"/newsrooms/planet/claims/{hostile.pk}/", dialogs)
    expect(page.locator("main")).to_contain_text(BREAKOUT)

    # The report's HTML file, opened from disk as someone who downloaded it would.
    html = reports.render_report_html(
        organization=hostile.organization,
        collection=article.collection,
        claims=VerifiedClaim.objects.select_related("verdict", "article").prefetch_related(
            "sources"
        ),
        generated_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    assert_nothing_ran(page, path.as_uri(), dialogs)
    expect(page.locator("body")).to_contain_text("window.__pwned=1")
