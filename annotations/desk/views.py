"""My queue, and the collection page: articles, reviewers' progress, imports, assignments."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotations.core.http import HtmxHttpRequest
from annotations.core.inputs import ArticleInput
from annotations.core.permissions import (
    admin_organizations_for,
    editor_organizations_for,
    of_editors,
)
from annotations.desk.forms import (
    AssignReviewersForm,
    AutoAssignForm,
    PasteArticleForm,
    UploadArticlesForm,
)
from annotations.importing.services import article_import, import_job_start
from annotations.models import Article, Collection, ImportJob
from annotations.newsrooms.selectors import collections_for, reviewers_of
from annotations.reader.selectors import collection_progress, queue_for, reviewer_progress
from annotations.reader.services import assignment_set, assignments_auto


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "annotations/desk/home.html",
        {
            "queue": queue_for(request.user),
            "collections": of_editors(request.user, collections_for(request.user)),
            "edited": editor_organizations_for(request.user).order_by("name"),
            "administered": set(admin_organizations_for(request.user).values_list("pk", flat=True)),
        },
    )


def _editor_collection(request: HtmxHttpRequest, pk: int) -> Collection:
    # A reviewer, or another newsroom's editor, finds no such page.
    return get_object_or_404(of_editors(request.user, collections_for(request.user)), pk=pk)


def _collection_page(
    request: HtmxHttpRequest, collection: Collection, status: int = 200, **extra: Any
) -> HttpResponse:
    rows = collection_progress(collection)
    context = {
        "collection": collection,
        "rows": rows,
        "progress": reviewer_progress(rows),
        "reviewers": reviewers_of(collection.organization_id),
        "jobs": collection.import_jobs.order_by("-created_at")[:5],
        "paste_form": PasteArticleForm(),
        "upload_form": UploadArticlesForm(),
        "assign_form": AutoAssignForm(collection=collection),
        **extra,
    }
    return render(request, "annotations/desk/collection.html", context, status=status)


@require_GET
@login_required
def collection_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _collection_page(request, _editor_collection(request, pk))


@require_POST
@login_required
def collection_paste(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    collection = _editor_collection(request, pk)
    form = PasteArticleForm(request.POST)
    if form.is_valid():
        try:
            outcome = article_import(
                collection=collection,
                data=ArticleInput(
                    title=form.cleaned_data["title"],
                    url=form.cleaned_data["url"],
                    language=form.cleaned_data["language"].strip(),
                    text=form.cleaned_data["text"],
                ),
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"{outcome.status.capitalize()}: {outcome.article}.")
            return redirect("collection-detail", pk=collection.pk)
    return _collection_page(request, collection, 422, paste_form=form, open_panel="paste")


@require_POST
@login_required
def collection_upload(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    collection = _editor_collection(request, pk)
    form = UploadArticlesForm(request.POST, request.FILES)
    if not form.is_valid():
        response = _collection_page(request, collection, 422, upload_form=form, open_panel="upload")
        if request.htmx:
            # The form with its errors replaces the form, not the list of jobs it targets.
            response["HX-Retarget"] = response["HX-Reselect"] = "#upload-form"
            response["HX-Reswap"] = "outerHTML"
        return response
    job = import_job_start(
        collection=collection, user=request.user, uploads=form.cleaned_data["uploads"]
    )
    if request.htmx:
        return render(request, "annotations/desk/collection.html#import-job", {"job": job})
    return redirect("collection-detail", pk=collection.pk)


@require_GET
@login_required
def import_job_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(of_editors(request.user, ImportJob.objects.all()), pk=pk)
    return render(request, "annotations/desk/collection.html#import-job", {"job": job})


@require_POST
@login_required
def collection_auto_assign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    collection = _editor_collection(request, pk)
    form = AutoAssignForm(request.POST, collection=collection)
    if form.is_valid():
        try:
            made = assignments_auto(
                collection=collection,
                user=request.user,
                per_article=form.cleaned_data["per_article"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Made {made} assignment(s).")
        return redirect("collection-detail", pk=collection.pk)
    return _collection_page(request, collection, assign_form=form)


@require_POST
@login_required
def article_assign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(of_editors(request.user, Article.objects.all()), pk=pk)
    form = AssignReviewersForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([str(m) for m in form.errors.get("reviewers", [])])
        assignment_set(article=article, reviewers=form.cleaned_data["reviewers"], user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Assignments for “{article.title}” saved.")
    return redirect("collection-detail", pk=article.collection_id)
