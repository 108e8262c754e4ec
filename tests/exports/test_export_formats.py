"""What an export file holds, format by format: JSONL and its filters, CSV (formulas
neutralised, quoted as csv.writer quotes, the same bytes whoever writes them),
ClaimReview, Web Annotations and the reports. The command, the jobs and who may
download them: test_exports.py."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from annotations.exports import csvfile, reading
from annotations.exports import selection as exports
from annotations.models import Article, ClaimAnnotation, VerdictLabel, VerifiedClaim
from annotations.publishing import rows as publishing_rows
from annotations.verification import services as verification
from tests.exports.conftest import editor, export, jsonl, verdict


def test_jsonl_has_one_published_claim_per_line_with_its_sources(desk, tmp_path):
    records = jsonl(export(desk, "jsonl", tmp_path))
    assert len(records) == 3  # the draft stays out by default
    kisangani = next(r for r in records if r["verdict"] == "mostly-true")
    assert kisangani["rating"] == 4
    assert kisangani["best_rating"] == 5
    assert kisangani["article"]["title"] == desk.title
    assert kisangani["url"].endswith(f"/newsrooms/demo/claims/{kisangani['id']}/")
    # Outside the newsroom, a confidential source never appears.
    assert [s["url"] for s in kisangani["sources"]] == ["https://roads.example/atlas"]
    assert "confidential" not in kisangani["sources"][0]


def test_inside_the_newsroom_every_source_is_exported_and_marked(desk, tmp_path):
    records = jsonl(export(desk, "jsonl", tmp_path, audience="newsroom"))
    kisangani = next(r for r in records if r["verdict"] == "mostly-true")
    assert [s["confidential"] for s in kisangani["sources"]] == [False, True]


def test_filters_by_status_verdict_and_date(desk, tmp_path):
    assert len(jsonl(export(desk, "jsonl", tmp_path, status="all"))) == 4
    assert [r["status"] for r in jsonl(export(desk, "jsonl", tmp_path, status="draft"))] == [
        "draft"
    ]
    assert {r["verdict"] for r in jsonl(export(desk, "jsonl", tmp_path, verdict="misleading"))} == {
        "misleading"
    }
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert jsonl(export(desk, "jsonl", tmp_path, **{"from": tomorrow})) == []


def test_csv_is_two_files_with_formulas_neutralised(desk, tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(export(desk, "csv-zip", tmp_path)))
    assert sorted(archive.namelist()) == ["claims.csv", "sources.csv"]
    claims = list(csv.DictReader(io.StringIO(archive.read("claims.csv").decode("utf-8-sig"))))
    sources = list(csv.DictReader(io.StringIO(archive.read("sources.csv").decode("utf-8-sig"))))
    assert len(claims) == 3
    kisangani = next(c for c in claims if c["verdict"] == "mostly-true")
    # A spreadsheet would have run these as formulas.
    assert kisangani["claim_reviewed"] == '\'=HYPERLINK("http://evil.example")'
    assert kisangani["source_count"] == "1"
    # Each number under its own heading.
    label = VerdictLabel.objects.get(taxonomy__organization=desk.organization, slug="mostly-true")
    assert (kisangani["rating"], kisangani["best_rating"], kisangani["worst_rating"]) == (
        str(label.rating),
        str(label.taxonomy.best_rating),
        str(label.taxonomy.worst_rating),
    )
    assert kisangani["sources"] == "'@SUM(A1:A9) <https://roads.example/atlas> (supports)"
    mine = [s for s in sources if s["claim_id"] == kisangani["id"]]
    assert [(s["position"], s["title"], s["stance"]) for s in mine] == [
        ("1", "'@SUM(A1:A9)", "supports")
    ]
    assert len(sources) == sum(int(c["source_count"]) for c in claims)


@pytest.mark.parametrize("first", ["＝", "＋", "－", "＠"])
def test_full_width_formula_characters_are_neutralised_too(desk, tmp_path, first):
    # Excel and LibreOffice run ＝SUM(…) typed with an East Asian input method
    # as a formula, as they run =SUM(…).
    VerifiedClaim.objects.filter(status="published").update(
        claim_reviewed=f'{first}HYPERLINK("http://evil.example")', claimant=f"{first}1+1"
    )
    archive = zipfile.ZipFile(io.BytesIO(export(desk, "csv-zip", tmp_path)))
    claims = list(csv.DictReader(io.StringIO(archive.read("claims.csv").decode("utf-8-sig"))))
    assert {c["claim_reviewed"] for c in claims if c["status"] == "published"} == {
        f'\'{first}HYPERLINK("http://evil.example")'
    }
    assert {c["claimant"] for c in claims if c["status"] == "published"} == {f"'{first}1+1"}


def test_the_csv_files_are_quoted_as_csv_writer_quotes(desk, tmp_path):
    VerifiedClaim.objects.filter(status="published").update(
        summary='Said "no", then\r\nyes, twice', claimant="-1 point, +2"
    )
    archive = zipfile.ZipFile(io.BytesIO(export(desk, "csv-zip", tmp_path, audience="newsroom")))
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        again = io.StringIO(newline="")
        csv.writer(again).writerows(rows)
        assert text == again.getvalue(), name
    claims = list(csv.DictReader(io.StringIO(archive.read("claims.csv").decode("utf-8-sig"))))
    assert {c["summary"] for c in claims} >= {'Said "no", then\r\nyes, twice'}
    assert {c["claimant"] for c in claims} >= {"'-1 point, +2"}


TRICKY = [
    'Said "no", then\r\nyes',
    "-1, or +2",
    "\tTabbed",
    "\rCarriage",
    "@home",
    "plain",
    "",
    "é🚙, “curly”",
    "a\nb",
]


def make_tricky(*extra: str) -> list[tuple[VerifiedClaim, list[str]]]:
    """Awkward cells (TRICKY, then `extra`) for every claim, a date and no rating on every other.

    Each claim with the cells it was given, in order: its own first.
    """
    claims = []
    for n, claim in enumerate(VerifiedClaim.objects.order_by("pk")):
        pick = [*TRICKY[n % len(TRICKY) :], *TRICKY, *extra]
        VerifiedClaim.objects.filter(pk=claim.pk).update(
            claim_reviewed=pick[0] or "x",
            claimant=pick[1],
            summary=pick[2],
            public_note=pick[3],
            claim_date=date(2026, 1, 2) if n % 2 else None,
            rating=None if n % 2 else claim.rating,
        )
        claims.append((claim, pick))
    return claims


def tricky_sources(claims: list[tuple[VerifiedClaim, list[str]]]) -> None:
    """None to three sources a claim, awkward texts, the second confidential, in reverse order."""
    for n, (claim, pick) in enumerate(claims):
        claim.sources.all().delete()
        for order, text in enumerate(pick[n : n + n % 4]):
            claim.sources.create(
                url=f"https://s{order}.example/?q={order},{n}",
                title=text,
                publisher=pick[-order],
                quote=pick[order + 1],
                stance=["supports", "refutes", "context"][order % 3],
                confidential=order == 1,
                order=3 - order,
            )


def test_every_csv_cell_is_the_claims_own_value_under_its_heading(desk, tmp_path):
    claims = make_tricky()
    Article.objects.filter(pk=desk.pk).update(title='=cmd|" /C calc"!A0, "quoted"')
    records = {r["id"]: r for r in jsonl(export(desk, "jsonl", tmp_path, status="all"))}
    archive = zipfile.ZipFile(io.BytesIO(export(desk, "csv-zip", tmp_path, status="all")))
    rows = list(csv.DictReader(io.StringIO(archive.read("claims.csv").decode("utf-8-sig"))))

    def cell(value) -> str:
        if value is None:
            return ""
        text = str(value)
        return "'" + text if text[:1] in set("=+-@\t\r") else text

    assert len(rows) == len(records) == len(claims)
    for row in rows:
        record = records[int(row["id"])]
        # Every heading the JSONL record shares; the record's values are unquoted.
        shared = [f for f in csvfile.CSV_CLAIM_FIELDS if f in record and f != "sources"]
        assert len(shared) == 19
        for field in shared:
            # Times as spreadsheets read them: UTC, to the second.
            expected = (
                csvfile.sheet_time(record[field])
                if field in {"published_at", "updated_at"}
                else cell(record[field])
            )
            assert row[field] == expected, field
        assert row["article_title"] == cell(record["article"]["title"])
        assert row["article_url"] == cell(record["article"]["url"])
        assert row["source_count"] == str(len(record["sources"]))


def csv_lines(lines: csvfile.CsvLines, selection: exports.Selection) -> tuple[bytes, bytes, list]:
    """claims.csv's and sources.csv's lines as `lines` writes them, and each page's claims."""
    sources = io.BytesIO()
    pages = list(lines(selection, sources))
    return b"".join(text for text, _ in pages), sources.getvalue(), [n for _, n in pages]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
@pytest.mark.parametrize(
    ("audience", "filters"),
    [("public", {}), ("newsroom", {}), ("public", {"verdict": "misleading", "from": True})],
)
def test_postgresql_writes_the_csv_lines_this_process_would_make(desk, audience, filters):
    # In PostgreSQL, COPY writes the CSV (exports._csv_copied); elsewhere this
    # process makes it (_csv_made), quoted as csv.writer quotes. The same bytes,
    # whatever the cells hold, the page size and the selection.
    tricky_sources(make_tricky("\\.", " spaced ", "back\\slash"))
    Article.objects.filter(pk=desk.pk).update(title='=cmd|" /C calc"!A0, "quoted"', url="")
    VerdictLabel.objects.filter(taxonomy__organization=desk.organization).update(
        name='Mostly "true", mostly'
    )
    selection = exports.Selection(
        organization=desk.organization,
        status="all",
        audience=audience,
        verdict=verdict(filters["verdict"]) if "verdict" in filters else None,
        date_field="updated_at",
        date_from=date(2000, 1, 1) if "from" in filters else None,
    )
    made_claims, made_sources, _ = csv_lines(csvfile._csv_made, selection)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvfile, "COPY_PAGE", 2)
        claims_text, sources_text, pages = csv_lines(csvfile._csv_copied, selection)

    assert claims_text == made_claims
    assert sources_text == made_sources
    expected = selection.claims().count()
    assert sum(pages) == expected >= 1
    assert len(pages) == (expected + 1) // 2
    assert len(list(csv.reader(io.StringIO(claims_text.decode(), newline="")))) == expected


@pytest.mark.parametrize("microsecond", [0, 100_000, 123_456])
def test_dates_and_times_are_written_as_isoformat_writes_them(desk, tmp_path, microsecond):
    # The database writes the text (page_rows); it must be Python's, to the byte:
    # no fraction when it is zero, six digits when not, the offset as +00:00.
    late = datetime(2026, 11, 28, 23, 59, 59, microsecond, tzinfo=UTC)
    VerifiedClaim.objects.filter(status="published").update(
        published_at=late, updated_at=late + timedelta(days=1), claim_date=date(2026, 2, 3)
    )
    Article.objects.filter(pk=desk.pk).update(published_at=late - timedelta(days=30))
    selection = exports.Selection(organization=desk.organization, status="all")
    rows, _ = publishing_rows.page_rows(selection.claims(), selection.sources())
    assert len(rows) == 4
    for row in rows:
        claim = VerifiedClaim.objects.select_related("article").get(pk=row.id)
        assert row.published_at == (claim.published_at and claim.published_at.isoformat())
        assert row.updated_at == claim.updated_at.isoformat()
        assert row.created_at == claim.created_at.isoformat()
        assert row.claim_date == (claim.claim_date and claim.claim_date.isoformat())
        assert row.article_published_at == claim.article.published_at.isoformat()
    fraction = f".{microsecond:06d}" if microsecond else ""
    record = jsonl(export(desk, "jsonl", tmp_path))[0]
    assert record["published_at"] == f"2026-11-28T23:59:59{fraction}+00:00"
    assert record["updated_at"] == f"2026-11-29T23:59:59{fraction}+00:00"
    assert record["claim_date"] == "2026-02-03"
    assert record["article"]["published_at"] == f"2026-10-29T23:59:59{fraction}+00:00"
    review = json.loads(export(desk, "claimreview", tmp_path))[0]
    assert review["datePublished"] == "2026-11-28"
    assert review["itemReviewed"]["appearance"][0]["datePublished"] == "2026-10-29"
    assert review["itemReviewed"]["datePublished"] == "2026-02-03"


@pytest.mark.parametrize("export_format", ["csv-zip", "csv", "jsonl", "claimreview"])
def test_a_file_written_a_claim_per_page_is_the_same_file(desk, tmp_path, export_format):
    def contents(data: bytes) -> dict[str, bytes]:
        if export_format != "csv-zip":
            return {"file": data}
        archive = zipfile.ZipFile(io.BytesIO(data))
        return {name: archive.read(name) for name in archive.namelist()}

    whole = contents(export(desk, export_format, tmp_path, audience="newsroom"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reading, "CHUNK", 1)
        patch.setattr(csvfile, "COPY_PAGE", 1)
        paged = contents(export(desk, export_format, tmp_path, audience="newsroom"))
    assert paged == whole
    assert all(len(data.splitlines()) >= 3 for data in whole.values())


CELLS = st.one_of(
    st.none(),
    st.integers(),
    st.text(alphabet=st.sampled_from("ab ,\"\r\n'=é🚙\t")),
    st.text(),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=2, max_size=8), max_size=5))
def test_csv_text_is_what_csv_writer_writes(rows):
    reference = io.StringIO()
    csv.writer(reference).writerows(rows)
    assert csvfile._csv_text(rows) == reference.getvalue()


def test_claimreview_has_what_google_asks_for(desk, tmp_path):
    claim = VerifiedClaim.objects.get(quote="give peace a chance")
    verification.verified_correct(
        claim=claim,
        editor=editor(),
        note="Unverifiable, not misleading.",
        judgement=verification.Judgement(
            start=claim.start,
            end=claim.end,
            claim_reviewed=claim.claim_reviewed,
            verdict=verdict("unverifiable"),
            summary=claim.summary,
            claimant=claim.claimant,
            claimant_kind=claim.claimant_kind,
        ),
    )
    reviews = json.loads(export(desk, "claimreview", tmp_path))
    assert len(reviews) == 3
    for review in reviews:
        assert review["@context"] == "https://schema.org"
        assert review["@type"] == "ClaimReview"
        assert review["claimReviewed"]
        assert review["url"].startswith("http")
        assert review["author"] == {
            "@type": "Organization",
            "name": "Demo Newsroom",
            "url": "http://127.0.0.1:8000/newsrooms/demo/corrections/",
        }
        assert review["datePublished"] == timezone.now().date().isoformat()
        assert review["reviewRating"]["@type"] == "Rating"
        assert review["reviewRating"]["alternateName"]
        assert review["itemReviewed"]["@type"] == "Claim"
        assert review["itemReviewed"]["author"]["name"] == "Congo River Alliance (M23)"
        assert review["itemReviewed"]["author"]["@type"] == "Organization"
        assert review["itemReviewed"]["appearance"][0]["headline"] == desk.title
    by_claim = {r["claimReviewed"]: r for r in reviews}
    ordinal = by_claim['=HYPERLINK("http://evil.example")']["reviewRating"]
    assert (ordinal["ratingValue"], ordinal["bestRating"], ordinal["worstRating"]) == (4, 5, 1)
    assert ordinal["alternateName"] == "Mostly true"
    corrected = by_claim[claim.claim_reviewed]
    # Non-ordinal verdicts have a name and no place on the scale.
    assert corrected["reviewRating"]["alternateName"] == "Unverifiable"
    assert "ratingValue" not in corrected["reviewRating"]
    assert corrected["dateModified"] == timezone.now().date().isoformat()


def test_web_annotations_go_out_and_come_back_the_same(desk, tmp_path):
    first = export(desk, "webannotation", tmp_path, audience="newsroom")
    records = jsonl(first)
    claims = [r for r in records if r["workbench:kind"] == "claim"]
    assert len(claims) == ClaimAnnotation.objects.filter(article=desk).count() == 7
    sample = claims[0]
    assert sample["type"] == "Annotation"
    assert {s["type"] for s in sample["target"]["selector"]} == {
        "TextQuoteSelector",
        "TextPositionSelector",
    }
    path = tmp_path / "annotations.jsonl"
    path.write_bytes(first)
    # The reviewers' claims are gone, as on another instance; then imported again.
    ClaimAnnotation.all_objects.filter(article=desk).delete()
    out = io.StringIO()
    call_command("import_annotations", str(path), "--org", "demo", stdout=out)
    assert "7 created" in out.getvalue()
    assert "3 verified claims skipped" in out.getvalue()

    second = jsonl(export(desk, "webannotation", tmp_path, audience="newsroom"))

    def same(record: dict) -> dict:
        return {k: v for k, v in record.items() if k not in {"id", "created", "modified"}}

    assert [same(r) for r in second] == [same(r) for r in records]


def test_a_bad_web_annotation_line_is_reported_with_its_number(demo, tmp_path):
    path = tmp_path / "bad.jsonl"
    good = {
        "type": "Annotation",
        "creator": {"nickname": "reviewer1"},
        "target": {
            "source": f"urn:workbench:sha256:{demo.content_hash}",
            "selector": [
                {"type": "TextQuoteSelector", "exact": "Walikale"},
                {
                    "type": "TextPositionSelector",
                    "start": demo.text.index("Walikale"),
                    "end": demo.text.index("Walikale") + 8,
                },
            ],
        },
        "body": [{"type": "TextualBody", "purpose": "assessing", "workbench:verdict": "true"}],
    }
    bad = dict(good, target={"source": "urn:x"})
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_annotations", str(path), "--org", "demo", stdout=out, stderr=err)
    assert "1 created" in out.getvalue()
    assert "bad.jsonl:2: target.selector" in err.getvalue()


def test_the_report_exports_leave_confidential_sources_out(desk, tmp_path):
    html = export(desk, "report-html", tmp_path).decode()
    assert "roads.example/atlas" in html
    assert "tipster.example" not in html
    assert "give peace a chance" in html
    assert export(desk, "report-pdf", tmp_path).startswith(b"%PDF-")


def test_a_csv_is_one_spreadsheet_with_its_sources_in_columns(desk, tmp_path):
    # `export_claims --format csv --out claims.csv` wrote a zip under a .csv name.
    data = export(desk, "csv", tmp_path, status="all", audience="newsroom")
    assert not data.startswith(b"PK")  # not a zip
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    heading = next(csv.reader(io.StringIO(text)))
    # The claim and its quote first, the offsets last.
    assert heading[:2] == ["claim_reviewed", "quote"]
    assert heading[-2:] == ["start", "end"]
    most = max(int(r["source_count"]) for r in rows)
    assert [h for h in heading if h.startswith("source_") and h.endswith("_url")] == [
        f"source_{i}_url" for i in range(1, most + 1)
    ]
    for row in rows:
        claim = VerifiedClaim.objects.get(pk=int(row["id"]))
        urls = [s.url for s in claim.sources.order_by("order", "pk")]
        assert [row[f"source_{i}_url"] for i in range(1, len(urls) + 1)] == urls
        assert all(row[f"source_{i}_url"] == "" for i in range(len(urls) + 1, most + 1))
        # Times as spreadsheets read them: UTC, no fraction of a second.
        if claim.published_at:
            assert row["published_at"] == claim.published_at.astimezone(UTC).strftime(
                "%Y-%m-%d %H:%M:%S"
            )
        assert demo_text(claim) == row["quote"]


def demo_text(claim: VerifiedClaim) -> str:
    return claim.article.text[claim.start : claim.end]
