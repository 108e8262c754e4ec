from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from annotations.core.inputs import SourceInput
from annotations.importing.services import articles_import
from annotations.models import (
    Article,
    ClaimAnnotation,
    ClaimantKind,
    Organization,
    Role,
    VerdictLabel,
    VerifiedClaim,
)
from annotations.newsrooms.services import collection_ensure, member_create, taxonomy_ensure_default
from annotations.reader.services import assignment_ensure, claim_create
from annotations.verification.services import Judgement, verified_claim_save, verified_publish

DEMO_ARTICLE = Path(__file__).resolve().parents[2] / "demo" / "walikale.txt"

# Demo people and their passwords. These passwords are for a laptop only:
# they are printed on purpose, and exist nowhere but in this command.
DEMO_PEOPLE = (
    ("reviewer1", Role.REVIEWER, "walikale-reviewer1"),
    ("reviewer2", Role.REVIEWER, "walikale-reviewer2"),
    ("editor", Role.EDITOR, "walikale-editor"),
    # Manages the newsroom's API keys and webhooks.
    ("admin", Role.ADMIN, "walikale-admin"),
)

SOURCE_PRESS_RELEASE = SourceInput(
    url="https://www.reuters.com/world/africa/",
    title="M23 rebels say they will withdraw from Walikale",
    publisher="Reuters",
    quote="reposition its forces",
    stance="context",
)
SOURCE_ACLED = SourceInput(
    url="https://acleddata.com/",
    title="ACLED regional overview: Great Lakes",
    publisher="ACLED",
    stance="refutes",
)
SOURCE_UN_REPORT = SourceInput(
    url="https://www.un.org/securitycouncil/sanctions/1533",
    title="UN Group of Experts on the DRC",
    publisher="United Nations",
    quote="Rwanda Defence Force troops operated alongside M23",
    stance="supports",
)

# (reviewer, quoted text, verdict slug or None for "to check", rating, note, sources)
DEMO_CLAIMS: tuple[tuple[str, str, str | None, int | None, str, tuple[SourceInput, ...]], ...] = (
    (
        "reviewer1",
        "reposition its forces",
        "misleading",
        None,
        "The alliance's own wording; observers saw no withdrawal on the ground.",
        (SOURCE_PRESS_RELEASE, SOURCE_ACLED),
    ),
    (
        "reviewer1",
        "give peace a chance",
        "misleading",
        None,
        "Stated aim, contradicted by continued advances towards Mubi.",
        (SOURCE_ACLED,),
    ),
    (
        "reviewer1",
        "M23 rebels, backed by Rwanda",
        "true",
        5,
        "UN experts documented Rwandan support.",
        (SOURCE_UN_REPORT,),
    ),
    (
        "reviewer1",
        "approximately 1,500 km (930 miles) from the capital",
        None,
        None,
        "Check the distance Walikale–Kinshasa.",
        (),
    ),
    (
        "reviewer2",
        "reposition its forces",
        "misleading",
        None,
        "A withdrawal announced in words only.",
        (SOURCE_PRESS_RELEASE,),
    ),
    (
        "reviewer2",
        "give peace a chance",
        "unverifiable",
        None,
        "An intention; nothing to verify yet.",
        (),
    ),
    (
        "reviewer2",
        "within 400 km (250 miles) of Kisangani",
        "mostly-true",
        4,
        "About 390 km by road.",
        (),
    ),
)


# The editor's settlements: (phrase, reviewer whose span is taken, reviewer
# whose verdict is taken, the claim as reviewed, what we found).
DEMO_VERDICTS = (
    (
        "reposition its forces",
        "reviewer1",
        "reviewer1",
        "M23 says it will “reposition its forces” away from Walikale",
        "Both reviewers found the announcement misleading: no withdrawal was observed.",
    ),
    (
        "give peace a chance",
        "reviewer2",
        "reviewer1",
        "M23 says its withdrawal is to “give peace a chance”",
        "Reviewers disagreed (misleading vs unverifiable); advances towards Mubi settle it.",
    ),
)


class Command(BaseCommand):
    help = (
        "Loads the demo newsroom: organization 'demo', users reviewer1, reviewer2 and "
        "editor (passwords printed, for local use only), a collection with two reviewers "
        "per article, the Walikale article and a handful of claims. Safe to run again."
    )

    def _publish(self, article: Article, editor: Any) -> int:
        """One unanimous claim and one merged from a disagreement, published."""
        for phrase, span_from, verdict_from, text, summary in DEMO_VERDICTS:
            claims = {
                c.reviewer.username: c
                for c in ClaimAnnotation.objects.filter(article=article, quote=phrase)
                .select_related("reviewer", "verdict")
                .prefetch_related("sources")
            }
            span = claims[span_from]
            if VerifiedClaim.objects.filter(
                article=article, start=span.start, end=span.end
            ).exists():
                continue
            sources = {
                s.url: SourceInput(url=s.url, title=s.title, publisher=s.publisher, stance=s.stance)
                for c in claims.values()
                for s in c.sources.all()
            }
            claim = verified_claim_save(
                article=article,
                editor=editor,
                judgement=Judgement(
                    start=span.start,
                    end=span.end,
                    claim_reviewed=text,
                    verdict=claims[verdict_from].verdict,
                    summary=summary,
                    claimant="Congo River Alliance (M23)",
                    claimant_kind=ClaimantKind.ORGANIZATION,
                    sources=list(sources.values()),
                    annotation_ids=[c.pk for c in claims.values()],
                ),
            )
            verified_publish(claim=claim, editor=editor, confirm_open_reviews=True)
        return VerifiedClaim.objects.filter(article=article, status="published").count()

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--without-verdicts",
            action="store_true",
            help="Load the reviewers' claims but leave adjudication to you: nothing published.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            organization, _ = Organization.objects.get_or_create(
                slug="demo", defaults={"name": "Demo Newsroom"}
            )
            taxonomy = taxonomy_ensure_default(organization=organization)
            users = {}
            for username, role, password in DEMO_PEOPLE:
                outcome = member_create(
                    organization=organization, username=username, role=role, password=password
                )
                users[username] = outcome.membership.user
            # The editor manages the newsroom's taxonomy and collections in the admin.
            editor = users["editor"]
            editor.is_staff = True
            editor.save(update_fields=["is_staff"])
            editor.user_permissions.set(
                Permission.objects.filter(content_type__app_label="annotations")
            )

            collection, _ = collection_ensure(
                organization=organization, slug="great-lakes", name="Great Lakes desk"
            )
            report = articles_import(
                collection=collection, files=[(DEMO_ARTICLE.name, DEMO_ARTICLE.read_bytes())]
            )
            if report.errors:
                raise RuntimeError("; ".join(report.errors))
            article: Article = report.outcomes[0].article
            for username in ("reviewer1", "reviewer2"):
                assignment_ensure(article=article, reviewer=users[username])

            verdicts = {v.slug: v for v in VerdictLabel.objects.filter(taxonomy=taxonomy)}
            created = 0
            for username, phrase, verdict, rating, note, sources in DEMO_CLAIMS:
                start = article.text.index(phrase)
                end = start + len(phrase)
                reviewer = users[username]
                if ClaimAnnotation.objects.filter(
                    article=article, reviewer=reviewer, start=start, end=end
                ).exists():
                    continue
                claim_create(
                    article=article,
                    reviewer=reviewer,
                    start=start,
                    end=end,
                    quote=phrase,
                    verdict=verdicts[verdict] if verdict else None,
                    rating=rating,
                    note=note,
                    sources=sources,
                )
                created += 1

            published = (
                0 if options["without_verdicts"] else self._publish(article, users["editor"])
            )

        self.stdout.write(self.style.SUCCESS(f"Demo newsroom ready: {article.title}"))
        self.stdout.write(f"  verified claims published: {published}")
        self.stdout.write(
            f"  collection: {collection.name} ({collection.slug}), {created} new claims"
        )
        self.stdout.write("  Local demo logins (never use these anywhere else):")
        for username, role, password in DEMO_PEOPLE:
            self.stdout.write(f"    {username:<10} {password:<22} ({role})")
