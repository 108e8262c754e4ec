from __future__ import annotations

from django.urls import path

from annotations.webhooks import views

urlpatterns = [
    path("newsrooms/<slug:slug>/webhooks/", views.webhooks_page, name="webhooks"),
    path(
        "newsrooms/<slug:slug>/webhooks/deliveries/",
        views.webhook_deliveries,
        name="webhook-deliveries",
    ),
    path("webhooks/<int:pk>/<str:action>/", views.webhook_action, name="webhook-action"),
    path(
        "webhook-deliveries/<int:pk>/redeliver/",
        views.delivery_redeliver,
        name="webhook-redeliver",
    ),
]
