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
from annotations.agreement.runs import RunUnderWay, report_start, results_for, run_state
from annotations.core.http import HtmxHttpRequest
from annotations.core.permissions import of_editors
from annotations.jobs.enqueue import enqueue
from annotations.models import AgreementReport, Collection, JobStatus


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
    return context


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
