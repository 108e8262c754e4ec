from __future__ import annotations

from django.urls import path

from annotations.discussion import views

urlpatterns = [
    path("articles/<int:pk>/discussion/", views.discussion, name="discussion"),
    path("articles/<int:pk>/mentions/", views.mentions, name="discussion-mentions"),
    path("threads/<int:pk>/", views.thread_detail, name="thread-detail"),
    path("threads/<int:pk>/comments/", views.comment_create, name="comment-create"),
    path("threads/<int:pk>/resolve/", views.thread_resolve, name="thread-resolve"),
    path("threads/<int:pk>/reopen/", views.thread_reopen, name="thread-reopen"),
    path("comments/<int:pk>/", views.comment_detail, name="comment-detail"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment-edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment-delete"),
    path("comments/<int:pk>/history/", views.comment_history, name="comment-history"),
    path("collections/<int:pk>/activity/", views.activity, name="collection-activity"),
]
