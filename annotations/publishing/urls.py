"""Public pages: no login, the URLs partners and readers are given."""

from __future__ import annotations

from django.urls import path

from annotations.publishing import views

urlpatterns = [
    path("newsrooms/<slug:slug>/claims/<int:pk>/", views.public_claim, name="public-claim"),
    path("newsrooms/<slug:slug>/corrections/", views.corrections_log, name="corrections-log"),
]
