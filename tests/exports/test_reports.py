"""The report of verified claims, as HTML and PDF, on the demo newsroom.

The PDF tests need WeasyPrint's Debian libraries (Pango) and poppler-utils
(`pdftoppm`, `pdftotext`); `./dev test` installs them. Without them the tests
are skipped on a laptop and fail in CI. The first page is saved as
test-artifacts/report-page-1.png for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import lxml.html
import pytest
from django.contrib.auth.models import User
from django.template.defaultfilters import date as date_format

from annotations.agreement import runs as agreement_runs
from annotations.core.inputs import ArticleInput, SourceInput
from annotations.exports import reports
from annotations.importing.services import article_import
from annotations.models import Collection, VerdictLabel, VerifiedClaim, VerifiedStatus
from annotations.verification import services as verification

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
GENERATED_AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
PUBLIC = [VerifiedStatus.PUBLISHED, VerifiedStatus.CORRECTED, VerifiedStatus.RETRACTED]

ARABIC_TEXT = (
    "قال الوزير إن الجيش سينسحب من المدينة قبل يوم الجمعة 🚙.\nالمراقبون لم يروا أي انسحاب."
)
ARABIC_CLAIM = "الجيش سينسحب من المدينة"


def editor() -> User:
    return User.objects.get(username="editor")


def desk() -> Collection:
    return Collection.objects.get(organization__slug="demo", slug="great-lakes")


def verdict(slug: str) -> VerdictLabel:
    return VerdictLabel.objects.get(taxonomy__organization__slug="demo", slug=slug)


def public_claims(collection: Collection):
    """What an export asks for: the published claims, sources prefetched."""
    return (
        VerifiedClaim.objects.filter(article__collection=collection, status__in=PUBLIC)
        .select_related("verdict", "article")
        .prefetch_related("sources")
        .order_by("published_at", "pk")
    )


def report(collection: Collection | None = None, claims=None, *, public: bool = True) -> str:
    collection = collection or desk()
    return reports.render_report_html(
        organization=collection.organization,
        collection=collection,
        claims=public_claims(collection) if claims is None else claims,
        generated_at=GENERATED_AT,
        public=public,
    )


def section(html: str, name: str):
    return lxml.html.fromstring(html).xpath(f"//section[@id='{name}']")[0]


def text(element) -> str:
    """The words in an element, a space between each piece of text."""
    return " ".join(" ".join(element.itertext()).split())


def table(element) -> dict[str, str]:
    """First cell to second cell, for every row of the tables in an element."""
    return {
        text(row.xpath("td")[0]): text(row.xpath("td")[1]) for row in element.xpath(".//tbody/tr")
    }


def claims_in(html: str):
    return section(html, "claims").xpath(".//li[contains(@class, 'claim')]")


def publish_arabic_claim(collection: Collection) -> VerifiedClaim:
    """A published claim on an Arabic article, with emoji and markup in what it quotes."""
    article = article_import(
        collection=collection,
        data=ArticleInput(
            title="انسحاب الجيش 🚙 <b>عاجل</b>",
            text=ARABIC_TEXT,
            url="https://akhbar.example/withdrawal",
            language="ar",
        ),
    ).article
    start = article.text.index(ARABIC_CLAIM)
    draft = verification.verified_claim_save(
        article=article,
        editor=editor(),
        judgement=verification.Judgement(
            start=start,
            end=start + len(ARABIC_CLAIM),
            claim_reviewed=f"{ARABIC_CLAIM} 🚙 <script>alert(1)</script>",
            verdict=verdict("mostly-false"),
            rating=2,
            summary="Observers saw no withdrawal.",
            claimant="وزير الدفاع",
            claim_date=date(2026, 11, 20),
            sources=[
                SourceInput(
                    url="https://monitor.example/report?a=1&b=2",
                    title="Monitors' report <i>daily</i>",
                    publisher="Monitor",
                    stance="refutes",
                )
            ],
        ),
    )
    return verification.verified_publish(claim=draft, editor=editor(), confirm_open_reviews=True)


# The HTML --------------------------------------------------------------------------


def test_it_lists_each_published_claim_with_its_verdict_and_sources(demo):
    claims = claims_in(report())
    assert len(claims) == 2
    first = text(claims[0])
    assert "M23 says it will “reposition its forces” away from Walikale" in first
    assert "Misleading" in first
    assert "Claimed by Congo River Alliance (M23)" in first
    assert "Both reviewers found the announcement misleading" in first
    assert "M23 rebels say they will withdraw from Walikale in eastern Congo" in first
    links = {a.get("href"): text(a) for a in claims[0].xpath(".//ul[@class='sources']//a")}
    assert links == {
        "https://www.reuters.com/world/africa/": "M23 rebels say they will withdraw from Walikale",
        "https://acleddata.com/": "ACLED regional overview: Great Lakes",
    }
    assert "M23 rebels say they will withdraw from Walikale , Reuters · context" in first
    assert "ACLED regional overview: Great Lakes , ACLED · refutes" in first


def test_the_header_says_whose_report_of_what_and_when(demo):
    header = text(lxml.html.fromstring(report()).xpath("//header")[0])
    assert header.startswith("Fact-check report Great Lakes desk Demo Newsroom")
    assert "Generated 25 November 2026, 09:30 UTC" in header
    assert header.endswith("Claims 2")


def test_it_counts_claims_by_verdict_status_lineage_and_sources(demo):
    html = report()
    verdicts = table(section(html, "verdicts"))
    # Every verdict of the collection is listed, those without claims too.
    assert verdicts["Misleading"] == "2"
    assert verdicts["True"] == "0"
    assert len(verdicts) == 7
    assert section(html, "verdicts").xpath(".//svg/@aria-label") == ["Claims per verdict"]
    summary = table(section(html, "summary"))
    assert (summary["Published"], summary["Corrected"], summary["Retracted"]) == ("2", "0", "0")
    assert "Draft" not in summary
    assert (summary["Unanimous"], summary["Adjudicated"], summary["Single reviewer"]) == (
        "1",
        "1",
        "0",
    )
    # Reuters, and ACLED cited by both claims: three sources from two websites.
    assert summary["Sources cited"] == "3"
    assert summary["Independent (websites)"] == "2"
    assert (summary["Supports"], summary["Refutes"], summary["Context"]) == ("0", "2", "1")


def test_a_correction_appears_in_the_log_and_on_its_claim(demo):
    claim = VerifiedClaim.objects.get(quote="give peace a chance")
    note = "We first rated this misleading; it is an unverifiable intention."
    verification.verified_correct(
        claim=claim,
        editor=editor(),
        note=note,
        judgement=verification.Judgement(
            start=claim.start,
            end=claim.end,
            claim_reviewed=claim.claim_reviewed,
            verdict=verdict("unverifiable"),
            summary=claim.summary,
        ),
    )
    verification.verified_retract(
        claim=VerifiedClaim.objects.get(quote="reposition its forces"),
        editor=editor(),
        note="The press release was misattributed.",
    )
    html = report()
    log = [text(li) for li in section(html, "corrections").xpath(".//li")]
    # Newest first.
    assert len(log) == 2
    assert log[0].startswith("Retraction ·")
    assert "now retracted The press release was misattributed." in log[0]
    assert log[1].startswith("Correction ·")
    assert f"now Unverifiable {note}" in log[1]
    corrected = text(section(html, "claims").xpath(".//li[contains(@class, 'corrected')]")[0])
    assert corrected.startswith("Unverifiable Corrected")
    assert f"Correction {note}" in corrected
    summary = table(section(html, "summary"))
    assert (summary["Published"], summary["Corrected"], summary["Retracted"]) == ("0", "1", "1")


def test_without_an_agreement_run_it_says_so(demo):
    assert "No agreement computed yet" in text(section(report(), "agreement"))


def figures_from_two_claims() -> None:
    """The demo has two claims both reviewers marked: figures, not "too few to say"."""
    Collection.objects.filter(pk=desk().pk).update(agreement_min_units=1)
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk()))


def test_the_report_says_in_words_how_far_reviewers_agreed_and_when_too_few_to_say(demo):
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk()))
    words = text(section(report(), "agreement"))
    assert "Do their verdicts agree? Too few claims to say (n = 2)." in words
    assert "1 claim is disputed (different verdicts)" in words
    assert "α = " not in words.split("Details")[1].split("Ratings")[0]


def test_agreement_figures_and_charts_appear_once_a_run_finished(demo):
    figures_from_two_claims()
    agreement = section(report(), "agreement")
    words = text(agreement)
    assert "No agreement computed yet" not in words
    # The demo: two reviewers, misleading twice against misleading and unverifiable.
    assert "α = 0.000" in words
    assert "Krippendorff's alpha, nominal" in words
    assert "Reviewer 1 × Reviewer 2 0.571 2 0.000 50%" in words
    assert "Percent agreement on verdicts: 50%" in words
    # No claim has a rating: too few to say, and no rating chart.
    assert "Too few claims to say (n = 0)" in words
    assert set(agreement.xpath(".//svg/@aria-label")) == {
        "Verdict alpha with its 95% interval",
        "Cohen's kappa per pair",
        "Verdict confusion matrix (pooled over pairs)",
    }


def test_only_a_report_for_the_newsroom_names_the_reviewers(demo):
    figures_from_two_claims()

    public = text(section(report(), "agreement"))
    inside = text(section(report(public=False), "agreement"))

    assert "reviewer1" not in public
    assert "reviewer2" not in public
    # (text() puts a space after each name: each is its own <bdi>.)
    assert "reviewers Reviewer 1 , Reviewer 2" in public
    assert "reviewer1 × reviewer2 0.571 2 0.000 50%" in inside


def test_a_report_of_all_collections_groups_verdicts_by_name(demo):
    collection = desk()
    html = reports.render_report_html(
        organization=collection.organization,
        collection=None,
        claims=public_claims(collection),
        generated_at=GENERATED_AT,
    )
    assert text(lxml.html.fromstring(html).xpath("//h1")[0]) == "All collections"
    assert "Agreement is computed per collection" in text(section(html, "agreement"))
    # No taxonomy to list in full: the verdicts the claims have.
    assert table(section(html, "verdicts")) == {"Misleading": "2"}


def test_an_empty_report_renders(demo):
    html = report(claims=VerifiedClaim.objects.none())
    assert text(section(html, "claims")) == "Claims No claims in this report."
    assert "No corrections or retractions" in text(section(html, "corrections"))
    assert text(lxml.html.fromstring(html).xpath("//header")[0]).endswith("Claims 0")
    assert set(table(section(html, "verdicts")).values()) == {"0"}


def test_it_reads_the_claims_once_and_asks_the_database_little(demo, django_assert_max_num_queries):
    collection = Collection.objects.select_related("organization").get(pk=desk().pk)
    read = []

    def once():
        for claim in public_claims(collection):
            read.append(claim)
            yield claim

    # The claims and their sources, the taxonomy's verdicts, the corrections and
    # the agreement report: the same however many claims there are.
    with django_assert_max_num_queries(5):
        html = report(collection, claims=once())
    assert len(read) == 2
    assert len(claims_in(html)) == 2


def test_it_escapes_what_people_typed_and_keeps_arabic_and_emoji(demo):
    published = date_format(publish_arabic_claim(desk()).published_at, "j F Y")
    html = report()
    assert "<script" not in html
    assert "<i>daily</i>" not in html
    claim = claims_in(html)[-1]
    words = text(claim)
    assert f"{ARABIC_CLAIM} 🚙 <script>alert(1)</script>" in words
    assert "انسحاب الجيش 🚙 <b>عاجل</b>" in words
    meta = claim.xpath(".//p[@class='meta']")[0].text_content()
    assert meta == (
        f"Claimed by وزير الدفاع, 20 November 2026 · Published {published} · "
        "Lineage: single reviewer"
    )
    # Arabic starts at the right-hand edge; the English summary at the left.
    assert claim.xpath(".//h3/@dir") == ["rtl"]
    assert claim.xpath(".//blockquote/@dir") == ["rtl"]
    assert claim.xpath(".//p[text()='Observers saw no withdrawal.']/@dir") == ["ltr"]
    assert "Mostly false rating 2/5" in words
    assert claim.xpath(".//ul[@class='sources']//a/@href") == [
        "https://monitor.example/report?a=1&b=2"
    ]


def test_it_is_standalone(demo):
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk()))
    page = lxml.html.fromstring(report())
    assert page.xpath("//script | //link | //img | //iframe | //@src") == []
    assert page.xpath("//style")


# The PDF ---------------------------------------------------------------------------


@pytest.fixture
def pdf_tools():
    """WeasyPrint's libraries and poppler-utils: skipped on a laptop without them, not in CI."""
    missing = [tool for tool in ("pdftoppm", "pdftotext", "pdfinfo") if not shutil.which(tool)]
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:  # Pango or its friends are not installed.
        missing.append(f"WeasyPrint's libraries ({exc})")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"missing {', '.join(missing)}: ./dev test installs them")
        pytest.skip(f"missing {', '.join(missing)}")


def pdf_of(html: str, tmp_path: Path) -> Path:
    out = BytesIO()
    reports.write_report_pdf(html, out)
    path = tmp_path / "report.pdf"
    path.write_bytes(out.getvalue())
    return path


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    return int(
        next(line for line in info.stdout.splitlines() if line.startswith("Pages:")).split()[1]
    )


def test_the_pdf_has_every_claim_and_page_numbers(demo, pdf_tools, tmp_path):
    agreement_runs.report_run_here(agreement_runs.report_start(collection=desk()))
    publish_arabic_claim(desk())
    path = pdf_of(report(), tmp_path)
    assert path.read_bytes().startswith(b"%PDF-")
    pages = pdf_pages(path)
    assert pages >= 1
    text = pdf_text(path)
    assert "M23 says it will “reposition its forces” away from Walikale" in text
    assert "give peace a chance" in text
    assert f"Page 1 of {pages}" in text
    assert "Verdict distribution" in text
    # The Arabic claimant is in the PDF as text, as it was typed.
    assert "وزير الدفاع" in text

    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(ARTIFACTS / "report-page-1"),
        ],
        check=True,
    )
    from PIL import Image

    with Image.open(ARTIFACTS / "report-page-1.png") as image:
        grey = image.convert("L")
        # A4 at 60 dpi, and ink on it: the page is not blank.
        assert abs(grey.width / grey.height - 210 / 297) < 0.01
        dark = sum(grey.histogram()[:128])
        assert dark > 0.01 * grey.width * grey.height


def test_an_empty_report_is_a_short_pdf_that_says_so(demo, pdf_tools, tmp_path):
    path = pdf_of(report(claims=[]), tmp_path)
    assert pdf_pages(path) == 1
    text = pdf_text(path)
    assert "No claims in this report." in text
    assert "No agreement computed yet" in text


def test_the_pdf_fetches_nothing(db, pdf_tools, tmp_path):
    # A stylesheet on disk that would write FETCHED on the page if it were read.
    stylesheet = tmp_path / "leak.css"
    stylesheet.write_text('p::after { content: "FETCHED" }')
    html = (
        f'<!doctype html><html><head><link rel="stylesheet" href="{stylesheet.as_uri()}">'
        f'</head><body><p>Report</p><img src="{stylesheet.as_uri()}"></body></html>'
    )
    text = pdf_text(pdf_of(html, tmp_path))
    assert "Report" in text
    assert "FETCHED" not in text


def test_the_pdf_writes_each_reviewer_and_verdict_of_the_charts_whole_and_apart(
    demo, pdf_tools, tmp_path
):
    # What a reader found on the agreement page: "Reviewer 1Reviewer 2" over the
    # kappa heatmap, and "Mostly fal" over the confusion matrix.
    figures_from_two_claims()
    path = pdf_of(report(), tmp_path)
    pages = pdf_text(path).split("\f")
    number = next(n for n, page in enumerate(pages, start=1) if "Reviewer agreement" in page)
    # The section may run onto the next page.
    rest = "\f".join(pages[number - 1 :])
    agreement = rest[rest.index("Reviewer agreement") :].split("Corrections log")[0]
    lines = [" ".join(line.split()) for line in agreement.splitlines()]

    assert "1Reviewer" not in agreement
    # A row and a column of the kappa heatmap, each a line of its own.
    assert lines.count("Reviewer 1") >= 2
    assert lines.count("Reviewer 2") >= 2
    for name in VerdictLabel.objects.filter(taxonomy=desk().taxonomy).values_list(
        "name", flat=True
    ):
        # A row and a column of the confusion matrix, each whole.
        assert agreement.count(name) >= 2, name

    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        [
            *("pdftoppm", "-png", "-r", "80", "-f", str(number), "-l", str(number)),
            *("-singlefile", str(path), str(ARTIFACTS / "report-agreement")),
        ],
        check=True,
    )
