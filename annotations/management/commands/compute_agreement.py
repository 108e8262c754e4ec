from __future__ import annotations

import json
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotations.agreement import runs
from annotations.agreement.plain import headline
from annotations.management.base import organization_from_slug
from annotations.models import Collection, MatchMode


def iou(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number <= 1:
        raise ArgumentTypeError(f"{value} is outside (0, 1]")
    return number


class Command(BaseCommand):
    help = (
        "Computes reviewer agreement on a collection (span matching, Krippendorff's alpha "
        "on verdicts and ratings, kappa per pair), stores it as the collection's latest "
        "report and prints a summary, or the whole report with --json."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--collection", required=True, help="collection slug")
        parser.add_argument(
            "--match",
            choices=MatchMode.values,
            default=MatchMode.OVERLAP,
            help="how highlights are matched across reviewers (default: overlap)",
        )
        parser.add_argument(
            "--iou",
            type=iou,
            default=None,
            help="overlap needed to match, in (0, 1] (default: the collection's, 0.5)",
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_from_slug(options["org"])
        collection = (
            Collection.objects.filter(organization=organization, slug=options["collection"])
            .select_related("taxonomy")
            .first()
        )
        if collection is None:
            known = ", ".join(organization.collections.values_list("slug", flat=True)) or "none"
            raise CommandError(
                f"No collection {options['collection']!r} in {organization.slug} (known: {known})."
            )
        report = runs.report_start(
            collection=collection, mode=options["match"], threshold=options["iou"]
        )
        report = runs.report_run_here(report)
        results = report.results or {}
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2, ensure_ascii=False))
            return
        verdict, rating = results["verdict"], results["rating"]
        self.stdout.write(
            f"{collection.name}: {results['articles_count']} articles, "
            f"{results['units']} pairable units, reviewers {', '.join(results['reviewers'])}"
        )
        for sentence in headline(results).sentences:
            self.stdout.write(f"  {sentence}")
        spans = results["spans"]
        self.stdout.write(
            f"  span F1 (mean over pairs): {_fmt(spans['f1_mean'], spans.get('warning'))}; "
            f"unitizing alpha: {_fmt(spans['unitizing']['alpha'], spans.get('warning'))}"
        )
        for label, block in (
            ("verdict alpha (nominal)", verdict),
            ("rating alpha (ordinal)", rating),
        ):
            ci = block["ci"]
            interval = (
                f" [{_fmt(ci[0])}, {_fmt(ci[1])}; {block['ci_resamples']} resamples, "
                f"{block['ci_undefined_resamples']} undefined]"
                if ci and not block.get("warning")
                else ""
            )
            reason = f" ({block['reason']})" if block["reason"] else ""
            alpha = _fmt(block["alpha"], block.get("warning"))
            self.stdout.write(f"  {label}: {alpha}{interval}{reason}")
        fleiss = results["fleiss"]
        self.stdout.write(f"  Fleiss' kappa: {_fmt(fleiss['kappa'], fleiss.get('warning'))}")
        for pair in results["pairs"]:
            warning = pair.get("warning")
            self.stdout.write(
                f"  {pair['a']} × {pair['b']}: span F1 {_fmt(pair['span_f1'])}, "
                f"kappa {_fmt(pair['kappa'], warning)}, "
                f"agreement {_fmt(pair['percent_agreement'], warning)}, "
                f"weighted kappa on ratings (linear / quadratic) "
                f"{_fmt(pair['weighted_kappa_linear'], pair.get('rating_warning'))} / "
                f"{_fmt(pair['weighted_kappa_quadratic'], pair.get('rating_warning'))}"
            )


def _fmt(value: float | None, warning: str | None = None) -> str:
    if warning:
        return warning
    return "—" if value is None else f"{value:.3f}"
