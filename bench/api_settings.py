"""Settings for the API benchmark's server: the workbench's own, plus the anchor's URL.

Only `python -m bench.api` points DJANGO_SETTINGS_MODULE here; nothing shipped does.
"""

from __future__ import annotations

from workbench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
