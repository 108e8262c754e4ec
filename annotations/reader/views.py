"""The reader: highlight claims, give verdicts and sources, submit a review.

Thin: reads through selectors, writes through services, and answers htmx
requests with the fragments (template partials) that changed.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotations.core.highlights import paragraphs_touching
from annotations.core.http import HtmxHttpRequest
from annotations.core.permissions import organizations_for, reviewing
from annotations.models import Assignment, ClaimAnnotation, Taxonomy, VerdictLabel
from annotations.reader import services
from annotations.reader.forms import ClaimForm
from annotations.reader.page import (
    Access,
    Reader,
    access_for,
    article_or_404,
    claim_form,
    form_context,
    page_context,
    published_claims,
    reader_for,
)
from annotations.reader.rendering import render_text
from annotations.reader.selectors import claim_for_owner, claim_sources
from annotations.reader.services import ClaimConflict
from annotations.verification import similar
from annotations.verification.services import verdict_in

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@require_GET
@login_required
def article_reader(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = article_or_404(request, pk)
    reader = reader_for(request, access_for(request, article))
    return render(
        request,
        "annotations/reader/reader.html",
        page_context(
            reader,
            paragraphs=render_text(article.text, reader.looks()),
            form=claim_form(reader),
            published=published_claims(reader.access),
        ),
    )


@require_GET
@login_required
def similar_claims(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Claims checked before, for the claim form: the newsroom's verified claims worded alike."""
    access = access_for(request, article_or_404(request, pk))
    taxonomy = access.article.collection.taxonomy
    editor = access.is_editor
    suggestions = similar.similar_claims(
        organization_id=access.article.organization_id,
        text=request.GET.get("q", ""),
        # Drafts are the desk's work in progress; the verdicts on any article
        # the user is still reviewing wait until they submit (blind review).
        public_only=not editor,
        exclude_articles=list(reviewing(request.user).values_list("article_id", flat=True)),
    )
    rows = []
    for suggestion in suggestions:
        earlier = suggestion.claim
        verdict = verdict_in(taxonomy, earlier.verdict)
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
    return render(request, "annotations/reader/similar_claims.html", {"rows": rows})


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
        "annotations/reader/reader.html#claims-changed",
        page_context(
            reader,
            paragraphs=render_text(reader.article.text, reader.looks(), only=touched),
            form=claim_form(reader),
            **extra,
        ),
    )


def _form_error(
    request: HtmxHttpRequest, access: Access, form: ClaimForm, status: int, **extra: Any
) -> HttpResponse:
    return render(
        request,
        "annotations/reader/reader.html#claim-form",
        form_context(access, form=form, form_open=True, **extra),
        status=status,
    )


def _verdict(form: ClaimForm) -> VerdictLabel | None:
    verdict = form.cleaned_data.get("verdict")
    return verdict if isinstance(verdict, VerdictLabel) else None


@require_POST
@login_required
def claim_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = article_or_404(request, pk)
    access = access_for(request, article)
    form = claim_form(access, data=request.POST)
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
        reader_for(request, access_for(request, article)),
        [(claim.start, claim.end)],
        status=f"Saved “{claim.quote[:60]}”.",
        focus=claim.pk,
    )


def _own_claim(request: HtmxHttpRequest, pk: int, *, deleted: bool = False) -> ClaimAnnotation:
    claim = claim_for_owner(request.user, pk, deleted=deleted)
    if claim is None:
        # Not theirs, another newsroom's, or gone: all look the same.
        raise Http404
    return claim


@require_GET
@login_required
def claim_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    claim = _own_claim(request, pk)
    access = access_for(request, claim.article)
    form = claim_form(
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
    form.read_sources_from_claim(claim_sources(claim))
    return render(
        request,
        "annotations/reader/reader.html#claim-form",
        form_context(access, form=form, form_open=True, editing=claim),
    )


@require_POST
@login_required
def claim_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    claim = _own_claim(request, pk)
    access = access_for(request, claim.article)
    form = claim_form(access, data=request.POST)
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
    except ClaimConflict as conflict:
        # Keep what the user typed, show what is stored now, and let a second
        # save knowingly replace it.
        newer = conflict.current
        data = request.POST.copy()
        data["version"] = str(newer.version)
        form = claim_form(access, data=data)
        form.read_sources(data)
        form.is_valid()
        return _form_error(
            request,
            access,
            form,
            409,
            editing=newer,
            conflict=newer,
            conflict_sources=list(claim_sources(newer)),
        )
    except ValidationError as exc:
        form.add_service_errors(exc.message_dict)
        return _form_error(request, access, form, 422, editing=claim)
    if not request.htmx:
        return redirect(reverse("article-reader", args=[claim.article_id]) + f"#c{claim.pk}")
    reader = reader_for(request, access_for(request, claim.article))
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
    reader = reader_for(request, access_for(request, claim.article))
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
    reader = reader_for(request, access_for(request, claim.article))
    return _changed(
        request, reader, [(claim.start, claim.end)], status="Claim restored.", focus=claim.pk
    )


@require_POST
@login_required
def assignment_submit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = article_or_404(request, pk)
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
                request,
                "annotations/reader/submit_confirm.html",
                {"article": article, "message": message},
            )
        return render(
            request,
            "annotations/reader/reader.html#submit-confirm",
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
        article__organization__in=organizations_for(request.user),
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
    taxonomy = get_object_or_404(Taxonomy, pk=pk, organization__in=organizations_for(request.user))
    rules = [
        f".v{label.pk}{{--c:{label.colour}}}"
        for label in taxonomy.labels.all()
        # The database constraint guarantees #rrggbb; checked again because it lands in CSS.
        if HEX_COLOUR.fullmatch(label.colour)
    ]
    return HttpResponse("\n".join(rules), content_type="text/css")
