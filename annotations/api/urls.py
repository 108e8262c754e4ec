"""/api/v1/: the versioned REST API. A later version gets its own module; v1 stays."""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from annotations.api import (
    agreement,
    articles,
    claim_annotations,
    claims,
    discussion,
    exports,
    fetches,
    notifications,
)

app_name = "api-v1"

# Swagger UI and Redoc set styles inline as they draw, and Redoc searches in a
# worker it starts from a blob: only these two pages allow that. Their scripts
# are still our own static files (the split view serves Swagger UI's start-up
# script from a URL rather than inline).
DOCS_CSP = settings.SECURE_CSP and {
    **settings.SECURE_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "worker-src": [CSP.SELF, "blob:"],
}

urlpatterns = [
    path("claims/", claims.ClaimList.as_view(), name="claim-list"),
    path("claims/<int:pk>/", claims.ClaimDetail.as_view(), name="claim-detail"),
    # Members' endpoints: a session, or a key with the scopes below each view names.
    path("articles/", articles.ArticleList.as_view(), name="article-list"),
    path("articles/<int:pk>/", articles.ArticleDetail.as_view(), name="article-detail"),
    # Imports by URL (annotations/api/fetches.py).
    path("articles/fetches/", fetches.FetchList.as_view(), name="fetch-list"),
    path("articles/fetches/<int:pk>/", fetches.FetchDetail.as_view(), name="fetch-detail"),
    path("annotations/", claim_annotations.AnnotationList.as_view(), name="annotation-list"),
    path("annotations/bulk/", claim_annotations.AnnotationBulk.as_view(), name="annotation-bulk"),
    path(
        "annotations/<int:pk>/",
        claim_annotations.AnnotationDetail.as_view(),
        name="annotation-detail",
    ),
    path(
        "collections/<slug:slug>/agreement/",
        agreement.AgreementView.as_view(),
        name="agreement",
    ),
    path("exports/", exports.ExportList.as_view(), name="export-list"),
    path("exports/<int:pk>/", exports.ExportDetail.as_view(), name="export-detail"),
    path("exports/<int:pk>/download/", exports.ExportDownload.as_view(), name="export-download"),
    # The discussion and each member's notifications (annotations/api/discussion.py,
    # annotations/api/notifications.py).
    path("threads/", discussion.ThreadList.as_view(), name="thread-list"),
    path("threads/<int:pk>/", discussion.ThreadDetail.as_view(), name="thread-detail"),
    path(
        "threads/<int:pk>/comments/",
        discussion.ThreadComments.as_view(),
        name="thread-comments",
    ),
    path("threads/<int:pk>/resolve/", discussion.ThreadResolve.as_view(), name="thread-resolve"),
    path("threads/<int:pk>/reopen/", discussion.ThreadReopen.as_view(), name="thread-reopen"),
    path(
        "change-requests/",
        discussion.ChangeRequestCreate.as_view(),
        name="change-request-create",
    ),
    path("comments/<int:pk>/", discussion.CommentDetail.as_view(), name="comment-detail"),
    path("notifications/", notifications.NotificationList.as_view(), name="notification-list"),
    path(
        "notifications/read/",
        notifications.NotificationReadAll.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        notifications.NotificationRead.as_view(),
        name="notification-read",
    ),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path(
        "docs/",
        csp_override(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-v1:schema")),
        name="docs",
    ),
    path(
        "redoc/",
        csp_override(DOCS_CSP)(SpectacularRedocView.as_view(url_name="api-v1:schema")),
        name="redoc",
    ),
]
