from __future__ import annotations

from django.urls import path

from annotations.watching import views

urlpatterns = [
    path("articles/<int:pk>/watch/", views.article_watch, name="article-watch"),
    path("alerts/<int:pk>/seen/", views.passage_alert_seen, name="passage-alert-seen"),
]
