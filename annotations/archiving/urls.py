from __future__ import annotations

from django.urls import path

from annotations.archiving import views

urlpatterns = [
    path("archives/<int:pk>/", views.archive_detail, name="source-archive"),
    path("archives/<int:pk>/again/", views.archive_again_view, name="source-archive-again"),
    path("archives/<int:pk>/warc/", views.archive_download, name="source-archive-download"),
    path("claims/<int:pk>/archives/", views.claim_archives, name="claim-archives"),
    # Public, beside the public claim page.
    path(
        "newsrooms/<slug:slug>/claims/<int:pk>/sources/<int:source>/archive/",
        views.public_source_archive,
        name="public-source-archive",
    ),
]
