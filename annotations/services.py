"""Writes. Every entry point — browser, API, management commands, Celery —
goes through these functions, so they share one set of checks.

Each service validates everything before it writes anything, and writes in one
transaction: a rejected input leaves the database as it was.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from annotations.anchoring import SpanError, selector_for
from annotations.importers import (
    AnnotationInput,
    ArticleInput,
    ParseError,
    Skipped,
    SourceInput,
    is_http_url,
    is_web_annotation,
    json_lines_problem,
    parse_annotation_jsonl,
    parse_article_data,
    parse_web_annotation_jsonl,
    unstorable,
)
from annotations.models import (
    AgreementReport,
    ApiKey,
    Article,
    ArticleAgreement,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    Collection,
    ExportJob,
    ImportJob,
    JobStatus,
    Membership,
    Organization,
    Role,
    Source,
    Stance,
    Taxonomy,
    UserSession,
    VerdictLabel,
)
from annotations.text import content_hash, normalize_text

# The default taxonomy: slug, name, ClaimReview rating (None: not ordinal), colour.
DEFAULT_VERDICTS: tuple[tuple[str, str, int | None, str], ...] = (
    ("false", "False", 1, "#c0392b"),
    ("mostly-false", "Mostly false", 2, "#e67e22"),
    ("mixed", "Mixed", 3, "#f1c40f"),
    ("mostly-true", "Mostly true", 4, "#7dbb42"),
    ("true", "True", 5, "#27ae60"),
    ("misleading", "Misleading", None, "#8e44ad"),
    ("unverifiable", "Unverifiable", None, "#7f8c8d"),
)
logger = logging.getLogger(__name__)

MAX_SOURCES = 20
DUPLICATE_SPAN = "You already marked exactly this passage; edit that claim instead."
MAX_SOURCE_FIELD = 2000


# Organizations, people, collections ------------------------------------------------


def taxonomy_ensure_default(*, organization: Organization) -> Taxonomy:
    """The organization's default taxonomy, created with the standard verdicts."""
    with transaction.atomic():
        taxonomy, created = Taxonomy.objects.get_or_create(
            organization=organization,
            is_default=True,
            defaults={"name": "Standard verdicts", "worst_rating": 1, "best_rating": 5},
        )
        if created:
            VerdictLabel.objects.bulk_create(
                VerdictLabel(
                    taxonomy=taxonomy, slug=slug, name=name, rating=rating, colour=colour, order=i
                )
                for i, (slug, name, rating, colour) in enumerate(DEFAULT_VERDICTS)
            )
    return taxonomy


def organization_create(*, slug: str, name: str) -> Organization:
    if slugify(slug) != slug or not slug:
        raise ValidationError(
            {"slug": f"{slug!r} is not a slug: use lowercase letters, digits and -"}
        )
    if not name.strip():
        raise ValidationError({"name": "An organization needs a name."})
    with transaction.atomic():
        if Organization.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": f"An organization with slug {slug!r} already exists."})
        organization = Organization.objects.create(slug=slug, name=name.strip())
        taxonomy_ensure_default(organization=organization)
    return organization


@dataclass(frozen=True)
class MemberOutcome:
    membership: Membership
    user_created: bool
    # A password we generated, to be shown once; None when the caller chose one.
    generated_password: str | None


def member_create(
    *, organization: Organization, username: str, role: str, password: str | None = None
) -> MemberOutcome:
    """Adds a user to a newsroom with a role, creating the user if needed."""
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role; use {', '.join(Role.values)}"})
    username = username.strip()
    if not username:
        raise ValidationError({"username": "A username is required."})
    if password is not None:
        # The same policy as the admin's password forms (AUTH_PASSWORD_VALIDATORS).
        existing = User.objects.filter(username=username).first()
        try:
            validate_password(password, existing or User(username=username))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
    generated = None
    with transaction.atomic():
        user, user_created = User.objects.get_or_create(username=username)
        if password is None and user_created:
            generated = secrets.token_urlsafe(12)
            password = generated
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        membership, _ = Membership.objects.update_or_create(
            user=user, organization=organization, defaults={"role": role}
        )
    return MemberOutcome(
        membership=membership, user_created=user_created, generated_password=generated
    )


def membership_revoke(*, membership: Membership) -> None:
    """Removes someone from a newsroom; member_access_end() then logs them out everywhere."""
    membership.delete()


def member_access_end(*, user_id: int, organization_id: int) -> None:
    """What leaving a newsroom ends: the member's API keys there, and every session they have.

    Runs whenever a membership row is deleted (annotations/signals.py): through
    membership_revoke(), the admin, or a user or newsroom being deleted.
    Sessions are ended everywhere, even if the user still belongs to another
    newsroom: a session is not tied to one newsroom, and logging in again is cheap.
    """
    ApiKey.objects.filter(
        user_id=user_id, organization_id=organization_id, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    # After the commit: a rolled-back removal must not log anyone out.
    transaction.on_commit(lambda: user_sessions_end(user_id=user_id))


def user_sessions_end(*, user_id: int) -> int:
    """Ends every recorded session of a user, in whatever session store is configured."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    records = UserSession.objects.filter(user_id=user_id)
    keys = list(records.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    records.filter(session_key__in=keys).delete()
    return len(keys)


def collection_ensure(
    *, organization: Organization, slug: str, name: str | None = None
) -> tuple[Collection, bool]:
    """The organization's collection with this slug, created with the default taxonomy."""
    if slugify(slug) != slug or not slug:
        raise ValidationError(
            {"collection": f"{slug!r} is not a slug: use lowercase letters, digits and -"}
        )
    with transaction.atomic():
        existing = Collection.objects.filter(organization=organization, slug=slug).first()
        if existing is not None:
            return existing, False
        collection = Collection.objects.create(
            organization=organization,
            slug=slug,
            name=name or slug.replace("-", " ").capitalize(),
            taxonomy=taxonomy_ensure_default(organization=organization),
        )
    return collection, True


# Articles -----------------------------------------------------------------------


class ImportStatus(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    NEW_VERSION = "new version"


@dataclass(frozen=True)
class ArticleOutcome:
    article: Article
    status: ImportStatus


def article_import(*, collection: Collection, data: ArticleInput) -> ArticleOutcome:
    """Stores one article as an immutable text snapshot.

    Identical content changes nothing; a changed text for a URL already in the
    collection becomes that article's next version.
    """
    text = normalize_text(data.text)
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = "The article has no text."
    elif len(text) > settings.WORKBENCH_MAX_ARTICLE_CHARS:
        errors["text"] = (
            f"The article has {len(text):,} characters; "
            f"the limit is {settings.WORKBENCH_MAX_ARTICLE_CHARS:,}."
        )
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = "The article needs a title."
    elif len(title) > 500:
        errors["title"] = "The title is longer than 500 characters."
    if data.url and not is_http_url(data.url):
        errors["url"] = f"{data.url!r} is not an http(s) address."
    for name, limit in (("publisher", 200), ("author", 200), ("language", 16)):
        if len(getattr(data, name)) > limit:
            errors[name] = f"Longer than {limit} characters."
    for name in ("title", "text", "url", "publisher", "author", "language", "html"):
        if unstorable(getattr(data, name)):
            errors[name] = "Contains a NUL or an unpaired surrogate character."
    if errors:
        raise ValidationError(errors)

    digest = content_hash(text)
    with transaction.atomic():
        # The collection's row is the lock: two imports into it queue up, so
        # they cannot both claim the same next version number.
        Collection.objects.select_for_update().filter(pk=collection.pk).first()
        same = Article.objects.filter(collection=collection, url=data.url)
        latest = (
            same.order_by("-version").first()
            if data.url
            else same.filter(content_hash=digest).first()
        )
        if latest is not None and latest.content_hash == digest:
            return ArticleOutcome(latest, ImportStatus.UNCHANGED)
        try:
            article = Article.objects.create(
                organization=collection.organization,
                collection=collection,
                title=title,
                url=data.url,
                publisher=data.publisher.strip(),
                author=data.author.strip(),
                published_at=data.published_at,
                language=data.language.strip(),
                text=text,
                html=data.html,
                content_hash=digest,
                version=latest.version + 1 if latest else 1,
                previous_version=latest,
            )
        except IntegrityError:
            raise ValidationError(
                {"url": "Another import of this article finished at the same time; try again."}
            ) from None
    if latest is not None:
        from annotations import tasks

        # The claims of the previous version follow the text to this one.
        enqueue(tasks.reanchor_version, article.pk)
    return ArticleOutcome(article, ImportStatus.NEW_VERSION if latest else ImportStatus.CREATED)


@dataclass
class ImportReport:
    """What an import did, line by line; `errors` name the file and the line."""

    outcomes: list[ArticleOutcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, status: ImportStatus) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def describe_error(error: ValidationError | ParseError) -> str:
    if isinstance(error, ParseError):
        return error.message
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def articles_import(*, collection: Collection, files: Iterable[tuple[str, bytes]]) -> ImportReport:
    """Imports every article of every (name, content) file.

    Bad files and lines are reported by name and line; the good ones are kept.
    """
    report = ImportReport()
    for name, data in files:
        for line, parsed in parse_article_data(name, data):
            where = f"{name}:{line}" if line else name
            if isinstance(parsed, ParseError):
                report.errors.append(f"{where}: {parsed.message}")
                continue
            try:
                report.outcomes.append(article_import(collection=collection, data=parsed))
            except ValidationError as exc:
                report.errors.append(f"{where}: {describe_error(exc)}")
            except DatabaseError as exc:
                # One record the database refuses must not stop the others.
                report.errors.append(f"{where}: the database refused it ({exc.__class__.__name__})")
    return report


# A job tried this often (its worker killed each time: out of memory, say) fails.
MAX_JOB_ATTEMPTS = 5


def _job_stale_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.WORKBENCH_JOB_STALE_SECONDS)


def _job_silent(stale_before: datetime) -> Q:
    """A running job that has shown no sign of life since then: its worker is gone."""
    return Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True)
    )


def job_claim(model: type[ImportJob | ExportJob], pk: int) -> bool:
    """Takes a job for the task about to run it; False means leave it alone.

    The same job can be sent more than once: its first message may only have
    been slow when background_reconcile sent another, or the broker gives a
    message back after its visibility timeout while the job still runs. The
    first copy takes a pending job; a later copy finds it running, alive (its
    heartbeat_at recent), and does nothing. A running job silent for
    WORKBENCH_JOB_STALE_SECONDS lost its worker, and the next copy takes it
    over, up to MAX_JOB_ATTEMPTS attempts; then the job fails, saying why.
    """
    now = timezone.now()
    stale_before = _job_stale_before()
    takeable = Q(status=JobStatus.PENDING) | (
        _job_silent(stale_before) & Q(attempts__lt=MAX_JOB_ATTEMPTS)
    )
    if model.objects.filter(takeable, pk=pk).update(status=JobStatus.RUNNING, heartbeat_at=now):
        return True
    model.objects.filter(_job_silent(stale_before), pk=pk).update(
        status=JobStatus.FAILED,
        failure=f"Stopped after {MAX_JOB_ATTEMPTS} attempts: each time its worker died.",
        finished_at=now,
    )
    return False


def jobs_pending(model: type[ImportJob | ExportJob], *, created_before: datetime) -> list[int]:
    """Jobs no worker is on: asked for (or last sent) before then and not taken, or running
    and silent (their worker died). Those pending are marked as sent again now, so that
    the next reconciliation leaves them be while they wait in a long queue."""
    silent = _job_silent(_job_stale_before())
    unsent = Q(status=JobStatus.PENDING, created_at__lt=created_before) & (
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=created_before)
    )
    ids = list(model.objects.filter(unsent | silent).order_by("pk").values_list("pk", flat=True))
    model.objects.filter(unsent, pk__in=ids).update(heartbeat_at=timezone.now())
    return ids


def import_job_run(*, job: ImportJob) -> dict[str, Any]:
    """Imports a job's uploaded files, recording progress after each file."""
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now(), attempts=F("attempts") + 1
    )
    try:
        for index, name in enumerate(job.files):
            if index < job.processed:
                continue
            with default_storage.open(name, "rb") as handle:
                label = name.rsplit("/", 1)[-1].split("-", 1)[-1]
                report = articles_import(collection=job.collection, files=[(label, handle.read())])
            job.processed = index + 1
            job.created += report.count(ImportStatus.CREATED)
            job.new_versions += report.count(ImportStatus.NEW_VERSION)
            job.unchanged += report.count(ImportStatus.UNCHANGED)
            job.errors = [*job.errors, *report.errors]
            job.heartbeat_at = timezone.now()
            job.save(
                update_fields=[
                    "processed",
                    "created",
                    "new_versions",
                    "unchanged",
                    "errors",
                    "heartbeat_at",
                ]
            )
            default_storage.delete(name)
    except Exception as exc:
        job.status = JobStatus.FAILED
        job.failure = f"{exc.__class__.__name__}: {exc}"
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "failure", "finished_at"])
        raise
    job.status = JobStatus.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])
    return {
        "status": job.status,
        "created": job.created,
        "new_versions": job.new_versions,
        "unchanged": job.unchanged,
        "errors": job.errors,
    }


# Assignments ----------------------------------------------------------------------


def assignment_ensure(*, article: Article, reviewer: User) -> Assignment:
    assignment, _ = Assignment.objects.get_or_create(article=article, reviewer=reviewer)
    return assignment


def require_editor(user: User, organization_id: int) -> Membership:
    membership = Membership.objects.filter(user=user, organization_id=organization_id).first()
    if membership is None or not membership.can_edit:
        raise PermissionDenied("Only editors and admins can do this.")
    return membership


def assignment_submit(*, assignment: Assignment, user: User, confirm_unchecked: bool) -> Assignment:
    """Marks a reviewer's work on an article done; blind review lifts for them.

    Claims still "to check" need `confirm_unchecked`, so nobody submits open
    work by accident.
    """
    if assignment.reviewer_id != user.pk:
        raise PermissionDenied("Only the assigned reviewer can submit.")
    if assignment.status == AssignmentStatus.SUBMITTED:
        return assignment
    unchecked = ClaimAnnotation.objects.filter(
        article=assignment.article_id, reviewer=user, verdict__isnull=True
    ).count()
    if unchecked and not confirm_unchecked:
        raise ValidationError(
            {"unchecked": f"{unchecked} claim(s) are still to check. Submit anyway?"}
        )
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = timezone.now()
    assignment.save(update_fields=["status", "submitted_at"])
    return assignment


def assignment_reopen(*, assignment: Assignment, user: User) -> Assignment:
    require_editor(user, assignment.article.organization_id)
    has_claims = ClaimAnnotation.objects.filter(
        article=assignment.article_id, reviewer=assignment.reviewer_id
    ).exists()
    assignment.status = AssignmentStatus.IN_PROGRESS if has_claims else AssignmentStatus.ASSIGNED
    assignment.submitted_at = None
    assignment.save(update_fields=["status", "submitted_at"])
    return assignment


def _reviewers(organization_id: int) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organization_id=organization_id, memberships__role=Role.REVIEWER
    ).order_by("username")


def assignments_auto(*, collection: Collection, user: User, per_article: int | None = None) -> int:
    """Gives every article of the collection `per_article` reviewers, least loaded first.

    Load is a reviewer's open (not submitted) assignments in the newsroom. An
    article's existing reviewers count towards its total; nobody is assigned
    twice. Returns how many assignments were made.
    """
    require_editor(user, collection.organization_id)
    wanted = per_article or collection.reviewers_per_article
    reviewers = list(_reviewers(collection.organization_id))
    if not reviewers:
        raise ValidationError({"reviewers": "This newsroom has no reviewers to assign."})
    load = dict.fromkeys((r.pk for r in reviewers), 0)
    open_counts = (
        Assignment.objects.filter(article__organization_id=collection.organization_id)
        .exclude(status=AssignmentStatus.SUBMITTED)
        .values_list("reviewer_id")
        .annotate(n=Count("id"))
    )
    for reviewer_id, n in open_counts:
        if reviewer_id in load:
            load[reviewer_id] = n
    current: dict[int, set[int]] = {}
    for article_id, reviewer_id in Assignment.objects.filter(
        article__collection=collection
    ).values_list("article_id", "reviewer_id"):
        current.setdefault(article_id, set()).add(reviewer_id)

    new: list[Assignment] = []
    # Only the latest version of each article is reviewed.
    latest = collection.articles.filter(next_version__isnull=True).order_by("pk")
    for article_id in latest.values_list("pk", flat=True):
        have = current.get(article_id, set())
        candidates = sorted(
            (r for r in reviewers if r.pk not in have), key=lambda r: (load[r.pk], r.username)
        )
        for reviewer in candidates[: max(0, wanted - len(have))]:
            new.append(Assignment(article_id=article_id, reviewer=reviewer))
            load[reviewer.pk] += 1
    Assignment.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def assignment_set(*, article: Article, reviewers: Sequence[User], user: User) -> None:
    """Assigns exactly these reviewers by hand.

    A reviewer who already has claims on the article keeps the assignment:
    unassigning them would hide their work.
    """
    require_editor(user, article.organization_id)
    members = set(
        Membership.objects.filter(organization_id=article.organization_id).values_list(
            "user_id", flat=True
        )
    )
    outsiders = [r.get_username() for r in reviewers if r.pk not in members]
    if outsiders:
        raise ValidationError(
            {"reviewers": f"Not members of this newsroom: {', '.join(outsiders)}."}
        )
    wanted = {r.pk for r in reviewers}
    with transaction.atomic():
        keep_with_work = set(
            ClaimAnnotation.objects.filter(article=article).values_list("reviewer_id", flat=True)
        )
        Assignment.objects.filter(article=article).exclude(reviewer__in=wanted).exclude(
            reviewer__in=keep_with_work
        ).delete()
        for reviewer in reviewers:
            assignment_ensure(article=article, reviewer=reviewer)


# Claims ---------------------------------------------------------------------------


def _validate_sources(sources: Sequence[SourceInput], errors: dict[str, str]) -> None:
    if len(sources) > MAX_SOURCES:
        errors["sources"] = f"At most {MAX_SOURCES} sources per claim."
        return
    for i, source in enumerate(sources):
        where = f"sources[{i}]"
        if not is_http_url(source.url):
            errors[f"{where}.url"] = f"{source.url!r} is not an http(s) address."
        if source.archived_url and not is_http_url(source.archived_url):
            errors[f"{where}.archived_url"] = f"{source.archived_url!r} is not an http(s) address."
        if source.stance not in Stance.values:
            errors[f"{where}.stance"] = (
                f"{source.stance!r} is not a stance; use {', '.join(Stance.values)}."
            )
        for name in ("url", "title", "publisher", "quote", "archived_url"):
            if len(getattr(source, name)) > MAX_SOURCE_FIELD:
                errors[f"{where}.{name}"] = f"Longer than {MAX_SOURCE_FIELD} characters."
            elif unstorable(getattr(source, name)):
                errors[f"{where}.{name}"] = "Contains a NUL or an unpaired surrogate character."


def _check_judgement(
    *,
    article: Article,
    verdict: VerdictLabel | None,
    rating: int | None,
    note: str,
    sources: Sequence[SourceInput],
    errors: dict[str, str],
) -> None:
    """Checks what a reviewer decided about a claim: verdict, rating, note, sources."""
    taxonomy = article.collection.taxonomy
    if verdict is not None and verdict.taxonomy_id != taxonomy.pk:
        errors["verdict"] = f"“{verdict.name}” is not a verdict of this collection."
    if rating is not None and not taxonomy.worst_rating <= rating <= taxonomy.best_rating:
        errors["rating"] = (
            f"Rating {rating} is outside {taxonomy.worst_rating}–{taxonomy.best_rating}."
        )
    if len(note) > settings.WORKBENCH_MAX_NOTE_CHARS:
        errors["note"] = (
            f"The note is longer than {settings.WORKBENCH_MAX_NOTE_CHARS:,} characters."
        )
    elif unstorable(note):
        errors["note"] = "Contains a NUL or an unpaired surrogate character."
    _validate_sources(sources, errors)


def _locked_reason(*, article: Article, reviewer: User) -> str | None:
    """Why this reviewer may not change their claims on this article now, if they may not."""
    if Assignment.objects.filter(
        article=article, reviewer=reviewer, status=AssignmentStatus.SUBMITTED
    ).exists():
        return "You have submitted this article; ask an editor to reopen it to make changes."
    return None


def _store_sources(claim: ClaimAnnotation, sources: Sequence[SourceInput]) -> None:
    Source.objects.bulk_create(
        Source(
            claim=claim,
            order=i,
            url=s.url,
            title=s.title,
            publisher=s.publisher,
            quote=s.quote,
            stance=s.stance,
            archived_url=s.archived_url,
            confidential=s.confidential,
        )
        for i, s in enumerate(sources)
    )


def claim_create(
    *,
    article: Article,
    reviewer: User,
    start: int,
    end: int,
    quote: str,
    verdict: VerdictLabel | None,
    rating: int | None,
    note: str = "",
    sources: Sequence[SourceInput] = (),
) -> ClaimAnnotation:
    """Stores one reviewer's highlight, checked against the article's own text."""
    errors: dict[str, str] = {}
    selector = None
    try:
        selector = selector_for(article.text, start, end)
    except SpanError as exc:
        errors[exc.field] = str(exc)
    if selector is not None and selector.exact != quote:
        errors["quote"] = (
            f"The text at {start}–{end} is “{selector.exact[:80]}”, not “{quote[:80]}”."
        )
    _check_judgement(
        article=article, verdict=verdict, rating=rating, note=note, sources=sources, errors=errors
    )
    if not Membership.objects.filter(user=reviewer, organization=article.organization_id).exists():
        errors["reviewer"] = f"{reviewer} is not a member of this newsroom."
    elif locked := _locked_reason(article=article, reviewer=reviewer):
        errors["reviewer"] = locked
    elif (
        selector is not None
        and ClaimAnnotation.objects.filter(
            article=article, reviewer=reviewer, start=selector.start, end=selector.end
        ).exists()
    ):
        errors["quote"] = DUPLICATE_SPAN
    if errors:
        raise ValidationError(errors)
    assert selector is not None

    try:
        with transaction.atomic():
            claim = ClaimAnnotation.objects.create(
                article=article,
                reviewer=reviewer,
                start=selector.start,
                end=selector.end,
                quote=selector.exact,
                prefix=selector.prefix,
                suffix=selector.suffix,
                verdict=verdict,
                rating=rating,
                note=note,
            )
            _store_sources(claim, sources)
            Assignment.objects.filter(
                article=article, reviewer=reviewer, status=AssignmentStatus.ASSIGNED
            ).update(status=AssignmentStatus.IN_PROGRESS)
            agreement_request(article.pk)
    except IntegrityError:
        # The same highlight was saved a moment ago (a double click, two tabs).
        raise ValidationError({"quote": DUPLICATE_SPAN}) from None
    return claim


def enqueue(task: Any, *args: Any, countdown: int = 0) -> None:
    """Sends a task once the transaction commits.

    The database is the source of truth: if the broker is down, the save
    still succeeds, and the background work is caught up later.
    """

    def send() -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            task.apply_async(args, countdown=countdown)
            return
        try:
            # What a task did is recorded in the database, so no result is kept,
            # and this process never listens for one: with Redis down, listening
            # would hold the request for 20 seconds and then fail.
            task.apply_async(args, countdown=countdown, ignore_result=True)
        except Exception:
            # Whatever the failure, the save is committed and must not turn into
            # an error page. The work stays marked pending in the database (a
            # job's status, an agreement's requested_at) and
            # tasks.background_reconcile sends it again once the broker is back.
            logger.warning(
                "Could not reach the broker for %s%r; it will be reconciled",
                task.name,
                args,
                exc_info=True,
            )

    transaction.on_commit(send)


def agreement_request(article_id: int) -> None:
    """Claims on this article changed: refresh its agreement once they stop changing."""
    from annotations import tasks

    now = timezone.now()
    if not ArticleAgreement.objects.filter(article_id=article_id).update(requested_at=now):
        _agreement_mark_new(article_id, now)
    enqueue(
        tasks.agreement_refresh,
        article_id,
        countdown=settings.WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS,
    )


def _agreement_mark_new(article_id: int, now: datetime) -> None:
    """Marks an article not yet in its collection's agreement figures as needing a refresh.

    So that a refresh the broker never received is still found by
    tasks.background_reconcile. Only once the collection has a finished
    report: before that, its first run counts every article.
    """
    latest = (
        AgreementReport.objects.filter(collection__articles=article_id, status=JobStatus.DONE)
        .order_by("-finished_at", "-pk")
        .values_list("match_mode", "iou_threshold")
        .first()
    )
    if latest is None:
        return
    # An upsert: two reviewers saving on the same article at once both succeed.
    ArticleAgreement.objects.bulk_create(
        [
            ArticleAgreement(
                article_id=article_id,
                match_mode=latest[0],
                iou_threshold=latest[1],
                requested_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["article", "match_mode", "iou_threshold"],
        update_fields=["requested_at"],
    )


class ClaimConflict(Exception):
    """The claim changed since the user loaded it; `current` is what is stored now."""

    def __init__(self, current: ClaimAnnotation) -> None:
        super().__init__(f"Claim {current.pk} is at version {current.version}.")
        self.current = current


def _require_owner(claim: ClaimAnnotation, user: User) -> None:
    if claim.reviewer_id != user.pk:
        raise PermissionDenied("Only the reviewer who made a claim can change it.")
    if locked := _locked_reason(article=claim.article, reviewer=user):
        raise ValidationError({"__all__": locked})


def claim_update(
    *,
    claim: ClaimAnnotation,
    user: User,
    expected_version: int,
    verdict: VerdictLabel | None,
    rating: int | None,
    note: str,
    sources: Sequence[SourceInput],
) -> ClaimAnnotation:
    """Changes a claim's verdict, rating, note and sources.

    Optimistic locking: if someone saved the claim since `expected_version`,
    nothing is written and ClaimConflict carries the newer claim.
    """
    _require_owner(claim, user)
    errors: dict[str, str] = {}
    _check_judgement(
        article=claim.article,
        verdict=verdict,
        rating=rating,
        note=note,
        sources=sources,
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = ClaimAnnotation.objects.select_for_update().get(pk=claim.pk)
        if current.version != expected_version:
            raise ClaimConflict(current)
        current.verdict = verdict
        current.rating = rating
        current.note = note
        current.version += 1
        current._history_user = user  # type: ignore[attr-defined]
        current.save()
        Source.objects.filter(claim=current).delete()
        _store_sources(current, sources)
        agreement_request(current.article_id)
    return current


def _set_deleted(claim: ClaimAnnotation, user: User, deleted: bool) -> ClaimAnnotation:
    _require_owner(claim, user)
    try:
        with transaction.atomic():
            current = ClaimAnnotation.all_objects.select_for_update().get(pk=claim.pk)
            if (current.deleted_at is not None) == deleted:
                return current  # already so: nothing to do, no new version
            current.deleted_at = timezone.now() if deleted else None
            current.version += 1
            current._history_user = user  # type: ignore[attr-defined]
            current.save()
            agreement_request(current.article_id)
    except IntegrityError:
        # Restoring a passage the reviewer has marked again since.
        raise ValidationError({"quote": DUPLICATE_SPAN}) from None
    return current


def claim_delete(*, claim: ClaimAnnotation, user: User) -> None:
    """Deletes a claim, in a way that `claim_restore` can undo."""
    _set_deleted(claim, user, deleted=True)


def claim_restore(*, claim: ClaimAnnotation, user: User) -> ClaimAnnotation:
    """Undoes a delete."""
    return _set_deleted(claim, user, deleted=False)


@dataclass
class AnnotationReport:
    created: int = 0
    unchanged: int = 0
    # Records deliberately not imported (verified claims in a Web Annotation file).
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


ARTICLE_URN = "urn:workbench:sha256:"


def verdict_by_slug(*, taxonomy: Taxonomy, slug: str) -> VerdictLabel:
    """The taxonomy's verdict with this slug; an unknown slug names the ones there are."""
    verdict = VerdictLabel.objects.filter(taxonomy=taxonomy, slug=slug).first()
    if verdict is None:
        slugs = VerdictLabel.objects.filter(taxonomy=taxonomy).values_list("slug", flat=True)
        raise ValidationError(
            {"verdict": f"Unknown verdict {slug!r}; use one of {', '.join(slugs)}."}
        )
    return verdict


def _annotation_import_one(*, organization: Organization, record: AnnotationInput) -> bool:
    """Imports one annotation; False when the same highlight is already stored."""
    articles = Article.objects.filter(organization=organization)
    if record.article_url.startswith(ARTICLE_URN):
        # An article without a URL, named by its text (exports.article_source).
        articles = articles.filter(content_hash=record.article_url.removeprefix(ARTICLE_URN))
    else:
        articles = articles.filter(url=record.article_url)
    article = articles.select_related("collection__taxonomy").order_by("-version").first()
    if article is None:
        raise ValidationError(
            {"article": f"No article with URL {record.article_url!r} in this newsroom."}
        )
    membership = (
        Membership.objects.filter(organization=organization, user__username=record.reviewer)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError(
            {"reviewer": f"{record.reviewer!r} is not a member of this newsroom."}
        )
    verdict = None
    if record.verdict is not None:
        verdict = verdict_by_slug(taxonomy=article.collection.taxonomy, slug=record.verdict)
    reviewer = membership.user
    with transaction.atomic():
        if ClaimAnnotation.objects.filter(
            article=article, reviewer=reviewer, start=record.start, end=record.end
        ).exists():
            return False
        # A member not yet assigned is assigned by the import: this is how a
        # newsroom brings its history in from another tool.
        assignment_ensure(article=article, reviewer=reviewer)
        claim_create(
            article=article,
            reviewer=reviewer,
            start=record.start,
            end=record.end,
            quote=record.quote,
            verdict=verdict,
            rating=record.rating,
            note=record.note,
            sources=record.sources,
        )
    return True


def annotations_import(*, organization: Organization, data: bytes, name: str) -> AnnotationReport:
    """Imports claims from our JSONL or from W3C Web Annotations (told apart by content)."""
    report = AnnotationReport()
    if (problem := json_lines_problem(data)) is not None:
        where = f"{name}:{problem.line}" if problem.line else name
        report.errors.append(f"{where}: {problem.message}")
        return report
    records: Iterator[tuple[int, AnnotationInput | Skipped | ParseError]] = (
        parse_web_annotation_jsonl(data)
        if is_web_annotation(data)
        else parse_annotation_jsonl(data)
    )
    for line, parsed in records:
        if isinstance(parsed, ParseError):
            report.errors.append(f"{name}:{line}: {parsed.message}")
            continue
        if isinstance(parsed, Skipped):
            report.skipped += 1
            continue
        try:
            created = _annotation_import_one(organization=organization, record=parsed)
        except ValidationError as exc:
            report.errors.append(f"{name}:{line}: {describe_error(exc)}")
            continue
        if created:
            report.created += 1
        else:
            report.unchanged += 1
    return report
