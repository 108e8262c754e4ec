"""Who may do what: every role check and the blind-review rule, in one place.

Pages, partials, the API, exports, the admin and the commands ask here. A
newsroom's reviewers mark claims; its editors (and admins) also assign,
adjudicate, publish and export; only its admins manage API keys and
webhooks. Querysets are narrowed here, so that another newsroom's row is
simply not found (a 404), never refused with its data in view.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet

from annotations.models import Article, Assignment, AssignmentStatus, Membership, Organization, Role

AnyUser = User | AnonymousUser

# Editors and admins adjudicate, assign, publish, export and see every reviewer's claims.
EDITOR_ROLES = frozenset({Role.EDITOR, Role.ADMIN})


def is_editor(membership: Membership | None) -> bool:
    return membership is not None and membership.role in EDITOR_ROLES


def is_admin(membership: Membership | None) -> bool:
    return membership is not None and membership.role == Role.ADMIN


def organizations_for(user: AnyUser) -> QuerySet[Organization]:
    """Newsrooms the user belongs to, in any role."""
    if not isinstance(user, User):
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user)


def editor_organizations_for(user: AnyUser) -> QuerySet[Organization]:
    """Newsrooms where this user is an editor or admin.

    One filter() call, so that the user and the role are checked on the same
    membership, not on any two memberships of the newsroom.
    """
    if not isinstance(user, User):
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user, memberships__role__in=EDITOR_ROLES)


def admin_organizations_for(user: AnyUser) -> QuerySet[Organization]:
    """Newsrooms where this user is an admin (who alone manage API keys and webhooks)."""
    if not isinstance(user, User):
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user, memberships__role=Role.ADMIN)


def membership_for(user: AnyUser, organization_id: int) -> Membership | None:
    if not isinstance(user, User):
        return None
    return Membership.objects.filter(user=user, organization_id=organization_id).first()


def _within[M: Model](
    queryset: QuerySet[M], organizations: QuerySet[Organization], path: str
) -> QuerySet[M]:
    lookup = "pk__in" if path == "pk" else f"{path}__in"
    return queryset.filter(**{lookup: organizations})


def of_members[M: Model](
    user: AnyUser, queryset: QuerySet[M], path: str = "organization"
) -> QuerySet[M]:
    """The rows of `queryset` in the user's newsrooms; `path` leads from a row to its newsroom."""
    return _within(queryset, organizations_for(user), path)


def of_editors[M: Model](
    user: AnyUser, queryset: QuerySet[M], path: str = "organization"
) -> QuerySet[M]:
    """The rows of `queryset` in newsrooms where the user is an editor or admin."""
    return _within(queryset, editor_organizations_for(user), path)


def of_admins[M: Model](
    user: AnyUser, queryset: QuerySet[M], path: str = "organization"
) -> QuerySet[M]:
    """The rows of `queryset` in newsrooms where the user is an admin."""
    return _within(queryset, admin_organizations_for(user), path)


def require_editor(user: User, organization_id: int) -> Membership:
    membership = membership_for(user, organization_id)
    if not is_editor(membership):
        raise PermissionDenied("Only editors and admins can do this.")
    assert membership is not None
    return membership


def require_admin(user: User, organization_id: int, *, to: str = "do this") -> Membership:
    """The user's membership, if they are an admin of the newsroom; `to` says what for."""
    membership = membership_for(user, organization_id)
    if not is_admin(membership):
        raise PermissionDenied(f"Only the newsroom's admins can {to}.")
    assert membership is not None
    return membership


# Roles rank: a role is granted only by someone whose own role is at least as high.
ROLE_RANK: dict[str, int] = {Role.REVIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}


def membership_change_refusal(
    actor: AnyUser, *, organization_id: int, member_id: int | None, role: str | None = None
) -> str | None:
    """Why `actor` may not add, change or remove this membership (None: they may).

    Only a newsroom's admins manage its memberships; nobody changes their own
    (another admin does); nobody grants a role above their own. Superusers are
    the operators who set newsrooms up: they may. The Django admin asks here;
    no page or API endpoint changes memberships, and the commands are run by
    operators.
    """
    if not isinstance(actor, User):
        return "Log in first."
    if actor.is_superuser:
        return None
    mine = membership_for(actor, organization_id)
    if not is_admin(mine):
        return "Only the newsroom's admins change its memberships."
    assert mine is not None
    if member_id == actor.pk:
        return "Nobody changes their own membership: ask another admin of the newsroom."
    if role is not None and ROLE_RANK.get(role, len(ROLE_RANK)) > ROLE_RANK[mine.role]:
        return "Nobody grants a role above their own."
    return None


def sees_all_claims(
    membership: Membership | None, article: Article, assignment: Assignment | None
) -> bool:
    """Blind review. Editors see everyone's claims. Under blind review a reviewer sees
    only their own until they submit their assignment; without it, everyone's."""
    if membership is None:
        return False
    if not article.collection.blind_review:
        return True
    if assignment is not None:
        # Anyone reviewing the article, an editor too, is blind until they submit:
        # otherwise their claims would not be independent.
        return assignment.status == AssignmentStatus.SUBMITTED
    return is_editor(membership)


def sees_published_claims(
    membership: Membership | None, article: Article, assignment: Assignment | None
) -> bool:
    """The desk's verdicts on an article: members may see them, except while reviewing
    the article (editors too), so that they cannot steer a review in progress."""
    if membership is None:
        return False
    return assignment is None or assignment.status == AssignmentStatus.SUBMITTED


# Blind review ---------------------------------------------------------------------
#
# One rule, used by every path that shows reviewers' work or the desk's verdicts
# (the reader and its partials, suggestions from any article, adjudication,
# history, agreement, exports, the admin and the members' API): someone
# reviewing an article of a blind collection, and not yet submitted, sees only
# their own claims on it; and nobody sees the desk's verdicts on an article
# they are still reviewing. An editor assigned as a reviewer is a reviewer on
# that article until they submit.


def blind_articles(user: AnyUser) -> QuerySet[Assignment, Any]:
    """The ids (as `article_id`) of the articles the user is reviewing blind."""
    if not isinstance(user, User):
        return Assignment.objects.none()
    return (
        Assignment.objects.filter(reviewer=user, article__collection__blind_review=True)
        .exclude(status=AssignmentStatus.SUBMITTED)
        .values("article_id")
    )


def reviewing(user: AnyUser) -> QuerySet[Assignment, Any]:
    """The ids (as `article_id`) of the articles the user is reviewing, not yet submitted."""
    if not isinstance(user, User):
        return Assignment.objects.none()
    return (
        Assignment.objects.filter(reviewer=user)
        .exclude(status=AssignmentStatus.SUBMITTED)
        .values("article_id")
    )


def blind_on(user: AnyUser, article: Article) -> bool:
    """Whether the user is reviewing this article blind: others' work on it is hidden."""
    return blind_articles(user).filter(article_id=article.pk).exists()


def others_claims_hidden[M: Model](
    user: AnyUser,
    claims: QuerySet[M],
    *,
    article_path: str = "article",
    reviewer_path: str = "reviewer",
) -> QuerySet[M]:
    """`claims` (reviewers' claims, or rows reached through them) without other
    reviewers' work on the articles the user is reviewing blind."""
    return claims.exclude(
        Q(**{f"{article_path}__in": blind_articles(user).values("article_id")})
        & ~Q(**{reviewer_path: user.pk})
    )


def verdicts_hidden[M: Model](
    user: AnyUser, verified: QuerySet[M], *, article_path: str = "article"
) -> QuerySet[M]:
    """`verified` (the desk's verified claims) without those on the articles the user is
    still reviewing: the desk's verdicts must not steer a review in progress."""
    return verified.exclude(**{f"{article_path}__in": reviewing(user).values("article_id")})
