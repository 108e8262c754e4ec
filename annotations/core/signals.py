"""Signals one capability sends and another listens to, so neither imports the other."""

from __future__ import annotations

from django.dispatch import Signal

# Claims written in bulk (an import with a person behind it: the members' API),
# without the one-by-one save whose history signal the activity listens to.
# Sent with `claim_ids` (list[int]) and `user`, inside the writing transaction.
claims_created_in_bulk = Signal()
