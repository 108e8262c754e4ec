"""An editor's collection page in real Chromium: import, watch the job, assign."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotations.models import Article, Assignment
from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_editor_uploads_many_articles_and_watches_the_import(page, demo, worker_media, tmp_path):
    files = []
    for i in range(3):
        path = tmp_path / f"report-{i}.txt"
        path.write_text(f"Field report {i}\n\nThe convoy reached Goma on day {i}.\n")
        files.append(str(path))
    broken = tmp_path / "broken.txt"
    broken.write_text("A title with no blank line\nand text straight after\n")
    files.append(str(broken))

    log_in(page, "editor")
    page.goto(f"/collections/{demo.collection_id}/")
    expect(page.get_by_role("heading", name="Great Lakes desk")).to_be_visible()
    page.get_by_label("Files").set_input_files(files)
    page.get_by_role("button", name="Upload and import").click()

    job = page.locator(".import-job").first
    expect(job.get_by_role("progressbar", name="Import progress")).to_be_visible()
    expect(job).to_contain_text("Done", timeout=30_000)
    expect(job).to_contain_text("3 created")
    expect(job).to_contain_text("broken.txt:2: the title must be followed by a blank line")
    # The page stayed usable meanwhile: the paste form is right there.
    expect(page.get_by_role("button", name="Import pasted text")).to_be_enabled()
    screenshot(page, "collection-import")

    imported = Article.objects.filter(collection=demo.collection, title__startswith="Field report")
    assert imported.count() == 3
    page.reload()
    expect(page.locator("table").first).to_contain_text("Field report 2")


def test_editor_pastes_an_article_and_assigns_reviewers_automatically(page, demo):
    log_in(page, "editor")
    page.goto(f"/collections/{demo.collection_id}/")
    page.get_by_label("Title").fill("Ceasefire talks resume")
    page.get_by_label("Text").fill(
        "Delegations met in Doha.\n\nBoth sides said the talks were “constructive”."
    )
    page.get_by_role("button", name="Import pasted text").click()
    expect(page.locator(".messages")).to_contain_text("Created: Ceasefire talks resume")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Made 2 assignment(s)")
    article = Article.objects.get(title="Ceasefire talks resume")
    assigned = Assignment.objects.filter(article=article)
    assert set(assigned.values_list("reviewer__username", flat=True)) == {"reviewer1", "reviewer2"}
