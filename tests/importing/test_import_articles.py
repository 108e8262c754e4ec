from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Article, Collection, VerdictLabel

HTML_PAGE = """<html><head><title>Rebels withdraw | Example News</title>
<meta name="author" content="Jane Doe"><meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2025-03-23T10:00:00Z">
<link rel="canonical" href="https://news.example/rebels"></head>
<body><nav>Home | World | Sport</nav><article><h1>Rebels withdraw</h1>
<p>M23 rebels, backed by Rwanda, have announced they will withdraw their forces from Walikale.</p>
<p onclick="steal()">They said the move would “give peace a chance”.<script>alert(1)</script></p>
<p>Officers doubted the sincerity of the withdrawal and expected a new advance.</p>
</article><footer>© 2025 Example News</footer></body></html>"""


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_articles", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def jsonl(*records: dict) -> str:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"


def test_a_txt_file_becomes_an_article_with_normalized_text(tmp_path, planet):
    path = write(
        tmp_path,
        "a.txt",
        "Rebels withdraw\r\n\r\nThe group said it would leave.\r\nThérèse spoke.\r\n",
    )
    run("--org", "planet", "--collection", "congo", str(path))
    article = Article.objects.get()
    assert article.title == "Rebels withdraw"
    assert article.text == "The group said it would leave.\nThérèse spoke."
    assert article.collection.slug == "congo"
    assert article.organization == planet


def test_it_creates_the_collection_with_the_default_taxonomy(tmp_path, planet):
    run("--org", "planet", "--collection", "congo", str(write(tmp_path, "a.txt", "T\n\nBody")))
    collection = Collection.objects.get(organization=planet, slug="congo")
    labels = VerdictLabel.objects.filter(taxonomy=collection.taxonomy)
    assert {label.slug: label.rating for label in labels} == {
        "false": 1,
        "mostly-false": 2,
        "mixed": 3,
        "mostly-true": 4,
        "true": 5,
        "misleading": None,
        "unverifiable": None,
    }


def test_an_html_page_keeps_its_main_text_and_sanitized_html(tmp_path, planet):
    run("--org", "planet", str(write(tmp_path, "page.html", HTML_PAGE)))
    article = Article.objects.get()
    assert article.title == "Rebels withdraw"
    assert article.url == "https://news.example/rebels"
    assert article.publisher == "Example News"
    assert article.author == "Jane Doe"
    assert "give peace a chance" in article.text
    assert "Home | World" not in article.text
    assert "<script" not in article.html
    assert "onclick" not in article.html
    assert "give peace a chance" in article.html


def test_jsonl_imports_one_article_per_line(tmp_path, planet):
    path = write(
        tmp_path,
        "batch.jsonl",
        jsonl(
            {
                "title": "One",
                "url": "https://news.example/1",
                "text": "First text.",
                "language": "en",
            },
            {
                "title": "שתיים",
                "url": "https://news.example/2",
                "text": "טקסט שני.",
                "language": "he",
                "publisher": "Haaretz",
                "published_at": "2025-03-22T08:00:00Z",
            },
        ),
    )
    out, _ = run("--org", "planet", str(path))
    assert "2 created" in out
    hebrew = Article.objects.get(url="https://news.example/2")
    assert hebrew.direction == "rtl"
    assert hebrew.published_at.isoformat() == "2025-03-22T08:00:00+00:00"


def test_reimporting_identical_content_changes_nothing(tmp_path, planet):
    path = write(
        tmp_path,
        "batch.jsonl",
        jsonl({"title": "One", "url": "https://news.example/1", "text": "Text."}),
    )
    run("--org", "planet", str(path))
    out, _ = run("--org", "planet", str(path))
    assert "0 created, 0 new versions, 1 unchanged" in out
    assert Article.objects.count() == 1


def test_changed_text_for_the_same_url_becomes_a_new_version(tmp_path, planet):
    url = "https://news.example/1"
    run(
        "--org",
        "planet",
        str(write(tmp_path, "v1.jsonl", jsonl({"title": "One", "url": url, "text": "Old text."}))),
    )
    out, _ = run(
        "--org",
        "planet",
        str(write(tmp_path, "v2.jsonl", jsonl({"title": "One", "url": url, "text": "New text."}))),
    )
    assert "1 new versions" in out
    first, second = Article.objects.order_by("version")
    assert (first.version, second.version) == (1, 2)
    assert second.previous_version == first
    assert first.text == "Old text."  # the old snapshot is kept as it was


def test_bad_lines_are_reported_with_file_and_line_and_good_ones_kept(tmp_path, planet):
    good = {"title": "Good", "url": "https://news.example/good", "text": "Fine."}
    path = write(
        tmp_path,
        "mixed.jsonl",
        json.dumps(good)
        + "\n{not json\n"
        + json.dumps({"title": "No text", "url": "https://news.example/x"})
        + "\n"
        + json.dumps({"title": "Bad url", "url": "javascript:alert(1)", "text": "x"})
        + "\n"
        + json.dumps({"title": "Typo", "txet": "x", "text": "y"})
        + "\n",
    )
    with pytest.raises(CommandError):
        run("--org", "planet", str(path))
    assert list(Article.objects.values_list("title", flat=True)) == ["Good"]


def test_the_error_lines_name_the_file_and_line_number(tmp_path, planet, capsys):
    path = write(tmp_path, "mixed.jsonl", '{"title": "A", "text": "ok"}\n\n[1, 2]\n')
    err = StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("import_articles", "--org", "planet", str(path), stdout=StringIO(), stderr=err)
    assert f"{path}:3: each line must be a JSON object" in err.getvalue()


def test_invalid_utf8_and_unknown_types_are_rejected_clearly(tmp_path, planet):
    bad = write(tmp_path, "latin1.txt", "Titre\n\nCaf\xe9".encode("latin-1"))
    pdf = write(tmp_path, "scan.pdf", b"%PDF-1.7")
    good = write(tmp_path, "good.txt", "Title\n\nBody text.")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_articles",
            "--org",
            "planet",
            str(bad),
            str(pdf),
            str(good),
            stdout=StringIO(),
            stderr=err,
        )
    assert f"{bad}: not valid UTF-8" in err.getvalue()
    assert f"{pdf}: unsupported file type '.pdf'" in err.getvalue()
    assert Article.objects.get().title == "Title"


def test_a_txt_without_blank_line_after_the_title_is_rejected(tmp_path, planet):
    path = write(tmp_path, "a.txt", "Title\nBody straight after")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_articles", "--org", "planet", str(path), stdout=StringIO(), stderr=err)
    assert f"{path}:2: the title must be followed by a blank line" in err.getvalue()
    assert not Article.objects.exists()


def test_an_unknown_organization_is_an_error(tmp_path, db):
    with pytest.raises(CommandError, match="No organization with slug 'nowhere'"):
        run("--org", "nowhere", str(write(tmp_path, "a.txt", "T\n\nB")))


def test_a_directory_imports_every_file_in_it(tmp_path, planet):
    write(tmp_path, "a.txt", "First\n\nOne.")
    write(tmp_path, "b.txt", "Second\n\nTwo.")
    run("--org", "planet", str(tmp_path))
    assert sorted(Article.objects.values_list("title", flat=True)) == ["First", "Second"]
