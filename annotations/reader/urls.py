from __future__ import annotations

from django.urls import path

from annotations.reader import views

urlpatterns = [
    path("articles/<int:pk>/", views.article_reader, name="article-reader"),
    path("articles/<int:pk>/claims/", views.claim_create, name="claim-create"),
    path("articles/<int:pk>/similar/", views.similar_claims, name="similar-claims"),
    path("articles/<int:pk>/submit/", views.assignment_submit, name="assignment-submit"),
    path("claims/<int:pk>/edit/", views.claim_edit, name="claim-edit"),
    path("claims/<int:pk>/", views.claim_update, name="claim-update"),
    path("claims/<int:pk>/delete/", views.claim_delete, name="claim-delete"),
    path("claims/<int:pk>/restore/", views.claim_restore, name="claim-restore"),
    path("assignments/<int:pk>/reopen/", views.assignment_reopen, name="assignment-reopen"),
    path("taxonomies/<int:pk>/verdicts.css", views.taxonomy_css, name="taxonomy-css"),
]
