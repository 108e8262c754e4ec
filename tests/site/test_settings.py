"""Settings are read from the environment; each case runs in a fresh Python
so that it sees exactly the variables an operator would set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.env import ConfigError, env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "host": settings.DATABASES["default"].get("HOST"),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS,
    "secure_cookies": getattr(settings, "SESSION_COOKIE_SECURE", False),
    "storage": settings.STORAGES["default"],
    "options": settings.DATABASES["default"].get("OPTIONS", {}),
}))
"""


def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            "WORKBENCH_ENV",
        }
    }
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        env=clean | {"DJANGO_SETTINGS_MODULE": "workbench.settings"} | env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def loaded(**env: str) -> dict:
    result = settings_with(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_are_sqlite_and_in_process_tasks(tmp_path):
    values = loaded(WORKBENCH_VAR_DIR=str(tmp_path))
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(tmp_path / "workbench.sqlite3")
    assert values["eager"] is True
    assert values["debug"] is True


def test_database_and_broker_urls_switch_to_the_real_services():
    values = loaded(
        DATABASE_URL="postgres://postgres@db.internal:5432/workbench",
        CELERY_BROKER_URL="redis://redis:6379/0",
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["name"], values["host"]) == ("workbench", "db.internal")
    assert values["eager"] is False


def test_postgresql_prepares_the_apis_statements_unless_a_pooler_forbids_it():
    url = "postgres://postgres@db.internal:5432/workbench?options=-c%20statement_timeout%3D5000"
    prepared = loaded(DATABASE_URL=url)["options"]
    assert prepared["prepare_threshold"] > 1_000_000
    # The operator's own options are kept.
    assert prepared["options"].split(" -c ") == [
        "-c statement_timeout=5000",
        "plan_cache_mode=force_generic_plan",
    ]

    plain = loaded(DATABASE_URL=url, DATABASE_PREPARED="false")["options"]
    assert "prepare_threshold" not in plain
    assert plain["options"] == "-c statement_timeout=5000"


def test_production_refuses_to_start_without_a_secret_key():
    result = settings_with(WORKBENCH_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when WORKBENCH_ENV=production" in result.stderr


def test_production_turns_off_debug_and_secures_cookies(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("a-long-random-production-key-from-a-file\n")
    values = loaded(
        WORKBENCH_ENV="production", SECRET_KEY_FILE=str(key_file), ALLOWED_HOSTS="checks.example"
    )
    assert values["debug"] is False
    assert values["hosts"] == ["checks.example"]
    assert values["secure_cookies"] is True


def test_a_misspelt_boolean_is_an_error_not_a_silent_false():
    result = settings_with(DEBUG="ture")
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_typed_helpers_read_their_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("WB_FLAG", "Yes")
    monkeypatch.setenv("WB_COUNT", "42")
    monkeypatch.setenv("WB_HOSTS", "a.example, b.example,,")
    assert env_bool("WB_FLAG") is True
    assert env_int("WB_COUNT", 1) == 42
    assert env_list("WB_HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("WB_COUNT", "forty")
    with pytest.raises(ConfigError, match="WB_COUNT='forty' is not a whole number"):
        env_int("WB_COUNT", 1)
    monkeypatch.setenv("WB_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="cannot be read"):
        env_str("WB_SECRET")


def test_files_go_to_an_s3_compatible_bucket_when_one_is_named(tmp_path):
    local = loaded(WORKBENCH_VAR_DIR=str(tmp_path))
    assert local["storage"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    s3 = loaded(
        WORKBENCH_VAR_DIR=str(tmp_path),
        WORKBENCH_S3_BUCKET="newsroom-exports",
        WORKBENCH_S3_ENDPOINT_URL="https://minio.internal:9000",
    )
    assert s3["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["storage"]["OPTIONS"]["bucket_name"] == "newsroom-exports"
    assert s3["storage"]["OPTIONS"]["endpoint_url"] == "https://minio.internal:9000"
    # Never public: downloads go through the workbench's permission check.
    assert s3["storage"]["OPTIONS"]["default_acl"] == "private"
