"""Browser views. Thin: they read through selectors, write through services,
and answer htmx requests with the fragments (template partials) that changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from annotations import agreement_runs, charts, selectors, services, similar, verification
from annotations.forms import AutoAssignForm, ClaimForm, PasteArticleForm, UploadArticlesForm
from annotations.highlights import paragraphs_touching
from annotations.importers import ARTICLE_SUFFIXES, ArticleInput
from annotations.models import (
    AgreementReport,
    Article,
    Assignment,
    AssignmentStatus,
    ClaimAnnotation,
    Collection,
    ImportJob,
    JobStatus,
    MatchMode,
    Membership,
    Stance,
    Taxonomy,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)
from annotations.rendering import (
    ClaimListView,
    ClaimLook,
    ClaimRow,
    render_claim_list,
    render_text,
)
from annotations.tasks import agreement_run, run_import_job

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: User


# My queue ------------------------------------------------------------------------


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "annotations/home.html",
        {
            "queue": selectors.queue_for(request.user),
            "collections": selectors.collections_for(request.user).filter(
                organization__in=selectors.editor_organizations_for(request.user)
            ),
            "edited": selectors.editor_organizations_for(request.user).order_by("name"),
            "administered": set(
                selectors.admin_organizations_for(request.user).values_list("pk", flat=True)
            ),
        },
    )


# The reader ----------------------------------------------------------------------


@dataclass
class Access:
    """Who the user is on this article: their membership and the article's assignments."""

    article: Article
    membership: Membership
    # Every assignment on the article, by reviewer name: the legend's order.
    assignments: list[Assignment]

    @property
    def assignment(self) -> Assignment | None:
        return next((a for a in self.assignments if a.reviewer_id == self.membership.user_id), None)

    @property
    def can_write(self) -> bool:
        assignment = self.assignment
        return assignment is not None and assignment.status != AssignmentStatus.SUBMITTED

    @property
    def sees_all(self) -> bool:
        return selectors.sees_all_claims(self.membership, self.article, self.assignment)


def _access(request: HtmxHttpRequest, article: Article) -> Access:
    membership = selectors.membership_for(request.user, article.organization_id)
    if membership is None:
        raise Http404
    assignments = list(
        article.assignments.select_related("reviewer").order_by("reviewer__username")
    )
    return Access(article, membership, assignments)


@dataclass
class Reader:
    """Everything the reader shows for one user and one article."""

    access: Access
    claims: list[ClaimRow]
    # One colour index per reviewer for the legend, the list and the highlights.
    reviewer_index: dict[int, int] = field(default_factory=dict)
    reviewer_names: dict[int, str] = field(default_factory=dict)

    @property
    def article(self) -> Article:
        return self.access.article

    @property
    def membership(self) -> Membership:
        return self.access.membership

    @property
    def assignment(self) -> Assignment | None:
        return self.access.assignment

    @property
    def can_write(self) -> bool:
        return self.access.can_write

    @property
    def sees_all(self) -> bool:
        return self.access.sees_all

    def looks(self) -> list[ClaimLook]:
        viewer = self.membership.user_id
        return [
            ClaimLook(
                id=c.id,
                start=c.start,
                end=c.end,
                verdict_id=c.verdict_id,
                reviewer_index=self.reviewer_index.get(c.reviewer_id, 0),
                own=c.reviewer_id == viewer,
            )
            for c in self.claims
        ]

    def claim_items(self, labels: list[VerdictLabel]) -> SafeString:
        return render_claim_list(
            self.claims,
            ClaimListView(
                verdict_names={label.pk: label.name for label in labels},
                reviewer_names=self.reviewer_names,
                reviewer_index=self.reviewer_index,
                viewer_id=self.membership.user_id,
                can_write=self.can_write,
                sees_all=self.sees_all,
                edit_url=reverse("claim-edit", args=[0]),
                delete_url=reverse("claim-delete", args=[0]),
            ),
        )


def _reader(request: HtmxHttpRequest, access: Access) -> Reader:
    claims = ClaimAnnotation.objects.filter(article=access.article).order_by("start", "end", "id")
    if not access.sees_all:
        claims = claims.filter(reviewer=request.user)
    rows = [ClaimRow(*values) for values in claims.values_list(*ClaimRow.FIELDS)]
    names = {a.reviewer_id: a.reviewer.get_username() for a in access.assignments}
    # Claims imported from another tool may come from someone not assigned.
    missing = {row.reviewer_id for row in rows} - names.keys()
    if missing:
        names |= dict(
            User.objects.filter(pk__in=missing).values_list("pk", "username").order_by("username")
        )
    index = {reviewer_id: i for i, reviewer_id in enumerate(names)}
    return Reader(access, rows, index, names)


def _article(request: HtmxHttpRequest, pk: int) -> Article:
    # Another newsroom's article is a 404, the same as one that does not exist.
    return get_object_or_404(
        selectors.articles_for(request.user).select_related("collection__taxonomy"), pk=pk
    )


def _claim_form(reader: Reader | Access, **kwargs: Any) -> ClaimForm:
    return ClaimForm(taxonomy=reader.article.collection.taxonomy, **kwargs)


def _form_context(access: Access, **extra: Any) -> dict[str, Any]:
    """What the claim form needs: the article, its verdicts, the stances."""
    return {
        "article": access.article,
        "labels": list(access.article.collection.taxonomy.labels.order_by("order")),
        "stances": Stance.choices,
        **extra,
    }


def _context(reader: Reader, **extra: Any) -> dict[str, Any]:
    context = _form_context(reader.access, reader=reader, **extra)
    context["claim_items"] = reader.claim_items(context["labels"])
    context["legend"] = (
        [(a, reader.reviewer_index.get(a.reviewer_id, 0) % 6) for a in reader.access.assignments]
        if reader.membership.can_edit
        else []
    )
    return context


def _published(access: Access) -> list[VerifiedClaim] | None:
    """The article's published verified claims, for those who may see them now.

    Editors always; a reviewer once their own assignment is submitted, so that
    the desk's verdicts cannot steer a review still in progress.
    """
    assignment = access.assignment
    if not access.membership.can_edit and (
        assignment is not None and assignment.status != AssignmentStatus.SUBMITTED
    ):
        return None
    return list(
        VerifiedClaim.objects.filter(article=access.article)
        .exclude(status=VerifiedStatus.DRAFT)
        .select_related("verdict")
        .prefetch_related(Prefetch("sources", VerifiedSource.objects.order_by("order", "pk")))
        .order_by("start", "end")
    )


@require_GET
@login_required
def article_reader(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    reader = _reader(request, _access(request, article))
    return render(
        request,
        "annotations/reader.html",
        _context(
            reader,
            paragraphs=render_text(article.text, reader.looks()),
            form=_claim_form(reader),
            published=_published(reader.access),
        ),
    )


@require_GET
@login_required
def similar_claims(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Claims checked before, for the claim form: the newsroom's verified claims worded alike."""
    access = _access(request, _article(request, pk))
    taxonomy = access.article.collection.taxonomy
    editor = access.membership.can_edit
    suggestions = similar.similar_claims(
        organization_id=access.article.organization_id,
        text=request.GET.get("q", ""),
        # Drafts are the desk's work in progress; this article's own verdicts
        # wait until the reviewer has submitted (see _published).
        public_only=not editor,
        exclude_articles=[] if _published(access) is not None else [access.article.pk],
    )
    rows = []
    for suggestion in suggestions:
        earlier = suggestion.claim
        verdict = verification.verdict_in(taxonomy, earlier.verdict)
        rows.append(
            {
                "suggestion": suggestion,
                "verdict": verdict,
                "reuse_id": f"reuse-{earlier.pk}",
                "reuse": {
                    "verdict": verdict.pk if verdict else None,
                    "rating": earlier.rating,
                    "sources": [
                        {
                            "url": s.url,
                            "title": s.title,
                            "publisher": s.publisher,
                            "quote": s.quote,
                            "stance": s.stance,
                            "visibility": "confidential" if s.confidential else "public",
                        }
                        for s in earlier.sources.all()
                    ],
                },
            }
        )
    return render(request, "annotations/similar_claims.html", {"rows": rows})


def _changed(
    request: HtmxHttpRequest, reader: Reader, spans: list[tuple[int, int]], **extra: Any
) -> HttpResponse:
    """The fragments a change to claims touches: their paragraphs, the claim
    list, a fresh closed form and a status line."""
    touched: set[int] = set()
    for start, end in spans:
        touched.update(paragraphs_touching(reader.article.text, start, end))
    return render(
        request,
        "annotations/reader.html#claims-changed",
        _context(
            reader,
            paragraphs=render_text(reader.article.text, reader.looks(), only=touched),
            form=_claim_form(reader),
            **extra,
        ),
    )


def _form_error(
    request: HtmxHttpRequest, access: Access, form: ClaimForm, status: int, **extra: Any
) -> HttpResponse:
    return render(
        request,
        "annotations/reader.html#claim-form",
        _form_context(access, form=form, form_open=True, **extra),
        status=status,
    )


def _verdict(form: ClaimForm) -> VerdictLabel | None:
    verdict = form.cleaned_data.get("verdict")
    return verdict if isinstance(verdict, VerdictLabel) else None


@require_POST
@login_required
def claim_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    access = _access(request, article)
    form = _claim_form(access, data=request.POST)
    sources = form.read_sources(request.POST)
    if not access.can_write:
        form.add_error(
            None,
            "You are not assigned to this article."
            if access.assignment is None
            else "You have submitted this article; ask an editor to reopen it to make changes.",
        )
        return _form_error(request, access, form, 403)
    if not form.is_valid():
        return _form_error(request, access, form, 422)
    data = form.cleaned_data
    if data["start"] is None or data["end"] is None or not data["quote"]:
        form.add_error(None, "Select a passage of the article first.")
        return _form_error(request, access, form, 422)
    try:
        claim = services.claim_create(
            article=article,
            reviewer=request.user,
            start=data["start"],
            end=data["end"],
            quote=data["quote"],
            verdict=_verdict(form),
            rating=data["rating"],
            note=data["note"],
            sources=sources,
        )
    except ValidationError as exc:
        form.add_service_errors(exc.message_dict)
        return _form_error(request, access, form, 422)
    if not request.htmx:
        return redirect(reverse("article-reader", args=[article.pk]) + f"#c{claim.pk}")
    return _changed(
        request,
        _reader(request, _access(request, article)),
        [(claim.start, claim.end)],
        status=f"Saved “{claim.quote[:60]}”.",
        focus=claim.pk,
    )


def _own_claim(request: HtmxHttpRequest, pk: int, *, deleted: bool = False) -> ClaimAnnotation:
    claim = selectors.claim_for_owner(request.user, pk, deleted=deleted)
    if claim is None:
        # Not theirs, another newsroom's, or gone: all look the same.
        raise Http404
    return claim


@require_GET
@login_required
def claim_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    claim = _own_claim(request, pk)
    access = _access(request, claim.article)
    form = _claim_form(
        access,
        initial={
            "start": claim.start,
            "end": claim.end,
            "quote": claim.quote,
            "version": claim.version,
            "verdict": claim.verdict_id,
            "rating": claim.rating,
            "note": claim.note,
        },
    )
    form.read_sources_from_claim(selectors.claim_sources(claim))
    return render(
        request,
        "annotations/reader.html#claim-form",
        _form_context(access, form=form, form_open=True, editing=claim),
    )


@require_POST
@login_required
def claim_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    claim = _own_claim(request, pk)
    access = _access(request, claim.article)
    form = _claim_form(access, data=request.POST)
    sources = form.read_sources(request.POST)
    if not form.is_valid():
        return _form_error(request, access, form, 422, editing=claim)
    try:
        claim = services.claim_update(
            claim=claim,
            user=request.user,
            expected_version=form.cleaned_data["version"] or 0,
            verdict=_verdict(form),
            rating=form.cleaned_data["rating"],
            note=form.cleaned_data["note"],
            sources=sources,
        )
    except services.ClaimConflict as conflict:
        # Keep what the user typed, show what is stored now, and let a second
        # save knowingly replace it.
        newer = conflict.current
        data = request.POST.copy()
        data["version"] = str(newer.version)
        form = _claim_form(access, data=data)
        form.read_sources(data)
        form.is_valid()
        return _form_error(
            request,
            access,
            form,
            409,
            editing=newer,
            conflict=newer,
            conflict_sources=list(selectors.claim_sources(newer)),
        )
    except ValidationError as exc:
        form.add_service_errors(exc.message_dict)
        return _form_error(request, access, form, 422, editing=claim)
    if not request.htmx:
        return redirect(reverse("article-reader", args=[claim.article_id]) + f"#c{claim.pk}")
    reader = _reader(request, _access(request, claim.article))
    return _changed(
        request, reader, [(claim.start, claim.end)], status="Claim updated.", focus=claim.pk
    )


def _refusal(error: ValidationError) -> HttpResponse:
    """A refused change, shown in the status line instead of replacing the form."""
    response = HttpResponse(escape(" ".join(error.messages)), status=409)
    response["HX-Retarget"] = "#status"
    response["HX-Reswap"] = "innerHTML"
    return response


@require_POST
@login_required
def claim_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    claim = _own_claim(request, pk)
    try:
        services.claim_delete(claim=claim, user=request.user)
    except ValidationError as exc:
        return _refusal(exc)
    if not request.htmx:
        messages.info(request, "Claim deleted.")
        return redirect("article-reader", pk=claim.article_id)
    reader = _reader(request, _access(request, claim.article))
    return _changed(
        request, reader, [(claim.start, claim.end)], status="Claim deleted.", undo=claim
    )


@require_POST
@login_required
def claim_restore(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    claim = _own_claim(request, pk, deleted=True)
    try:
        claim = services.claim_restore(claim=claim, user=request.user)
    except ValidationError as exc:
        return _refusal(exc)
    if not request.htmx:
        return redirect(reverse("article-reader", args=[claim.article_id]) + f"#c{claim.pk}")
    reader = _reader(request, _access(request, claim.article))
    return _changed(
        request, reader, [(claim.start, claim.end)], status="Claim restored.", focus=claim.pk
    )


@require_POST
@login_required
def assignment_submit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    assignment = get_object_or_404(Assignment, article=article, reviewer=request.user)
    try:
        services.assignment_submit(
            assignment=assignment,
            user=request.user,
            confirm_unchecked=request.POST.get("confirm") == "1",
        )
    except ValidationError as exc:
        if "unchecked" not in exc.message_dict:
            raise
        message = " ".join(exc.message_dict["unchecked"])
        if not request.htmx:
            return render(
                request, "annotations/submit_confirm.html", {"article": article, "message": message}
            )
        return render(
            request,
            "annotations/reader.html#submit-confirm",
            {"article": article, "message": message},
            status=422,
        )
    messages.success(request, "Submitted. You can now see the other reviewers' claims.")
    url = reverse("article-reader", args=[article.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@login_required
def assignment_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(
        Assignment.objects.select_related("article"),
        pk=pk,
        article__organization__in=selectors.organizations_for(request.user),
    )
    services.assignment_reopen(assignment=assignment, user=request.user)
    messages.success(request, f"Reopened {assignment.reviewer.get_username()}'s review.")
    url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        url = reverse("article-reader", args=[assignment.article_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_GET
@cache_control(max_age=60, private=True)
@login_required
def taxonomy_css(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Verdict colours as CSS, so pages need no inline styles."""
    taxonomy = get_object_or_404(
        Taxonomy, pk=pk, organization__in=selectors.organizations_for(request.user)
    )
    rules = [
        f".v{label.pk}{{--c:{label.colour}}}"
        for label in taxonomy.labels.all()
        # The database constraint guarantees #rrggbb; checked again because it lands in CSS.
        if HEX_COLOUR.fullmatch(label.colour)
    ]
    return HttpResponse("\n".join(rules), content_type="text/css")


# Collections (editors) -----------------------------------------------------------


def _editor_collection(request: HtmxHttpRequest, pk: int) -> Collection:
    collection = get_object_or_404(selectors.collections_for(request.user), pk=pk)
    try:
        services.require_editor(request.user, collection.organization_id)
    except PermissionDenied:
        raise Http404 from None
    return collection


def _collection_page(
    request: HtmxHttpRequest, collection: Collection, status: int = 200, **extra: Any
) -> HttpResponse:
    rows = selectors.collection_progress(collection)
    context = {
        "collection": collection,
        "rows": rows,
        "progress": selectors.reviewer_progress(rows),
        "reviewers": selectors.reviewers_of(collection.organization_id),
        "jobs": collection.import_jobs.order_by("-created_at")[:5],
        "paste_form": PasteArticleForm(),
        "upload_form": UploadArticlesForm(),
        "assign_form": AutoAssignForm(collection=collection),
        **extra,
    }
    return render(request, "annotations/collection.html", context, status=status)


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
            outcome = services.article_import(
                collection=collection,
                data=ArticleInput(
                    title=form.cleaned_data["title"],
                    url=form.cleaned_data["url"],
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
    with transaction.atomic():
        job = ImportJob.objects.create(
            organization=collection.organization, collection=collection, created_by=request.user
        )
        # Stored under a name we choose; the uploader's name is only a label.
        names = [
            default_storage.save(f"imports/{job.pk}/{i:04d}-{_short_name(upload.name)}", upload)
            for i, upload in enumerate(form.cleaned_data["uploads"])
        ]
        job.files = names
        job.total = len(names)
        job.save(update_fields=["files", "total"])
        services.enqueue(run_import_job, job.pk)
    if request.htmx:
        return render(request, "annotations/collection.html#import-job", {"job": job})
    return redirect("collection-detail", pk=collection.pk)


def _short_name(name: str | None) -> str:
    """A safe file name of at most 60 characters that keeps its type (.txt, .jsonl).

    Only letters, digits, "-", "_" and "." survive: no path separator, NUL or
    "..", so the name we store under stays inside the job's folder.
    """
    suffix = Path(name or "").suffix.lower()
    stem = re.sub(r"[^\w-]+", "_", Path(name or "").stem, flags=re.ASCII).strip("_")
    return f"{stem[:50] or 'upload'}{suffix if suffix in ARTICLE_SUFFIXES else '.txt'}"


@require_GET
@login_required
def import_job_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(
        ImportJob, pk=pk, organization__in=selectors.editor_organizations_for(request.user)
    )
    return render(request, "annotations/collection.html#import-job", {"job": job})


@require_POST
@login_required
def collection_auto_assign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    collection = _editor_collection(request, pk)
    form = AutoAssignForm(request.POST, collection=collection)
    if form.is_valid():
        try:
            made = services.assignments_auto(
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
    article = _article(request, pk)
    try:
        services.require_editor(request.user, article.organization_id)
    except PermissionDenied:
        raise Http404 from None
    ids = [int(v) for v in request.POST.getlist("reviewers") if v.isdigit()]
    reviewers = list(User.objects.filter(pk__in=ids))
    try:
        services.assignment_set(article=article, reviewers=reviewers, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Assignments for “{article.title}” saved.")
    return redirect("collection-detail", pk=article.collection_id)


# Agreement (editors) -------------------------------------------------------------


def _run_state(
    collection: Collection,
) -> tuple[AgreementReport | None, AgreementReport | None]:
    """The last finished report, and the run under way (or the newest run, if it failed)."""
    report = agreement_runs.latest_report(collection)
    newest = AgreementReport.objects.filter(collection=collection).order_by("-created_at").first()
    # An older failure is history once a later run has finished.
    running = newest if newest and newest.status != JobStatus.DONE else None
    return report, running


def _agreement_page(request: HtmxHttpRequest, collection: Collection) -> dict[str, Any]:
    report, running = _run_state(collection)
    history = list(
        AgreementReport.objects.filter(collection=collection, status=JobStatus.DONE)
        .order_by("-finished_at")
        .values_list("finished_at", "results__verdict__alpha")[:200]
    )[::-1]
    context: dict[str, Any] = {
        "collection": collection,
        "report": report,
        "running": running,
        "results": report.results if report else None,
    }
    if report and report.results:
        results = report.results
        reviewers, kappas = charts.pair_matrix(results, "kappa")
        _, f1s = charts.pair_matrix(results, "span_f1")
        verdict, rating = results["verdict"], results["rating"]
        context |= {
            "verdict_chart": charts.interval(
                "Verdict alpha with its 95% interval",
                verdict["alpha"],
                *(verdict["ci"] or (None, None)),
            ),
            "rating_chart": charts.interval(
                "Rating alpha with its 95% interval",
                rating["alpha"],
                *(rating["ci"] or (None, None)),
            ),
            "kappa_heatmap": charts.heatmap("Cohen's kappa per pair", reviewers, reviewers, kappas),
            "f1_heatmap": charts.heatmap("Span F1 per pair", reviewers, reviewers, f1s),
            "confusion_heatmap": charts.heatmap(
                "Verdict confusion matrix (pooled over pairs)",
                results["confusion"]["labels"],
                results["confusion"]["labels"],
                results["confusion"]["matrix"],
                counts=True,
            ),
            "timeline": charts.timeline(
                "Verdict alpha over time", [(when, alpha) for when, alpha in history if when]
            ),
            "top_articles": results["articles"][:50],
        }
    return context


@require_GET
@login_required
def agreement_dashboard(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    collection = _editor_collection(request, pk)
    return render(request, "annotations/agreement.html", _agreement_page(request, collection))


@require_GET
@login_required
def agreement_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The progress of the current run; polled by the dashboard while one runs."""
    collection = _editor_collection(request, pk)
    # Only what the status line needs: this is polled every second.
    report, running = _run_state(collection)
    context = {"collection": collection, "report": report, "running": running}
    response = render(request, "annotations/agreement.html#run-status", context)
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
    mode = request.POST.get("match") or MatchMode.OVERLAP
    try:
        threshold = float(request.POST.get("iou") or collection.iou_threshold)
        report = agreement_runs.report_start(
            collection=collection, mode=mode, threshold=threshold, requested_by=request.user
        )
    except ValueError as exc:
        messages.error(request, str(exc).capitalize() + ".")
        return redirect("agreement", pk=collection.pk)
    services.enqueue(agreement_run, report.pk)
    return redirect("agreement", pk=collection.pk)
