"""The agreement dashboard: start a run, watch it, read the figures."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotations.agreement.charts import figures_charts
from annotations.agreement.forms import RunForm
from annotations.agreement.plain import headline, readings
from annotations.agreement.runs import (
    RunUnderWay,
    min_units_save,
    report_start,
    results_for,
    run_state,
)
from annotations.core.http import HtmxHttpRequest
from annotations.core.permissions import of_editors
from annotations.jobs.enqueue import enqueue
from annotations.models import AgreementReport, ClaimAnnotation, Collection, JobStatus

# Claims listed under the headline: the disputed ones, then those one reviewer marked alone.
LISTED = 20


def _editor_collection(request: HtmxHttpRequest, pk: int) -> Collection:
    # The figures name reviewers: editors only; anyone else finds no such page.
    return get_object_or_404(of_editors(request.user, Collection.objects.all()), pk=pk)


def _agreement_page(request: HtmxHttpRequest, collection: Collection) -> dict[str, Any]:
    report, running = run_state(collection)
    results = results_for(request.user, report.results) if report else None
    context: dict[str, Any] = {
        "collection": collection,
        "report": report,
        "running": running,
        "results": results,
    }
    if report and results:
        history = list(
            AgreementReport.objects.filter(collection=collection, status=JobStatus.DONE)
            .order_by("-finished_at")
            .values_list("finished_at", "results__verdict__alpha")[:200]
        )[::-1]
        context |= figures_charts(results, history)
        context["top_articles"] = results["articles"][:50]
        context["headline"] = headline(results)
        context["readings"] = readings
        context |= listed_claims(collection, results)
    return context


def listed_claims(collection: Collection, results: dict[str, Any]) -> dict[str, Any]:
    """The claims behind the headline, as stored now: the report names them by id.

    `results` is already as this user may see it (runs.results_for): claims of
    articles they review blind are not among them. A claim deleted since the
    run is left out.
    """
    listed = results.get("listed") or {}
    disputed = (listed.get("disputed") or [])[:LISTED]
    single = (listed.get("single") or [])[:LISTED]
    ids = {i for unit in disputed for i in unit["claims"]} | {item["claim"] for item in single}
    claims = {
        claim.pk: claim
        for claim in ClaimAnnotation.objects.filter(
            pk__in=ids, article__collection=collection
        ).select_related("reviewer", "verdict", "article")
    }
    units = []
    for unit in disputed:
        members = [claims[i] for i in unit["claims"] if i in claims]
        if len(members) >= 2:
            units.append({"article": members[0].article, "claims": members})
    alone = [claims[item["claim"]] for item in single if item["claim"] in claims]
    return {"disputed_units": units, "single_claims": alone}


@require_GET
@login_required
def agreement_dashboard(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    collection = _editor_collection(request, pk)
    return render(
        request, "annotations/agreement/agreement.html", _agreement_page(request, collection)
    )


@require_GET
@login_required
def agreement_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The progress of the current run; polled by the dashboard while one runs."""
    collection = _editor_collection(request, pk)
    # Only what the status line needs: this is polled every second.
    report, running = run_state(collection)
    context = {"collection": collection, "report": report, "running": running}
    response = render(request, "annotations/agreement/agreement.html#run-status", context)
    if running and running.status == JobStatus.FAILED:
        return response
    if request.htmx and report and not running:
        # The run just finished: reload the page to show its figures.
        response["HX-Refresh"] = "true"
    return response


@require_POST
@login_required
def agreement_start(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    collection = _editor_collection(request, pk)
    form = RunForm(request.POST, collection=collection)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for ms in form.errors.values() for m in ms) + ".")
        return redirect("agreement", pk=collection.pk)
    min_units_save(collection=collection, min_units=form.cleaned_data["min_units"])
    try:
        report = report_start(
            collection=collection,
            mode=form.cleaned_data["match"],
            threshold=form.cleaned_data["iou"],
            requested_by=request.user,
        )
    except (RunUnderWay, ValueError) as exc:
        messages.error(request, str(exc).capitalize() + ".")
        return redirect("agreement", pk=collection.pk)
    enqueue("annotations.tasks.agreement_run", report.pk)
    return redirect("agreement", pk=collection.pk)
