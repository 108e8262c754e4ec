"""Writing notifications, and what their recipients want by email.

`notify` is the one way a notification is made, from any capability: the
discussion (mentions, replies, requests for changes), publishing, and a new
version of an article with published claims (`notify_article_changed`). It
writes in the caller's transaction and sends the emails after it commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction
from django.utils import timezone

from annotations.jobs.enqueue import enqueue
from annotations.models import (
    Article,
    Comment,
    EmailChoice,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreference,
    Organization,
    Thread,
    VerifiedClaim,
    VerifiedStatus,
)

# The kinds a person may be emailed about; the others wait in the inbox.
EMAILED = frozenset({NotificationKind.MENTION, NotificationKind.CHANGE_REQUEST})
UNSUBSCRIBE_SALT = "annotations.notifications.unsubscribe"
TEXT_MAX = 400


# What a notification of a deleted comment says instead of its words.
COMMENT_DELETED = "(The comment was deleted.)"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def email_choice(user: User) -> str:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference.email if preference else EmailChoice.IMMEDIATE


def _email_state(user: User, kind: str, choices: dict[int, str]) -> str:
    if kind not in EMAILED or not user.email:
        return EmailState.NONE
    choice = choices.get(user.pk, EmailChoice.IMMEDIATE)
    if choice == EmailChoice.IMMEDIATE:
        return EmailState.PENDING
    if choice == EmailChoice.DIGEST:
        return EmailState.DIGEST
    return EmailState.NONE


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    organization: Organization,
    text: str,
    actor: User | None = None,
    article: Article | None = None,
    thread: Thread | None = None,
    comment: Comment | None = None,
    verified: VerifiedClaim | None = None,
) -> list[Notification]:
    """One notification for each recipient (each once, never the actor), in the caller's
    transaction; a mention or a request for changes is emailed to those who want it at
    once, after the commit, or kept for their daily digest.

    `text` says what happened, on one line, from what the recipients may see
    (the caller checks that they may see the thread and comment it names). The
    inbox checks the links again each time it is read (blind review).
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind {kind!r}")
    unique: dict[int, User] = {}
    for user in recipients:
        if actor is None or user.pk != actor.pk:
            unique.setdefault(user.pk, user)
    if not unique:
        return []
    choices = dict(
        NotificationPreference.objects.filter(user__in=list(unique)).values_list("user", "email")
    )
    now = timezone.now()
    rows = [
        Notification(
            recipient=user,
            organization=organization,
            kind=kind,
            actor=actor,
            article=article or (thread.article if thread else None),
            thread=thread,
            comment=comment,
            verified=verified,
            text=_clip(" ".join(text.split()), TEXT_MAX),
            created_at=now,
            email=_email_state(user, kind, choices),
        )
        for user in unique.values()
    ]
    with transaction.atomic():
        made = Notification.objects.bulk_create(rows)
        for notification in made:
            if notification.email == EmailState.PENDING:
                enqueue("annotations.tasks.notification_email", notification.pk)
    return made


def notify_article_changed(
    article: Article, claims: Iterable[VerifiedClaim], *, actor: User | None = None
) -> list[Notification]:
    """Tells the desk that `article` (the new version) changed under published claims.

    `claims` are the verified claims of the article that were public (published
    or corrected) when the text changed. Their editors and the reviewers whose
    claims they came from are told, once each, with a link to the article; a
    reviewer still reviewing the article sees it once they submit (blind review).
    """
    public = [c for c in claims if c.status in (VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED)]
    if not public:
        return []
    people: dict[int, User] = {}
    for claim in public:
        people.setdefault(claim.editor_id, claim.editor)
        for annotation in claim.annotations.select_related("reviewer"):
            people.setdefault(annotation.reviewer_id, annotation.reviewer)
    count = len(public)
    version = f" (version {article.version})" if article.version > 1 else ""
    text = (
        f"“{_clip(article.title, 120)}” changed{version}: "
        f"{count} published claim{'s' if count != 1 else ''} from it may need a correction."
    )
    return notify(
        recipients=people.values(),
        kind=NotificationKind.ARTICLE_CHANGED,
        organization=article.organization,
        text=text,
        actor=actor,
        article=article,
    )


def notifications_of_deleted_comment(comment_id: int) -> None:
    """A comment was deleted: its words leave the notifications that quoted them, and an
    email not sent yet (at once, or in the digest) is not sent."""
    Notification.objects.filter(comment_id=comment_id).update(text=COMMENT_DELETED)
    Notification.objects.filter(
        comment_id=comment_id, email__in=[EmailState.PENDING, EmailState.DIGEST]
    ).update(email=EmailState.SKIPPED)


def notification_mark_read(*, user: User, notifications: Sequence[int] | None = None) -> int:
    """Marks the user's notifications read (these ids, or all); how many changed."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notifications is not None:
        rows = rows.filter(pk__in=list(notifications))
    return rows.update(read_at=timezone.now())


def notification_mark_unread(*, user: User, notification: Notification) -> None:
    Notification.objects.filter(recipient=user, pk=notification.pk).update(read_at=None)


def email_preference_set(*, user: User, email: str) -> NotificationPreference:
    if email not in EmailChoice.values:
        raise ValueError(f"Unknown email choice {email!r}")
    with transaction.atomic():
        preference, _ = NotificationPreference.objects.update_or_create(
            user=user, defaults={"email": email}
        )
        # Nothing waits for a digest or a send the person no longer wants.
        waiting = Notification.objects.filter(
            recipient=user, email__in=[EmailState.PENDING, EmailState.DIGEST]
        )
        if email == EmailChoice.OFF:
            waiting.update(email=EmailState.SKIPPED)
        elif email == EmailChoice.DIGEST:
            waiting.update(email=EmailState.DIGEST)
    return preference


def unsubscribe_token(user: User) -> str:
    """A signed token that turns this person's emails off, without logging in."""
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_user(token: str) -> User | None:
    """The person a token names, or None for a token that is not ours."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    return User.objects.filter(pk=data["u"], is_active=True).first()
