"""/api/v1/: the versioned REST API. A later version gets its own module; v1 stays."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from annotations.api import agreement, articles, claim_annotations, claims, exports

app_name = "api-v1"

urlpatterns = [
    path("claims/", claims.ClaimList.as_view(), name="claim-list"),
    path("claims/<int:pk>/", claims.ClaimDetail.as_view(), name="claim-detail"),
    # Members' endpoints: a session, or a key with the scopes below each view names.
    path("articles/", articles.ArticleList.as_view(), name="article-list"),
    path("articles/<int:pk>/", articles.ArticleDetail.as_view(), name="article-detail"),
    path("annotations/", claim_annotations.AnnotationList.as_view(), name="annotation-list"),
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
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-v1:schema"), name="redoc"),
]
