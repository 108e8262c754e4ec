"""Browser tests: Debian's Chromium driven by Playwright against pytest's live server.

Playwright never downloads a browser here; it launches /usr/bin/chromium.
Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from annotations.models import Article

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Finds a phrase in the rendered article text and returns the points where a
# mouse drag over it starts and ends.
PHRASE_BOX = (Path(__file__).parent / "phrase_box.js").read_text()

# Runs before any script of each page (Playwright injects it outside the
# Content-Security-Policy): a violation is written to the console, where
# new_page() collects it with Chromium's own report of it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} refused ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`);
});
"""


def _is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text or text.startswith("CSP violation")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not installed at {CHROMIUM}: ./dev test installs it")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make(viewport=(1280, 900)):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": viewport[0], "height": viewport[1]}
        )
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.csp_violations = []
        page.add_init_script(REPORT_CSP_VIOLATIONS)
        page.on(
            "console",
            lambda message: (
                page.csp_violations.append(f"{page.url}: {message.text}")
                if _is_csp_violation(message.text)
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    page = new_page()
    yield page
    # A script error on the page, or anything the Content-Security-Policy
    # refused, fails the test that caused it.
    assert page.errors == []
    assert page.csp_violations == [], "\n".join(page.csp_violations)


@pytest.fixture
def demo(transactional_db) -> Article:
    call_command("demo", stdout=StringIO())
    return Article.objects.get(organization__slug="demo")


def log_in(page, username: str, password: str | None = None) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or f"walikale-{username}")
    page.click("form button[type=submit]")
    page.wait_for_url("**/")


def drag_select(page, phrase: str, occurrence: int = 0) -> None:
    """Selects a phrase of the article with the mouse, as a person would."""
    box = page.evaluate(PHRASE_BOX, [phrase, occurrence])
    assert box, f"{phrase!r} is not in the article"
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=6)
    page.mouse.up()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
