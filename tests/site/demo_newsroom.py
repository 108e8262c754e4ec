"""One of everything of the demo newsroom's that a URL can name, and what of it
each answer may show, for tests/site/test_isolation.py."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from annotations.agreement import runs as agreement_runs
from annotations.discussion import services as discussion
from annotations.keys.services import api_key_create
from annotations.models import (
    AlertKind,
    AnchorChange,
    AnchorStatus,
    ArchiveStatus,
    Article,
    Assignment,
    ClaimAnnotation,
    ExportFormat,
    ExportJob,
    Feed,
    FetchJob,
    ImportJob,
    JobStatus,
    Lineage,
    Notification,
    PassageAlert,
    SourceArchive,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.notifications.services import unsubscribe_token
from annotations.reader.services import claim_delete
from annotations.verification import services as verification

DRAFT_TEXT = "Walikale is 1,500 km from Kinshasa (draft, not checked yet)"
DRAFT_SUMMARY = "Our draft finding about the road distance"
CONFIDENTIAL_URL = "https://tipster.example/goma-contact"
CONFIDENTIAL_TITLE = "Our contact in Goma"
WEBHOOK_URL = "https://wire.partner.example/hooks/demo-newsroom"
KEY_NAME = "Wire partner of the demo newsroom"
EXPORT_FILENAME = "demo-newsroom-claims.jsonl"
EXPORT_CONTENT = b'{"claim": "the demo export file"}\n'
IMPORT_ERROR = "walikale-draft.txt: the demo newsroom's broken upload"
RETRACTION_NOTE = "The quote was the alliance's slogan, not a stated aim."
COMMENT_TEXT = "Desk discussion: is the Goma contact reliable enough?"
FEED_URL = "https://wire.demo.example/feeds/great-lakes.xml"
FETCH_ERROR = "https://demo.example/private-draft: HTTP 404 (the demo newsroom's fetch)"
ARCHIVED_TEXT = "What the tipster's page said when the demo newsroom archived it"
ALERT_QUOTE = "the demo newsroom's alert on a passage that changed"


@dataclass(frozen=True)
class Value:
    """A parameter's value, and whether it names something of the demo newsroom."""

    value: str
    theirs: bool


def the_demo_newsroom(article: Article, media) -> dict[str, Value]:
    """One of each thing a URL can name, in the demo newsroom, by kind."""
    organization = article.organization
    editor = User.objects.get(username="editor")
    reviewer2 = User.objects.get(username="reviewer2")
    forces, peace = VerifiedClaim.objects.filter(
        article=article, status=VerifiedStatus.PUBLISHED
    ).order_by("start")
    VerifiedSource.objects.create(
        claim=forces,
        url=CONFIDENTIAL_URL,
        title=CONFIDENTIAL_TITLE,
        confidential=True,
        order=9,
    )
    webhook = Webhook.objects.create(
        organization=organization,
        url=WEBHOOK_URL,
        secret="s" * 64,
        events=list(WebhookEvent.values),
        created_by=editor,
    )
    # A retraction: a correction for the public log, and a webhook delivery.
    retracted = verification.verified_retract(claim=peace, editor=editor, note=RETRACTION_NOTE)
    phrase = "approximately 1,500 km (930 miles) from the capital"
    start = article.text.index(phrase)
    draft = VerifiedClaim.objects.create(
        organization=organization,
        article=article,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        claim_reviewed=DRAFT_TEXT,
        summary=DRAFT_SUMMARY,
        verdict=VerdictLabel.objects.filter(taxonomy__organization=organization).first(),
        lineage=Lineage.ADJUDICATED,
        editor=editor,
        status=VerifiedStatus.DRAFT,
    )
    deleted = ClaimAnnotation.objects.get(article=article, reviewer=reviewer2, rating=4)
    claim_delete(claim=deleted, user=reviewer2)
    import_job = ImportJob.objects.create(
        organization=organization,
        collection=article.collection,
        created_by=editor,
        status=JobStatus.DONE,
        errors=[IMPORT_ERROR],
    )
    export = ExportJob.objects.create(
        organization=organization,
        created_by=editor,
        format=ExportFormat.JSONL,
        status=JobStatus.DONE,
        file=default_storage.save("exports/demo.jsonl", ContentFile(EXPORT_CONTENT)),
        filename=EXPORT_FILENAME,
        expires_at=timezone.now() + timedelta(days=7),
    )
    report = agreement_runs.report_start(collection=article.collection, requested_by=editor)
    agreement_runs.report_run_here(report)
    key = api_key_create(organization=organization, user=editor, name=KEY_NAME, scopes="exports")
    # A thread with a request for changes: a comment, its notification, and an email's link.
    reviewer1 = User.objects.get(username="reviewer1")
    claim = ClaimAnnotation.objects.filter(article=article, reviewer=reviewer1).first()
    comment = discussion.thread_start(
        user=editor, article=article, claim=claim, body=COMMENT_TEXT, request_changes=True
    ).comment

    # What the web brought: an import by URL, a feed, archived sources (the confidential
    # one's text is the newsroom's alone), and an alert on a changed passage.
    fetch_job = FetchJob.objects.create(
        organization=organization,
        collection=article.collection,
        created_by=editor,
        status=JobStatus.DONE,
        urls=["https://demo.example/private-draft"],
        total=1,
        processed=1,
        failed=1,
        results=[
            {
                "url": "https://demo.example/private-draft",
                "status": "failed",
                "article": None,
                "error": FETCH_ERROR.split(": ", 1)[1],
            }
        ],
    )
    feed = Feed.objects.create(
        organization=organization, collection=article.collection, url=FEED_URL, created_by=editor
    )
    public_source = forces.sources.filter(confidential=False).first()
    confidential_source = forces.sources.get(url=CONFIDENTIAL_URL)
    archives = [
        SourceArchive.objects.create(
            organization=organization,
            url=url,
            status=ArchiveStatus.ARCHIVED,
            requested_at=timezone.now(),
            archived_at=timezone.now(),
            content_hash="a" * 64,
            warc=default_storage.save("archives/demo.warc.gz", ContentFile(b"warc")),
            text=text,
        )
        for url, text in ((public_source.url, "The public page as archived."),
                          (CONFIDENTIAL_URL, ARCHIVED_TEXT))
    ]  # fmt: skip
    change = AnchorChange.objects.create(
        article=article,
        verified=forces,
        status=AnchorStatus.EDITED,
        old_start=forces.start,
        old_end=forces.end,
        old_quote=forces.quote,
        new_quote=ALERT_QUOTE,
    )
    alert = PassageAlert.objects.create(
        organization=organization,
        claim=forces,
        change=change,
        article=article,
        kind=AlertKind.EDITED,
        old_quote=forces.quote,
        new_quote=ALERT_QUOTE,
    )

    objects = {
        "organization": organization.slug,
        "article": article.pk,
        "collection": article.collection.pk,
        "collection_slug": article.collection.slug,
        "annotation": ClaimAnnotation.objects.filter(article=article).first().pk,
        "deleted_annotation": deleted.pk,
        "assignment": Assignment.objects.filter(article=article).first().pk,
        "published": forces.pk,
        "retracted": retracted.pk,
        "draft": draft.pk,
        "import_job": import_job.pk,
        "export": export.pk,
        "api_key": key.key.pk,
        "webhook": webhook.pk,
        "delivery": WebhookDelivery.objects.get(webhook=webhook).pk,
        "taxonomy": article.collection.taxonomy_id,
        "thread": comment.thread_id,
        "comment": comment.pk,
        "notification": Notification.objects.get(recipient=reviewer1, comment=comment).pk,
        "unsubscribe_token": unsubscribe_token(reviewer1),
        "fetch_job": fetch_job.pk,
        "feed": feed.pk,
        "source_archive": archives[1].pk,
        "passage_alert": alert.pk,
        "public_source": public_source.pk,
        "confidential_source": confidential_source.pk,
    }
    return {kind: Value(str(value), theirs=True) for kind, value in objects.items()}


def published_strings(article: Article) -> set[str]:
    """What the demo newsroom has made public: its public pages may show these."""
    strings = {article.organization.name, article.title}
    for claim in VerifiedClaim.objects.filter(article=article).exclude(status=VerifiedStatus.DRAFT):
        strings |= {claim.claim_reviewed, claim.summary, claim.claimant, claim.public_note}
        for source in claim.sources.filter(confidential=False):
            strings |= {source.url, source.title}
    return strings


def private_strings(article: Article) -> set[str]:
    """What only the demo newsroom may see, even on its public pages."""
    strings = {
        DRAFT_TEXT,
        DRAFT_SUMMARY,
        CONFIDENTIAL_URL,
        CONFIDENTIAL_TITLE,
        WEBHOOK_URL,
        KEY_NAME,
        EXPORT_FILENAME,
        EXPORT_CONTENT.decode(),
        IMPORT_ERROR,
        COMMENT_TEXT,
        FEED_URL,
        FETCH_ERROR.split(": ", 1)[1],
        ARCHIVED_TEXT,
        ALERT_QUOTE,
        article.collection.name,
        "reviewer1",
        "reviewer2",
    }
    for claim in ClaimAnnotation.all_objects.filter(article=article):
        strings |= {claim.note, *(source.title for source in claim.sources.all())}
    # A reviewer's source the newsroom has since published with a claim is public.
    return strings - published_strings(article)


def everything(article: Article) -> set[str]:
    """Anything distinctive of the demo newsroom, public or not."""
    quotes = ClaimAnnotation.all_objects.filter(article=article).values_list("quote", flat=True)
    return published_strings(article) | private_strings(article) | set(quotes) | {"Walikale"}


def leaked(body: str, strings: set[str]) -> list[str]:
    """The strings found in the body, as written or escaped for HTML or JSON."""
    found = []
    for string in sorted(s for s in strings if s):
        forms = {string, html.escape(string), json.dumps(string)[1:-1]}
        if any(form in body for form in forms):
            found.append(string)
    return found
