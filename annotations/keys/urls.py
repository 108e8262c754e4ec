from __future__ import annotations

from django.urls import path

from annotations.keys import views

urlpatterns = [
    path("newsrooms/<slug:slug>/api-keys/", views.api_keys_page, name="api-keys"),
    path(
        "newsrooms/<slug:slug>/api-keys/<int:pk>/revoke/",
        views.api_key_revoke,
        name="api-key-revoke",
    ),
]
