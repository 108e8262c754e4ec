"""Vendored scripts that need one change before a page may load them.

Redoc's bundle draws Redocly's logo from cdn.redoc.ly in its sidebar; the API
documentation loads nothing from outside (a newsroom's firewall, the
Content-Security-Policy), so the bundle is served with that address emptied:
the image's error handler then drops it, and only the text link remains.
"""

from __future__ import annotations

import hashlib
from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_safe

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
OUTSIDE_ADDRESSES = (b"https://cdn.redoc.ly/redoc/logo-mini.svg",)


@cache
def redoc_bundle() -> tuple[bytes, str]:
    """The bundle without its outside addresses, and its ETag."""
    path = finders.find(REDOC_BUNDLE)
    if path is None:
        raise LookupError(f"{REDOC_BUNDLE} is not among the static files")
    with open(path, "rb") as file:
        body = file.read()
    for address in OUTSIDE_ADDRESSES:
        body = body.replace(address, b"")
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@require_safe
def redoc_standalone(request: HttpRequest) -> HttpResponse:
    body, etag = redoc_bundle()
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=86400"
    return response
