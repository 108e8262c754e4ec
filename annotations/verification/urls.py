from __future__ import annotations

from django.urls import path

from annotations.verification import views

urlpatterns = [
    path("collections/<int:pk>/adjudication/", views.adjudication_queue, name="adjudication-queue"),
    path("articles/<int:pk>/adjudicate/", views.adjudicate, name="adjudicate"),
    path("verified/<int:pk>/", views.verified_claim_detail, name="verified-claim"),
    path(
        "verified/<int:pk>/<str:action>/",
        views.verified_claim_action,
        name="verified-claim-action",
    ),
]
