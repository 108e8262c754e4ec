"""The claims endpoints' prepared queries give exactly what the ORM gives, shape by shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from annotations.api import claims
from annotations.core.prepared import _NOT_PREPARABLE
from annotations.models import VerifiedClaim, VerifiedSource
from annotations.publishing import rows as exports
from tests.api.conftest import publish_many


def wanted_shapes(demo) -> list[tuple[dict, dict]]:
    peace = VerifiedClaim.objects.get(quote="give peace a chance")
    later = timezone.now() - timedelta(days=1)
    org = {"organization_id": demo.organization_id}
    return [
        ({"size": 51}, org),
        ({}, org | {"pk": peace.pk}),
        ({"size": 3}, org | {"after_time": peace.updated_at, "after_id": peace.pk}),
        ({"size": 51}, org | {"verdict": peace.verdict.slug, "status": "published"}),
        ({"size": 51}, org | {"collection": demo.collection.slug, "article_url": demo.url}),
        ({"size": 51}, org | {"updated_since": later, "published_since": later}),
        ({"size": 51}, org | {"q": "peace chance", "settled_before": timezone.now()}),
    ]


def test_every_shape_gives_the_orms_rows_and_is_prepared_on_postgresql(demo):
    publish_many(demo, 5)
    for fixed, values in wanted_shapes(demo):
        expected = list(claims._claim_rows(**fixed, **values))
        assert expected, (fixed, values)
        assert claims.CLAIM_ROWS.rows(fixed, **values) == expected
        assert claims.CLAIM_ROWS.rows(fixed, **values) == expected, "and again, prepared"
    if connection.vendor == "postgresql":
        assert _NOT_PREPARABLE not in claims.CLAIM_ROWS.shapes.values()
        assert len(claims.CLAIM_ROWS.shapes) >= len(wanted_shapes(demo))


def test_sources_and_verdicts_are_the_orms_too(demo):
    created = publish_many(demo, 3)
    ids = [claim.pk for claim in created]
    assert claims.SOURCE_ROWS.rows({}, claim_ids=ids) == list(claims._source_rows(ids))
    assert len(claims.SOURCE_ROWS.rows({}, claim_ids=ids[:1])) == 3, "a new id, same SQL"


def test_sources_read_with_their_claims_are_those_read_apart_in_order_without_confidential(
    demo,
):
    created = publish_many(demo, 4)
    # Out of order, one confidential, and text that JSON must escape.
    VerifiedSource.objects.filter(claim=created[0], order=0).update(
        order=9, title='Quoted "title" \\ é ✓', confidential=False
    )
    VerifiedSource.objects.filter(claim=created[1], order=1).update(confidential=True)
    VerifiedSource.objects.filter(claim=created[2]).delete()
    rows = claims.CLAIM_ROWS.rows({"size": 51}, organization_id=demo.organization_id)

    claim_rows, labels, sources = claims.split_rows(rows)

    ids = [row.id for row in claim_rows]
    apart = exports.sources_by_claim(claims._source_rows(ids))
    assert {pk: found for pk, found in sources.items() if found} == dict(apart)
    assert [s.url for s in sources[created[0].pk]][-1].endswith("/0")
    assert sources[created[0].pk][-1].title == 'Quoted "title" \\ é ✓'
    assert len(sources[created[1].pk]) == 2
    assert not sources.get(created[2].pk)
    label = created[0].verdict
    assert labels[label.pk] == exports.Label(
        label.slug, label.name, label.taxonomy.best_rating, label.taxonomy.worst_rating
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared on PostgreSQL only")
def test_the_claims_page_is_a_statement_postgresql_prepared_once(demo):
    publish_many(demo, 3)
    for _ in range(3):
        claims.CLAIM_ROWS.rows({"size": 51}, organization_id=demo.organization_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ['SELECT "annotations_verifiedclaim"."id"%LIMIT 51'],
        )
        assert [plans for (plans,) in cursor.fetchall()] == [3]


@pytest.mark.parametrize("value", [True, 1.5, None])
def test_a_value_without_a_sentinel_is_run_by_the_orm(demo, value):
    from annotations.core.prepared import PreparedQuery

    query = PreparedQuery(lambda flag: VerifiedClaim.objects.values_list("pk"))
    assert len(query.rows({}, flag=value)) == VerifiedClaim.objects.count()
