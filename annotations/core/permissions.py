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
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from annotations.models import (
    ActivityKind,
    Article,
    Assignment,
    AssignmentStatus,
    Comment,
    Membership,
    NotificationKind,
    Organization,
    Role,
    Source,
)

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


# Discussion ----------------------------------------------------------------------
#
# Threads of comments on a reviewer's claim, on a verified claim, or on an
# article (annotations/discussion). The same blind review, one rule each, on
# every path (the reader, adjudication, the verified claim's page, the inbox,
# emails, the activity page and the members' API):
#
# - a thread on a reviewer's claim is seen by whoever may see that claim, but
#   while its reviewer is still reviewing the article blind, only by them and
#   by editors who are not reviewing it themselves;
# - a thread on a verified claim, like the verified claim's page, by editors
#   not reviewing the article;
# - a thread on an article, by the newsroom's members; and each comment, in
#   any thread, only where its author's work may be seen: someone reviewing
#   blind sees their own comments and the desk's (editors not assigned to the
#   article), and nobody but editors sees the comments of someone still
#   reviewing the article blind.
#
# Comments never reach partners: no partner path (the partner API, exports,
# webhooks, public pages) reads them.


def _path(prefix: str, name: str) -> str:
    return f"{prefix}{name}"


def _blind_assignment(article: str, reviewer: str) -> Exists:
    """Whether `reviewer` (an outer field) is reviewing `article` (an outer field) blind."""
    return Exists(
        Assignment.objects.filter(
            article_id=OuterRef(article),
            reviewer_id=OuterRef(reviewer),
            article__collection__blind_review=True,
        ).exclude(status=AssignmentStatus.SUBMITTED)
    )


def _sees_all_q(user: User, *, article: str, organization: str) -> Q:
    """sees_all_claims() as a filter: the user submitted the article, or is an editor
    not assigned to it (a collection without blind review is checked apart)."""
    assigned = Assignment.objects.filter(reviewer=user).values("article_id")
    submitted = assigned.filter(status=AssignmentStatus.SUBMITTED)
    return Q(**{f"{article}__in": submitted}) | (
        ~Q(**{f"{article}__in": assigned})
        & Q(**{f"{organization}__in": editor_organizations_for(user)})
    )


def _claim_thread_q(user: User, *, article: str, reviewer: str, organization: str) -> Q:
    """Who sees the discussion of a reviewer's claim; the fields name the claim's article,
    reviewer and newsroom from the row filtered."""
    editor = Q(**{f"{organization}__in": editor_organizations_for(user)})
    return (
        Q(**{reviewer: user.pk})
        | Q(**{f"{article}__collection__blind_review": False})
        | (
            _sees_all_q(user, article=article, organization=organization)
            & (~_blind_assignment(f"{article}_id", f"{reviewer}_id") | editor)
        )
    )


def _verified_thread_q(user: User, *, article: str, organization: str) -> Q:
    return Q(**{f"{organization}__in": editor_organizations_for(user)}) & ~Q(
        **{f"{article}__in": reviewing(user).values("article_id")}
    )


def _thread_q(user: User, prefix: str = "") -> Q:
    article = _path(prefix, "article")
    organization = _path(prefix, "organization")
    on_claim = Q(**{_path(prefix, "claim__isnull"): False}) & _claim_thread_q(
        user, article=article, reviewer=_path(prefix, "claim__reviewer"), organization=organization
    )
    on_verified = Q(**{_path(prefix, "verified__isnull"): False}) & _verified_thread_q(
        user, article=article, organization=organization
    )
    on_article = Q(
        **{_path(prefix, "claim__isnull"): True, _path(prefix, "verified__isnull"): True}
    )
    return Q(**{f"{organization}__in": organizations_for(user)}) & (
        on_claim | on_verified | on_article
    )


def _comment_q(user: User, prefix: str = "") -> Q:
    article = _path(prefix, "thread__article")
    organization = _path(prefix, "thread__organization")
    author = _path(prefix, "author")
    editor = Q(**{f"{organization}__in": editor_organizations_for(user)})
    sees_all = _sees_all_q(user, article=article, organization=organization)
    # The desk's voice: an editor of the newsroom who is not assigned to the article.
    desk = Exists(
        Membership.objects.filter(
            user_id=OuterRef(f"{author}_id"),
            organization_id=OuterRef(f"{organization}_id"),
            role__in=EDITOR_ROLES,
        )
    ) & ~Exists(
        Assignment.objects.filter(
            article_id=OuterRef(f"{article}_id"), reviewer_id=OuterRef(f"{author}_id")
        )
    )
    return (
        Q(**{author: user.pk})
        | Q(**{f"{article}__collection__blind_review": False})
        | (sees_all & (~_blind_assignment(f"{article}_id", f"{author}_id") | editor))
        | (~sees_all & desk)
    )


def threads_visible[M: Model](
    user: AnyUser, threads: QuerySet[M], *, path: str = ""
) -> QuerySet[M]:
    """`threads` (or rows reached through them, `path` leading to the thread) that the
    user may see."""
    if not isinstance(user, User):
        return threads.none()
    prefix = f"{path}__" if path else ""
    # A thread shows itself through what the user may read of it: one whose every
    # comment blind review hides (another reviewer's, on the article) is not there for
    # them at all, not even who started it, unless they did.
    readable = Exists(
        Comment.objects.filter(thread=OuterRef(path or "pk")).filter(_comment_q(user))
    )
    return threads.filter(_thread_q(user, prefix), Q(**{f"{prefix}created_by": user.pk}) | readable)


def comments_visible[M: Model](
    user: AnyUser, comments: QuerySet[M], *, path: str = ""
) -> QuerySet[M]:
    """`comments` of threads the user may see, less those blind review hides from them."""
    if not isinstance(user, User):
        return comments.none()
    prefix = f"{path}__" if path else ""
    return comments.filter(_thread_q(user, f"{prefix}thread__"), _comment_q(user, prefix))


def comments_shown[M: Model](user: AnyUser, comments: QuerySet[M]) -> QuerySet[M]:
    """comments_visible() for the comments of threads already read through
    threads_visible(): only each comment's own rule, so that a thread of many comments
    is not asked again whether it may be seen."""
    if not isinstance(user, User):
        return comments.none()
    return comments.filter(_comment_q(user))


def claims_discussable[M: Model](user: AnyUser, claims: QuerySet[M]) -> QuerySet[M]:
    """Reviewers' claims the user may start a thread on: one they would then see."""
    if not isinstance(user, User):
        return claims.none()
    return claims.filter(
        Q(article__organization__in=organizations_for(user)),
        _claim_thread_q(
            user, article="article", reviewer="reviewer", organization="article__organization"
        ),
    )


def verified_discussable[M: Model](user: AnyUser, verified: QuerySet[M]) -> QuerySet[M]:
    """Verified claims the user may discuss: those whose page they may read."""
    if not isinstance(user, User):
        return verified.none()
    return verified.filter(_verified_thread_q(user, article="article", organization="organization"))


def may_request_changes(membership: Membership | None) -> bool:
    """Sending a reviewer's claim back is the desk's: editors and admins."""
    return is_editor(membership)


def notifications_visible[M: Model](user: AnyUser, notifications: QuerySet[M]) -> QuerySet[M]:
    """The user's own notifications whose thread, comment and verdicts they may see now.

    Checked each time, not only when a notification is made: if what they may
    see changes (a review reopened), so does their inbox, and what is emailed.
    """
    if not isinstance(user, User):
        return notifications.none()
    verdicts = [NotificationKind.PUBLISHED, NotificationKind.ARTICLE_CHANGED]
    return notifications.filter(
        Q(recipient=user.pk),
        Q(organization__in=organizations_for(user)),
        Q(thread__isnull=True) | _thread_q(user, "thread__"),
        Q(comment__isnull=True)
        | (_thread_q(user, "comment__thread__") & _comment_q(user, "comment__")),
        Q(verified__isnull=True) | ~Q(verified__article__in=reviewing(user).values("article_id")),
    ).exclude(Q(kind__in=verdicts) & Q(article__in=reviewing(user).values("article_id")))


def activity_visible[M: Model](user: AnyUser, activity: QuerySet[M]) -> QuerySet[M]:
    """A collection's activity, for its editors; on an article an editor is reviewing
    blind, only their own, and nothing of the desk's verdicts on one they are reviewing."""
    if not isinstance(user, User):
        return activity.none()
    verdicts = [
        ActivityKind.SAVED_VERIFIED,
        ActivityKind.PUBLISHED,
        ActivityKind.CORRECTED,
        ActivityKind.RETRACTED,
    ]
    return (
        of_editors(user, activity)
        .exclude(Q(article__in=blind_articles(user).values("article_id")) & ~Q(actor=user.pk))
        # The desk's verdicts, and what is said about them (comments in a verified
        # claim's thread), wait until the editor has submitted their own review.
        .exclude(
            (Q(kind__in=verdicts) | Q(verified__isnull=False))
            & Q(article__in=reviewing(user).values("article_id"))
        )
    )


# Archived sources (issue 17) ------------------------------------------------------


def archives_visible[M: Model](user: AnyUser, archives: QuerySet[M]) -> QuerySet[M]:
    """A newsroom's archived sources: its editors see them all; a reviewer, those of their
    own claims' sources only, so that blind review hides which sources colleagues cite."""
    if not isinstance(user, User):
        return archives.none()
    own = Source.objects.filter(
        claim__reviewer=user,
        claim__deleted_at__isnull=True,
        claim__article__organization_id=OuterRef("organization_id"),
        url=OuterRef("url"),
    )
    return of_members(user, archives).filter(
        Q(organization__in=editor_organizations_for(user)) | Exists(own)
    )
