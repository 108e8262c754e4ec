"""A claim's history as an editorial log: who changed what, in words.

Field names become their labels, verdicts their names, offsets the passage
they mark, and a changed text shows the words that changed (struck out, and
inserted), however long it is and wherever the change falls in it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString

from annotations.core.words import words_changed
from annotations.models import ClaimAnnotation, VerifiedClaim

LABELS = {
    "claim_reviewed": "Claim as reviewed",
    "summary": "What we found",
    "claimant": "Claimant",
    "claimant_kind": "Claimant is",
    "claim_date": "Claim date",
    "verdict": "Verdict",
    "rating": "Rating",
    "status": "Status",
    "public_note": "Public note",
    "lineage": "Lineage",
    "published_at": "Published",
    "note": "Note",
    "quote": "Passage",
    "deleted_at": "Deleted",
    "article": "Article version",
}
# Bookkeeping, or said elsewhere in the row: the person is in "Who", a moved
# passage in "Passage".
QUIET = {"version", "updated_at", "editor", "reviewer", "start", "end", "prefix", "suffix"}


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "j M Y H:i")
    if isinstance(value, date):
        return date_format(value, "j M Y")
    return str(value)


def _shown(
    field: str, value: Any, verdicts: dict[int, str], choices: dict[str, dict[str, str]]
) -> str:
    if field == "verdict":
        return verdicts.get(value, _plain(value))
    if field in choices and value in choices[field]:
        return choices[field][value]
    return _plain(value)


def claim_history(
    obj: VerifiedClaim | ClaimAnnotation, verdicts: dict[int, str]
) -> list[dict[str, Any]]:
    """Every change, newest first: when, who, and each field before and after, in words."""
    model = type(obj)
    choices: dict[str, dict[str, str]] = {
        f.name: {str(k): str(v) for k, v in f.flatchoices}
        for f in model._meta.concrete_fields
        if f.choices
    }
    records = list(obj.history.select_related("history_user").order_by("-history_date"))
    rows = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        changes: list[tuple[str, SafeString, SafeString]] = []
        if older is not None:
            delta = newer.diff_against(older)
            changed = {c.field: c for c in delta.changes}
            for c in delta.changes:
                if c.field in QUIET:
                    continue
                label = LABELS.get(c.field, c.field.replace("_", " ").capitalize())
                old = _shown(c.field, c.old, verdicts, choices)
                new = _shown(c.field, c.new, verdicts, choices)
                if isinstance(c.old, str) and isinstance(c.new, str) and c.field not in choices:
                    marked_old, marked_new = words_changed(c.old, c.new)
                else:
                    marked_old, marked_new = escape(old), escape(new)
                changes.append((label, marked_old, marked_new))
            if ("start" in changed or "end" in changed) and "quote" not in changed:
                # The same words, found elsewhere in the text (a new version of the article).
                changes.append(
                    (
                        "Passage",
                        escape(f"“{newer.quote}”, characters {older.start}–{older.end}"),
                        escape(f"the same words at {newer.start}–{newer.end}"),
                    )
                )
        rows.append({"record": newer, "changes": changes})
    return rows
