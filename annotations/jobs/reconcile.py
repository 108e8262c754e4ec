"""Finding background work whose message was lost, and sending it again.

The broker may be down when work is asked for, or a Redis broker may restart
holding messages; the database still says what is pending. Each capability
registers how to find its lost work (`register`, in its tasks module), and
`reconcile` sends every kind again: celery beat runs it every
WORKBENCH_RECONCILE_SECONDS, and each worker once when it starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LostWork:
    # What the log calls it: "imports", "webhook deliveries".
    kind: str
    # The task that does one piece of it, given its id.
    task: Any
    # The ids of the pieces asked for before then and never taken up.
    pending: Callable[[datetime], list[int]]


_KINDS: dict[str, LostWork] = {}


def register(kind: str, task: Any, pending: Callable[[datetime], list[int]]) -> None:
    """Makes `reconcile` send `task` again for every id `pending(before)` finds."""
    _KINDS[kind] = LostWork(kind, task, pending)


def reconcile(*, before: datetime) -> dict[str, int]:
    """Sends again every piece of work asked for before then and lost; how many, by kind."""
    found = [(work, work.pending(before)) for work in _KINDS.values()]
    for work, ids in found:
        for pk in ids:
            work.task.apply_async((pk,), ignore_result=True)
    if any(ids for _, ids in found):
        logger.info(
            "Reconciled %s", ", ".join(f"{len(ids)} {work.kind}" for work, ids in found if ids)
        )
    return {work.kind: len(ids) for work, ids in found}
