"""What the agreement figures must follow that no claim's change tells them.

Connected in AnnotationsConfig.ready().
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from annotations.agreement.runs import run_request
from annotations.models import AgreementReport, Article, Collection, JobStatus


@receiver(post_delete, sender=Article, dispatch_uid="annotations.agreement_article_deleted")
def article_deleted(sender: Any, instance: Article, **kwargs: Any) -> None:
    """An article deleted (the admin): its counts went with its stored record, so its
    part of the sums can no longer be taken out. The collection is counted again,
    once, when the deletion commits (a run under way is that run)."""
    collection_id = instance.collection_id

    def count_again() -> None:
        collection = Collection.objects.filter(pk=collection_id).first()
        if collection is None:
            return  # the collection went with it
        if AgreementReport.objects.filter(collection=collection, status=JobStatus.DONE).exists():
            run_request(collection=collection)

    transaction.on_commit(count_again)
