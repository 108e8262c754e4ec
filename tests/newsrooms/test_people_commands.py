from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from annotations.models import Membership, Organization, Taxonomy
from tests.conftest import login_request


def run(command: str, *args: str, stdin: str | None = None, monkeypatch=None) -> str:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", StringIO(stdin))
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_create_org_makes_a_newsroom_with_its_default_taxonomy(db):
    out = run("create_org", "planet", "--name", "Daily Planet")
    assert "Created organization Daily Planet" in out
    organization = Organization.objects.get(slug="planet")
    assert Taxonomy.objects.get(organization=organization, is_default=True).labels.count() == 7


def test_create_org_refuses_a_duplicate_slug_and_a_bad_one(db):
    run("create_org", "planet", "--name", "Daily Planet")
    with pytest.raises(CommandError, match="already exists"):
        run("create_org", "planet", "--name", "Again")
    with pytest.raises(CommandError, match="not a slug"):
        run("create_org", "Daily Planet", "--name", "Spaces")


def test_create_member_with_password_from_stdin_can_log_in(planet, monkeypatch):
    out = run(
        "create_member",
        "--org",
        "planet",
        "--role",
        "editor",
        "--password-stdin",
        "lois",
        stdin="s3cret-enough-pass\n",
        monkeypatch=monkeypatch,
    )
    assert "Created lois: editor at planet" in out
    assert "s3cret" not in out
    user = authenticate(login_request(), username="lois", password="s3cret-enough-pass")
    assert user is not None
    assert Membership.objects.get(user=user).role == "editor"


def test_create_member_prints_a_one_time_password_for_a_new_user(planet):
    out = run("create_member", "--org", "planet", "--role", "reviewer", "jimmy")
    password = out.split("One-time password (shown once, change it after logging in): ")[1].strip()
    assert authenticate(login_request(), username="jimmy", password=password) is not None


def test_create_member_changes_the_role_of_an_existing_member(planet):
    run("create_member", "--org", "planet", "--role", "reviewer", "perry")
    out = run("create_member", "--org", "planet", "--role", "admin", "perry")
    assert "Updated perry" in out
    assert "One-time password" not in out
    assert Membership.objects.get(user__username="perry").role == "admin"


def test_create_member_rejects_an_unknown_role_and_newsroom(planet):
    with pytest.raises(CommandError):
        run("create_member", "--org", "planet", "--role", "overlord", "perry")
    with pytest.raises(CommandError, match="No organization"):
        run("create_member", "--org", "nowhere", "--role", "reviewer", "perry")


@pytest.mark.parametrize(
    "username", ["<script>alert(1)</script>", "bob smith", "x" * 151, "ed\u200bitor"]
)
def test_create_member_refuses_a_username_the_admin_would_refuse(planet, username):
    # Names show on every page, log and export that names a reviewer: the same
    # rule as Django's own user forms, whichever way the member is made.
    with pytest.raises(CommandError, match="username"):
        run("create_member", "--org", "planet", "--role", "reviewer", username)
    assert not Membership.objects.filter(organization=planet).exists()
