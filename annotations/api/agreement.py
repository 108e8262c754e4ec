"""Members' agreement: start a run on a collection, read its progress and its figures.

The figures are the run's stored `results`, the very document that
`manage.py compute_agreement --json` prints; nothing here computes them again.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.agreement import runs
from annotations.api.articles import member_user
from annotations.api.auth import request_organization
from annotations.api.serializers import (
    AgreementRunSerializer,
    AgreementSerializer,
    AgreementStartSerializer,
)
from annotations.core.permissions import require_editor
from annotations.models import Collection, Scope


class AgreementView(GenericAPIView):
    required_scopes = {"GET": Scope.READ_AGREEMENT, "POST": Scope.WRITE_AGREEMENT}
    serializer_class = AgreementSerializer

    def collection(self, slug: str) -> Collection:
        organization = request_organization(self.request)
        collection = get_object_or_404(
            Collection.objects.select_related("taxonomy"), organization=organization, slug=slug
        )
        # The dashboard's rule: the figures name reviewers, so editors only.
        require_editor(member_user(self.request), organization.pk)
        return collection

    @extend_schema(
        summary="Read a collection's agreement",
        description=(
            "Editors only. `results` is the last finished run's report — the document "
            "`manage.py compute_agreement --json` prints — kept up to date as claims "
            "change; `running` shows the status and progress of a run under way."
        ),
        responses={200: AgreementSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        collection = self.collection(slug)
        report, running = runs.run_state(collection)
        return Response(
            {
                "collection": collection.slug,
                "running": AgreementRunSerializer(running).data if running else None,
                "report": AgreementRunSerializer(report).data if report else None,
                "results": runs.results_for(member_user(request), report.results)
                if report
                else None,
            }
        )

    @extend_schema(
        summary="Start an agreement run",
        description=(
            "Editors only. Starts a run in the background and answers 202 with it; poll "
            "the GET for its progress and figures. While a run is under way, asking again "
            "starts nothing and answers with that run."
        ),
        request=AgreementStartSerializer,
        responses={202: AgreementRunSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        collection = self.collection(slug)
        given = AgreementStartSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        report = runs.run_request(
            collection=collection,
            mode=given.validated_data["match"],
            threshold=given.validated_data.get("iou"),
            requested_by=member_user(request),
        )
        location = reverse("api-v1:agreement", args=[collection.slug])
        return Response(
            AgreementRunSerializer(report).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(location)},
        )
