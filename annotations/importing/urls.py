from __future__ import annotations

from django.urls import path

from annotations.importing import views, web_views

urlpatterns = [
    path("articles/<int:pk>/changes/", views.version_changes, name="version-changes"),
    # From the web: import by URL, its jobs, feeds (the collection page's web panel).
    path("collections/<int:pk>/web/", web_views.collection_web, name="collection-web"),
    path("collections/<int:pk>/fetch/", web_views.collection_fetch, name="collection-fetch"),
    path("fetches/<int:pk>/", web_views.fetch_job_status, name="fetch-job"),
    path("collections/<int:pk>/feeds/", web_views.feed_create, name="feed-create"),
    path("feeds/<int:pk>/<str:action>/", web_views.feed_action, name="feed-action"),
]
