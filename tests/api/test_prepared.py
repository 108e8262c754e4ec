"""The claims endpoints' prepared queries give exactly what the ORM gives, shape by shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from annotations.api import claims
from annotations.api.prepared import _NOT_PREPARABLE
from annotations.models import VerifiedClaim
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
    labels = claims.LABEL_ROWS.rows({}, organization_id=demo.organization_id)
    assert labels == list(claims._label_rows(demo.organization_id))


@pytest.mark.parametrize("value", [True, 1.5, None])
def test_a_value_without_a_sentinel_is_run_by_the_orm(demo, value):
    from annotations.api.prepared import PreparedQuery

    query = PreparedQuery(lambda flag: VerifiedClaim.objects.values_list("pk"))
    assert len(query.rows({}, flag=value)) == VerifiedClaim.objects.count()
