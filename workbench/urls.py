from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from workbench.health import healthz

admin.site.site_header = "Fact-check Workbench administration"
admin.site.site_title = "Fact-check Workbench"

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("annotations.api.urls")),
    path("", include("annotations.urls")),
]

# A URL under /api/ that no route matches answers the API's JSON error, not a page.
handler404 = "annotations.api.errors.not_found"
# A form too large to read answers 413 with what to do, not a bare 400.
handler400 = "workbench.faults.bad_request"
# A database that is down answers 503, even when a middleware is the one that noticed.
handler500 = "workbench.faults.server_error"
