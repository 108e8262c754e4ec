"""Editors settle disagreements into verified claims, publish, correct and retract."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations import agreement_runs, selectors, verification
from annotations.importers import SourceInput
from annotations.models import (
    Article,
    ClaimAnnotation,
    Correction,
    Organization,
    Source,
    VerdictLabel,
    VerifiedClaim,
    VerifiedSource,
    VerifiedStatus,
)
from annotations.services import describe_error, require_editor
from annotations.views import HtmxHttpRequest


def _editor_article(request: HtmxHttpRequest, pk: int) -> Article:
    article = get_object_or_404(
        selectors.articles_for(request.user).select_related("collection__taxonomy"), pk=pk
    )
    try:
        require_editor(request.user, article.organization_id)
    except PermissionDenied:
        raise Http404 from None
    return article


def _editor_claim(request: HtmxHttpRequest, pk: int) -> VerifiedClaim:
    claim = get_object_or_404(
        VerifiedClaim.objects.filter(
            organization__in=selectors.editor_organizations_for(request.user)
        ).select_related("article__collection__taxonomy", "verdict", "editor"),
        pk=pk,
    )
    return claim


@require_GET
@login_required
def adjudication_queue(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Articles to settle, most disagreement first; unanimous ones last."""
    collection = get_object_or_404(
        selectors.collections_for(request.user).filter(
            organization__in=selectors.editor_organizations_for(request.user)
        ),
        pk=pk,
    )
    report = agreement_runs.latest_report(collection)
    disagreement = (
        {a["id"]: a for a in (report.results or {}).get("articles", [])} if report else {}
    )
    verdict = request.GET.get("verdict", "")
    status = request.GET.get("status", "")
    articles = collection.articles.order_by("title")
    if verdict:
        articles = articles.filter(claims__verdict__slug=verdict).distinct()
    rows = []
    for article in articles:
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
        "annotations/adjudication_queue.html",
        {
            "collection": collection,
            "rows": rows,
            "report": report,
            "labels": collection.taxonomy.labels.order_by("order"),
            "verdict": verdict,
            "status": status,
        },
    )


def _judgement_from_post(
    request: HtmxHttpRequest, article: Article, unit_claims: list[ClaimAnnotation]
) -> verification.Judgement:
    by_id = {c.pk: c for c in unit_claims}
    span_from = by_id.get(_id(request.POST.get("span_from")))
    verdict_choice = request.POST.get("verdict_from", "")
    verdict: VerdictLabel | None
    rating: int | None
    if verdict_choice == "own":
        verdict = article.collection.taxonomy.labels.filter(
            pk=_id(request.POST.get("own_verdict"))
        ).first()
        rating = _int(request.POST.get("rating")) or (verdict.rating if verdict else None)
    else:
        chosen = by_id.get(_id(verdict_choice))
        verdict = chosen.verdict if chosen else None
        rating = _int(request.POST.get("rating")) or (chosen.rating if chosen else None)
    source_ids = [_id(v) for v in request.POST.getlist("sources")]
    sources = [
        _source_input(s)
        for s in Source.objects.filter(pk__in=source_ids, claim__in=unit_claims).order_by("pk")
    ]
    summary = request.POST.get("summary", "")
    if request.POST.get("reuse"):
        # A claim checked before: its verdict, rating and sources, in one click.
        earlier = get_object_or_404(
            VerifiedClaim.objects.filter(organization_id=article.organization_id).select_related(
                "verdict"
            ),
            pk=_id(request.POST["reuse"]),
        )
        verdict = verification.verdict_in(article.collection.taxonomy, earlier.verdict)
        if verdict is None:
            raise ValidationError(
                {
                    "verdict": f"“{earlier.verdict.name}” is not a verdict of this collection; "
                    "choose one by hand."
                }
            )
        rating = earlier.rating if earlier.rating is not None else verdict.rating
        reused = [_source_input(s) for s in earlier.sources.order_by("order", "pk")]
        known = {s.url for s in reused}
        sources = reused + [s for s in sources if s.url not in known]
        summary = summary.strip() or earlier.summary
    start = span_from.start if span_from else -1
    end = span_from.end if span_from else -1
    claim_date = None
    if request.POST.get("claim_date"):
        try:
            claim_date = date.fromisoformat(request.POST["claim_date"])
        except ValueError:
            raise ValidationError({"claim_date": "Use a date like 2025-03-22."}) from None
    return verification.Judgement(
        start=start,
        end=end,
        claim_reviewed=request.POST.get("claim_reviewed", ""),
        verdict=verdict,
        rating=rating,
        summary=summary,
        claimant=request.POST.get("claimant", ""),
        claim_date=claim_date,
        sources=sources,
        annotation_ids=[c.pk for c in unit_claims],
    )


def _source_input(source: Source | VerifiedSource) -> SourceInput:
    return SourceInput(
        url=source.url,
        title=source.title,
        publisher=source.publisher,
        quote=source.quote,
        stance=source.stance,
        confidential=source.confidential,
    )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _id(value: str | None) -> int:
    """A posted id; 0, which matches nothing, when it is missing or not a number."""
    return _int(value) or 0


def _unit_form(unit: verification.AdjudicationUnit, posted: Any) -> dict[str, Any]:
    """What a unit's form shows: the stored claim, or what the editor posted before an error."""
    verified = unit.verified
    first = unit.claims[0]
    values: dict[str, Any] = {
        "version": verified.version if verified else 0,
        "span_from": str(first.pk),
        "verdict_from": str(first.pk) if first.verdict_id else "own",
        "own_verdict": "",
        "claim_reviewed": verified.claim_reviewed if verified else first.quote,
        "summary": verified.summary if verified else "",
        "claimant": verified.claimant if verified else "",
        "claim_date": verified.claim_date.isoformat() if verified and verified.claim_date else "",
        "rating": "",
        "sources": {str(pk) for pk, *_ in unit.sources},
    }
    if posted is not None:
        for key in (
            "span_from",
            "verdict_from",
            "own_verdict",
            "claim_reviewed",
            "summary",
            "claimant",
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
    units = verification.adjudication_units(article)
    errors: dict[int, str] = {}
    if request.method == "POST":
        index = _int(request.POST.get("unit"))
        unit = next((u for u in units if u.index == index), None)
        if unit is None:
            messages.error(request, "That unit changed; here is the article as it is now.")
            return redirect("adjudicate", pk=article.pk)
        # The version the editor's page showed; 0 when it showed no verified claim.
        expected = _int(request.POST.get("version"))
        try:
            if unit.verified and unit.verified.status != VerifiedStatus.DRAFT:
                raise ValidationError(
                    "This unit's verified claim is published: change it through a correction "
                    "on its page."
                )
            if unit.verified and expected == 0:
                # Another editor saved this unit after this page was loaded.
                raise verification.VerifiedConflict(unit.verified)
            judgement = _judgement_from_post(request, article, unit.claims)
            claim = verification.verified_claim_save(
                article=article,
                editor=request.user,
                judgement=judgement,
                claim=unit.verified,
                expected_version=expected,
            )
        except verification.VerifiedConflict as conflict:
            newer = conflict.current
            errors[unit.index] = (
                f"{newer.editor.get_username()} saved this claim meanwhile (version "
                f"{newer.version}): “{newer.claim_reviewed[:120]}”, {newer.verdict.name}. "
                "Nothing was overwritten. Your choices are still in the form: save again to "
                "replace theirs, or reload to keep it."
            )
            # The page shows the claim as it is now, and the version to replace.
            units = verification.adjudication_units(article)
        except ValidationError as exc:
            errors[unit.index] = describe_error(exc)
        else:
            messages.success(request, f"Verified claim saved as a draft: “{claim}”.")
            return redirect(f"{request.path}#unit-{unit.index}")
    for item in units:
        item.form = _unit_form(item, request.POST if item.index in errors else None)
    return render(
        request,
        "annotations/adjudicate.html",
        {
            "article": article,
            "units": units,
            "errors": errors,
            "labels": article.collection.taxonomy.labels.order_by("order"),
            "posted": request.POST if request.method == "POST" else None,
        },
        status=422 if errors else 200,
    )


# Fields a history leaves out: bookkeeping, not a change anyone made.
HISTORY_QUIET = {"version", "updated_at"}


def _history(
    obj: VerifiedClaim | ClaimAnnotation, verdicts: dict[int, str]
) -> list[dict[str, Any]]:
    """Every change, newest first: who, when, what, before and after (verdicts by name)."""

    def shown(field: str, value: Any) -> Any:
        return verdicts.get(value, value) if field == "verdict" else value

    records = list(obj.history.select_related("history_user").order_by("-history_date"))
    rows = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        changes = []
        if older is not None:
            delta = newer.diff_against(older)
            changes = [
                (c.field, shown(c.field, c.old), shown(c.field, c.new))
                for c in delta.changes
                if c.field not in HISTORY_QUIET
            ]
        rows.append({"record": newer, "changes": changes})
    return rows


@require_GET
@login_required
def verified_claim_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    claim = _editor_claim(request, pk)
    return _claim_page(request, claim)


def _claim_page(request: HtmxHttpRequest, claim: VerifiedClaim, **extra: Any) -> HttpResponse:
    labels = list(claim.article.collection.taxonomy.labels.order_by("order"))
    verdicts = {label.pk: label.name for label in labels}
    return render(
        request,
        "annotations/verified_claim.html",
        {
            "claim": claim,
            "sources": claim.sources.all(),
            # The reviewers' claims it came from, each with its own history.
            "annotations": [
                (annotation, _history(annotation, verdicts))
                for annotation in claim.annotations.select_related("reviewer", "verdict")
            ],
            "corrections": claim.corrections.select_related("editor"),
            "history": _history(claim, verdicts),
            "labels": labels,
            "hint": len(claim.claim_reviewed) > verification.CLAIM_REVIEWED_HINT,
            "independent": verification.independent_sources(claim),
            **extra,
        },
        status=422 if extra.get("error") else 200,
    )


@require_POST
@login_required
def verified_claim_action(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    claim = _editor_claim(request, pk)
    note = request.POST.get("note", "")
    try:
        if action == "publish":
            verification.verified_publish(claim=claim, editor=request.user)
            messages.success(request, "Published.")
        elif action == "retract":
            verification.verified_retract(claim=claim, editor=request.user, note=note)
            messages.success(request, "Retracted. It stays visible, marked retracted.")
        elif action == "correct":
            verdict = claim.article.collection.taxonomy.labels.filter(
                pk=_id(request.POST.get("verdict"))
            ).first()
            verification.verified_correct(
                claim=claim,
                editor=request.user,
                note=note,
                expected_version=_int(request.POST.get("version")),
                judgement=verification.Judgement(
                    start=claim.start,
                    end=claim.end,
                    claim_reviewed=request.POST.get("claim_reviewed", claim.claim_reviewed),
                    verdict=verdict,
                    rating=_int(request.POST.get("rating")),
                    summary=request.POST.get("summary", claim.summary),
                    claimant=claim.claimant,
                    claim_date=claim.claim_date,
                    sources=[_source_input(s) for s in claim.sources.all()],
                ),
            )
            messages.success(request, "Corrected; the note is in the corrections log.")
        else:
            raise Http404
    except verification.VerifiedConflict as conflict:
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


@require_GET
@login_required
def version_changes(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """What happened to each claim when this version of the article arrived."""
    article = _editor_article(request, pk)
    changes = article.anchor_changes.select_related("claim__reviewer", "verified").order_by(
        "status", "old_start"
    )
    return render(
        request,
        "annotations/version_changes.html",
        {"article": article, "changes": changes, "previous": article.previous_version},
    )


@require_GET
def corrections_log(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Public: every correction and retraction of a newsroom's published claims."""
    organization = get_object_or_404(Organization, slug=slug)
    corrections = (
        Correction.objects.filter(claim__organization=organization)
        .select_related("claim__verdict", "claim__article")
        .order_by("-created_at")
    )
    return render(
        request,
        "annotations/corrections.html",
        {
            "organization": organization,
            "corrections": corrections,
            "published": VerifiedClaim.objects.filter(organization=organization)
            .exclude(status=VerifiedStatus.DRAFT)
            .count(),
        },
    )
