"""Trigram search for claims checked before (annotations/similar.py).

On PostgreSQL: the pg_trgm extension and a GIN trigram index on the claim as
reviewed, which finds the claims word-similar to a new one (`%>`).
On SQLite nothing changes: similar claims are scored with rapidfuzz there.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "verified_claim_reviewed_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON annotations_verifiedclaim "
            "USING gin (claim_reviewed gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("annotations", "0007_report_totals")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
