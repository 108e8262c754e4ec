"""Pages, feeds and published claims for the tests of what the workbench fetches from the
web (importing by URL, archived sources, watched articles, feeds)."""

from __future__ import annotations

from django.contrib.auth.models import User

from annotations.core.inputs import SourceInput
from annotations.models import Article, VerdictLabel, VerifiedClaim
from annotations.verification import services as verification

PAGE = """<!doctype html><html lang="fr"><head><meta charset="{charset}">
<title>{title} | Le Journal</title>
<link rel="canonical" href="https://news.example/{slug}">
<meta property="og:site_name" content="Le Journal">
<meta name="author" content="Anne Dupont; Marc Lévy">
<meta property="article:published_time" content="2026-03-01T08:30:00+00:00">
<meta property="article:modified_time" content="2026-03-02T10:00:00+00:00">
</head><body><nav>Accueil · Monde · Sport</nav><article><h1>{title}</h1>
<p>{body}</p>
<p>{more}</p>
</article><footer>© Le Journal</footer></body></html>"""

MORE = (
    "Le ministre a ajouté que les négociations continueraient la semaine prochaine "
    "à Genève, avec les délégations des deux pays."
)
CLAIM = "les forces seraient repositionnées avant la fin du mois"
BODY = f"Le ministre a déclaré que {CLAIM}, selon plusieurs sources."


def page(
    title: str = "Le ministre parle",
    body: str = BODY,
    charset: str = "utf-8",
    slug: str = "ministre",
) -> str:
    return PAGE.format(title=title, body=body, charset=charset, slug=slug, more=MORE)


def feed(items: list[tuple[str, str, str]], *, title: str = "Le Journal: monde") -> str:
    """An RSS 2.0 feed of (guid, link, title) items."""
    entries = "".join(
        f"<item><guid>{guid}</guid><link>{link}</link><title>{name}</title></item>"
        for guid, link, name in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://news.example/</link>{entries}</channel></rss>"
    )


def published_claim(
    article: Article, editor: User, phrase: str = CLAIM, sources: list[SourceInput] | None = None
) -> VerifiedClaim:
    """A verified claim on `phrase` of the article, published (with two sources)."""
    start = article.text.index(phrase)
    claim = verification.verified_claim_save(
        article=article,
        editor=editor,
        judgement=verification.Judgement(
            start=start,
            end=start + len(phrase),
            claim_reviewed="The forces will be repositioned by the end of the month",
            verdict=VerdictLabel.objects.get(
                taxonomy=article.collection.taxonomy, slug="mostly-false"
            ),
            rating=2,
            sources=sources
            if sources is not None
            else [
                SourceInput(url="https://un.example/report", title="UN report"),
                SourceInput(url="https://gov.example/statement", title="Statement"),
            ],
        ),
    )
    return verification.verified_publish(claim=claim, editor=editor, confirm_open_reviews=True)
