from __future__ import annotations

# The desk of tests/discussion: alice and carol reviewing, bob the editor.
from tests.discussion.conftest import reviewing  # noqa: F401
