"""The editors' collection page through the Django test client: progress,
pasting and uploading articles, assigning reviewers."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from annotations.models import Article, Assignment, AssignmentStatus, ImportJob, JobStatus, Role
from annotations.reader import services
from annotations.reader.services import assignment_ensure
from tests.conftest import _member, login
from tests.factories import ArticleFactory

HTMX = {"HX-Request": "true"}
needs_eager_tasks = pytest.mark.usefixtures("tasks_in_process")


def as_user(user) -> Client:
    return login(Client(), user)


def page_url(collection) -> str:
    return reverse("collection-detail", args=[collection.pk])


def messages_of(html: str) -> list[str]:
    block = re.search(r'<ul class="messages"[^>]*>(.*?)</ul>', html, re.S)
    return re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S) if block else []


def assigned(collection) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {a.title: [] for a in collection.articles.all()}
    for title, username in Assignment.objects.filter(article__collection=collection).values_list(
        "article__title", "reviewer__username"
    ):
        result[title].append(username)
    return {title: sorted(names) for title, names in result.items()}


@pytest.fixture
def dave(planet):
    return _member(planet, "dave", Role.REVIEWER)


@pytest.fixture
def media(settings, tmp_path):
    """Uploads land in a throwaway folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


# The page ---------------------------------------------------------------------------


def test_an_editor_sees_the_articles_with_who_is_assigned_and_their_progress(
    desk, article, alice, carol, bob
):
    alices = assignment_ensure(article=article, reviewer=alice)
    assignment_ensure(article=article, reviewer=carol)
    start = article.text.index("give peace a chance")
    services.claim_create(
        article=article,
        reviewer=alice,
        start=start,
        end=start + 19,
        quote="give peace a chance",
        verdict=None,
        rating=None,
    )
    services.assignment_submit(assignment=alices, user=alice, confirm_unchecked=True)

    response = as_user(bob).get(page_url(desk))
    assert response.status_code == 200
    assert "<h1>Politics desk</h1>" in response.text
    row = response.text.split(article.title)[1].split("</tr>")[0]
    assert "alice · submitted · 1" in row
    assert "carol · assigned · 0" in row
    assert "<td>1/2</td>" in row


@pytest.mark.parametrize("who", ["alice", "eve"])
def test_the_collection_page_is_a_404_for_reviewers_and_other_newsrooms(
    request, desk, article, who
):
    response = as_user(request.getfixturevalue(who)).get(page_url(desk))
    assert response.status_code == 404
    assert article.title not in response.text


# Pasting ----------------------------------------------------------------------------


def test_pasting_an_article_creates_it(desk, bob):
    response = as_user(bob).post(
        reverse("collection-paste", args=[desk.pk]),
        {
            "title": "Ceasefire talks resume",
            "url": "https://news.example/talks",
            "text": "Delegations met in Doha.\r\n\r\n"
            "Both sides said the talks were “constructive”.",
        },
        follow=True,
    )
    assert response.redirect_chain == [(page_url(desk), 302)]
    assert messages_of(response.text) == ["Created: Ceasefire talks resume."]
    article = Article.objects.get(collection=desk)
    assert (article.title, article.url) == ("Ceasefire talks resume", "https://news.example/talks")
    assert article.text == (
        "Delegations met in Doha.\n\nBoth sides said the talks were “constructive”."
    )
    assert "Ceasefire talks resume" in response.text.split("</table>")[0]


def test_a_pasted_article_takes_its_language_and_so_its_direction(desk, bob):
    as_user(bob).post(
        reverse("collection-paste", args=[desk.pk]),
        {
            "title": "بيان الوزارة",
            "url": "",
            "language": "ar",
            "text": "قالت الوزارة إن القوات ستنسحب.",
        },
    )
    article = Article.objects.get(collection=desk)
    assert (article.language, article.direction) == ("ar", "rtl")
    page = as_user(bob).get(reverse("article-reader", args=[article.pk])).text
    assert 'lang="ar" dir="rtl"' in page


def test_pasting_the_same_text_again_changes_nothing_and_says_so(desk, bob):
    client = as_user(bob)
    data = {"title": "Talks", "url": "", "text": "Delegations met in Doha."}
    first = client.post(reverse("collection-paste", args=[desk.pk]), data, follow=True)
    assert messages_of(first.text) == ["Created: Talks."]
    response = client.post(reverse("collection-paste", args=[desk.pk]), data, follow=True)
    assert messages_of(response.text) == ["Unchanged: Talks."]
    assert Article.objects.filter(collection=desk).count() == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("", "This field is required.", id="empty"),
        pytest.param(" \n\u200b\n ", "The article has no text.", id="only-blank"),
    ],
)
def test_a_paste_without_text_shows_the_error_and_creates_nothing(desk, bob, text, error):
    response = as_user(bob).post(
        reverse("collection-paste", args=[desk.pk]),
        {"title": "Nothing here", "url": "", "text": text},
    )
    assert response.status_code == 422
    assert error in response.text
    assert 'value="Nothing here"' in response.text  # the title typed is kept
    assert not Article.objects.exists()


@pytest.mark.parametrize("who", ["alice", "eve"])
def test_only_the_newsrooms_editors_can_paste(request, desk, who):
    response = as_user(request.getfixturevalue(who)).post(
        reverse("collection-paste", args=[desk.pk]),
        {"title": "Planted", "url": "", "text": "Planted text."},
    )
    assert response.status_code == 404
    assert not Article.objects.exists()


# Uploading --------------------------------------------------------------------------


def uploads(*files: tuple[str, str]) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(name, content.encode(), content_type="text/plain")
        for name, content in files
    ]


TWO_REPORTS = (
    ("report-1.txt", "Convoy reaches Goma\n\nThe convoy reached Goma on Monday."),
    ("report-2.txt", "Talks in Doha\n\nDelegations met in Doha on Tuesday."),
)


def test_an_upload_becomes_a_background_job_that_the_page_polls(
    desk, bob, media, django_capture_on_commit_callbacks
):
    # The task is queued when the upload's transaction commits; not run here.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = as_user(bob).post(
            reverse("collection-upload", args=[desk.pk]),
            {"uploads": uploads(*TWO_REPORTS)},
            headers=HTMX,
        )
    assert response.status_code == 200
    job = ImportJob.objects.get()
    assert (job.collection, job.created_by, job.total, job.status) == (
        desk,
        bob,
        2,
        JobStatus.PENDING,
    )
    assert len(callbacks) == 1
    assert all(default_storage.exists(name) for name in job.files)
    # Stored under names the workbench chose.
    assert [name.rsplit("/", 1)[-1] for name in job.files] == [
        "0000-report-1.txt",
        "0001-report-2.txt",
    ]
    assert f'hx-get="{reverse("import-job", args=[job.pk])}"' in response.text
    assert 'hx-trigger="every 1s"' in response.text
    assert "2 files · Waiting" in response.text


@needs_eager_tasks
def test_an_upload_of_two_files_is_imported_and_its_status_shows_the_counts(
    desk, bob, media, django_capture_on_commit_callbacks
):
    client = as_user(bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("collection-upload", args=[desk.pk]), {"uploads": uploads(*TWO_REPORTS)}
        )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    job.refresh_from_db()
    assert (job.status, job.processed, job.created, job.errors) == (JobStatus.DONE, 2, 2, [])
    assert sorted(Article.objects.filter(collection=desk).values_list("title", flat=True)) == [
        "Convoy reaches Goma",
        "Talks in Doha",
    ]
    assert not any(default_storage.exists(name) for name in job.files)

    status = client.get(reverse("import-job", args=[job.pk]))
    assert status.status_code == 200
    assert "2 files · Done" in status.text
    assert "2 created, 0 new versions, 0 unchanged." in status.text
    assert "hx-trigger" not in status.text  # finished: polling stops


@needs_eager_tasks
def test_a_bad_file_in_an_upload_is_listed_with_its_line_and_the_good_one_is_kept(
    desk, bob, media, django_capture_on_commit_callbacks
):
    client = as_user(bob)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("collection-upload", args=[desk.pk]),
            {
                "uploads": uploads(
                    TWO_REPORTS[0], ("broken.txt", "A title with no blank line\nand text")
                )
            },
        )
    job = ImportJob.objects.get()
    status = client.get(reverse("import-job", args=[job.pk]))
    assert "1 created, 0 new versions, 0 unchanged, 1 error." in status.text
    assert "broken.txt:2: the title must be followed by a blank line" in status.text
    assert list(Article.objects.values_list("title", flat=True)) == ["Convoy reaches Goma"]


def test_an_upload_without_files_shows_the_error_and_starts_no_job(desk, bob, media):
    response = as_user(bob).post(reverse("collection-upload", args=[desk.pk]), {})
    assert not ImportJob.objects.exists()
    assert response.status_code == 422
    assert "This field is required." in response.text


@pytest.mark.parametrize("who", ["alice", "eve"])
def test_only_the_newsrooms_editors_can_upload(request, desk, media, who):
    response = as_user(request.getfixturevalue(who)).post(
        reverse("collection-upload", args=[desk.pk]), {"uploads": uploads(TWO_REPORTS[0])}
    )
    assert response.status_code == 404
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("who", ["alice", "eve"])
def test_an_import_job_is_a_404_for_reviewers_and_other_newsrooms(request, desk, bob, who):
    job = ImportJob.objects.create(
        organization=desk.organization,
        collection=desk,
        created_by=bob,
        total=1,
        processed=1,
        status=JobStatus.DONE,
        errors=["secret-source.txt:2: the title must be followed by a blank line"],
    )
    response = as_user(request.getfixturevalue(who)).get(reverse("import-job", args=[job.pk]))
    assert response.status_code == 404
    assert "secret-source.txt" not in response.text


def test_an_editor_sees_the_collections_on_their_queue_page(desk, bob):
    response = as_user(bob).get(reverse("home"))
    assert f'href="{page_url(desk)}"' in response.text


def test_a_reviewers_queue_page_offers_no_collection_pages(desk, alice, bob):
    # bob being the Daily Planet's editor must not make alice one.
    response = as_user(alice).get(reverse("home"))
    assert response.status_code == 200
    assert f'href="{page_url(desk)}"' not in response.text


# Assigning --------------------------------------------------------------------------


@pytest.fixture
def three_articles(desk):
    return [ArticleFactory(collection=desk, title=f"Story {i}") for i in range(3)]


def test_assigning_automatically_gives_each_article_n_reviewers_evenly(
    desk, three_articles, alice, carol, dave, bob
):
    desk.reviewers_per_article = 1
    desk.save()  # the number typed wins over the collection's default
    response = as_user(bob).post(
        reverse("collection-assign", args=[desk.pk]), {"per_article": "2"}, follow=True
    )
    assert response.redirect_chain == [(page_url(desk), 302)]
    assert messages_of(response.text) == ["Made 6 assignment(s)."]
    by_article = assigned(desk)
    assert all(len(set(names)) == 2 for names in by_article.values()), by_article
    loads = [sum(name in names for names in by_article.values()) for name in ("alice", "carol")]
    assert loads == [2, 2]
    assert sum(name == "dave" for names in by_article.values() for name in names) == 2

    again = as_user(bob).post(
        reverse("collection-assign", args=[desk.pk]), {"per_article": "2"}, follow=True
    )
    assert messages_of(again.text) == ["Made 0 assignment(s)."]
    assert assigned(desk) == by_article


def test_assigning_automatically_refuses_a_count_below_one(desk, three_articles, alice, bob):
    response = as_user(bob).post(reverse("collection-assign", args=[desk.pk]), {"per_article": "0"})
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.text
    assert not Assignment.objects.exists()


def test_a_reviewer_cannot_assign_automatically(desk, three_articles, alice, carol):
    response = as_user(alice).post(
        reverse("collection-assign", args=[desk.pk]), {"per_article": "2"}
    )
    assert response.status_code == 404
    assert not Assignment.objects.exists()


def test_assigning_by_hand_keeps_a_reviewer_with_claims(desk, article, alice, carol, dave, bob):
    assignment_ensure(article=article, reviewer=alice)
    assignment_ensure(article=article, reviewer=carol)
    start = article.text.index("give peace a chance")
    services.claim_create(
        article=article,
        reviewer=alice,
        start=start,
        end=start + 19,
        quote="give peace a chance",
        verdict=None,
        rating=None,
    )
    response = as_user(bob).post(
        reverse("article-assign", args=[article.pk]), {"reviewers": [dave.pk]}, follow=True
    )
    assert response.redirect_chain == [(page_url(desk), 302)]
    assert messages_of(response.text) == [f"Assignments for “{article.title}” saved."]
    assert assigned(desk) == {article.title: ["alice", "dave"]}
    assert Assignment.objects.get(reviewer=alice).status == AssignmentStatus.IN_PROGRESS


def test_assigning_by_hand_refuses_someone_from_another_newsroom(desk, article, alice, eve, bob):
    assignment_ensure(article=article, reviewer=alice)
    response = as_user(bob).post(
        reverse("article-assign", args=[article.pk]), {"reviewers": [eve.pk]}, follow=True
    )
    assert messages_of(response.text) == ["Not members of this newsroom: eve."]
    assert assigned(desk) == {article.title: ["alice"]}


@pytest.mark.parametrize("who", ["alice", "eve"])
def test_only_the_newsrooms_editors_can_assign_by_hand(request, desk, article, carol, who):
    user = request.getfixturevalue(who)
    response = as_user(user).post(
        reverse("article-assign", args=[article.pk]), {"reviewers": [carol.pk, user.pk]}
    )
    assert response.status_code == 404
    assert not Assignment.objects.exists()
