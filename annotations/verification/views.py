"""Editors settle disagreements into verified claims, publish, correct and retract."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.agreement.runs import latest_report
from annotations.core.http import HtmxHttpRequest
from annotations.core.inputs import describe_error
from annotations.core.permissions import of_editors, reviewing
from annotations.core.refusals import still_reviewing
from annotations.models import (
    Article,
    ClaimantKind,
    Correction,
    VerifiedClaim,
    VerifiedStatus,
)
from annotations.newsrooms.selectors import collections_for
from annotations.publishing.records import Context, claim_review
from annotations.publishing.rows import row_of
from annotations.verification.forms import ClaimActionForm, JudgementForm
from annotations.verification.history import claim_history
from annotations.verification.selectors import AdjudicationUnit, adjudication_units
from annotations.verification.services import (
    CLAIM_REVIEWED_HINT,
    Plan,
    VerifiedConflict,
    independent_sources,
    judgement_reusing,
    plan_correct,
    plan_publish,
    plan_retract,
    verified_claim_save,
    verified_correct,
    verified_publish,
    verified_retract,
)


def _editor_article(request: HtmxHttpRequest, pk: int) -> Article:
    # A reviewer, or another newsroom's editor, finds no such page.
    return get_object_or_404(
        of_editors(request.user, Article.objects.select_related("collection__taxonomy")), pk=pk
    )


def _editor_claim(request: HtmxHttpRequest, pk: int) -> VerifiedClaim:
    return get_object_or_404(
        of_editors(
            request.user,
            VerifiedClaim.objects.select_related(
                "article__collection__taxonomy", "verdict", "editor"
            ),
        ),
        pk=pk,
    )


def _preview(plan: Plan, posted: Any) -> dict[str, Any]:
    """What the editor confirms: the public page and the ClaimReview partners will receive,
    and the form's fields to send again with the confirmation."""
    claim = plan.claim
    corrections = list(claim.corrections.order_by("created_at"))
    if plan.action in {"correct", "retract"}:
        corrections.append(
            Correction(
                claim=claim, kind=plan.action + "ion", note=plan.note, created_at=timezone.now()
            )
        )
    review = claim_review(Context.of(claim.organization, public=True), row_of(claim))
    return {
        "plan": plan,
        "claim": claim,
        "sources": claim.sources.filter(confidential=False).order_by("order", "pk"),
        "corrections": corrections,
        "claim_review": json.dumps(review, ensure_ascii=False, indent=2),
        "fields": [
            (name, value)
            for name in posted
            if name not in {"csrfmiddlewaretoken", "confirm"}
            for value in posted.getlist(name)
        ],
    }


def _still_reviewing(request: HtmxHttpRequest, claim: VerifiedClaim) -> HttpResponse | None:
    """The refusal page for an editor still reviewing the claim's article, or None."""
    if reviewing(request.user).filter(article_id=claim.article_id).exists():
        return still_reviewing(request, claim.article)
    return None


@require_GET
@login_required
def adjudication_queue(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Articles to settle, most disagreement first; unanimous ones last."""
    collection = get_object_or_404(of_editors(request.user, collections_for(request.user)), pk=pk)
    report = latest_report(collection)
    disagreement = (
        {a["id"]: a for a in (report.results or {}).get("articles", [])} if report else {}
    )
    verdict = request.GET.get("verdict", "")
    status = request.GET.get("status", "")
    articles = collection.articles.order_by("title")
    if verdict:
        articles = articles.filter(claims__verdict__slug=verdict).distinct()
    # Articles the editor is reviewing themselves: listed, but nothing of the
    # others' work on them until the editor submits (blind review).
    reviewed = set(reviewing(request.user).values_list("article_id", flat=True))
    rows: list[dict[str, Any]] = []
    for article in articles:
        if article.pk in reviewed:
            if not verdict and not status:
                rows.append({"article": article, "reviewing": True, "disagreement": None})
            continue
        verified = article.verified_claims.count()
        units = disagreement.get(article.pk, {}).get("units")
        done = units is not None and verified >= units
        if (status == "open" and done) or (status == "done" and not done):
            continue
        rows.append(
            {
                "article": article,
                "disagreement": disagreement.get(article.pk, {}).get("disagreement"),
                "units": units,
                "disputed": disagreement.get(article.pk, {}).get("disputed"),
                "verified": verified,
            }
        )
    rows.sort(key=lambda r: (-(r["disagreement"] or 0), r["article"].title))
    return render(
        request,
        "annotations/verification/adjudication_queue.html",
        {
            "collection": collection,
            "rows": rows,
            "report": report,
            "labels": collection.taxonomy.labels.order_by("order"),
            "verdict": verdict,
            "status": status,
        },
    )


def _unit_form(unit: AdjudicationUnit, posted: Any) -> dict[str, Any]:
    """What a unit's form shows: what was saved, or what the editor posted before an error.

    A saved unit shows its verified claim as it stands: its span (the reviewer's
    whose span it is, or "as saved"), its verdict and rating, and the sources it
    keeps, so that saving again changes only what the editor changed.
    """
    verified = unit.verified
    first = unit.claims[0]
    values: dict[str, Any]
    if verified is None:
        values = {
            "version": 0,
            "span_from": str(first.pk),
            "verdict_from": str(first.pk) if first.verdict_id else "own",
            "own_verdict": "",
            "claim_reviewed": first.quote,
            "summary": "",
            "claimant": "",
            "claimant_kind": "Person",
            "claim_date": "",
            "rating": "",
            "sources": {value for value, *_ in unit.sources},
        }
    else:
        span = next(
            (c for c in unit.claims if (c.start, c.end) == (verified.start, verified.end)), None
        )
        verdicts = [c for c in unit.claims if c.verdict_id == verified.verdict_id]
        verdict = next((c for c in verdicts if c.rating == verified.rating), None) or next(
            iter(verdicts), None
        )
        kept = {s.url for s in verified.sources.all()}
        values = {
            "version": verified.version,
            "span_from": str(span.pk) if span else "saved",
            "verdict_from": str(verdict.pk) if verdict else "own",
            "own_verdict": str(verified.verdict_id),
            "claim_reviewed": verified.claim_reviewed,
            "summary": verified.summary,
            "claimant": verified.claimant,
            "claimant_kind": verified.claimant_kind,
            "claim_date": verified.claim_date.isoformat() if verified.claim_date else "",
            "rating": "" if verified.rating is None else str(verified.rating),
            "sources": {value for value, url, *_ in unit.sources if url in kept},
        }
    if posted is not None:
        for key in (
            "span_from",
            "verdict_from",
            "own_verdict",
            "claim_reviewed",
            "summary",
            "claimant",
            "claimant_kind",
            "claim_date",
            "rating",
        ):
            values[key] = posted.get(key, values[key])
        values["sources"] = set(posted.getlist("sources"))
    return values


@require_http_methods(["GET", "POST"])
@login_required
def adjudicate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _editor_article(request, pk)
    reviewed = list(reviewing(request.user).values_list("article_id", flat=True))
    if article.pk in reviewed:
        return still_reviewing(request, article)
    units = adjudication_units(article, exclude_articles=reviewed)
    errors: dict[int, str] = {}
    if request.method == "POST":
        form = JudgementForm(request.POST)
        index = form.fields["unit"].to_python(request.POST.get("unit"))
        unit = next((u for u in units if u.index == index), None)
        if unit is None:
            messages.error(request, "That unit changed; here is the article as it is now.")
            return redirect("adjudicate", pk=article.pk)
        # The version the editor's page showed; 0 when it showed no verified claim.
        expected = form.fields["version"].to_python(request.POST.get("version"))
        try:
            if unit.verified and unit.verified.status != VerifiedStatus.DRAFT:
                raise ValidationError(
                    "This unit's verified claim is published: change it through a correction "
                    "on its page."
                )
            if unit.verified and expected == 0:
                # Another editor saved this unit after this page was loaded.
                raise VerifiedConflict(unit.verified)
            judgement = form.judgement(
                article=article, unit_claims=unit.claims, verified=unit.verified
            )
            if form.cleaned_data["reuse"] is not None:
                earlier = get_object_or_404(
                    VerifiedClaim.objects.filter(
                        organization_id=article.organization_id
                    ).select_related("verdict"),
                    pk=form.cleaned_data["reuse"],
                )
                judgement = judgement_reusing(
                    judgement, earlier=earlier, taxonomy=article.collection.taxonomy
                )
            claim = verified_claim_save(
                article=article,
                editor=request.user,
                judgement=judgement,
                claim=unit.verified,
                expected_version=expected,
            )
        except VerifiedConflict as conflict:
            newer = conflict.current
            errors[unit.index] = (
                f"{newer.editor.get_username()} saved this claim meanwhile (version "
                f"{newer.version}): “{newer.claim_reviewed[:120]}”, {newer.verdict.name}. "
                "Nothing was overwritten. Your choices are still in the form: save again to "
                "replace theirs, or reload to keep it."
            )
            # The page shows the claim as it is now, and the version to replace.
            units = adjudication_units(article, exclude_articles=reviewed)
        except ValidationError as exc:
            errors[unit.index] = describe_error(exc)
        else:
            messages.success(request, f"Verified claim saved as a draft: “{claim}”.")
            return redirect(f"{request.path}#unit-{unit.index}")
    for item in units:
        item.form = _unit_form(item, request.POST if item.index in errors else None)
    return render(
        request,
        "annotations/verification/adjudicate.html",
        {
            "article": article,
            "units": units,
            "errors": errors,
            "labels": article.collection.taxonomy.labels.order_by("order"),
            "claimant_kinds": ClaimantKind.choices,
            "posted": request.POST if request.method == "POST" else None,
        },
        status=422 if errors else 200,
    )


@require_GET
@login_required
def verified_claim_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    claim = _editor_claim(request, pk)
    if blind := _still_reviewing(request, claim):
        return blind
    return _claim_page(request, claim)


def _claim_page(request: HtmxHttpRequest, claim: VerifiedClaim, **extra: Any) -> HttpResponse:
    labels = list(claim.article.collection.taxonomy.labels.order_by("order"))
    verdicts = {label.pk: label.name for label in labels}
    return render(
        request,
        "annotations/verification/verified_claim.html",
        {
            "claim": claim,
            "sources": claim.sources.all(),
            # The reviewers' claims it came from, each with its own history.
            "annotations": [
                (annotation, claim_history(annotation, verdicts))
                for annotation in claim.annotations.select_related("reviewer", "verdict")
            ],
            "corrections": claim.corrections.select_related("editor"),
            "history": claim_history(claim, verdicts),
            "labels": labels,
            "hint": len(claim.claim_reviewed) > CLAIM_REVIEWED_HINT,
            "independent": independent_sources(claim),
            **extra,
        },
        status=422 if extra.get("error") else 200,
    )


@require_POST
@login_required
def verified_claim_action(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    claim = _editor_claim(request, pk)
    if blind := _still_reviewing(request, claim):
        return blind
    form = ClaimActionForm(request.POST)
    note = form.data.get("note", "")
    try:
        # First what partners will receive, for the editor to confirm; then the change.
        if action == "publish":
            plan = plan_publish(claim)
        elif action == "retract":
            plan = plan_retract(claim, note=note)
        elif action == "correct":
            plan = plan_correct(claim, note=note, judgement=form.correction(claim))
        else:
            raise Http404
        if form.data.get("confirm") != "1":
            return _claim_page(request, claim, preview=_preview(plan, form.data))
        if action == "publish":
            # The preview said who is still reviewing: confirming it is publishing anyway.
            verified_publish(claim=claim, editor=request.user, confirm_open_reviews=True)
            messages.success(request, "Published.")
        elif action == "retract":
            verified_retract(claim=claim, editor=request.user, note=note)
            messages.success(request, "Retracted. It stays visible, marked retracted.")
        else:
            verified_correct(
                claim=claim,
                editor=request.user,
                note=note,
                expected_version=form.fields["version"].to_python(form.data.get("version")),
                judgement=form.correction(claim),
            )
            messages.success(request, "Corrected; the note is in the corrections log.")
    except VerifiedConflict as conflict:
        return _claim_page(
            request,
            conflict.current,
            error="Another editor changed this claim meanwhile; here is their version. "
            "Nothing was overwritten.",
        )
    except ValidationError as exc:
        claim.refresh_from_db()
        return _claim_page(request, claim, error=describe_error(exc), action=action, note=note)
    return redirect("verified-claim", pk=claim.pk)
