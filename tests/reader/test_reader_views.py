"""The reader through the Django test client: what a reviewer or editor gets back
for each click, with and without htmx."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from annotations.core.inputs import SourceInput
from annotations.models import Assignment, AssignmentStatus, ClaimAnnotation, Source
from annotations.newsrooms.services import collection_ensure
from annotations.reader import services
from annotations.reader.services import assignment_ensure
from tests.conftest import login
from tests.factories import ArticleFactory
from tests.html import claim_quotes, paragraphs

HTMX = {"HX-Request": "true"}


# Reading what came back ----------------------------------------------------------------


class _Elements(HTMLParser):
    """Every element's tag and attributes, and the text of each `mark`."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.marks: list[tuple[dict[str, str | None], str]] = []
        self._mark: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "mark":
            self._mark = dict(attrs)
            self.marks.append((self._mark, ""))

    def handle_endtag(self, tag):
        if tag == "mark":
            self._mark = None

    def handle_data(self, data):
        if self._mark is not None:
            attrs, text = self.marks[-1]
            self.marks[-1] = (attrs, text + data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def highlights(html: str) -> dict[int, str]:
    """Claim id → the text highlighted for it, its segments joined."""
    found: dict[int, str] = {}
    for attrs, text in _parse(html).marks:
        for claim_id in map(int, (attrs.get("data-c") or "").split()):
            found[claim_id] = found.get(claim_id, "") + text
    return found


def mark_classes(html: str, claim_id: int) -> list[str]:
    return [
        attrs.get("class") or ""
        for attrs, _ in _parse(html).marks
        if str(claim_id) in (attrs.get("data-c") or "").split()
    ]


def oob_paragraphs(html: str) -> list[int]:
    """Indexes of the paragraphs sent to be swapped out of band."""
    return [
        int(attrs["data-p"] or "")
        for tag, attrs in _parse(html).elements
        if tag == "p" and "data-p" in attrs and attrs.get("hx-swap-oob")
    ]


def sends_claim_list_out_of_band(html: str) -> bool:
    return any(
        attrs.get("id") == "claim-list" and attrs.get("hx-swap-oob")
        for _, attrs in _parse(html).elements
    )


def posts_to(html: str, url: str) -> bool:
    """Whether a button or form on the page posts to `url`, with or without htmx."""
    return any(
        url in (attrs.get("hx-post"), attrs.get("action") if tag == "form" else None)
        for tag, attrs in _parse(html).elements
    )


def claim_form(html: str) -> dict[str, str | None]:
    return next(
        a for tag, a in _parse(html).elements if tag == "form" and a.get("id") == "claim-form"
    )


class _Form(HTMLParser):
    """The values a person sees in the claim form: inputs, checked radios,
    selected options and the note."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_template = 0

    def _add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._in_template += 1
        if self._in_template:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in {"radio", "checkbox"}:
                if "checked" in a:
                    self._add(a["name"], a.get("value") or "")
            else:
                self._add(a["name"], a.get("value") or "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value") or "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._add(self._textarea or "", "")

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and not self._in_template:
            self.values[self._textarea][-1] += data


def form_values(html: str) -> dict[str, list[str]]:
    """What the claim form shows, by field name; the note is stripped of the leading newline."""
    start = html.index('id="claim-form"')
    end = html.index("</form>", start)
    parser = _Form()
    parser.feed(html[start:end])
    values = parser.values
    if "note" in values:
        values["note"] = [v.removeprefix("\n") for v in values["note"]]
    return values


def form_errors(html: str) -> str:
    """The text of every error shown, unescaped."""
    return " ".join(
        unescape(re.sub(r"<[^>]+>", "", e))
        for e in re.findall(r'class="error"[^>]*>(.*?)</(?:div|p|span)>', html, re.S)
    )


# People, places and claims ---------------------------------------------------------------


def verdict(article, slug: str):
    return article.collection.taxonomy.labels.get(slug=slug)


def mark(article, reviewer, phrase: str, **judgement):
    start = article.text.index(phrase)
    judgement.setdefault("verdict", None)
    judgement.setdefault("rating", None)
    return services.claim_create(
        article=article,
        reviewer=reviewer,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        **judgement,
    )


def claim_post(article, phrase: str, *, quote: str | None = None, **fields) -> dict:
    """The POST the reader's form sends for a selection of `phrase`."""
    start = article.text.index(phrase)
    data = {
        "start": start,
        "end": start + len(phrase),
        "quote": phrase if quote is None else quote,
        "verdict": "",
        "rating": "",
        "note": "",
        "source_url": [],
        "source_title": [],
        "source_quote": [],
        "source_stance": [],
    }
    data.update(fields)
    return data


def as_user(user) -> Client:
    return login(Client(), user)


@pytest.fixture
def alices(article, alice) -> Assignment:
    return assignment_ensure(article=article, reviewer=alice)


@pytest.fixture
def carols(article, carol) -> Assignment:
    return assignment_ensure(article=article, reviewer=carol)


@pytest.fixture
def claim(article, alice, alices) -> ClaimAnnotation:
    return mark(
        article,
        alice,
        "reposition its forces",
        verdict=verdict(article, "misleading"),
        rating=2,
        note="Words, not deeds.",
        sources=[SourceInput(url="https://un.example/report", title="UN report", stance="refutes")],
    )


def reader_url(article) -> str:
    return reverse("article-reader", args=[article.pk])


# Reading -----------------------------------------------------------------------------


def test_the_reader_draws_each_claim_as_a_highlight_and_lists_them_in_reading_order(
    article, alice, claim
):
    unchecked = mark(article, alice, "give peace a chance")
    page = as_user(alice).get(reader_url(article))
    assert page.status_code == 200
    assert highlights(page.text) == {
        claim.pk: "reposition its forces",
        unchecked.pk: "give peace a chance",
    }
    assert f"v{claim.verdict_id}" in mark_classes(page.text, claim.pk)[0]
    assert "todo" in mark_classes(page.text, unchecked.pk)[0]  # "to check" is drawn dashed
    assert claim_quotes(page.text) == ["reposition its forces", "give peace a chance"]
    assert "Words, not deeds." in page.text
    assert "\n".join(paragraphs(page.text)) == article.text


def test_an_emoji_and_curly_quotes_are_highlighted_exactly(article, alice, alices):
    claim = mark(article, alice, "a “long” way 🚙")
    page = as_user(alice).get(reader_url(article))
    assert highlights(page.text)[claim.pk] == "a “long” way 🚙"


# Marking a claim -----------------------------------------------------------------------


def test_saving_a_claim_with_htmx_swaps_its_paragraph_and_the_claim_list(article, alice, alices):
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(
            article,
            "give peace a chance",
            verdict=verdict(article, "unverifiable").pk,
            note="Said on radio.",
            source_url=["https://radio.example/interview"],
            source_title=["Radio interview"],
            source_quote=["we want peace"],
            source_stance=["supports"],
        ),
        headers=HTMX,
    )
    assert response.status_code == 200
    claim = ClaimAnnotation.objects.get()
    assert (claim.quote, claim.verdict.slug, claim.note) == (
        "give peace a chance",
        "unverifiable",
        "Said on radio.",
    )
    assert [(s.url, s.title, s.quote, s.stance) for s in claim.sources.all()] == [
        ("https://radio.example/interview", "Radio interview", "we want peace", "supports")
    ]
    # Only the touched paragraph comes back, to be swapped in place.
    assert oob_paragraphs(response.text) == [1]
    assert highlights(response.text) == {claim.pk: "give peace a chance"}
    assert sends_claim_list_out_of_band(response.text)
    assert claim_quotes(response.text) == ["give peace a chance"]
    assert "Saved “give peace a chance”." in response.text
    # The form comes back closed and empty, ready for the next claim.
    assert "closed" in (claim_form(response.text).get("class") or "").split()
    assert form_values(response.text)["note"] == [""]


def test_a_claim_across_two_paragraphs_swaps_both(article, alice, alices):
    phrase = "before Friday.\nRebels said"
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]), claim_post(article, phrase), headers=HTMX
    )
    assert response.status_code == 200
    claim = ClaimAnnotation.objects.get()
    assert oob_paragraphs(response.text) == [0, 1]
    assert highlights(response.text)[claim.pk] == "before Friday.Rebels said"


def test_saving_a_claim_without_javascript_redirects_to_it(article, alice, alices):
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]), claim_post(article, "give peace a chance")
    )
    claim = ClaimAnnotation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reader_url(article)}#c{claim.pk}"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        pytest.param(
            {"quote": "withdraw its forces"},
            "is “reposition its forces”, not “withdraw its forces”.",
            id="quote-not-at-offsets",
        ),
        pytest.param(
            {"source_url": ["javascript:alert(1)"]},
            "'javascript:alert(1)' is not an http(s) address.",
            id="javascript-source",
        ),
        pytest.param(
            {"rating": "9"},
            "Select a valid choice. 9 is not one of the available choices.",
            id="rating-out-of-range",
        ),
    ],
)
def test_a_rejected_save_shows_the_error_in_the_form_and_keeps_what_was_typed(
    article, alice, alices, fields, error
):
    typed = {
        "note": "Ministry denied it <b>twice</b> & more.",
        "verdict": str(verdict(article, "false").pk),
        "source_url": ["https://ministry.example/statement"],
        "source_title": ["Ministry statement"],
        "source_quote": ["no redeployment"],
        "source_stance": ["refutes"],
    }
    typed.update(fields)
    data = claim_post(article, "reposition its forces", **typed)
    if "quote" in fields:
        data["quote"] = fields["quote"]

    response = as_user(alice).post(reverse("claim-create", args=[article.pk]), data, headers=HTMX)

    assert response.status_code == 422
    assert error in form_errors(response.text)
    shown = form_values(response.text)
    assert shown["note"] == ["Ministry denied it <b>twice</b> & more."]
    assert shown["verdict"] == [typed["verdict"]]
    assert shown["source_url"] == typed["source_url"]
    assert shown["source_title"] == ["Ministry statement"]
    assert shown["source_quote"] == ["no redeployment"]
    assert shown["source_stance"] == ["refutes"]
    assert "<b>twice</b>" not in response.text  # typed text is escaped, never markup
    assert not ClaimAnnotation.all_objects.exists()
    assert not Source.objects.exists()


def test_a_form_with_thousands_of_source_rows_says_so_in_the_form_and_keeps_it(
    article, alice, alices
):
    # The hostile test sent 10,000 rows: a bare "Bad Request (400)" replaced nothing
    # and said nothing. Now the message goes into the form's alert, and the form
    # itself (what was typed) is left as it is.
    rows = 10_000
    data = claim_post(
        article,
        "reposition its forces",
        source_url=[f"https://s{i}.example/" for i in range(rows)],
        source_title=["t"] * rows,
        source_quote=["q"] * rows,
        source_stance=["refutes"] * rows,
    )
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]), data, headers=HTMX | {"HX-Target": "claim-form"}
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#claim-form .form-alert"
    assert response["HX-Reswap"] == "innerHTML"
    assert "nothing was saved" in response.text
    assert "at most 20 sources" in response.text
    assert not ClaimAnnotation.all_objects.exists()
    # Without htmx, a page that says the same.
    plain = as_user(alice).post(reverse("claim-create", args=[article.pk]), data)
    assert plain.status_code == 400
    assert "nothing was saved" in plain.content.decode()


def test_the_claim_form_offers_no_more_source_rows_than_a_claim_may_hold(article, alice, alices):
    page = as_user(alice).get(reader_url(article)).text
    assert 'data-max="20"' in page
    assert "A claim has at most 20 sources." in page


def test_a_reviewer_not_assigned_cannot_mark_claims(article, carol):
    response = as_user(carol).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "give peace a chance", note="Sneaky."),
        headers=HTMX,
    )
    assert response.status_code == 403
    assert "You are not assigned to this article." in form_errors(response.text)
    assert not ClaimAnnotation.all_objects.exists()


def test_a_reviewer_who_submitted_cannot_mark_claims(article, alice, alices):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    response = as_user(alice).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "give peace a chance"),
        headers=HTMX,
    )
    assert response.status_code == 403
    assert "ask an editor to reopen it" in form_errors(response.text)
    assert not ClaimAnnotation.all_objects.exists()


def test_another_newsrooms_reviewer_cannot_mark_claims_on_our_articles(article, eve):
    response = as_user(eve).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "give peace a chance"),
        headers=HTMX,
    )
    assert response.status_code == 404
    assert article.title not in response.text
    assert not ClaimAnnotation.all_objects.exists()


# Editing, deleting, undoing -----------------------------------------------------------


def test_edit_opens_the_form_filled_with_the_claim(article, alice, claim):
    response = as_user(alice).get(reverse("claim-edit", args=[claim.pk]), headers=HTMX)
    assert response.status_code == 200
    assert "Edit claim" in response.text
    assert claim_form(response.text)["hx-post"] == reverse("claim-update", args=[claim.pk])
    shown = form_values(response.text)
    assert shown["quote"] == ["reposition its forces"]
    assert shown["version"] == ["1"]
    assert shown["verdict"] == [str(claim.verdict_id)]
    assert shown["rating"] == ["2"]
    assert shown["note"] == ["Words, not deeds."]
    assert shown["source_url"] == ["https://un.example/report"]
    assert shown["source_title"] == ["UN report"]
    assert shown["source_stance"] == ["refutes"]


def test_updating_a_claim_with_htmx_redraws_it(article, alice, claim):
    response = as_user(alice).post(
        reverse("claim-update", args=[claim.pk]),
        claim_post(
            article,
            "reposition its forces",
            version="1",
            verdict=str(verdict(article, "false").pk),
            rating="1",
            note="Satellite images show no movement.",
        ),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Claim updated." in response.text
    assert f"v{verdict(article, 'false').pk}" in mark_classes(response.text, claim.pk)[0]
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.verdict.slug, stored.rating, stored.note) == (
        2,
        "false",
        1,
        "Satellite images show no movement.",
    )
    assert not stored.sources.exists()  # the form sent no source rows: removed


@pytest.mark.parametrize("who", ["carol", "bob", "eve"])
@pytest.mark.parametrize("action", ["edit", "update", "delete", "restore"])
def test_someone_elses_claim_answers_404_to_every_claim_url(request, article, claim, who, action):
    client = as_user(request.getfixturevalue(who))
    if action == "restore":
        services.claim_delete(claim=claim, user=claim.reviewer)
    url = reverse(f"claim-{action}", args=[claim.pk])
    if action == "edit":
        response = client.get(url, headers=HTMX)
    else:
        response = client.post(
            url,
            claim_post(article, "reposition its forces", version="1", note="Hijacked."),
            headers=HTMX,
        )
    assert response.status_code == 404
    assert "Words, not deeds." not in response.text
    stored = ClaimAnnotation.all_objects.get(pk=claim.pk)
    assert stored.note == "Words, not deeds."
    assert (stored.deleted_at is not None) == (action == "restore")


def test_a_stale_update_answers_409_with_the_newer_version_and_keeps_what_was_typed(
    article, alice, claim
):
    # Another tab saved first.
    services.claim_update(
        claim=claim,
        user=alice,
        expected_version=1,
        verdict=verdict(article, "mostly-false"),
        rating=2,
        note="Checked in the other tab.",
        sources=[],
    )
    client = as_user(alice)
    mine = claim_post(
        article,
        "reposition its forces",
        version="1",
        verdict=str(verdict(article, "false").pk),
        rating="1",
        note="My own reading.",
        source_url=["https://mine.example/"],
        source_title=["Mine"],
        source_quote=[""],
        source_stance=["refutes"],
    )
    response = client.post(reverse("claim-update", args=[claim.pk]), mine, headers=HTMX)

    assert response.status_code == 409
    assert "This claim changed while you were editing it" in response.text
    assert "version 2" in response.text
    assert "Mostly false" in response.text
    assert "Checked in the other tab." in response.text
    shown = form_values(response.text)
    assert shown["note"] == ["My own reading."]
    assert shown["verdict"] == [mine["verdict"]]
    assert shown["rating"] == ["1"]
    assert shown["source_url"] == ["https://mine.example/"]
    assert shown["version"] == ["2"]  # saving again knowingly replaces the newer version
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.note) == (2, "Checked in the other tab.")

    mine["version"] = shown["version"][0]
    again = client.post(reverse("claim-update", args=[claim.pk]), mine, headers=HTMX)
    assert again.status_code == 200
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.note, stored.verdict.slug) == (3, "My own reading.", "false")
    assert [s.url for s in stored.sources.all()] == ["https://mine.example/"]


def test_a_rejected_update_changes_nothing_and_keeps_what_was_typed(article, alice, claim):
    response = as_user(alice).post(
        reverse("claim-update", args=[claim.pk]),
        claim_post(
            article,
            "reposition its forces",
            version="1",
            note="Changed my mind.",
            source_url=["data:text/html,hi"],
            source_title=[""],
            source_quote=[""],
            source_stance=["context"],
        ),
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "'data:text/html,hi' is not an http(s) address." in form_errors(response.text)
    assert form_values(response.text)["note"] == ["Changed my mind."]
    stored = ClaimAnnotation.objects.get(pk=claim.pk)
    assert (stored.version, stored.note) == (1, "Words, not deeds.")
    assert [s.url for s in stored.sources.all()] == ["https://un.example/report"]


def test_delete_then_undo_through_the_reader(article, alice, claim):
    client = as_user(alice)
    deleted = client.post(reverse("claim-delete", args=[claim.pk]), headers=HTMX)
    assert deleted.status_code == 200
    assert "Claim deleted." in deleted.text
    assert posts_to(deleted.text, reverse("claim-restore", args=[claim.pk]))  # Undo
    assert oob_paragraphs(deleted.text) == [0]
    assert claim.pk not in highlights(deleted.text)
    assert claim_quotes(deleted.text) == []
    assert not ClaimAnnotation.objects.filter(pk=claim.pk).exists()
    assert claim.pk not in highlights(client.get(reader_url(article)).text)

    restored = client.post(reverse("claim-restore", args=[claim.pk]), headers=HTMX)
    assert restored.status_code == 200
    assert "Claim restored." in restored.text
    assert highlights(restored.text) == {claim.pk: "reposition its forces"}
    assert claim_quotes(restored.text) == ["reposition its forces"]
    assert ClaimAnnotation.objects.get(pk=claim.pk).note == "Words, not deeds."


def test_undo_is_refused_when_the_passage_was_marked_again_meanwhile(article, alice, claim):
    client = as_user(alice)
    client.post(reverse("claim-delete", args=[claim.pk]), headers=HTMX)
    client.post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "reposition its forces"),
        headers=HTMX,
    )
    response = client.post(reverse("claim-restore", args=[claim.pk]), headers=HTMX)
    assert response.status_code == 409
    assert "You already marked exactly this passage" in unescape(response.text)
    assert claim_quotes(client.get(reader_url(article)).text) == ["reposition its forces"]
    assert not ClaimAnnotation.objects.filter(pk=claim.pk).exists()


def test_delete_without_javascript_goes_back_to_the_reader_with_a_message(article, alice, claim):
    response = as_user(alice).post(reverse("claim-delete", args=[claim.pk]), follow=True)
    assert response.redirect_chain == [(reader_url(article), 302)]
    assert "Claim deleted." in response.text
    assert claim_quotes(response.text) == []


def test_a_claim_cannot_be_deleted_after_submitting(article, alice, alices, claim):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    response = as_user(alice).post(reverse("claim-delete", args=[claim.pk]), headers=HTMX)
    assert response.status_code == 409
    assert "ask an editor to reopen it" in response.text
    assert ClaimAnnotation.objects.filter(pk=claim.pk).exists()


# Submitting and blind review ----------------------------------------------------------


def test_submitting_with_claims_to_check_asks_first_then_submits(article, alice, alices):
    mark(article, alice, "give peace a chance")
    client = as_user(alice)
    url = reverse("assignment-submit", args=[article.pk])

    asked = client.post(url, headers=HTMX)
    assert asked.status_code == 422
    assert "1 claim(s) are still to check. Submit anyway?" in asked.text
    assert "Submit anyway" in asked.text
    assert 'name="confirm" value="1"' in asked.text
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.IN_PROGRESS

    done = client.post(url, {"confirm": "1"}, headers=HTMX)
    assert done.status_code == 200
    assert done["HX-Redirect"] == reader_url(article)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED
    page = client.get(reader_url(article))
    assert "Submitted. You can now see the other reviewers' claims." in unescape(page.text)
    assert "Submit my review" not in page.text


def test_submitting_without_javascript_redirects_to_the_reader(article, alice, alices, claim):
    response = as_user(alice).post(reverse("assignment-submit", args=[article.pk]))
    assert response.status_code == 302
    assert response["Location"] == reader_url(article)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED


def test_only_an_assigned_reviewer_can_submit(article, carol):
    response = as_user(carol).post(
        reverse("assignment-submit", args=[article.pk]), {"confirm": "1"}
    )
    assert response.status_code == 404
    assert not Assignment.objects.filter(status=AssignmentStatus.SUBMITTED).exists()


def test_under_blind_review_a_reviewer_sees_others_claims_only_after_submitting(
    article, alice, carol, alices, carols
):
    own = mark(article, alice, "give peace a chance", verdict=verdict(article, "true"))
    theirs = mark(article, carol, "reposition its forces", note="Carol's private note.")
    client = as_user(alice)

    blind = client.get(reader_url(article)).text
    assert claim_quotes(blind) == ["give peace a chance"]
    assert set(highlights(blind)) == {own.pk}
    assert "Carol's private note." not in unescape(blind)
    assert "Blind review" in blind

    client.post(reverse("assignment-submit", args=[article.pk]))
    seeing = client.get(reader_url(article)).text
    assert claim_quotes(seeing) == ["reposition its forces", "give peace a chance"]
    assert set(highlights(seeing)) == {own.pk, theirs.pk}
    assert "Carol's private note." in unescape(seeing)
    # Carol has not submitted: she still sees only her own.
    assert claim_quotes(as_user(carol).get(reader_url(article)).text) == ["reposition its forces"]


def test_without_blind_review_reviewers_see_each_others_claims_at_once(
    desk, article, alice, carol, alices, carols
):
    desk.blind_review = False
    desk.save()
    mark(article, carol, "reposition its forces")
    page = as_user(alice).get(reader_url(article)).text
    assert claim_quotes(page) == ["reposition its forces"]


# Reopening -------------------------------------------------------------------------


def test_an_editor_reopens_a_submitted_review_from_the_reader(article, alice, alices, bob):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    editor = as_user(bob)
    page = editor.get(reader_url(article)).text
    reopen = reverse("assignment-reopen", args=[alices.pk])
    assert posts_to(page, reopen)

    response = editor.post(reopen, follow=True)
    assert response.redirect_chain == [(reader_url(article), 302)]
    assert "Reopened alice's review." in unescape(response.text)
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.ASSIGNED
    # And alice can mark claims again.
    again = as_user(alice).post(
        reverse("claim-create", args=[article.pk]),
        claim_post(article, "give peace a chance"),
        headers=HTMX,
    )
    assert again.status_code == 200


def test_a_reviewer_cannot_reopen_a_review(article, alice, alices, carol):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    for reviewer in (alice, carol):
        response = as_user(reviewer).post(reverse("assignment-reopen", args=[alices.pk]))
        assert response.status_code == 403
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED


def test_another_newsroom_cannot_reopen_our_reviews(article, alice, alices, eve):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    response = as_user(eve).post(reverse("assignment-reopen", args=[alices.pk]))
    assert response.status_code == 404
    alices.refresh_from_db()
    assert alices.status == AssignmentStatus.SUBMITTED


def test_reopening_never_redirects_off_site(article, alice, alices, bob):
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=False)
    response = as_user(bob).post(
        reverse("assignment-reopen", args=[alices.pk]), {"next": "//evil.example/phish"}
    )
    assert response.status_code == 302
    assert response["Location"] == reader_url(article)


# Verdict colours --------------------------------------------------------------------


def test_the_verdict_colours_are_served_as_css(article, alice):
    taxonomy = article.collection.taxonomy
    response = as_user(alice).get(reverse("taxonomy-css", args=[taxonomy.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    false = taxonomy.labels.get(slug="false")
    misleading = taxonomy.labels.get(slug="misleading")
    assert f".v{false.pk}{{--c:#c0392b}}" in response.text
    assert f".v{misleading.pk}{{--c:#8e44ad}}" in response.text
    assert len(response.text.splitlines()) == 7


def test_another_newsrooms_verdict_colours_are_a_404(article, eve):
    response = as_user(eve).get(reverse("taxonomy-css", args=[article.collection.taxonomy_id]))
    assert response.status_code == 404


# Query count ------------------------------------------------------------------------


def article_with_claims(collection, count: int, reviewers):
    words = [f"w{i:04d}" for i in range(count + 20)]
    text = "\n".join(" ".join(words[i : i + 10]) for i in range(0, len(words), 10))
    article = ArticleFactory(collection=collection, text=text, title=f"{count} claims")
    for reviewer in reviewers:
        assignment_ensure(article=article, reviewer=reviewer)
    labels = [*collection.taxonomy.labels.all(), None]
    claims = []
    for i in range(count):
        start = text.index(words[i])
        end = start + len(words[i]) + (6 if i % 3 == 0 else 0)  # some overlap the next word
        claims.append(
            ClaimAnnotation(
                article=article,
                reviewer=reviewers[i % len(reviewers)],
                start=start,
                end=end,
                quote=text[start:end],
                verdict=labels[i % len(labels)],
            )
        )
    ClaimAnnotation.objects.bulk_create(claims)
    return article


def test_the_reader_costs_the_same_few_queries_for_10_or_200_claims(
    planet, alice, carol, bob, django_assert_max_num_queries
):
    collection, _ = collection_ensure(organization=planet, slug="busy")
    small = article_with_claims(collection, 10, [alice, carol])
    large = article_with_claims(collection, 200, [alice, carol])
    client = as_user(bob)
    counts = []
    for article, expected in ((small, 10), (large, 200)):
        # The reader's own 8, the header's unread count (one on every page), and the
        # discussion panel's threads with their poll stamp (what the user may see of
        # the threads, and of the comments): 12, whatever the claims.
        with django_assert_max_num_queries(12) as captured:
            page = client.get(reader_url(article))
        assert page.status_code == 200
        assert len(highlights(page.text)) == expected
        assert len(claim_quotes(page.text)) == expected
        counts.append(len(captured))
    assert counts[0] == counts[1]
