from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.cache import cache_control

from workbench.health import healthz
from workbench.vendored import redoc_standalone

admin.site.site_header = "Fact-check Workbench administration"
admin.site.site_title = "Fact-check Workbench"


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on pages without a <link rel="icon"> (the admin, the API)."""
    return HttpResponseRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("vendor/redoc.standalone.js", redoc_standalone, name="redoc-standalone"),
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
