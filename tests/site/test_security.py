"""What a security reviewer checks: production settings, the headers every
response carries, the Content-Security-Policy, failed-login lockouts, the
password policy, and that leaving a newsroom logs a person out everywhere.

Alice is a reviewer at the Daily Planet (tests/conftest.py). The production
cases run in a fresh Python with the variables an operator would set.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from annotations.keys.services import api_key_create
from annotations.models import ApiKey, Membership, Role, UserSession
from annotations.newsrooms.services import member_create, membership_revoke
from tests.conftest import PASSWORD, login

ROOT = Path(__file__).resolve().parents[2]
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


# Variables of this test run an operator's environment would not have. (The
# browser tests allow the ORM in Playwright's event loop, which check --deploy
# rightly refuses.)
NOT_INHERITED = {"DEBUG", "ALLOWED_HOSTS", "SECRET_KEY", "CELERY_BROKER_URL"}
NOT_INHERITED_PREFIXES = ("WORKBENCH_", "SECURE_", "SESSION_", "CSRF_", "DJANGO_ALLOW_ASYNC")


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Runs code (or a manage.py command) in a fresh Python with these variables."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in NOT_INHERITED and not k.startswith(NOT_INHERITED_PREFIXES)
    }
    args = code.split() if code.startswith("manage.py") else ["-c", code]
    return subprocess.run(
        [sys.executable, *args],
        env=clean
        | {"DJANGO_SETTINGS_MODULE": "workbench.settings", "WORKBENCH_VAR_DIR": str(tmp_path)}
        | env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "WORKBENCH_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "checks.example",
}

# Fetches the login page with the test client and prints status and headers.
# The collected-static manifest does not exist here, so plain static storage.
FETCH_LOGIN_PAGE = """
import json, django
django.setup()
from django.test import Client, override_settings
storages = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
with override_settings(STORAGES=storages):
    client = Client(SERVER_NAME="checks.example")
    out = {}
    for secure in (True, False):
        response = client.get("/accounts/login/", secure=secure)
        out["https" if secure else "http"] = {
            "status": response.status_code,
            "headers": dict(response.headers),
            "cookies": {k: dict(v.items()) for k, v in response.cookies.items()},
        }
print(json.dumps(out))
"""


# Production settings ---------------------------------------------------------------


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    result = run_python("manage.py check --deploy --fail-level WARNING", tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "ERRORS" not in result.stdout + result.stderr


def test_production_pages_carry_hsts_secure_cookies_and_redirect_to_https(tmp_path):
    result = run_python(FETCH_LOGIN_PAGE, tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    pages = json.loads(result.stdout.strip().splitlines()[-1])
    https, http = pages["https"], pages["http"]
    assert https["status"] == 200
    headers = https["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["Content-Security-Policy"] == POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    csrf = https["cookies"]["csrftoken"]
    assert csrf["secure"] is True
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"
    # Plain HTTP is sent to HTTPS before anything else happens.
    assert http["status"] == 301
    assert http["headers"]["Location"] == "https://checks.example/accounts/login/"


# Headers and the Content-Security-Policy ----------------------------------------------


def test_every_page_sends_the_strict_policy_and_the_security_headers(client, alice):
    login(client, alice)
    for url in ("/", reverse("login"), "/no-such-page/"):
        response = client.get(url)
        assert response["Content-Security-Policy"] == POLICY, url
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_api_docs_alone_allow_inline_styles_and_still_no_inline_script(client):
    for name in ("api-v1:docs", "api-v1:redoc"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        policy = response["Content-Security-Policy"]
        assert "style-src 'self' 'unsafe-inline'" in policy
        assert "script-src 'self';" in policy
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())
    # Swagger UI's start-up script, served from a URL instead of inline.
    script = client.get(reverse("api-v1:docs") + "?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


# A JSON-LD block (the public claim page's ClaimReview) is data, never run.
INLINE = re.compile(
    r'<script(?![^>]*\b(?:src=|type="application/ld\+json"))[^>]*>'
    r"|<style|\sstyle=|\son[a-z]+=|\shx-on[:-]",
    re.IGNORECASE,
)


def test_no_page_template_has_inline_script_style_or_event_handler():
    # report.html is the exported file people download, never a page of the app.
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)!r}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if path.name != "report.html"
        for match in INLINE.finditer(path.read_text())
    ]
    assert offenders == []


def test_the_report_is_only_ever_downloaded_never_shown_as_a_page():
    views = (ROOT / "annotations" / "exports" / "views.py").read_text()
    assert "report.html" not in views
    assert "as_attachment=True" in views


def test_report_only_mode_reports_the_policy_without_enforcing_it(tmp_path):
    result = run_python(
        FETCH_LOGIN_PAGE, tmp_path, WORKBENCH_CSP_REPORT_ONLY="true", ALLOWED_HOSTS="checks.example"
    )
    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout.strip().splitlines()[-1])["https"]
    assert page["status"] == 200
    headers = page["headers"]
    assert "Content-Security-Policy" not in headers
    assert headers["Content-Security-Policy-Report-Only"] == POLICY


# Failed logins ------------------------------------------------------------------------


def attempt(client: Client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_five_wrong_passwords_lock_the_username_from_that_address(client, alice):
    for _ in range(4):
        response = attempt(client, "alice", "not her password")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    locked = attempt(client, "alice", "not her password")
    assert locked.status_code == 429
    page = " ".join(locked.content.decode().split())
    assert "Too many failed logins" in page
    assert "failed 5 times, so it is locked for 15 minutes" in page
    # Now even the right password is refused, and no session is opened.
    again = attempt(client, "alice", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_per_address_and_ends_after_fifteen_minutes(client, alice):
    for _ in range(5):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", PASSWORD).status_code == 429
    # Alice herself, from the newsroom's address, is not locked out by a guesser elsewhere.
    assert attempt(Client(), "alice", PASSWORD, address="198.51.100.2").status_code == 302
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_a_successful_login_starts_the_count_again(client, alice):
    for _ in range(4):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        assert attempt(client, "alice", "wrong").status_code == 200


def test_the_lockout_limit_and_duration_come_from_the_environment(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.AXES_FAILURE_LIMIT, int(settings.AXES_COOLOFF_TIME.total_seconds()))"
    )
    result = run_python(
        code, tmp_path, WORKBENCH_LOGIN_FAILURE_LIMIT="3", WORKBENCH_LOGIN_LOCKOUT_MINUTES="60"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "3600"]


def test_api_keys_are_not_counted_as_failed_logins(client, bob, planet):
    secret = api_key_create(organization=planet, user=bob, name="Site", scopes="read:claims").secret
    for _ in range(8):
        assert (
            client.get("/api/v1/claims/", HTTP_AUTHORIZATION="Bearer wb_nope_nope").status_code
            == 401
        )
    assert client.get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert not AccessAttempt.objects.exists()


# Passwords ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pw", "This password is too short. It must contain at least 12 characters."),
        ("123456789012345", "This password is entirely numeric."),
        ("password1234", "This password is too common."),
        ("perry-white-perry", "The password is too similar to the username."),
    ],
)
def test_create_member_refuses_a_weak_password_and_stores_nothing(
    planet, monkeypatch, password, reason
):
    monkeypatch.setattr("sys.stdin", StringIO(password + "\n"))
    with pytest.raises(CommandError) as refused:
        call_command(
            "create_member",
            "--org",
            "planet",
            "--role",
            "editor",
            "--password-stdin",
            "perry-white",
            stdout=StringIO(),
        )
    assert reason in str(refused.value)
    assert str(refused.value).startswith("password: ")
    assert not User.objects.filter(username="perry-white").exists()


def test_the_demo_passwords_and_generated_ones_meet_the_policy(db):
    out = StringIO()
    call_command("demo", stdout=out)
    assert "walikale-editor" in out.getvalue()
    call_command("create_org", "planet", "--name", "Daily Planet", stdout=StringIO())
    out = StringIO()
    call_command("create_member", "--org", "planet", "--role", "reviewer", "jimmy", stdout=out)
    assert "One-time password" in out.getvalue()


# Sessions -----------------------------------------------------------------------------


def test_a_session_lasts_a_working_day(client, alice):
    response = attempt(client, "alice", PASSWORD)
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["max-age"] == 12 * 3600
    assert cookie["httponly"] is True


def test_logins_are_recorded_and_forgotten_at_logout(client, alice):
    attempt(client, "alice", PASSWORD)
    other = login(Client(), alice)
    assert UserSession.objects.filter(user=alice).count() == 2
    other.post(reverse("logout"))
    assert list(UserSession.objects.filter(user=alice).values_list("session_key", flat=True)) == [
        client.session.session_key
    ]


def _logged_in_with_a_key(client, user, organization):
    login(client, user)
    assert client.get("/").status_code == 200
    return api_key_create(
        organization=organization, user=user, name=f"{user}'s key", scopes="read:claims"
    ).secret


def test_removing_a_member_logs_them_out_everywhere_and_revokes_their_keys(
    client, alice, planet, django_capture_on_commit_callbacks
):
    secret = _logged_in_with_a_key(client, alice, planet)
    laptop = login(Client(), alice)
    with django_capture_on_commit_callbacks(execute=True):
        membership_revoke(membership=Membership.objects.get(user=alice, organization=planet))
    for browser in (client, laptop):
        response = browser.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    api = Client().get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.status_code == 401
    assert ApiKey.objects.get(user=alice).revoked_at is not None
    assert not UserSession.objects.filter(user=alice).exists()


def test_deleting_a_membership_in_the_admin_does_the_same(
    client, alice, planet, django_capture_on_commit_callbacks
):
    secret = _logged_in_with_a_key(client, alice, planet)
    User.objects.create_superuser("root", password=PASSWORD)
    admin = Client()
    admin.force_login(User.objects.get(username="root"))
    membership = Membership.objects.get(user=alice, organization=planet)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("admin:annotations_membership_delete", args=[membership.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert client.get("/").status_code == 302
    assert Client().get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_leaving_one_newsroom_keeps_the_keys_of_another(
    client, alice, planet, gazette, django_capture_on_commit_callbacks
):
    member_create(organization=gazette, username="alice", role=Role.EDITOR)
    planet_key = _logged_in_with_a_key(client, alice, planet)
    gazette_key = api_key_create(
        organization=gazette, user=alice, name="Gazette key", scopes="read:claims"
    ).secret
    with django_capture_on_commit_callbacks(execute=True):
        membership_revoke(membership=Membership.objects.get(user=alice, organization=planet))
    # Every session ends (a session is not tied to one newsroom); she logs in again.
    assert client.get("/").status_code == 302
    assert login(client, alice).get("/").status_code == 200
    keyed = Client()
    assert (
        keyed.get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {planet_key}").status_code == 401
    )
    assert (
        keyed.get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {gazette_key}").status_code == 200
    )
