"""Sources archived: found by the sweep whatever saved them, fetched from a local server,
kept as WARC records in the exports' storage with their time, hash and text; gone
sources marked, never forgotten; carried by the exports and the API.

Bob (editor) publishes a claim citing two sources served by the test server;
alice is a reviewer; eve, at the Rival Gazette, sees none of it."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from annotations.archiving import services as archiving
from annotations.archiving.warc import warc_payload
from annotations.core.inputs import SourceInput
from annotations.exports import selection as exports
from annotations.exports import writers
from annotations.exports.csvfile import write_csv_zip
from annotations.models import (
    ArchiveStatus,
    ExportAudience,
    ExportStatusFilter,
    SourceArchive,
    SourceCapture,
)
from tests.conftest import login
from tests.factories import ArticleFactory
from tests.webpages import BODY, published_claim

SOURCE_HTML = (
    "<html><head><title>UN report on the region</title></head><body><article>"
    "<h1>UN report on the region</h1><p>The UN mission counted no movement of troops in "
    "the region during the month, according to its observers on the ground.</p>"
    "<script>alert('never run on our origin')</script></article></body></html>"
)


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def sources(httpserver):
    httpserver.expect_request("/report").respond_with_data(
        SOURCE_HTML, content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/statement").respond_with_data(
        "Statement: no troops moved.", content_type="text/plain"
    )
    return [httpserver.url_for("/report"), httpserver.url_for("/statement")]


@pytest.fixture
def claim(desk, bob, sources):
    article = ArticleFactory(collection=desk, text=BODY, url="https://news.example/minister")
    return published_claim(
        article,
        bob,
        sources=[
            SourceInput(url=sources[0], title="UN report"),
            SourceInput(url=sources[1], title="Statement"),
            SourceInput(url="https://whistle.example/memo", title="Memo", confidential=True),
        ],
    )


def sweep_and_run() -> list[str]:
    """The beat's sweep, then every archive task it asked for, here and now."""
    ids = archiving.archives_discover()
    return [archiving.archive_run(pk).status for pk in ids]


def test_the_sweep_archives_every_source_once_and_keeps_a_warc(claim, sources):
    assert sorted(sweep_and_run()) == ["archived", "archived"]
    # The confidential source is not fetched behind the newsroom's back.
    assert set(SourceArchive.objects.values_list("url", flat=True)) == set(sources)
    report = SourceArchive.objects.get(url=sources[0])
    assert report.status == ArchiveStatus.ARCHIVED
    assert report.http_status == 200
    assert report.title == "UN report on the region"
    assert "no movement of troops" in report.text
    assert report.content_hash == hashlib.sha256(SOURCE_HTML.encode()).hexdigest()
    url, body = warc_payload(report.warc)
    assert (url, body) == (sources[0], SOURCE_HTML.encode())
    assert report.next_check_at > timezone.now()
    statement = SourceArchive.objects.get(url=sources[1])
    assert statement.text == "Statement: no troops moved."
    # A second sweep finds nothing new.
    assert archiving.archives_discover() == []


def test_the_sweep_finds_a_reviewers_sources_and_reviewers_see_their_own(
    desk, alice, sources, client
):
    from annotations.reader import services as reader

    article = ArticleFactory(collection=desk, text=BODY)
    start = article.text.index("forces")
    claim = reader.claim_create(
        article=article,
        reviewer=alice,
        start=start,
        end=start + 6,
        quote="forces",
        verdict=None,
        rating=None,
        sources=[SourceInput(url=sources[0])],
    )
    assert sweep_and_run() == ["archived"]
    archive = SourceArchive.objects.get()
    login(client, alice)
    listed = client.get(reverse("claim-archives", args=[claim.pk]), headers={"HX-Request": "true"})
    assert "archived " in listed.text
    assert reverse("source-archive", args=[archive.pk]) in listed.text
    assert client.get(reverse("source-archive", args=[archive.pk])).status_code == 200


def test_a_bad_source_fails_with_a_reason_and_stores_nothing(desk, bob, httpserver, settings):
    httpserver.expect_request("/huge").respond_with_data("x" * 2000, content_type="text/html")
    httpserver.expect_request("/zip").respond_with_data(b"PK", content_type="application/zip")
    article = ArticleFactory(collection=desk, text=BODY)
    published_claim(
        article,
        bob,
        sources=[
            SourceInput(url=httpserver.url_for("/huge")),
            SourceInput(url=httpserver.url_for("/zip")),
        ],
    )
    settings.WORKBENCH_FETCH_MAX_BYTES = 1000
    assert sorted(sweep_and_run()) == ["failed", "failed"]
    huge = SourceArchive.objects.get(url=httpserver.url_for("/huge"))
    assert huge.status == ArchiveStatus.FAILED
    assert "2,000 bytes; the limit is 1,000" in huge.error
    assert huge.next_check_at is not None  # tried again later
    zipped = SourceArchive.objects.get(url=httpserver.url_for("/zip"))
    assert "application/zip, not" in zipped.error
    assert not SourceCapture.objects.exists()
    assert not default_storage.exists("archives")


def test_a_source_that_disappears_is_gone_since_and_its_archive_stays(claim, sources, httpserver):
    sweep_and_run()
    report = SourceArchive.objects.get(url=sources[0])
    httpserver.clear()
    httpserver.expect_request("/report").respond_with_data("", status=410)
    SourceArchive.objects.update(next_check_at=timezone.now())
    assert archiving.archive_run(report.pk).status == "gone"
    report.refresh_from_db()
    assert report.gone_since is not None
    assert report.status == ArchiveStatus.ARCHIVED
    assert "no movement of troops" in report.text
    assert default_storage.exists(report.warc)


def test_a_source_whose_name_no_longer_resolves_is_gone(desk, bob, monkeypatch):
    article = ArticleFactory(collection=desk, text=BODY)
    published_claim(article, bob, sources=[SourceInput(url="http://vanished.invalid/page")])
    assert sweep_and_run() == ["gone"]
    archive = SourceArchive.objects.get()
    assert archive.gone_since is not None
    assert archive.status == ArchiveStatus.FAILED
    assert "does not resolve" in archive.error


def test_archiving_again_on_demand_keeps_the_earlier_capture(claim, sources, httpserver):
    sweep_and_run()
    report = SourceArchive.objects.get(url=sources[0])
    first = report.warc
    httpserver.clear()
    changed = SOURCE_HTML.replace("no movement", "some movement")
    httpserver.expect_request("/report").respond_with_data(changed, content_type="text/html")
    archiving.archive_again(archive=report, user=claim.editor)
    assert archiving.archive_run(report.pk).status == "archived"
    report.refresh_from_db()
    assert report.warc != first
    assert "some movement" in report.text
    assert report.captures.count() == 2
    assert default_storage.exists(first)


def test_a_second_copy_of_the_task_leaves_a_taken_archive_alone(claim, sources):
    (pk, *_) = archiving.archives_discover()
    SourceArchive.objects.filter(pk=pk).update(taken_at=timezone.now())
    assert archiving.archive_run(pk).status == "busy"
    assert SourceArchive.objects.get(pk=pk).status == ArchiveStatus.PENDING


def test_lost_archive_messages_are_reconciled(claim, sources):
    ids = archiving.archives_discover()
    later = timezone.now() + timezone.timedelta(minutes=5)
    assert sorted(archiving.archives_pending(later)) == sorted(ids)
    # Marked as sent again now: the next reconciliation leaves them be.
    assert archiving.archives_pending(timezone.now() - timezone.timedelta(seconds=1)) == []


def test_exports_and_the_api_carry_the_archive_time_and_hash(claim, sources, client, bob):
    sweep_and_run()
    report = SourceArchive.objects.get(url=sources[0])
    out = io.BytesIO()
    selection = exports.Selection(
        organization=claim.organization,
        status=ExportStatusFilter.ALL,
        audience=ExportAudience.PUBLIC,
    )
    writers.write_jsonl(selection, out, lambda done: None)
    (record,) = [json.loads(line) for line in out.getvalue().splitlines()]
    first = record["sources"][0]
    assert first["url"] == sources[0]
    assert first["archive_sha256"] == report.content_hash
    assert first["archived_at"] == report.archived_at.isoformat()
    zipped = io.BytesIO()
    write_csv_zip(selection, zipped, lambda done: None)
    with zipfile.ZipFile(zipped) as archive:
        lines = archive.read("sources.csv").decode("utf-8-sig").splitlines()
    assert lines[0].endswith("stance,archived_at,archive_sha256")
    assert lines[1].endswith(f",{report.content_hash}")
    assert report.archived_at.strftime("%Y-%m-%d %H:%M:%S") in lines[1]
    login(client, bob)
    api = client.get(reverse("api-v1:claim-detail", args=[claim.pk]))
    assert api.status_code == 200
    assert api.json()["sources"][0]["archive_sha256"] == report.content_hash


def test_pages_show_archived_and_gone_with_the_text_never_the_html(
    claim, sources, client, bob, alice, eve, httpserver
):
    sweep_and_run()
    report = SourceArchive.objects.get(url=sources[0])
    SourceArchive.objects.filter(pk=report.pk).update(gone_since=timezone.now())
    login(client, bob)
    page = client.get(reverse("verified-claim", args=[claim.pk])).text
    assert "archived " + report.archived_at.strftime("%-d %b %Y") in page
    assert "gone since" in page
    public = client.get(reverse("public-claim", args=[claim.organization.slug, claim.pk]))
    assert "gone since" in public.text
    link = reverse(
        "public-source-archive",
        args=[claim.organization.slug, claim.pk, claim.sources.order_by("order")[0].pk],
    )
    assert link in public.text
    client.logout()
    kept = client.get(link)
    assert kept.status_code == 200
    assert "no movement of troops" in kept.text
    assert "never run on our origin" not in kept.text  # the page's script is not kept
    assert "<script>alert" not in kept.text
    # The confidential source has no public page, archived or not.
    confidential = claim.sources.get(confidential=True)
    assert (
        client.get(
            reverse(
                "public-source-archive", args=[claim.organization.slug, claim.pk, confidential.pk]
            )
        ).status_code
        == 404
    )
    # Members: the editor reads the text and downloads the WARC as an attachment.
    login(client, bob)
    assert "no movement of troops" in client.get(reverse("source-archive", args=[report.pk])).text
    warc = client.get(reverse("source-archive-download", args=[report.pk]))
    assert warc["Content-Type"] == "application/warc"
    assert warc["Content-Disposition"].startswith("attachment")
    # A reviewer who did not cite it, and another newsroom, find nothing.
    for user in (alice, eve):
        client.force_login(user)
        assert client.get(reverse("source-archive", args=[report.pk])).status_code == 404
        assert client.post(reverse("source-archive-again", args=[report.pk])).status_code == 404


def test_a_confidential_source_archived_on_demand_is_never_fetched_again_by_itself(
    desk, bob, claim, sources, httpserver
):
    httpserver.expect_request("/leak").respond_with_data("The memo.", content_type="text/plain")
    leak = httpserver.url_for("/leak")
    article = ArticleFactory(collection=desk, text=BODY, url="https://news.example/memo")
    published_claim(article, bob, sources=[SourceInput(url=leak, confidential=True)])
    sweep_and_run()
    # The editor asks for it: fetched once, now.
    archive = archiving.archive_url(organization_id=desk.organization_id, url=leak, user=bob)
    assert archiving.archive_run(archive.pk).status == "archived"
    fetched = len([r for r, _ in httpserver.log if r.path == "/leak"])
    assert fetched == 1
    # A week on, the weekly look is for the sources cited openly, not this one.
    later = timezone.now() + datetime.timedelta(hours=24 * 7 + 1)
    due = archiving.archives_due(later)
    assert archive.pk not in due
    assert SourceArchive.objects.get(url=sources[0]).pk in due
