"""The workbench's data model, a module per area; every model is importable from here.

Every row belongs to exactly one Organization (a newsroom), directly or through
its parent, and every query is scoped by it. Offsets are character offsets into
`Article.text`, the normalized plain text of one article version.
"""

from __future__ import annotations

from annotations.models.agreement import AgreementReport, ArticleAgreement, MatchMode
from annotations.models.articles import (
    RTL_LANGUAGES,
    AnchorChange,
    AnchorStatus,
    Article,
    ImportJob,
    ImportKind,
)
from annotations.models.claims import (
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    LiveClaimManager,
    Source,
    Stance,
)
from annotations.models.exports import (
    ExportAudience,
    ExportFormat,
    ExportJob,
    ExportStatusFilter,
)
from annotations.models.jobs import Job, JobStatus, WorkerJob
from annotations.models.newsrooms import (
    Collection,
    Membership,
    Organization,
    Role,
    Taxonomy,
    UserSession,
    VerdictLabel,
)
from annotations.models.partners import (
    ApiKey,
    DeliveryStatus,
    Scope,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from annotations.models.verification import (
    ClaimantKind,
    Correction,
    CorrectionKind,
    Lineage,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)

__all__ = [
    "RTL_LANGUAGES",
    "AgreementReport",
    "AnchorChange",
    "AnchorStatus",
    "ApiKey",
    "Article",
    "ArticleAgreement",
    "Assignment",
    "AssignmentStatus",
    "ClaimAnnotation",
    "ClaimantKind",
    "Collection",
    "Correction",
    "CorrectionKind",
    "DeliveryStatus",
    "ExportAudience",
    "ExportFormat",
    "ExportJob",
    "ExportStatusFilter",
    "ImportJob",
    "ImportKind",
    "Job",
    "JobStatus",
    "Lineage",
    "LiveClaimManager",
    "MatchMode",
    "Membership",
    "Organization",
    "Role",
    "Scope",
    "Source",
    "Stance",
    "Taxonomy",
    "UserSession",
    "VerdictLabel",
    "VerifiedClaim",
    "VerifiedSource",
    "VerifiedStatus",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "WorkerJob",
]

# Discussion and notifications (issue 16) ------------------------------------------
from annotations.models.discussion import (
    Activity,
    ActivityKind,
    ChangeRequest,
    ChangeRequestStatus,
    Comment,
    EmailChoice,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreference,
    Thread,
)

__all__ += [
    "Activity",
    "ActivityKind",
    "ChangeRequest",
    "ChangeRequestStatus",
    "Comment",
    "EmailChoice",
    "EmailState",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "Thread",
]

# The web: fetched articles, archived sources, watched articles, feeds (issue 17) -------
from annotations.models.web import (  # noqa: E402 - after the block above, on purpose
    AlertKind,
    ArchiveStatus,
    ArticlePage,
    ArticleWatch,
    Feed,
    FeedItem,
    FetchJob,
    PassageAlert,
    SourceArchive,
    SourceCapture,
    SweepCursor,
    WatchOutcome,
    WatchReason,
)

__all__ += [
    "AlertKind",
    "ArchiveStatus",
    "ArticlePage",
    "ArticleWatch",
    "Feed",
    "FeedItem",
    "FetchJob",
    "PassageAlert",
    "SourceArchive",
    "SourceCapture",
    "SweepCursor",
    "WatchOutcome",
    "WatchReason",
]
