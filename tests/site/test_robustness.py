"""Behaviour found missing in review: each of these once went wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.agreement import runs as agreement_runs
from annotations.core.inputs import SourceInput
from annotations.models import (
    Article,
    Assignment,
    ClaimAnnotation,
    ImportJob,
    Source,
    VerdictLabel,
)
from annotations.reader.services import assignment_ensure, claim_create, claim_delete, claim_restore
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]


def mark(article, reviewer, phrase, **extra):
    start = article.text.index(phrase)
    return claim_create(
        article=article,
        reviewer=reviewer,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        verdict=extra.pop("verdict", None),
        rating=None,
        **extra,
    )


def test_editing_a_claim_keeps_its_sources_confidential_flag(client, article, alice):
    assignment_ensure(article=article, reviewer=alice)
    claim = mark(
        article,
        alice,
        "give peace a chance",
        sources=[
            SourceInput(
                url="https://tip.example/x",
                title="A tip",
                publisher="Whistleblower",
                archived_url="https://archive.example/x",
                confidential=True,
            )
        ],
    )
    login(client, alice)
    form = client.get(reverse("claim-edit", args=[claim.pk]), headers={"HX-Request": "true"})
    assert 'value="confidential" selected' in form.text
    response = client.post(
        reverse("claim-update", args=[claim.pk]),
        {
            "version": claim.version,
            "note": "Only the note changed.",
            "verdict": "",
            "source_url": ["https://tip.example/x"],
            "source_title": ["A tip"],
            "source_quote": [""],
            "source_stance": ["context"],
            "source_publisher": ["Whistleblower"],
            "source_archived_url": ["https://archive.example/x"],
            "source_visibility": ["confidential"],
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    source = Source.objects.get(claim=claim)
    assert source.confidential is True
    assert (source.publisher, source.archived_url) == ("Whistleblower", "https://archive.example/x")


def test_a_line_with_an_unpaired_surrogate_is_refused_and_the_rest_imported(tmp_path, planet):
    path = tmp_path / "batch.jsonl"
    path.write_text(
        json.dumps({"title": "Good", "text": "Fine."})
        + "\n"
        + '{"title": "Bad \\ud800", "text": "x"}\n'
        + json.dumps({"title": "Also good", "text": "Fine too."})
        + "\n"
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_articles", "--org", "planet", str(path), stdout=StringIO(), stderr=err)
    assert f"{path}:2: title: contains a NUL or an unpaired surrogate character" in err.getvalue()
    assert sorted(Article.objects.values_list("title", flat=True)) == ["Also good", "Good"]


def test_a_second_agreement_run_waits_for_the_first(desk):
    agreement_runs.report_start(collection=desk)
    with pytest.raises(ValueError, match="already under way"):
        agreement_runs.report_start(collection=desk)


def test_agreement_survives_a_new_verdict_in_the_taxonomy(
    desk, article, alice, bob, django_capture_on_commit_callbacks
):
    for reviewer in (alice, bob):
        assignment_ensure(article=article, reviewer=reviewer)
    labels = list(VerdictLabel.objects.filter(taxonomy=desk.taxonomy).order_by("order"))
    mark(article, alice, "give peace a chance", verdict=labels[0])
    bobs = mark(article, bob, "give peace a chance", verdict=labels[0])
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk))
    VerdictLabel.objects.create(taxonomy=desk.taxonomy, name="Satire", slug="satire", order=99)
    report = agreement_runs.refresh_article(article.pk)
    assert report.results["confusion"]["labels"][-1] == "Satire"
    assert report.results["verdict"]["percent_agreement"] == 1.0
    assert bobs.pk


def test_restoring_a_claim_that_is_not_deleted_changes_nothing(article, alice):
    assignment_ensure(article=article, reviewer=alice)
    claim = mark(article, alice, "give peace a chance")
    assert claim_restore(claim=claim, user=alice).version == claim.version
    claim_delete(claim=claim, user=alice)
    assert ClaimAnnotation.all_objects.get(pk=claim.pk).deleted_at is not None


def test_an_editor_reviewing_an_article_is_blind_too(client, article, alice, bob):
    for reviewer in (alice, bob):
        assignment_ensure(article=article, reviewer=reviewer)
    alices = mark(article, alice, "give peace a chance")
    page = login(client, bob).get(reverse("article-reader", args=[article.pk]))
    assert f'data-claim="{alices.pk}"' not in page.text
    Assignment.objects.filter(reviewer=bob).update(status="submitted")
    page = client.get(reverse("article-reader", args=[article.pk]))
    assert f'data-claim="{alices.pk}"' in page.text


def test_my_queue_does_not_count_deleted_claims(client, article, alice):
    assignment_ensure(article=article, reviewer=alice)
    claim_delete(claim=mark(article, alice, "give peace a chance"), user=alice)
    mark(article, alice, "reposition its forces")
    row = login(client, alice).get(reverse("home")).text.split(article.title)[1].split("</tr>")[0]
    assert "<td>1</td>" in row


def test_an_upload_with_a_very_long_file_name_is_imported(client, desk, bob, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    upload = SimpleUploadedFile("r" * 250 + ".txt", b"Long name\n\nThe text.", "text/plain")
    response = login(client, bob).post(
        reverse("collection-upload", args=[desk.pk]), {"uploads": [upload]}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    # "0000-" and at most 60 characters of the name the uploader chose.
    assert all(len(Path(name).name) <= 65 for name in job.files)


def test_the_admin_filters_show_only_the_staff_users_newsroom(client, planet, gazette, eve, desk):
    from django.contrib.auth.models import Permission

    from annotations.models import Membership

    Membership.objects.filter(user=eve).update(role="admin")
    eve.is_staff = True
    eve.save()
    eve.user_permissions.set(Permission.objects.filter(content_type__app_label="annotations"))
    page = login(client, eve).get(reverse("admin:annotations_collection_changelist"))
    assert page.status_code == 200
    assert "Daily Planet" not in page.text


def test_pages_render_with_production_settings_and_collected_static_files(tmp_path):
    """The image collects static files in production mode; pages must find them."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env |= {
        "WORKBENCH_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "WORKBENCH_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
        "SECURE_SSL_REDIRECT": "false",
    }
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    collected = run("manage.py", "collectstatic", "--no-input", "-v0")
    assert collected.returncode == 0, collected.stderr
    page = run(
        "-c",
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/accounts/login/'); print(r.status_code)",
    )
    assert page.stdout.strip() == "200", page.stderr[-2000:]
