from __future__ import annotations

from django.urls import path

from annotations.exports import views

urlpatterns = [
    path("newsrooms/<slug:slug>/exports/", views.exports_page, name="exports"),
    path("exports/<int:pk>/", views.export_status, name="export-status"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
]
