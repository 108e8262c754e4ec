"""The agreement figures in sentences an editor reads in ten seconds.

Pure: no Django. `headline(results)` turns a report document (summary.summarize)
into a few sentences; `readings` holds the one line that says what
each figure in "Details" measures and how to read it. The dashboard, the
report and `compute_agreement` print the same words.

The bands are Krippendorff's own (Content Analysis, 4th ed., 12.9): alpha from
0.800 is reliable; from 0.667 it allows tentative conclusions only; below, the
data are not reliable enough to draw conclusions from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RELIABLE = 0.800
TENTATIVE = 0.667


def band(alpha: float | None) -> str | None:
    """How Krippendorff reads an alpha, in words; None when there is no alpha."""
    if alpha is None:
        return None
    if alpha >= RELIABLE:
        return "reliable agreement beyond chance"
    if alpha >= TENTATIVE:
        return "tentative agreement beyond chance, enough for tentative conclusions only"
    if alpha > 0:
        return "too little agreement beyond chance to rely on"
    return "no more agreement than chance would give"


def too_few(n: int | float) -> str:
    return f"too few claims to say (n = {int(n):,})"


def percent(share: float) -> str:
    return f"{round(share * 100)}%"


@dataclass(frozen=True)
class Headline:
    sentences: list[str]
    # Whether the figures say anything yet (a single reviewer, or nothing marked).
    comparable: bool


def headline(results: dict[str, Any]) -> Headline:
    """The sentences above the figures."""
    reviewers = results.get("reviewers") or []
    if len(reviewers) < 2:
        who = f"Only one reviewer ({reviewers[0]})" if reviewers else "No reviewer"
        return Headline(
            [f"{who} has marked claims in these articles: there is no one to compare with yet."],
            comparable=False,
        )
    sentences: list[str] = []
    spans = results.get("spans") or {}
    found = spans.get("found_together")
    span_warning = spans.get("warning")
    if span_warning:
        sentences.append(f"Did reviewers mark the same claims? {span_warning.capitalize()}.")
    elif found is not None:
        sentences.append(f"Reviewers marked the same claims {round(found * 100)} times out of 100.")
    verdict = results.get("verdict") or {}
    if verdict.get("warning"):
        sentences.append(f"Do their verdicts agree? {verdict['warning'].capitalize()}.")
    elif verdict.get("percent_agreement") is not None:
        words = band(verdict.get("alpha"))
        sentence = (
            "On claims both marked, they gave the same verdict "
            f"{percent(verdict['percent_agreement'])} of the time"
        )
        sentences.append(f"{sentence} — {words}." if words else f"{sentence}.")
    rating = results.get("rating") or {}
    if not rating.get("warning") and rating.get("alpha") is not None:
        sentences.append(f"Their ratings: {band(rating['alpha'])}.")
    disputed = results.get("disputed_count")
    single = results.get("single_count")
    if disputed is not None and single is not None:
        sentences.append(
            f"{disputed:,} claim{'s' if disputed != 1 else ''} "
            f"{'are' if disputed != 1 else 'is'} disputed (different verdicts) and "
            f"{single:,} {'were' if single != 1 else 'was'} marked by one reviewer only."
        )
    return Headline(sentences, comparable=True)


# What each figure under "Details" measures, and how to read it: one line each.
readings = {
    "alpha_verdict": (
        "Krippendorff's alpha on verdicts: agreement beyond chance across every reviewer "
        "and claim, 1 perfect, 0 what chance alone gives; reliable from 0.800, tentative "
        "from 0.667."
    ),
    "alpha_rating": (
        "Krippendorff's alpha on ratings, as an ordered scale: a 4 against a 5 counts as a "
        "smaller disagreement than a 1 against a 5. Read as for verdicts."
    ),
    "interval": (
        "The 95% interval: the range alpha falls in when the claims are resampled "
        "(bootstrap); a wide one means too few claims to pin it down."
    ),
    "fleiss": (
        "Fleiss' kappa: agreement beyond chance on verdicts among all reviewers at once, "
        "chance from how often each verdict is used; 1 perfect, 0 chance."
    ),
    "kappa": (
        "Cohen's kappa for each pair of reviewers on the claims both marked: agreement "
        "beyond chance, 1 perfect, 0 chance."
    ),
    "weighted_kappa": (
        "Cohen's kappa weighted on ratings: near misses count as partial agreement, linearly "
        "or by the square of the distance (quadratic, the stricter on large gaps)."
    ),
    "f1": (
        "Span F1: of the claims two reviewers marked, the share both marked (matched by "
        "overlap); 1 means they found the same claims."
    ),
    "unitizing": (
        "Krippendorff's alpha for unitizing: whether reviewers marked the same stretches of "
        "text, character by character, with no overlap threshold; read as alpha."
    ),
}
