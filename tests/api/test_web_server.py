"""What the web server in front of the API answers on its own, as the schema documents it.

gunicorn refuses some requests before Django sees them; a client meets those
answers all the same, so the schema lists them with the API's own. Run
against gunicorn as production runs it: pytest's live server is another web
server, with other limits.
"""

from __future__ import annotations

import pytest
import requests

from tests.live_services import django_env, start_web, stop_process
from tests.worker import database_url


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    log = (tmp_path / "web.log").open("w")
    process, base = start_web(
        django_env(DATABASE_URL=database_url(), DEBUG="false"), log, workers=1
    )
    try:
        yield base
    finally:
        stop_process(process)
        log.close()


def test_a_too_long_address_gets_the_414_the_schema_documents(gunicorn):
    schema = requests.get(f"{gunicorn}/api/v1/schema/?format=json", timeout=30).json()

    # 5,000 characters of a filter: over gunicorn's 4,094-byte request line.
    response = requests.get(f"{gunicorn}/api/v1/claims/", params={"q": "x" * 5000}, timeout=30)

    assert response.status_code == 414
    documented = schema["paths"]["/api/v1/claims/"]["get"]["responses"]
    assert "414" in documented
    media_type = response.headers["Content-Type"].split(";")[0]
    assert media_type in documented["414"]["content"]
