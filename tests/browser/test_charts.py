"""The agreement dashboard's charts in real Chromium, with long verdict names,
many reviewers and two months of runs: every label whole, inside its chart, and
clear of every other, as the browser lays them out in its own fonts."""

from __future__ import annotations

from datetime import timedelta
from itertools import combinations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from annotations.agreement import runs as agreement_runs
from annotations.models import AgreementReport, Collection, JobStatus
from tests.browser.conftest import ARTIFACTS, log_in, screenshot

pytestmark = pytest.mark.browser

VERDICTS = [
    "False",
    "Mostly false",
    "Missing context",
    "Half true",
    "Mostly true",
    "True",
    "Misleading",
    "Unverifiable",
]
REVIEWERS = [
    "Reviewer 1",
    "Reviewer 2",
    "Nomvula Dlamini-Hartmann",
    "Reviewer 4",
    "Reviewer 5",
    "Reviewer 6",
    "Reviewer 7",
]

# Every chart on the page, the lines of text in it and where the browser drew them.
TEXT_BOXES = """() => [...document.querySelectorAll("svg[role=img]")].map((svg) => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const texts = [...svg.querySelectorAll("text")];
  return {
    name: svg.getAttribute("aria-label"),
    box: box(svg),
    labels: texts.map((t) => t.textContent.replace(/\\s+/g, " ").trim()),
    lines: texts.flatMap((t, label) => {
      const spans = [...t.querySelectorAll("tspan")];
      return (spans.length ? spans : [t]).map((el) => ({label, text: el.textContent, ...box(el)}));
    }),
  };
})"""


def overlaps(a: dict, b: dict) -> bool:
    """Whether two lines of different labels overlap (half a pixel of slack: touching is not).

    The lines of one label are set closer than the font's full height, as
    lines of text are, so their boxes may touch: only other labels count.
    """
    return (
        a["label"] != b["label"]
        and a["left"] < b["right"] - 0.5
        and b["left"] < a["right"] - 0.5
        and a["top"] < b["bottom"] - 0.5
        and b["top"] < a["bottom"] - 0.5
    )


def inside(line: dict, box: dict) -> bool:
    return (
        line["left"] >= box["left"] - 0.5
        and line["right"] <= box["right"] + 0.5
        and line["top"] >= box["top"] - 0.5
        and line["bottom"] <= box["bottom"] + 0.5
    )


@pytest.fixture
def charted(demo) -> Collection:
    """The demo collection after a run whose figures name seven reviewers and eight
    verdicts, with forty earlier runs over two months for the timeline.

    The figures are the real run's, with those parts replaced: the charts draw
    whatever the document says.
    """
    collection = demo.collection
    report = agreement_runs.report_run_here(agreement_runs.report_start(collection=collection))
    pairs = [
        {
            "a": a,
            "b": b,
            "span_f1": 0.5 + 0.05 * j,
            "units": 12,
            "kappa": 0.9 - 0.15 * (j - i),
            "kappa_reason": "",
            "percent_agreement": 0.6,
        }
        for i, a in enumerate(REVIEWERS)
        for j, b in enumerate(REVIEWERS)
        if i < j
    ]
    size = len(VERDICTS)
    matrix = [[40 if i == j else (5 * i + 3 * j) % 13 for j in range(size)] for i in range(size)]
    assert report.results
    AgreementReport.objects.filter(pk=report.pk).update(
        results=report.results
        | {
            "reviewers": REVIEWERS,
            "pairs": pairs,
            "confusion": {"labels": VERDICTS, "matrix": matrix},
            # Enough claims for the alphas to be shown, with their intervals.
            "verdict": report.results["verdict"]
            | {"alpha": 0.71, "ci": [0.55, 0.83], "warning": None},
            "rating": report.results["rating"]
            | {"alpha": 0.78, "ci": [0.62, 0.9], "warning": None},
        }
    )
    now = timezone.now()
    AgreementReport.objects.bulk_create(
        AgreementReport(
            organization_id=collection.organization_id,
            collection=collection,
            status=JobStatus.DONE,
            finished_at=now - timedelta(days=60) + timedelta(days=1.5 * n),
            results={"verdict": {"alpha": 0.3 + 0.012 * n}},
        )
        for n in range(40)
    )
    return collection


def test_every_chart_label_is_whole_inside_its_chart_and_clear_of_the_others(page, charted):
    log_in(page, "editor")
    page.goto(f"/collections/{charted.pk}/agreement/")
    expect(page.get_by_role("img", name="Cohen's kappa per pair")).to_be_visible()

    charts = {chart["name"]: chart for chart in page.evaluate(TEXT_BOXES)}
    assert set(charts) == {
        "Verdict alpha with its 95% interval",
        "Rating alpha with its 95% interval",
        "Cohen's kappa per pair",
        "Span F1 per pair",
        "Verdict confusion matrix (pooled over pairs)",
        "Verdict alpha over time",
    }
    for name, chart in charts.items():
        crowded = [
            (a["text"], b["text"]) for a, b in combinations(chart["lines"], 2) if overlaps(a, b)
        ]
        assert crowded == [], name
        cut = [line["text"] for line in chart["lines"] if not inside(line, chart["box"])]
        assert cut == [], name
    # Each name once as a row and once as a column, never "Mostly fal".
    confusion = charts["Verdict confusion matrix (pooled over pairs)"]["labels"]
    for verdict in VERDICTS:
        assert confusion.count(verdict) == 2, verdict
    kappa = charts["Cohen's kappa per pair"]["labels"]
    for reviewer in REVIEWERS:
        assert kappa.count(reviewer) == 2, reviewer
    # Two months of runs: several dates on the time axis, thinned to what fits.
    over_time = charts["Verdict alpha over time"]["labels"]
    assert len([label for label in over_time if label not in {"0", "0.5", "1"}]) >= 3

    screenshot(page, "agreement-charts")
    ARTIFACTS.mkdir(exist_ok=True)
    for name, file in (
        ("Verdict confusion matrix (pooled over pairs)", "agreement-confusion"),
        ("Cohen's kappa per pair", "agreement-kappa"),
        ("Verdict alpha over time", "agreement-timeline"),
    ):
        page.get_by_role("img", name=name).screenshot(path=str(ARTIFACTS / f"{file}.png"))
