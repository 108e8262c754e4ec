"""The workbench's URLs and one more, the API benchmark's anchor; never part of the shipped URLs.

`/bench/constant/` is a bare DRF view that returns a constant, with no
authentication, permission or throttle: what the same gunicorn, middleware
and renderer serve when the view itself costs nothing, the stack's ceiling.
"""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench.urls import urlpatterns as workbench_urlpatterns


class Constant(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [path("bench/constant/", Constant.as_view()), *workbench_urlpatterns]
