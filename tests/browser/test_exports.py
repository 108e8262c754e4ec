"""The editor exports verified claims in real Chromium, watches the job and downloads the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_editor_starts_an_export_watches_it_and_downloads_the_file(page, demo, worker_media):
    log_in(page, "editor")
    page.get_by_role("link", name="Exports").click()
    expect(page.get_by_role("heading", name="Exports", exact=True)).to_be_visible()
    page.get_by_label("Format").select_option("claimreview")
    page.get_by_role("button", name="Start the export").click()

    job = page.locator(".export-job").first
    expect(job).to_contain_text("schema.org ClaimReview")
    # On a worker the row polls until the job is done; in-process it is done at once.
    download_link = job.get_by_role("link", name=re.compile(r"^Download "))
    expect(download_link).to_be_visible(timeout=30_000)
    expect(job).to_contain_text("2 records")
    expect(job.locator("progress")).to_have_attribute("value", "100")
    screenshot(page, "exports")

    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename.endswith(".jsonld")
    reviews = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert [r["@type"] for r in reviews] == ["ClaimReview", "ClaimReview"]
