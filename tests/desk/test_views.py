from __future__ import annotations

from django.urls import reverse

from annotations.models import Assignment, ClaimAnnotation
from annotations.reader.services import assignment_ensure, claim_create
from tests.conftest import demo_login, login
from tests.html import claim_quotes, paragraphs


def test_the_login_page_renders_and_logs_a_demo_reviewer_in(client, demo):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content
    response = client.post(
        reverse("login"), {"username": "reviewer1", "password": "walikale-reviewer1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "My queue" in response.text
    assert demo.title in response.text


def test_a_wrong_password_is_told_not_let_in(client, demo):
    response = client.post(reverse("login"), {"username": "reviewer1", "password": "guess"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_pages_need_a_login(client, demo):
    response = client.get(reverse("article-reader", args=[demo.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_demo_article_reads_as_paragraphs(client, demo):
    response = demo_login(client, "reviewer1").get(reverse("article-reader", args=[demo.pk]))
    assert response.status_code == 200
    text = paragraphs(response.text)
    assert text[0].startswith("M23 rebels, backed by Rwanda")
    assert any(p.startswith("The situation on the ground remains fluid.") for p in text)
    assert "\n".join(text) == demo.text.replace("\n\n", "\n")


def test_a_reviewer_sees_only_their_own_claims_while_blind(client, demo):
    response = demo_login(client, "reviewer2").get(reverse("article-reader", args=[demo.pk]))
    quotes = claim_quotes(response.text)
    assert "within 400 km (250 miles) of Kisangani" in quotes  # reviewer2's own
    assert "M23 rebels, backed by Rwanda" not in quotes  # reviewer1's
    assert "M23 rebels, backed by Rwanda" not in response.text.split("My claims")[1]


def test_a_reviewer_sees_everyones_claims_after_submitting(client, demo):
    Assignment.objects.filter(reviewer__username="reviewer2").update(status="submitted")
    response = demo_login(client, "reviewer2").get(reverse("article-reader", args=[demo.pk]))
    assert "M23 rebels, backed by Rwanda" in claim_quotes(response.text)


def test_the_editor_sees_every_reviewers_claims(client, demo):
    response = demo_login(client, "editor").get(reverse("article-reader", args=[demo.pk]))
    quotes = claim_quotes(response.text)
    assert "M23 rebels, backed by Rwanda" in quotes
    assert "within 400 km (250 miles) of Kisangani" in quotes


def test_it_hides_other_newsrooms_articles(client, demo, eve):
    # Eve is at the Rival Gazette: the demo article does not exist for her.
    response = login(client, eve).get(reverse("article-reader", args=[demo.pk]))
    assert response.status_code == 404
    assert demo.title not in response.text
    assert demo.title not in login(client, eve).get(reverse("home")).text


def test_the_editor_can_use_the_admin(client, demo):
    client = demo_login(client, "editor")
    assert client.get(reverse("admin:index")).status_code == 200
    listing = client.get(reverse("admin:annotations_claimannotation_changelist"))
    assert listing.status_code == 200
    assert "reposition its forces" in listing.text
    claim = ClaimAnnotation.objects.filter(article=demo).first()
    assert (
        client.get(reverse("admin:annotations_claimannotation_change", args=[claim.pk])).status_code
        == 200
    )


def test_the_admin_shows_a_staff_user_only_their_own_newsroom(
    client, demo, gazette, eve, article, alice
):
    # Eve runs her newsroom's admin; nothing of the Daily Planet or the demo shows.
    from annotations.models import Membership

    Membership.objects.filter(user=eve).update(role="admin")
    eve.is_staff = True
    eve.save()
    from django.contrib.auth.models import Permission

    eve.user_permissions.set(Permission.objects.filter(content_type__app_label="annotations"))
    client = login(client, eve)
    articles = client.get(reverse("admin:annotations_article_changelist"))
    assert articles.status_code == 200
    assert demo.title not in articles.text
    assert article.title not in articles.text
    assert (
        client.get(reverse("admin:annotations_article_change", args=[demo.pk])).status_code == 302
    )


def test_a_reviewer_queue_counts_their_claims(client, article, alice):
    assignment_ensure(article=article, reviewer=alice)
    phrase = "give peace a chance"
    start = article.text.index(phrase)
    claim_create(
        article=article,
        reviewer=alice,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        verdict=None,
        rating=None,
    )
    response = login(client, alice).get(reverse("home"))
    row = response.text.split(article.title)[1].split("</tr>")[0]
    assert "In progress" in row
    assert "<td>1</td>" in row
