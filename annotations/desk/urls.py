from __future__ import annotations

from django.urls import path

from annotations.desk import views

urlpatterns = [
    path("", views.home, name="home"),
    path("collections/<int:pk>/", views.collection_detail, name="collection-detail"),
    path("collections/<int:pk>/paste/", views.collection_paste, name="collection-paste"),
    path("collections/<int:pk>/upload/", views.collection_upload, name="collection-upload"),
    path("collections/<int:pk>/assign/", views.collection_auto_assign, name="collection-assign"),
    path("articles/<int:pk>/assign/", views.article_assign, name="article-assign"),
    path("imports/<int:pk>/", views.import_job_status, name="import-job"),
]
