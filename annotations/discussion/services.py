"""Threads, comments, mentions and requests for changes: every write, checked first.

Each service checks everything (who may, what was written, the quoted
passage) before it writes anything, and writes in one transaction with its
activity line and its notifications; emails leave after the commit. The rules
of who sees what are annotations.core.permissions', used here and by every
read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotations.core.anchoring import SpanError, selector_for
from annotations.core.inputs import unstorable
from annotations.core.permissions import (
    claims_discussable,
    comments_visible,
    is_editor,
    may_request_changes,
    membership_for,
    threads_visible,
    verified_discussable,
)
from annotations.discussion.activity import activity_record
from annotations.discussion.text import mentioned_names, plain_excerpt, render
from annotations.models import (
    ActivityKind,
    Article,
    Assignment,
    AssignmentStatus,
    ChangeRequest,
    ChangeRequestStatus,
    ClaimAnnotation,
    Comment,
    Membership,
    NotificationKind,
    Thread,
    VerifiedClaim,
)
from annotations.notifications.services import notifications_of_deleted_comment, notify
from annotations.reader.services import assignment_reopen

RESOLVED = "This thread is resolved: reopen it to reply."
# A comment quotes a passage, not the article: a few paragraphs at most.
QUOTE_MAX_CHARS = 2000
DELETED = "This comment was deleted."


class StateConflict(ValidationError):
    """Refused because of the state the thing is in now (a resolved thread, a deleted
    comment, a claim already sent back), not because of what was written: the API
    answers 409, the browser shows the message like any other."""


ONE_OPEN_REQUEST = (
    "This claim already has an open request for changes: add a comment to that one instead."
)


@dataclass(frozen=True)
class Quote:
    """A passage of the article a comment quotes: offsets, or the words alone."""

    start: int | None = None
    end: int | None = None
    text: str = ""

    @property
    def given(self) -> bool:
        return self.start is not None or self.end is not None or bool(self.text.strip())


def _check_body(body: str, errors: dict[str, str]) -> str:
    body = body.strip()
    limit = settings.WORKBENCH_MAX_NOTE_CHARS
    if not body:
        errors["body"] = "Write a comment first."
    elif len(body) > limit:
        errors["body"] = f"A comment is at most {limit:,} characters; this one has {len(body):,}."
    elif unstorable(body):
        errors["body"] = "Contains a NUL or an unpaired surrogate character."
    return body


def _check_quote(article: Article, quote: Quote, errors: dict[str, str]) -> Quote:
    """The passage as stored: exactly the article's text between its offsets."""
    if not quote.given:
        return Quote()
    if quote.start is None or quote.end is None:
        if quote.start is not None or quote.end is not None:
            errors["quote"] = "Give both ends of the quoted passage, or neither."
            return Quote()
        words = quote.text.strip()
        at = article.text.find(words)
        if at < 0:
            errors["quote"] = "This passage is not in the article: copy it from the text."
            return Quote()
        return Quote(at, at + len(words), words)
    try:
        selector = selector_for(article.text, quote.start, quote.end)
    except SpanError as exc:
        errors["quote"] = str(exc)
        return Quote()
    if quote.text and quote.text != selector.exact:
        errors["quote"] = (
            f"The text at {quote.start}–{quote.end} is “{selector.exact[:80]}”, "
            f"not “{quote.text[:80]}”."
        )
        return Quote()
    if selector.end - selector.start > QUOTE_MAX_CHARS:
        errors["quote"] = f"Quote at most {QUOTE_MAX_CHARS:,} characters of the article."
        return Quote()
    return Quote(selector.start, selector.end, selector.exact)


def _members(organization_id: int) -> dict[str, User]:
    return {
        m.user.get_username(): m.user
        for m in Membership.objects.filter(organization_id=organization_id).select_related("user")
    }


def _sees(user: User, thread: Thread, comment: Comment | None = None) -> bool:
    """Whether `user` may see the thread (and the comment): the permissions' rule."""
    if not threads_visible(user, Thread.objects.filter(pk=thread.pk)).exists():
        return False
    return comment is None or comments_visible(user, Comment.objects.filter(pk=comment.pk)).exists()


def _require_sees(user: User, thread: Thread) -> None:
    if not threads_visible(user, Thread.objects.filter(pk=thread.pk)).exists():
        # Hidden and missing look the same from outside.
        raise PermissionDenied("You cannot see this thread.")


def _subject(thread: Thread) -> str:
    """What a thread is about, in a few words, for notifications and activity."""
    if thread.claim is not None:
        return f"“{plain_excerpt(thread.claim.quote, 80)}”"
    if thread.verified is not None:
        return f"the verified claim “{plain_excerpt(thread.verified.claim_reviewed, 80)}”"
    return f"the article “{plain_excerpt(thread.article.title, 80)}”"


def _touch(thread: Thread) -> None:
    thread.updated_at = timezone.now()
    Thread.objects.filter(pk=thread.pk).update(updated_at=thread.updated_at)


def _participants(thread: Thread) -> dict[int, User]:
    """Who takes part in a thread: its authors, the claim's reviewer, the requester."""
    people = {
        c.author_id: c.author
        for c in thread.comments.filter(deleted_at__isnull=True).select_related("author")
    }
    if thread.claim is not None:
        people.setdefault(thread.claim.reviewer_id, thread.claim.reviewer)
    request = ChangeRequest.objects.filter(thread=thread).select_related("requested_by").first()
    if request is not None:
        people.setdefault(request.requested_by_id, request.requested_by)
    return people


@dataclass(frozen=True)
class Outcome:
    """What a comment did besides being stored: who was told, and who could not be."""

    comment: Comment
    notified: tuple[str, ...] = ()
    # Mentioned members who cannot see the thread (blind review): not notified.
    unseen: tuple[str, ...] = ()


def _tell(
    *,
    comment: Comment,
    actor: User,
    mentions: Iterable[User],
    reply: bool,
    skip: int | None = None,
) -> tuple[list[str], list[str]]:
    """Notifies the mentioned members, then the thread's other participants, of a comment;
    each only if they may see it. Returns (notified names, mentioned names not notified)."""
    thread = comment.thread
    excerpt = plain_excerpt(comment.body)
    subject = _subject(thread)
    mentioned: list[User] = []
    unseen: list[str] = []
    for user in mentions:
        if user.pk in (actor.pk, skip):
            continue
        if _sees(user, thread, comment):
            mentioned.append(user)
        else:
            unseen.append(user.get_username())
    name = actor.get_username()
    notify(
        recipients=mentioned,
        kind=NotificationKind.MENTION,
        organization=thread.organization,
        text=f"{name} mentioned you on {subject}: “{excerpt}”",
        actor=actor,
        thread=thread,
        comment=comment,
    )
    told = {u.pk for u in mentioned}
    others = []
    if reply:
        for pk, user in _participants(thread).items():
            if pk in told or pk in (actor.pk, skip):
                continue
            if _sees(user, thread, comment):
                others.append(user)
    owner = thread.claim.reviewer_id if thread.claim is not None else None
    for user in others:
        verb = (
            "commented on your claim"
            if user.pk == owner and not thread.comments.filter(author=user).exists()
            else "replied on"
        )
        notify(
            recipients=[user],
            kind=NotificationKind.REPLY,
            organization=thread.organization,
            text=f"{name} {verb} {subject}: “{excerpt}”",
            actor=actor,
            thread=thread,
            comment=comment,
        )
    return [u.get_username() for u in [*mentioned, *others]], unseen


def _mentioned(body: str, members: dict[str, User]) -> list[User]:
    return [members[n] for n in mentioned_names(body) if n in members]


def _new_comment(*, thread: Thread, author: User, body: str, quote: Quote) -> Comment:
    members = _members(thread.organization_id)
    comment = Comment(
        thread=thread,
        author=author,
        body=body,
        html=render(body, members=members),
        quote=quote.text,
        quote_start=quote.start,
        quote_end=quote.end,
    )
    comment._history_user = author  # type: ignore[attr-defined]
    comment.save()
    return comment


def thread_start(
    *,
    user: User,
    article: Article,
    body: str,
    claim: ClaimAnnotation | None = None,
    verified: VerifiedClaim | None = None,
    quote: Quote = Quote(),
    request_changes: bool = False,
) -> Outcome:
    """Starts a thread on a reviewer's claim, a verified claim, or the article, with its
    first comment; `request_changes` sends the claim back to its reviewer with it."""
    membership = membership_for(user, article.organization_id)
    if membership is None:
        raise PermissionDenied("You are not a member of this newsroom.")
    errors: dict[str, str] = {}
    if claim is not None and verified is not None:
        errors["claim"] = "A thread is about one claim: a reviewer's or a verified one."
    if claim is not None and (
        claim.article_id != article.pk
        or claim.deleted_at is not None
        or not claims_discussable(user, ClaimAnnotation.objects.filter(pk=claim.pk)).exists()
    ):
        raise PermissionDenied("You cannot discuss this claim.")
    if verified is not None and (
        verified.article_id != article.pk
        or not verified_discussable(user, VerifiedClaim.objects.filter(pk=verified.pk)).exists()
    ):
        raise PermissionDenied("You cannot discuss this verified claim.")
    if request_changes:
        if not may_request_changes(membership):
            errors["request_changes"] = "Only editors can send a claim back to its reviewer."
        elif claim is None:
            errors["request_changes"] = "Changes are requested on a reviewer's claim."
        elif claim.reviewer_id == user.pk:
            errors["request_changes"] = "This is your own claim: change it yourself."
    body = _check_body(body, errors)
    quote = _check_quote(article, quote, errors)
    if errors:
        raise ValidationError(errors)
    if (
        request_changes
        and claim is not None
        and ChangeRequest.objects.filter(claim=claim, status=ChangeRequestStatus.OPEN).exists()
    ):
        raise StateConflict({"request_changes": ONE_OPEN_REQUEST})
    try:
        with transaction.atomic():
            thread = Thread.objects.create(
                organization_id=article.organization_id,
                article=article,
                claim=claim,
                verified=verified,
                created_by=user,
            )
            comment = _new_comment(thread=thread, author=user, body=body, quote=quote)
            mentions = _mentioned(body, _members(article.organization_id))
            if request_changes:
                assert claim is not None
                _request(thread=thread, claim=claim, editor=user, comment=comment)
                mentions = [m for m in mentions if m.pk != claim.reviewer_id]
            else:
                activity_record(
                    kind=ActivityKind.COMMENTED,
                    actor=user,
                    article=article,
                    claim=claim,
                    verified=verified,
                    thread=thread,
                    summary=f"{_subject(thread)}: {plain_excerpt(body, 160)}",
                )
            notified, unseen = _tell(
                comment=comment, actor=user, mentions=mentions, reply=not request_changes
            )
    except IntegrityError:
        # Another editor sent the same claim back at the same moment.
        raise StateConflict({"request_changes": ONE_OPEN_REQUEST}) from None
    return Outcome(comment, tuple(notified), tuple(unseen))


def _request(*, thread: Thread, claim: ClaimAnnotation, editor: User, comment: Comment) -> None:
    """The request itself: the reviewer's review reopened if they had submitted it, an
    activity line, and the reviewer told."""
    ChangeRequest.objects.create(
        thread=thread, claim=claim, reviewer_id=claim.reviewer_id, requested_by=editor
    )
    _reopen_review(claim=claim, editor=editor)
    activity_record(
        kind=ActivityKind.REQUESTED_CHANGES,
        actor=editor,
        article=thread.article,
        claim=claim,
        thread=thread,
        summary=f"{_subject(thread)}: {plain_excerpt(comment.body, 160)}",
    )
    notify(
        recipients=[claim.reviewer],
        kind=NotificationKind.CHANGE_REQUEST,
        organization=thread.organization,
        text=(
            f"{editor.get_username()} asked you to change your claim {_subject(thread)}: "
            f"“{plain_excerpt(comment.body)}”"
        ),
        actor=editor,
        thread=thread,
        comment=comment,
    )


def _reopen_review(*, claim: ClaimAnnotation, editor: User) -> None:
    """A submitted review is reopened so that its reviewer can change the claim."""
    assignment = (
        Assignment.objects.select_related("article")
        .filter(article=claim.article_id, reviewer=claim.reviewer_id)
        .first()
    )
    if assignment is not None and assignment.status == AssignmentStatus.SUBMITTED:
        assignment_reopen(assignment=assignment, user=editor)


def comment_post(*, user: User, thread: Thread, body: str, quote: Quote = Quote()) -> Outcome:
    """A reply in a thread the user may see and that is not resolved."""
    return _post(user=user, thread=thread, body=body, quote=quote)


def _post(
    *, user: User, thread: Thread, body: str, quote: Quote = Quote(), told_apart: int | None = None
) -> Outcome:
    """comment_post(); `told_apart` is someone the caller tells of this comment itself
    (the editor who asked, told "changes done" with it), not also as a reply."""
    _require_sees(user, thread)
    errors: dict[str, str] = {}
    if thread.is_resolved:
        raise StateConflict({"body": RESOLVED})
    body = _check_body(body, errors)
    quote = _check_quote(thread.article, quote, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = Thread.objects.select_for_update().get(pk=thread.pk)
        if current.is_resolved:
            raise StateConflict({"body": RESOLVED})
        comment = _new_comment(thread=thread, author=user, body=body, quote=quote)
        _touch(thread)
        _thread_activity(ActivityKind.COMMENTED, user, thread, said=body)
        notified, unseen = _tell(
            comment=comment,
            actor=user,
            mentions=_mentioned(body, _members(thread.organization_id)),
            reply=True,
            skip=told_apart,
        )
    return Outcome(comment, tuple(notified), tuple(unseen))


def _require_author(user: User, comment: Comment) -> None:
    _require_sees(user, comment.thread)
    if comment.author_id != user.pk:
        raise PermissionDenied("Only its author can change a comment.")
    if comment.is_deleted:
        raise StateConflict({"body": DELETED})


def comment_edit(*, user: User, comment: Comment, body: str) -> Outcome:
    """Changes the words of one's own comment; its history keeps the earlier ones.
    Members mentioned for the first time are told."""
    _require_author(user, comment)
    errors: dict[str, str] = {}
    body = _check_body(body, errors)
    if errors:
        raise ValidationError(errors)
    if body == comment.body:
        return Outcome(comment)
    members = _members(comment.thread.organization_id)
    before = set(mentioned_names(comment.body))
    with transaction.atomic():
        current = Comment.objects.select_for_update().get(pk=comment.pk)
        if current.is_deleted:
            raise StateConflict({"body": DELETED})
        current.body = body
        current.html = render(body, members=members)
        current.edited_at = timezone.now()
        current._history_user = user  # type: ignore[attr-defined]
        current.save()
        _touch(comment.thread)
        _thread_activity(ActivityKind.EDITED_COMMENT, user, comment.thread, said=body)
        fresh = [members[n] for n in mentioned_names(body) if n in members and n not in before]
        notified, unseen = _tell(comment=current, actor=user, mentions=fresh, reply=False)
    return Outcome(current, tuple(notified), tuple(unseen))


def _thread_activity(kind: str, actor: User, thread: Thread, said: str = "") -> None:
    """A line of the collection's activity about a thread: what it is about, and an
    excerpt of what was said, if anything."""
    summary = _subject(thread) + (f": {plain_excerpt(said, 160)}" if said else "")
    activity_record(
        kind=kind,
        actor=actor,
        article=thread.article,
        claim=thread.claim,
        verified=thread.verified,
        thread=thread,
        summary=summary,
    )


def comment_delete(*, user: User, comment: Comment) -> Comment:
    """Deletes one's own comment: the thread keeps its place, marked deleted."""
    _require_sees(user, comment.thread)
    if comment.author_id != user.pk:
        raise PermissionDenied("Only its author can delete a comment.")
    with transaction.atomic():
        current = Comment.objects.select_for_update().get(pk=comment.pk)
        if current.is_deleted:
            return current
        current.body = current.html = current.quote = ""
        current.quote_start = current.quote_end = None
        current.deleted_at = timezone.now()
        current._history_user = user  # type: ignore[attr-defined]
        current.save()
        _touch(comment.thread)
        notifications_of_deleted_comment(current.pk)
        _thread_activity(ActivityKind.DELETED_COMMENT, user, comment.thread)
    return current


def _may_settle(user: User, thread: Thread) -> bool:
    """A request for changes is settled by its reviewer or an editor; any other thread by
    anyone who sees it."""
    request = ChangeRequest.objects.filter(thread=thread).first()
    if request is None:
        return True
    return request.reviewer_id == user.pk or is_editor(membership_for(user, thread.organization_id))


def thread_resolve(*, user: User, thread: Thread, body: str = "") -> Thread:
    """Resolves a thread, with a last comment if `body` is given. On a request for
    changes this is "Mark done": the request closes and the editor who asked is told."""
    _require_sees(user, thread)
    if not _may_settle(user, thread):
        raise PermissionDenied("Only the claim's reviewer or an editor can settle this request.")
    errors: dict[str, str] = {}
    if body.strip():
        body = _check_body(body, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = Thread.objects.select_for_update().get(pk=thread.pk)
        if current.is_resolved:
            return current
        request = ChangeRequest.objects.filter(thread=current).select_related("claim").first()
        # The reviewer marking their request done tells the editor who asked once, with
        # their last words, rather than once for the words and once for "done".
        done_by_reviewer = (
            request is not None
            and request.status == ChangeRequestStatus.OPEN
            and user.pk == request.reviewer_id
        )
        last = None
        if body.strip():
            last = _post(
                user=user,
                thread=current,
                body=body,
                told_apart=request.requested_by_id if done_by_reviewer and request else None,
            ).comment
        now = timezone.now()
        current.resolved_at, current.resolved_by, current.updated_at = now, user, now
        current.save(update_fields=["resolved_at", "resolved_by", "updated_at"])
        if request is not None and request.status == ChangeRequestStatus.OPEN:
            request.status, request.done_at, request.done_by = ChangeRequestStatus.DONE, now, user
            request.save(update_fields=["status", "done_at", "done_by"])
            activity_record(
                kind=ActivityKind.CHANGES_DONE,
                actor=user,
                article=current.article,
                claim=request.claim,
                thread=current,
                summary=_subject(current),
            )
            if done_by_reviewer:
                said = f": “{plain_excerpt(last.body)}”" if last is not None else "."
                notify(
                    recipients=[request.requested_by],
                    kind=NotificationKind.CHANGE_DONE,
                    organization=current.organization,
                    text=(
                        f"{user.get_username()} marked done the changes you asked for on "
                        f"{_subject(current)}{said}"
                    ),
                    actor=user,
                    thread=current,
                    comment=last,
                )
        else:
            _thread_activity(ActivityKind.RESOLVED, user, current)
    return current


def thread_reopen(*, user: User, thread: Thread) -> Thread:
    """Reopens a resolved thread; a request for changes is open again (and the reviewer's
    review reopened, so that they can change the claim)."""
    _require_sees(user, thread)
    if not _may_settle(user, thread):
        raise PermissionDenied("Only the claim's reviewer or an editor can reopen this request.")
    try:
        with transaction.atomic():
            current = Thread.objects.select_for_update().get(pk=thread.pk)
            if not current.is_resolved:
                return current
            current.resolved_at = current.resolved_by = None
            current.updated_at = timezone.now()
            current.save(update_fields=["resolved_at", "resolved_by", "updated_at"])
            request = ChangeRequest.objects.filter(thread=current).select_related("claim").first()
            if request is not None:
                request.status, request.done_at, request.done_by = (
                    ChangeRequestStatus.OPEN,
                    None,
                    None,
                )
                request.save(update_fields=["status", "done_at", "done_by"])
                if is_editor(membership_for(user, current.organization_id)):
                    _reopen_review(claim=request.claim, editor=user)
            _thread_activity(ActivityKind.REOPENED, user, current)
    except IntegrityError:
        raise StateConflict({"__all__": ONE_OPEN_REQUEST}) from None
    return current
