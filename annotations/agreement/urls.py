from __future__ import annotations

from django.urls import path

from annotations.agreement import views

urlpatterns = [
    path("collections/<int:pk>/agreement/", views.agreement_dashboard, name="agreement"),
    path("collections/<int:pk>/agreement/run/", views.agreement_start, name="agreement-run"),
    path("collections/<int:pk>/agreement/status/", views.agreement_status, name="agreement-status"),
]
