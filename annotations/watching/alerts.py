"""A published claim's passage edited or removed in a new version of its article.

importing's re-anchoring records what happened to every claim when a new
version of an article arrives (AnchorChange), whatever brought the version
(a watched article's check, an import by URL, a file), and then asks, by task
name, for `passages_check`. A verified claim that was public (published or
corrected) and whose passage was edited (found again only approximately) or
removed (an orphan) raises an alert on its page, its editors and the
reviewers behind it are told (notifications), and partners receive a signed
`claim.passage_changed` webhook. Each change raises one alert, however often
the check runs.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotations.core.permissions import require_editor
from annotations.models import (
    AlertKind,
    AnchorChange,
    AnchorStatus,
    Article,
    PassageAlert,
    VerifiedClaim,
    VerifiedStatus,
    WebhookEvent,
)
from annotations.notifications.services import notify_article_changed
from annotations.webhooks.services import webhooks_notify

PUBLIC = (VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED)
KINDS = {AnchorStatus.EDITED: AlertKind.EDITED, AnchorStatus.ORPHANED: AlertKind.REMOVED}


def changes_unalerted(article_id: int | None = None) -> QuerySet[AnchorChange]:
    """Edited or removed passages of public verified claims that raised no alert yet."""
    changes = AnchorChange.objects.filter(
        verified__isnull=False,
        verified__status__in=PUBLIC,
        status__in=list(KINDS),
        alert__isnull=True,
    )
    if article_id is not None:
        changes = changes.filter(article_id=article_id)
    return changes


def change_payload(alert: PassageAlert, article: Article) -> dict[str, object]:
    """What the webhook says changed, beside the claim."""
    return {
        "kind": alert.kind,
        "old_quote": alert.old_quote,
        "new_quote": alert.new_quote,
        "article": {
            "url": article.url,
            "title": article.title,
            "version": article.version,
            "content_hash": article.content_hash,
        },
        "detected_at": alert.created_at.isoformat(),
    }


def passages_check(article_id: int) -> list[PassageAlert]:
    """Alerts (with their notifications and webhooks) for a new version's changed passages."""
    article = Article.objects.filter(pk=article_id).select_related("organization").first()
    if article is None:
        return []
    try:
        with transaction.atomic():
            changes = list(
                changes_unalerted(article_id)
                .select_related("verified__editor", "verified__organization")
                .select_for_update(of=("self",))
            )
            if not changes:
                return []
            alerts = [
                PassageAlert.objects.create(
                    organization_id=article.organization_id,
                    claim=change.verified,
                    change=change,
                    article=article,
                    kind=KINDS[AnchorStatus(change.status)],
                    old_quote=change.old_quote,
                    new_quote=change.new_quote,
                )
                for change in changes
                if change.verified is not None
            ]
            claims: list[VerifiedClaim] = []
            for alert in alerts:
                webhooks_notify(
                    claim=alert.claim,
                    event=WebhookEvent.PASSAGE_CHANGED,
                    change=change_payload(alert, article),
                )
                if alert.claim not in claims:
                    claims.append(alert.claim)
            notify_article_changed(article, claims)
    except IntegrityError:
        # Another worker raised these alerts at the same moment.
        return []
    return alerts


def alerts_pending(before: datetime) -> list[int]:
    """Articles whose changed passages raised no alert (the task's message was lost)."""
    return list(
        changes_unalerted()
        .filter(created_at__lt=before)
        .order_by("article_id")
        .values_list("article_id", flat=True)
        .distinct()[:500]
    )


def alert_seen(*, alert: PassageAlert, user: User) -> PassageAlert:
    """An editor has read the alert; it stays in the claim's history of alerts."""
    require_editor(user, alert.organization_id)
    if alert.seen_at is None:
        alert.seen_at, alert.seen_by = timezone.now(), user
        alert.save(update_fields=["seen_at", "seen_by"])
    return alert
