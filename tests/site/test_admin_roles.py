"""Roles are never raised from below, in the Django admin as anywhere.

At the Daily Planet: alice and carol are reviewers, bob the editor, ada the
admin; gail is an admin of the Rival Gazette. Every one of them is staff
with every permission of the app and of Django's users and groups, as an
operator might have granted: what they may do comes from their newsroom
role (core.permissions), not from those permissions.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from annotations.models import (
    Membership,
    Organization,
    Role,
)
from annotations.newsrooms.services import member_create
from tests.conftest import PASSWORD
from tests.factories import ArticleFactory


def staff(organization: Organization, username: str, role: str) -> User:
    user = member_create(
        organization=organization, username=username, role=role, password=PASSWORD
    ).membership.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["annotations", "auth"])
    )
    return user


@pytest.fixture
def people(planet, gazette, desk):
    ArticleFactory(collection=desk)
    return {
        "alice": staff(planet, "alice", Role.REVIEWER),
        "carol": staff(planet, "carol", Role.REVIEWER),
        "bob": staff(planet, "bob", Role.EDITOR),
        "ada": staff(planet, "ada", Role.ADMIN),
        "gail": staff(gazette, "gail", Role.ADMIN),
    }


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def membership(username: str, slug: str = "planet") -> Membership:
    return Membership.objects.get(user__username=username, organization__slug=slug)


def roles() -> dict[str, str]:
    return dict(Membership.objects.values_list("user__username", "role"))


def change_membership(client: Client, target: Membership, **fields) -> int:
    data = {
        "user": target.user_id,
        "organization": target.organization_id,
        "role": target.role,
        "_save": "Save",
    } | fields
    url = reverse("admin:annotations_membership_change", args=[target.pk])
    return client.post(url, data).status_code


@pytest.mark.parametrize("who", ["alice", "bob", "ada", "gail"])
def test_every_admin_page_of_every_model_answers_without_an_error(people, planet, who):
    client = client_of(people[who])
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        for name in ("changelist", "add"):
            response = client.get(reverse(f"admin:{info[0]}_{info[1]}_{name}"))
            assert response.status_code in {200, 302, 403}, (model, name, response.status_code)
        instance = model._default_manager.first()
        if instance is None:
            continue
        response = client.get(reverse(f"admin:{info[0]}_{info[1]}_change", args=[instance.pk]))
        assert response.status_code in {200, 302, 403}, (model, "change", response.status_code)


def test_an_editor_cannot_raise_their_own_role_or_anyone_elses(people):
    bob = client_of(people["bob"])
    before = roles()
    assert change_membership(bob, membership("bob"), role=Role.ADMIN) == 403
    assert change_membership(bob, membership("carol"), role=Role.ADMIN) == 403
    assert change_membership(bob, membership("carol"), role=Role.EDITOR) == 403
    deleted = bob.post(
        reverse("admin:annotations_membership_delete", args=[membership("carol").pk]),
        {"post": "yes"},
    )
    assert deleted.status_code == 403
    added = bob.post(
        reverse("admin:annotations_membership_add"),
        {
            "user": people["gail"].pk,
            "organization": membership("bob").organization_id,
            "role": "admin",
        },
    )
    assert added.status_code == 403
    assert roles() == before


def test_an_admin_changes_others_roles_up_to_their_own_but_never_their_own(people):
    ada = client_of(people["ada"])
    assert change_membership(ada, membership("ada"), role=Role.REVIEWER) == 403
    assert membership("ada").role == Role.ADMIN
    assert change_membership(ada, membership("carol"), role=Role.EDITOR) == 302
    assert membership("carol").role == Role.EDITOR
    assert change_membership(ada, membership("carol"), role=Role.ADMIN) == 302
    assert membership("carol").role == Role.ADMIN


def test_another_newsrooms_admin_cannot_touch_the_planets_memberships(people):
    gail = client_of(people["gail"])
    before = roles()
    status = change_membership(gail, membership("carol"), role=Role.ADMIN)
    assert status in {302, 403}  # the admin's "does not exist": back to its index
    assert roles() == before


def test_a_newsrooms_page_in_the_admin_changes_no_membership(people, planet):
    # The newsroom's page lists its members; an editor posting it back with
    # their own row raised changes nothing (the editor may not change it at
    # all, an admin may change its name but not memberships there).
    for who in ("bob", "ada"):
        client = client_of(people[who])
        rows = list(planet.memberships.order_by("pk"))
        data = {
            "name": planet.name,
            "slug": planet.slug,
            "memberships-TOTAL_FORMS": len(rows),
            "memberships-INITIAL_FORMS": len(rows),
            "memberships-MIN_NUM_FORMS": 0,
            "memberships-MAX_NUM_FORMS": 1000,
            "_save": "Save",
        }
        for i, row in enumerate(rows):
            data |= {
                f"memberships-{i}-id": row.pk,
                f"memberships-{i}-organization": planet.pk,
                f"memberships-{i}-user": row.user_id,
                f"memberships-{i}-role": Role.ADMIN,
            }
        client.post(reverse("admin:annotations_organization_change", args=[planet.pk]), data)
        assert membership("bob").role == Role.EDITOR
        assert membership("alice").role == Role.REVIEWER


@pytest.mark.parametrize("who", ["bob", "ada", "gail"])
def test_nobody_but_a_superuser_changes_people_in_the_admin(people, who):
    client = client_of(people[who])
    me = people[who]
    page = client.get(reverse("admin:auth_user_change", args=[me.pk]))
    assert page.status_code == 403
    posted = client.post(
        reverse("admin:auth_user_change", args=[me.pk]),
        {"username": me.username, "is_superuser": "on", "is_staff": "on", "is_active": "on"},
    )
    assert posted.status_code == 403
    password = client.post(
        reverse("admin:auth_user_password_change", args=[people["ada"].pk]),
        {"password1": "a new one for me 1234", "password2": "a new one for me 1234"},
    )
    assert password.status_code == 403
    me.refresh_from_db()
    assert not me.is_superuser
    assert User.objects.filter(is_superuser=True).count() == 0
