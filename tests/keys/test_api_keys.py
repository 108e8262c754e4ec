"""API keys: made in the browser or with create_api_key, secret shown once, stored hashed.

Besides the shared people: perry is the Daily Planet's admin (he alone manages
its keys: bob the editor and alice the reviewer get the same 404 as a stranger),
and grace is the Rival Gazette's admin, who must never see or touch the
Planet's keys.
"""

from __future__ import annotations

import contextlib
import html
import re
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.core.management.base import connections
from django.urls import reverse
from django.utils import timezone

from annotations.keys.services import api_key_check, api_key_create, api_key_revoke
from annotations.management.commands import create_api_key, list_api_keys, revoke_api_key
from annotations.models import ApiKey, Membership, Role, Scope
from tests.conftest import _member, login

SECRET = re.compile(r"^wb_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")
COMMANDS = {
    "create_api_key": create_api_key.Command,
    "revoke_api_key": revoke_api_key.Command,
    "list_api_keys": list_api_keys.Command,
}


@pytest.fixture
def perry(planet):
    return _member(planet, "perry", Role.ADMIN)


@pytest.fixture
def grace(gazette):
    return _member(gazette, "grace", Role.ADMIN)


def cli(name: str, *args: str, monkeypatch) -> tuple[int, str, str]:
    """Runs a command as the shell does: its exit status, standard output and error."""
    # The command line closes the database connections when done; the test's
    # transaction needs them open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    out, err = StringIO(), StringIO()
    command = COMMANDS[name](stdout=out, stderr=err)
    status = 0
    with contextlib.redirect_stderr(err):
        try:
            command.run_from_argv(["manage.py", name, "--skip-checks", *args])
        except SystemExit as exit_:
            status = int(exit_.code or 0)
    return status, out.getvalue(), err.getvalue()


def stored_text() -> str:
    """Everything the database holds about every key, as one string."""
    return repr(list(ApiKey.objects.values()))


def new_key(user: User, name: str = "Partner site", **kwargs):
    return api_key_create(
        organization=user.memberships.get().organization,
        user=user,
        name=name,
        scopes=kwargs.pop("scopes", "read:claims"),
        **kwargs,
    )


# The command --------------------------------------------------------------------


def test_create_api_key_prints_the_secret_alone_on_stdout_and_stores_only_its_hash(
    perry, monkeypatch
):
    status, out, err = cli(
        "create_api_key",
        "--org",
        "planet",
        "--name",
        "Partner site",
        "--scopes",
        "write:annotations,read:claims",
        monkeypatch=monkeypatch,
    )
    assert status == 0, err
    secret = out.removesuffix("\n")
    assert out.count("\n") == 1
    assert SECRET.match(secret), out
    prefix = SECRET.match(secret)[1]
    assert secret not in err
    assert "Acting as perry, planet's first admin" in err
    assert f"wb_{prefix}_…" in err
    assert "read:claims, write:annotations" in err
    assert "Expires: never" in err
    assert secret not in stored_text()
    assert secret.split("_", 2)[2] not in stored_text()
    key = api_key_check(secret)
    assert key is not None
    assert key.user == perry
    assert key.prefix == prefix
    # Shown once: the list shows the prefix, never the secret.
    status, out, _ = cli("list_api_keys", "--org", "planet", monkeypatch=monkeypatch)
    assert status == 0
    assert f"wb_{prefix}_…" in out
    assert "Partner site" in out
    assert secret not in out


def test_create_api_key_acts_as_the_given_member_until_the_given_day(alice, perry, monkeypatch):
    status, _, err = cli(
        "create_api_key",
        "--org=planet",
        "--name=Alice's script",
        "--scopes=read:claims",
        "--user=alice",
        "--expires=2099-01-31",
        monkeypatch=monkeypatch,
    )
    assert status == 0, err
    assert "first admin" not in err
    key = ApiKey.objects.get(name="Alice's script")
    assert key.user == alice
    # The key still works on the last day and stops when it ends.
    assert timezone.localtime(key.expires_at).date() == date(2099, 1, 31)
    assert timezone.localtime(key.expires_at).strftime("%H:%M") == "23:59"
    assert "Expires: 2099-01-31 23:59" in err


def test_create_api_key_takes_a_number_of_days(perry, monkeypatch):
    status, _, err = cli(
        "create_api_key",
        "--org=planet",
        "--name=Trial",
        "--scopes=read:claims",
        "--expires=90d",
        monkeypatch=monkeypatch,
    )
    assert status == 0, err
    expires_at = ApiKey.objects.get(name="Trial").expires_at
    assert expires_at is not None
    assert abs(expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("args", "exit_status", "message"),
    [
        (["--org=nowhere"], 1, "No organization with slug 'nowhere' (known: planet, gazette)"),
        (["--user=nobody"], 1, "No user 'nobody'."),
        (["--user=eve"], 1, "--user: eve is not a member of Daily Planet."),
        (
            ["--scopes=read:claims,read:everything"],
            1,
            "--scopes: Unknown scope read:everything; use read:claims, read:articles, "
            "write:articles, read:annotations, write:annotations, read:agreement, "
            "write:agreement, exports.",
        ),
        (["--scopes=,"], 1, "--scopes: Give at least one scope"),
        (["--name=Existing"], 1, "--name: This newsroom already has a key named “Existing”."),
        (["--expires=2020-01-31"], 1, "--expires: The expiry date is in the past."),
        (["--expires=soon"], 2, "'soon' is neither a date like 2026-12-31 nor a number of days"),
        (["--expires=0d"], 2, "give at least 1d"),
        (
            ["--user=alice", "--scopes=exports"],
            1,
            "--scopes: A reviewer's key can only read articles and claims "
            "and write their own claims",
        ),
    ],
)
def test_create_api_key_refuses_bad_input_with_a_reason_and_a_failing_status(
    perry, alice, eve, monkeypatch, args, exit_status, message
):
    new_key(perry, "Existing")
    defaults = {"--org": "planet", "--name": "Partner site", "--scopes": "read:claims"}
    given = {arg.split("=")[0] for arg in args}
    argv = [f"{k}={v}" for k, v in defaults.items() if k not in given] + args
    status, out, err = cli("create_api_key", *argv, monkeypatch=monkeypatch)
    assert status == exit_status
    assert message in err
    assert out == ""
    assert ApiKey.objects.count() == 1


def test_create_api_key_without_an_admin_asks_for_a_user(eve, monkeypatch):
    status, out, err = cli(
        "create_api_key",
        "--org=gazette",
        "--name=Feed",
        "--scopes=read:claims",
        monkeypatch=monkeypatch,
    )
    assert status == 1
    assert out == ""
    assert "gazette has no admin to act as; pass --user" in err
    status, out, _ = cli(
        "create_api_key",
        "--org=gazette",
        "--name=Feed",
        "--scopes=read:claims",
        "--user=eve",
        monkeypatch=monkeypatch,
    )
    assert status == 0
    assert SECRET.match(out.strip())


def test_revoke_api_key_stops_the_key_and_says_so_twice(perry, monkeypatch):
    made = new_key(perry)
    status, out, err = cli(
        "revoke_api_key", "--org=planet", f"--prefix={made.key.display}", monkeypatch=monkeypatch
    )
    assert status == 0, err
    assert f"Revoked {made.key.display} “Partner site”." in out
    assert api_key_check(made.secret) is None
    status, out, _ = cli(
        "revoke_api_key", "--org=planet", f"--prefix={made.key.prefix}", monkeypatch=monkeypatch
    )
    assert status == 0
    assert "was already revoked on" in out
    status, out, _ = cli("list_api_keys", "--org=planet", monkeypatch=monkeypatch)
    assert "revoked" in out


def test_revoke_api_key_refuses_an_unknown_prefix_and_another_newsrooms_key(
    perry, grace, monkeypatch
):
    made = new_key(perry)
    for org, prefix in [("planet", "00000000"), ("gazette", made.key.prefix)]:
        status, out, err = cli(
            "revoke_api_key", f"--org={org}", f"--prefix={prefix}", monkeypatch=monkeypatch
        )
        assert status == 1
        assert out == ""
        assert f"{org} has no API key with prefix {prefix!r}" in err
    assert api_key_check(made.secret) is not None


# The page ------------------------------------------------------------------------


def create_on_page(client, headers=None, **data):
    form = {"name": "Partner site", "scopes": ["read:claims"], "expires_on": "", "member": ""}
    form.update(data)
    return client.post(reverse("api-keys", args=["planet"]), form, headers=headers or {})


def test_the_admin_sees_a_new_keys_secret_once_and_then_only_its_prefix(client, perry):
    login(client, perry)
    page = client.get(reverse("api-keys", args=["planet"]))
    assert page.status_code == 200
    assert "No API keys yet." in page.text
    # The acting member defaults to the admin creating the key.
    own = Membership.objects.get(user=perry)
    assert f'<option value="{own.pk}" selected>perry (Admin)</option>' in page.text
    assert "Read published verified claims" in page.text

    answer = create_on_page(client, scopes=["read:claims", "write:annotations"], member=str(own.pk))
    assert answer.status_code == 201
    assert "no-store" in answer["Cache-Control"]
    secret = re.search(r'value="(wb_[^"]+)"', answer.text)[1]
    assert SECRET.match(secret)
    assert answer.text.count(secret) == 1
    assert "shown only this once" in answer.text
    key = ApiKey.objects.get()
    assert key.scopes == ["read:claims", "write:annotations"]
    assert key.user == perry
    assert secret not in stored_text()
    assert api_key_check(secret) == key

    again = client.get(reverse("api-keys", args=["planet"]))
    assert secret not in again.text
    assert "shown only this once" not in again.text
    assert f"wb_{key.prefix}_…" in again.text
    assert "Partner site" in again.text


def test_with_htmx_the_new_key_replaces_the_block_and_a_reload_is_plain(client, perry):
    login(client, perry)
    own = Membership.objects.get(user=perry)
    answer = create_on_page(client, member=str(own.pk), headers={"HX-Request": "true"})
    assert answer.status_code == 201
    assert answer.text.lstrip().startswith('<div id="api-keys">')
    assert "<html" not in answer.text
    assert re.search(r'value="wb_[0-9a-f]{8}_', answer.text)


def test_a_key_can_act_as_another_member_and_expire(client, perry, alice):
    login(client, perry)
    member = Membership.objects.get(user=alice)
    day = timezone.localdate() + timedelta(days=30)
    answer = create_on_page(client, member=str(member.pk), expires_on=day.isoformat())
    assert answer.status_code == 201
    key = ApiKey.objects.get()
    assert key.user == alice
    assert timezone.localtime(key.expires_at).date() == day
    listing = client.get(reverse("api-keys", args=["planet"])).text
    assert day.strftime("%-d %b %Y") in listing


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Existing"}, "This newsroom already has a key named “Existing”."),
        ({"scopes": []}, "This field is required."),
        ({"scopes": ["read:everything"]}, "Select a valid choice."),
        ({"expires_on": "2020-01-31"}, "The expiry date is in the past."),
        ({"member": "alice", "scopes": ["exports"]}, "A reviewer's key can only"),
    ],
)
def test_the_form_says_what_is_wrong_and_creates_nothing(client, perry, alice, data, message):
    new_key(perry, "Existing")
    login(client, perry)
    member = data.pop("member", "perry")
    data["member"] = str(Membership.objects.get(user__username=member).pk)
    answer = create_on_page(client, **data)
    assert answer.status_code == 422
    assert message in html.unescape(answer.text)
    assert 'value="wb_' not in answer.text
    assert ApiKey.objects.count() == 1


def test_the_acting_member_must_belong_to_the_newsroom(client, perry, eve):
    login(client, perry)
    answer = create_on_page(client, member=str(Membership.objects.get(user=eve).pk))
    assert answer.status_code == 422
    assert "Select a valid choice" in answer.text
    assert ApiKey.objects.count() == 0


def test_revoking_asks_first_then_stops_the_key(client, perry):
    made = new_key(perry)
    login(client, perry)
    url = reverse("api-key-revoke", args=["planet", made.key.pk])
    listing = client.get(reverse("api-keys", args=["planet"])).text
    assert url in listing

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Revoke “Partner site”?" in confirm.text
    assert api_key_check(made.secret) is not None

    answer = client.post(url, follow=True)
    assert answer.redirect_chain[-1][0] == reverse("api-keys", args=["planet"])
    assert f"Revoked “Partner site” ({made.key.display})" in answer.text
    assert "Revoked " + timezone.localdate().strftime("%-d %b %Y") in answer.text
    assert url not in answer.text
    assert api_key_check(made.secret) is None


def test_non_admins_get_the_same_404_as_strangers(client, perry, bob, alice, eve):
    made = new_key(perry)
    page = reverse("api-keys", args=["planet"])
    revoke = reverse("api-key-revoke", args=["planet", made.key.pk])
    for user in (bob, alice, eve):
        login(client, user)
        assert client.get(page).status_code == 404
        assert create_on_page(client).status_code == 404
        assert client.get(revoke).status_code == 404
        assert client.post(revoke).status_code == 404
    client.logout()
    assert client.get(page).status_code == 302
    assert ApiKey.objects.count() == 1
    assert api_key_check(made.secret) is not None


def test_another_newsrooms_admin_cannot_see_or_revoke_our_keys(client, perry, grace):
    made = new_key(perry)
    login(client, grace)
    assert client.get(reverse("api-keys", args=["planet"])).status_code == 404
    own_page = client.get(reverse("api-keys", args=["gazette"]))
    assert own_page.status_code == 200
    assert made.key.display not in own_page.text
    revoke = reverse("api-key-revoke", args=["gazette", made.key.pk])
    assert client.get(revoke).status_code == 404
    assert client.post(revoke).status_code == 404
    assert api_key_check(made.secret) is not None


def test_only_admins_find_the_page_from_home(client, perry, bob):
    login(client, perry)
    assert reverse("api-keys", args=["planet"]) in client.get(reverse("home")).text
    login(client, bob)
    home = client.get(reverse("home")).text
    assert reverse("exports", args=["planet"]) in home
    assert reverse("api-keys", args=["planet"]) not in home


def test_the_django_admin_lists_keys_without_their_hash(client, perry, bob, grace):
    made = new_key(perry)
    theirs = new_key(grace, "Gazette feed")
    for user in (perry, bob, grace):
        user.is_staff = True
        user.save()
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="annotations"))
    login(client, perry)
    listing = client.get(reverse("admin:annotations_apikey_changelist")).text
    assert made.key.display in listing
    assert theirs.key.display not in listing
    detail = client.get(reverse("admin:annotations_apikey_change", args=[made.key.pk]))
    assert detail.status_code == 200
    assert made.key.hashed_secret not in detail.text
    # The admin can revoke from the list, and only that.
    assert "Add API key" not in listing
    client.post(
        reverse("admin:annotations_apikey_changelist"),
        {"action": "revoke", "_selected_action": [made.key.pk, theirs.key.pk]},
    )
    assert api_key_check(made.secret) is None
    assert api_key_check(theirs.secret) is not None
    # An editor may use the admin, but API keys are for admins only.
    login(client, bob)
    assert made.key.display not in client.get(reverse("admin:annotations_apikey_changelist")).text


# Checking a key ------------------------------------------------------------------


def test_a_live_key_is_accepted_and_a_wrong_secret_is_not(perry):
    made = new_key(perry)
    assert api_key_check(made.secret) == made.key
    wrong = made.secret[:-4] + ("AAAA" if not made.secret.endswith("AAAA") else "BBBB")
    assert api_key_check(wrong) is None
    assert api_key_check(f"wb_{made.key.prefix}_") is None
    assert api_key_check("not a key") is None


def test_revoked_expired_and_ex_member_keys_are_refused(perry, alice):
    revoked = new_key(perry, "Revoked")
    api_key_revoke(key=revoked.key)
    expiring = new_key(perry, "Expiring", expires_at=timezone.now() + timedelta(hours=1))
    ApiKey.objects.filter(pk=expiring.key.pk).update(expires_at=timezone.now())
    leaver = new_key(alice, "Alice's script")
    deactivated = new_key(perry, "Perry's script")
    assert api_key_check(leaver.secret) is not None
    Membership.objects.filter(user=alice).delete()
    User.objects.filter(pk=perry.pk).update(is_active=False)
    for made in (revoked, expiring, leaver, deactivated):
        assert api_key_check(made.secret) is None, made.key.name


def test_last_used_is_recorded_at_most_once_a_minute(perry):
    made = new_key(perry)
    assert made.key.last_used_at is None
    first = api_key_check(made.secret)
    assert first is not None
    assert first.last_used_at is not None
    used_at = ApiKey.objects.get().last_used_at
    assert api_key_check(made.secret) is not None
    assert ApiKey.objects.get().last_used_at == used_at
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ApiKey.objects.update(last_used_at=an_hour_ago)
    assert api_key_check(made.secret) is not None
    assert ApiKey.objects.get().last_used_at > an_hour_ago


def test_a_key_for_a_deactivated_member_is_refused_at_creation(perry, alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    alice.refresh_from_db()
    with pytest.raises(ValidationError, match="deactivated"):
        new_key(alice, scopes=[Scope.READ_CLAIMS])
