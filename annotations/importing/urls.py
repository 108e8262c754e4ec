from __future__ import annotations

from django.urls import path

from annotations.importing import views

urlpatterns = [
    path("articles/<int:pk>/changes/", views.version_changes, name="version-changes"),
]
