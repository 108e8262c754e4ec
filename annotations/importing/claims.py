"""Claims in from another tool: our JSONL, or W3C Web Annotations (an export read back).

A file is read as it streams, BATCH_LINES lines at a time. What a batch needs
is loaded in a few queries (its articles by URL or by text, the reviewers,
the verdicts, the claims and assignments already there); each line is checked
in Python by the checks every new claim passes, in the reader and the API as
here (reader.services.claim_errors); then the batch's good lines are written
with bulk inserts in one transaction: the claims, their sources, the
assignments the import makes, and the history rows django-simple-history
writes for a claim saved one at a time.

A bad line is reported with its number and stores nothing; a batch the
database refuses is rolled back whole and reported; each article the import
added claims to has its agreement asked for once, at the end, not per claim.
The members' API creates many claims at once through the same steps
(claims_create_many).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q

from annotations.core.anchoring import TextSelector
from annotations.core.inputs import ARTICLE_URN, AnnotationInput, ParseError, describe_error
from annotations.importing.claim_rows import NewClaim, claims_write
from annotations.importing.parsers import (
    SNIFF_BYTES,
    ByteStream,
    Skipped,
    first_line,
    is_web_annotation,
    json_lines_problem,
    numbered_lines,
    parse_annotation_records,
    parse_web_annotation_records,
)
from annotations.models import (
    Article,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    Collection,
    Membership,
    Organization,
    VerdictLabel,
)
from annotations.reader.services import (
    SUBMITTED_LOCK,
    claim_errors,
    claims_added,
    claims_written,
    unknown_verdict,
)

# Lines per batch: a few queries and one transaction each. Big enough that the
# queries and the round trips are a small part of a batch's time, small
# enough that a batch (its records, their articles' texts) stays a few MB.
BATCH_LINES = 2_000


@dataclass
class AnnotationReport:
    created: int = 0
    unchanged: int = 0
    # Records deliberately not imported (verified claims in a Web Annotation file).
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    # Lines that stored nothing: each bad line, and the good lines of a batch
    # the database refused.
    failed: int = 0
    # The last line read.
    lines: int = 0


@dataclass(slots=True)
class _Given:
    """One claim to check, with what its record names looked up."""

    where: int  # its line in a file, or its index in a request
    article: Article
    reviewer: User
    verdict: VerdictLabel | None
    record: AnnotationInput


@dataclass
class _Checked:
    facts: _BatchFacts
    accepted: list[tuple[_Given, TextSelector]] = field(default_factory=list)
    # Already stored: the stored claim's id, or for the same span accepted
    # earlier in the batch, -1 - its index in `accepted`.
    present: list[tuple[_Given, int]] = field(default_factory=list)
    errors: list[tuple[int, dict[str, str]]] = field(default_factory=list)


class _BatchFacts:
    """reader.services.ClaimFacts for a batch of claims, loaded in three queries."""

    def __init__(self, organization_id: int, given: Sequence[_Given]) -> None:
        article_ids = {g.article.pk for g in given}
        reviewer_ids = {g.reviewer.pk for g in given}
        self.members = set(
            Membership.objects.filter(
                organization_id=organization_id, user_id__in=reviewer_ids
            ).values_list("user_id", flat=True)
        )
        self.assignments: dict[tuple[int, int], tuple[int, str]] = {
            (article_id, reviewer_id): (pk, status)
            for pk, article_id, reviewer_id, status in Assignment.objects.filter(
                article_id__in=article_ids, reviewer_id__in=reviewer_ids
            ).values_list("pk", "article_id", "reviewer_id", "status")
        }
        # Live claims only: a deleted one may be marked again, as in the reader.
        self.spans: dict[tuple[int, int, int, int], int] = {
            (article_id, reviewer_id, start, end): pk
            for pk, article_id, reviewer_id, start, end in ClaimAnnotation.objects.filter(
                article_id__in=article_ids, reviewer_id__in=reviewer_ids
            ).values_list("pk", "article_id", "reviewer_id", "start", "end")
        }

    def is_member(self, reviewer: User, article: Article) -> bool:
        return reviewer.pk in self.members

    def locked_reason(self, reviewer: User, article: Article) -> str | None:
        assignment = self.assignments.get((article.pk, reviewer.pk))
        if assignment is not None and assignment[1] == AssignmentStatus.SUBMITTED:
            return SUBMITTED_LOCK
        return None

    def span_taken(self, reviewer: User, article: Article, start: int, end: int) -> bool:
        return (article.pk, reviewer.pk, start, end) in self.spans


def _check(organization_id: int, given: Sequence[_Given]) -> _Checked:
    """Each claim checked as the reader checks one, against what is stored and what
    came before it in the batch."""
    facts = _BatchFacts(organization_id, given)
    checked = _Checked(facts)
    for item in given:
        record = item.record
        key = (item.article.pk, item.reviewer.pk, record.start, record.end)
        if (existing := facts.spans.get(key)) is not None:
            # The same reviewer's same span, imported before or earlier in this
            # file: not an error, so that importing a file again changes nothing.
            checked.present.append((item, existing))
            continue
        selector, errors = claim_errors(
            article=item.article,
            reviewer=item.reviewer,
            start=record.start,
            end=record.end,
            quote=record.quote,
            verdict=item.verdict,
            rating=record.rating,
            note=record.note,
            sources=record.sources,
            facts=facts,
        )
        if errors:
            checked.errors.append((item.where, errors))
            continue
        assert selector is not None
        checked.accepted.append((item, selector))
        facts.spans[key] = -len(checked.accepted)
    return checked


class _Refused(Exception):
    """The database refused a batch: its transaction rolled back, nothing of it stored."""

    def __init__(self, checked: _Checked, cause: DatabaseError) -> None:
        super().__init__(str(cause))
        self.checked = checked
        self.cause = cause


def _store(
    organization_id: int,
    given: Sequence[_Given],
    *,
    assign: bool,
    partial: bool,
    before_commit: Callable[[_Checked], None] | None = None,
) -> tuple[_Checked, list[int]]:
    """Checks the claims and writes the good ones in one transaction.

    With `partial`, the good claims are written whatever the others; without,
    nothing is written if any claim is refused. `before_commit` runs inside
    the transaction (an import job's progress commits with its batch). A
    batch the database refuses raises _Refused, with what the checks found.
    """
    for attempt in range(2):
        checked = _check(organization_id, given)
        try:
            with transaction.atomic():
                claims: list[int] = []
                if checked.accepted and (partial or not checked.errors):
                    claims = claims_write(
                        [
                            NewClaim(
                                article_id=item.article.pk,
                                reviewer_id=item.reviewer.pk,
                                selector=selector,
                                verdict_id=item.verdict.pk if item.verdict is not None else None,
                                rating=item.record.rating,
                                note=item.record.note,
                                sources=item.record.sources,
                            )
                            for item, selector in checked.accepted
                        ],
                        assignments=checked.facts.assignments,
                        assign=assign,
                    )
                    claims_written(article_ids={item.article.pk for item, _ in checked.accepted})
                if before_commit is not None:
                    before_commit(checked)
            return checked, claims
        except IntegrityError as exc:
            # Someone saved one of these spans (or assignments) after the batch
            # was loaded: loaded again, it is "already present".
            if attempt:
                raise _Refused(checked, exc) from exc
        except DatabaseError as exc:
            raise _Refused(checked, exc) from exc
    raise AssertionError("unreachable")


# Files ------------------------------------------------------------------------------


class _Names:
    """What a file's records name, looked up: articles batch by batch, reviewers and
    verdicts once for the whole file."""

    def __init__(self, organization: Organization, collection: Collection | None) -> None:
        self.organization = organization
        self.collection = collection
        self.where = "collection" if collection is not None else "newsroom"
        self.members: dict[str, User | None] = {}
        self.verdicts: dict[int, dict[str, VerdictLabel]] = {}

    def articles(self, refs: set[str]) -> dict[str, Article]:
        """The latest version of each article named, by URL or as ARTICLE_URN + its hash."""
        urls = {ref for ref in refs if not ref.startswith(ARTICLE_URN)}
        hashes = {ref.removeprefix(ARTICLE_URN) for ref in refs if ref.startswith(ARTICLE_URN)}
        scope = Article.objects.filter(organization=self.organization)
        if self.collection is not None:
            scope = scope.filter(collection=self.collection)
        latest: dict[str, tuple[int, int]] = {}
        rows = scope.filter(Q(url__in=urls) | Q(content_hash__in=hashes)).values_list(
            "pk", "url", "content_hash", "version"
        )
        for pk, url, digest, version in rows:
            for ref, named in ((url, url in urls), (ARTICLE_URN + digest, digest in hashes)):
                if named and (version, pk) > latest.get(ref, (0, 0)):
                    latest[ref] = (version, pk)
        loaded = (
            Article.objects.filter(pk__in=[pk for _, pk in latest.values()])
            .select_related("collection__taxonomy")
            .defer("html")
        )
        by_pk = {article.pk: article for article in loaded}
        return {ref: by_pk[pk] for ref, (_, pk) in latest.items()}

    def load_members(self, names: set[str]) -> None:
        new = names - self.members.keys()
        if not new:
            return
        self.members |= dict.fromkeys(new)
        for membership in Membership.objects.filter(
            organization=self.organization, user__username__in=new
        ).select_related("user"):
            self.members[membership.user.get_username()] = membership.user

    def load_verdicts(self, taxonomy_ids: set[int]) -> None:
        new = taxonomy_ids - self.verdicts.keys()
        for taxonomy_id in new:
            self.verdicts[taxonomy_id] = {}
        for label in VerdictLabel.objects.filter(taxonomy_id__in=new):
            self.verdicts[label.taxonomy_id][label.slug] = label

    def given(self, line: int, record: AnnotationInput, articles: dict[str, Article]) -> _Given:
        """The record with its article, reviewer and verdict; the first one missing is the
        line's error."""
        article = articles.get(record.article_url)
        if article is None:
            raise ValidationError(
                {"article": f"No article with URL {record.article_url!r} in this {self.where}."}
            )
        reviewer = self.members.get(record.reviewer)
        if reviewer is None:
            raise ValidationError(
                {"reviewer": f"{record.reviewer!r} is not a member of this newsroom."}
            )
        verdict = None
        if record.verdict is not None:
            labels = self.verdicts[article.collection.taxonomy_id]
            verdict = labels.get(record.verdict)
            if verdict is None:
                raise unknown_verdict(record.verdict, labels)
        return _Given(line, article, reviewer, verdict, record)


Parsed = tuple[int, AnnotationInput | Skipped | ParseError]


def _import_batch(
    names: _Names,
    batch: Sequence[Parsed],
    *,
    name: str,
    report: AnnotationReport,
    touched: set[int],
    on_batch: Callable[[AnnotationReport], None] | None,
) -> None:
    """Checks and stores one batch of lines, then counts it in `report`."""
    records = [(line, parsed) for line, parsed in batch if isinstance(parsed, AnnotationInput)]
    articles = names.articles({record.article_url for _, record in records})
    names.load_members({record.reviewer for _, record in records})
    names.load_verdicts({article.collection.taxonomy_id for article in articles.values()})
    errors: list[tuple[int, str]] = []
    skipped = 0
    given: list[_Given] = []
    for line, parsed in batch:
        if isinstance(parsed, ParseError):
            errors.append((line, parsed.message))
        elif isinstance(parsed, Skipped):
            skipped += 1
        else:
            try:
                given.append(names.given(line, parsed, articles))
            except ValidationError as exc:
                errors.append((line, describe_error(exc)))
    first, last = batch[0][0], batch[-1][0]

    def count(checked: _Checked, refused_by: DatabaseError | None = None) -> None:
        """Counts the batch in the report: stored, or refused by the database."""
        refused = [item.where for item, _ in checked.accepted] if refused_by else []
        lines = errors + [
            (where, describe_error(ValidationError(e))) for where, e in checked.errors
        ]
        if refused_by is not None and refused:
            lines.append((refused[0], _refusal(first, last, len(refused), refused_by)))
        report.errors += [f"{name}:{line}: {message}" for line, message in sorted(lines)]
        report.failed += len(errors) + len(checked.errors) + len(refused)
        report.created += 0 if refused_by else len(checked.accepted)
        report.unchanged += len(checked.present)
        report.skipped += skipped
        report.lines = last
        if on_batch is not None:
            on_batch(report)

    saved = replace(report, errors=[])
    listed = len(report.errors)
    try:
        checked, _ = _store(
            names.organization.pk, given, assign=True, partial=True, before_commit=count
        )
    except _Refused as refused:
        # Nothing of the batch was written (its transaction rolled back, the job's
        # progress with it): the report goes back to before it, then says so.
        _restore(report, saved, listed)
        count(refused.checked, refused.cause)
        return
    touched.update(item.article.pk for item, _ in checked.accepted)


def _refusal(first: int, last: int, good: int, cause: DatabaseError) -> str:
    detail = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return (
        f"the database refused lines {first}–{last} as a whole, so none of their {good} "
        f"good line(s) was stored ({cause.__class__.__name__}{': ' + detail if detail else ''})"
    )


def _restore(report: AnnotationReport, saved: AnnotationReport, listed: int) -> None:
    """The report as it was before a batch: `saved`'s counts, its first `listed` errors."""
    for name in ("created", "unchanged", "skipped", "failed", "lines"):
        setattr(report, name, getattr(saved, name))
    del report.errors[listed:]


def _batches(records: Iterable[Parsed], size: int) -> Iterator[list[Parsed]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def annotations_import(
    *,
    organization: Organization,
    data: bytes | ByteStream,
    name: str,
    collection: Collection | None = None,
    after: int = 0,
    batch_lines: int = BATCH_LINES,
    on_batch: Callable[[AnnotationReport], None] | None = None,
    touched: set[int] | None = None,
) -> AnnotationReport:
    """Imports claims from our JSONL or from W3C Web Annotations (told apart by content).

    `data` is the file's bytes or a binary file open at its start (read as it
    streams, a batch of `batch_lines` lines at a time). The articles are the
    newsroom's, or only the `collection`'s when given. Lines up to `after`
    are passed over (a job resumed). `on_batch` sees the report after each
    batch, inside the batch's transaction when it wrote anything. Each
    article given claims has its agreement asked for once at the end, unless
    `touched` is given: then its ids are added there, for the caller to ask.
    """
    handle = io.BytesIO(data) if isinstance(data, bytes) else data
    report = AnnotationReport()
    head = handle.read(SNIFF_BYTES)
    handle.seek(0)
    if (problem := json_lines_problem(head)) is not None:
        where = f"{name}:{problem.line}" if problem.line else name
        report.errors.append(f"{where}: {problem.message}")
        report.failed += 1
        return report
    web = is_web_annotation(first_line(handle))
    handle.seek(0)
    lines = numbered_lines(handle, after=after)
    records = parse_web_annotation_records(lines) if web else parse_annotation_records(lines)
    names = _Names(organization, collection)
    articles: set[int] = set() if touched is None else touched
    try:
        for batch in _batches(records, batch_lines):
            _import_batch(
                names, batch, name=name, report=report, touched=articles, on_batch=on_batch
            )
    finally:
        if touched is None:
            agreement_after_import(article_ids=articles)
    return report


def agreement_after_import(*, article_ids: Iterable[int]) -> None:
    """Asks for the agreement of each article an import gave claims to, once, when the
    import (of one file or of a job's files) is done: not once per claim."""
    if article_ids:
        claims_added(article_ids=article_ids)


# The members' API ----------------------------------------------------------------------


def claims_create_many(
    *, reviewer: User, items: Sequence[tuple[Article, AnnotationInput]]
) -> list[tuple[int, bool]]:
    """A member's new claims, many at once, all or none (the members' API).

    Each is checked as claim_create checks one. A claim of theirs on exactly
    the same span is already present: it is left as it is, and not an error,
    so that a request sent again changes nothing. If any item is refused,
    nothing is stored and the ValidationError names every problem as
    `annotations[i].field`. The articles are the caller's to choose (the API:
    those of the newsroom the member is assigned to). Returns, item by item,
    the claim's id and whether it was created now.
    """
    if not items:
        return []
    organization_id = items[0][0].organization_id
    verdicts: dict[int, dict[str, VerdictLabel]] = {}
    taxonomies = {article.collection.taxonomy_id for article, _ in items}
    for taxonomy_id in taxonomies:
        verdicts[taxonomy_id] = {}
    for label in VerdictLabel.objects.filter(taxonomy_id__in=taxonomies):
        verdicts[label.taxonomy_id][label.slug] = label
    errors: dict[str, list[str]] = {}
    given: list[_Given] = []
    claims: list[int] = []
    for index, (article, record) in enumerate(items):
        verdict = None
        if record.verdict:
            labels = verdicts[article.collection.taxonomy_id]
            verdict = labels.get(record.verdict)
            if verdict is None:
                errors |= _indexed(index, unknown_verdict(record.verdict, labels).message_dict)
                continue
        given.append(_Given(index, article, reviewer, verdict, record))
    if errors:
        # Every item's problems in one answer, the others' too.
        checked = _check(organization_id, given)
    else:
        with transaction.atomic():
            try:
                checked, claims = _store(organization_id, given, assign=False, partial=False)
            except _Refused as refused:
                raise refused.cause from None
            if claims:
                claims_added(article_ids={item.article.pk for item, _ in checked.accepted})
    for where, problems in checked.errors:
        errors |= _indexed(where, {name: [message] for name, message in problems.items()})
    if errors:
        raise ValidationError(dict(sorted(errors.items(), key=lambda e: _index_of(e[0]))))
    outcome: dict[int, tuple[int, bool]] = {}
    for (item, _), claim_id in zip(checked.accepted, claims, strict=True):
        outcome[item.where] = (claim_id, True)
    for item, existing in checked.present:
        stored = existing if existing > 0 else claims[-1 - existing]
        outcome[item.where] = (stored, False)
    return [outcome[index] for index in range(len(items))]


def _indexed(index: int, problems: dict[str, list[str]]) -> dict[str, list[str]]:
    return {f"annotations[{index}].{name}": messages for name, messages in problems.items()}


def _index_of(name: str) -> int:
    return int(name.removeprefix("annotations[").split("]", 1)[0])
