from __future__ import annotations

from django.urls import path

from annotations import adjudication_views, export_views, key_views, views, webhook_views

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<int:pk>/", views.article_reader, name="article-reader"),
    path("articles/<int:pk>/claims/", views.claim_create, name="claim-create"),
    path("articles/<int:pk>/similar/", views.similar_claims, name="similar-claims"),
    path("articles/<int:pk>/submit/", views.assignment_submit, name="assignment-submit"),
    path("articles/<int:pk>/assign/", views.article_assign, name="article-assign"),
    path("claims/<int:pk>/edit/", views.claim_edit, name="claim-edit"),
    path("claims/<int:pk>/", views.claim_update, name="claim-update"),
    path("claims/<int:pk>/delete/", views.claim_delete, name="claim-delete"),
    path("claims/<int:pk>/restore/", views.claim_restore, name="claim-restore"),
    path("assignments/<int:pk>/reopen/", views.assignment_reopen, name="assignment-reopen"),
    path("collections/<int:pk>/", views.collection_detail, name="collection-detail"),
    path("collections/<int:pk>/paste/", views.collection_paste, name="collection-paste"),
    path("collections/<int:pk>/upload/", views.collection_upload, name="collection-upload"),
    path("collections/<int:pk>/assign/", views.collection_auto_assign, name="collection-assign"),
    path("collections/<int:pk>/agreement/", views.agreement_dashboard, name="agreement"),
    path("collections/<int:pk>/agreement/run/", views.agreement_start, name="agreement-run"),
    path("collections/<int:pk>/agreement/status/", views.agreement_status, name="agreement-status"),
    path("imports/<int:pk>/", views.import_job_status, name="import-job"),
    path(
        "collections/<int:pk>/adjudication/",
        adjudication_views.adjudication_queue,
        name="adjudication-queue",
    ),
    path("articles/<int:pk>/adjudicate/", adjudication_views.adjudicate, name="adjudicate"),
    path("verified/<int:pk>/", adjudication_views.verified_claim_detail, name="verified-claim"),
    path("articles/<int:pk>/changes/", adjudication_views.version_changes, name="version-changes"),
    path(
        "verified/<int:pk>/<str:action>/",
        adjudication_views.verified_claim_action,
        name="verified-claim-action",
    ),
    path(
        "newsrooms/<slug:slug>/corrections/",
        adjudication_views.corrections_log,
        name="corrections-log",
    ),
    path("newsrooms/<slug:slug>/exports/", export_views.exports_page, name="exports"),
    path("newsrooms/<slug:slug>/api-keys/", key_views.api_keys_page, name="api-keys"),
    path(
        "newsrooms/<slug:slug>/api-keys/<int:pk>/revoke/",
        key_views.api_key_revoke,
        name="api-key-revoke",
    ),
    path("exports/<int:pk>/", export_views.export_status, name="export-status"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export-download"),
    path(
        "newsrooms/<slug:slug>/claims/<int:pk>/",
        export_views.public_claim,
        name="public-claim",
    ),
    path("newsrooms/<slug:slug>/webhooks/", webhook_views.webhooks_page, name="webhooks"),
    path(
        "newsrooms/<slug:slug>/webhooks/deliveries/",
        webhook_views.webhook_deliveries,
        name="webhook-deliveries",
    ),
    path("webhooks/<int:pk>/<str:action>/", webhook_views.webhook_action, name="webhook-action"),
    path(
        "webhook-deliveries/<int:pk>/redeliver/",
        webhook_views.delivery_redeliver,
        name="webhook-redeliver",
    ),
    path("taxonomies/<int:pk>/verdicts.css", views.taxonomy_css, name="taxonomy-css"),
]
