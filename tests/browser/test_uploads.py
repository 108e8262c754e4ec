"""A big file of claims uploaded on the collection page, in real Chromium: the upload's
own progress while the browser sends it, then the import job's, line by line.

The demo newsroom: its editor uploads claims of reviewer1 and reviewer2 on
the Walikale article. The network is slowed down (Chromium's DevTools) so
that sending the file takes a few seconds, as a big file on a slow link does.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from annotations.models import ClaimAnnotation, ImportJob
from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser

UPLOAD_BYTES_PER_SECOND = 150_000


def claims_file(article, path, count: int, bad: dict[int, dict]) -> None:
    """`count` claims on distinct passages of the article, the lines in `bad` changed."""
    taken = set(ClaimAnnotation.objects.filter(article=article).values_list("start", "end"))
    text = article.text
    lines: list[dict] = []
    length = 12
    start = 0
    while len(lines) < count:
        if start + length > len(text):
            start, length = 0, length + 1
        span = (start, start + length)
        start += 5
        if span in taken:
            continue
        lines.append(
            {
                "article": article.url or f"urn:workbench:sha256:{article.content_hash}",
                "reviewer": ("reviewer1", "reviewer2")[len(lines) % 2],
                "start": span[0],
                "end": span[1],
                "quote": text[span[0] : span[1]],
                "verdict": "misleading",
                "note": "Brought in from the old tool; " + "checked twice. " * 12,
                "sources": [{"url": f"https://archive.example/{len(lines)}", "stance": "context"}],
            }
        )
    for number, changes in bad.items():
        lines[number - 1] |= changes
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_editor_uploads_claims_and_watches_them_arrive_and_import(
    page, demo, worker_media, tmp_path
):
    path = tmp_path / "old-tool-claims.jsonl"
    claims_file(
        demo,
        path,
        2000,
        bad={
            17: {"quote": "not in the article"},
            1024: {"verdict": "pants-on-fire"},
            1999: {"reviewer": "mallory"},
        },
    )
    before = ClaimAnnotation.objects.count()
    log_in(page, "editor")
    page.goto(f"/collections/{demo.collection_id}/")
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 20,
            "downloadThroughput": -1,
            "uploadThroughput": UPLOAD_BYTES_PER_SECOND,
        },
    )

    page.get_by_label("Files").set_input_files(str(path))
    page.get_by_role("button", name="Upload and import").click()

    # While the browser sends the file: its own bar, moving, and how much is sent.
    sending = page.get_by_role("progressbar", name="Upload progress")
    expect(sending).to_be_visible()
    page.wait_for_function(
        "() => { const bar = document.querySelector('.upload-progress progress');"
        " return bar && bar.value > 0 && bar.value < 100; }",
        timeout=20_000,
    )
    expect(page.locator("[data-upload-status]")).to_contain_text("Sending…")
    expect(page.locator("[data-upload-status]")).to_contain_text("MB)")
    screenshot(page, "claims-upload-sending")

    # Then the import job: its progress counts lines, and it lists the bad ones.
    job = page.locator(".import-job").first
    expect(job).to_contain_text("Claims from 1 file", timeout=60_000)
    expect(job).to_contain_text("Done", timeout=120_000)
    expect(job).to_contain_text("2,000/2,000 lines")
    expect(job).to_contain_text("1,997 created, 0 already present, 3 lines with errors.")
    expect(job.locator("ul.errors li")).to_have_count(3)
    expect(job.locator("ul.errors")).to_contain_text("old-tool-claims.jsonl:17: quote:")
    expect(job.locator("ul.errors")).to_contain_text("old-tool-claims.jsonl:1024: verdict:")
    expect(job.locator("ul.errors")).to_contain_text("old-tool-claims.jsonl:1999: reviewer:")
    bar = job.get_by_role("progressbar", name="Import progress")
    expect(bar).to_have_attribute("max", "2000")
    expect(bar).to_have_attribute("value", "2000")
    expect(sending).to_be_hidden()
    screenshot(page, "claims-upload-done")

    assert ClaimAnnotation.objects.count() == before + 1997
    assert ImportJob.objects.get().kind == "claims"
