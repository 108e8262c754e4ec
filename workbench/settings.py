"""Settings for Fact-check Workbench, read from environment variables.

Every setting has a default that is safe for a reviewer's own laptop: SQLite
under var/, tasks run in-process, DEBUG on. Production is switched on with
WORKBENCH_ENV=production, which refuses to start without a SECRET_KEY and
turns the safe-for-laptops defaults off.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from django.utils.csp import CSP
from whitenoise.compress import Compressor

from workbench.env import ConfigError, env_bool, env_int, env_list, env_str

# Lets generic classes such as ModelAdmin[Article] be subscripted at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("WORKBENCH_VAR_DIR", str(BASE_DIR / "var")))

ENVIRONMENT = env_str("WORKBENCH_ENV", "development").strip().lower()
if ENVIRONMENT not in {"development", "production"}:
    raise ConfigError(f"WORKBENCH_ENV={ENVIRONMENT!r}: use 'development' or 'production'")
PRODUCTION = ENVIRONMENT == "production"

# A development key is fine on a laptop; in production a missing key is a
# mistake we refuse to paper over, because sessions signed with a known key
# can be forged.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ConfigError("SECRET_KEY must be set when WORKBENCH_ENV=production")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Trigram lookups for similar claims (annotations/similar.py); harmless on SQLite.
    "django.contrib.postgres",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and Redoc from our own static files, never a CDN.
    "drf_spectacular_sidecar",
    "simple_history",
    # Counts failed logins and locks out a username from an address (see "Security" below).
    "axes",
    "annotations",
]

MIDDLEWARE = [
    # First, so that every log line of a request carries its id (workbench/logs.py).
    "workbench.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Sends the Content-Security-Policy of SECURE_CSP (see "Security" below).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # A database that is down answers 503 "try again in a moment", not a 500.
    "workbench.faults.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records who made each change in the claims' history.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Turns a locked-out login into the lockout page; last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # gunicorn serves the collected static files itself, compressed and cached
    # forever; in development runserver does it.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "workbench.urls"
WSGI_APPLICATION = "workbench.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # `background_delayed`: the reader's "background work is delayed" notice.
                "workbench.health.background_notice",
                # `tasks_in_process`: job pages say whether a worker is to be waited for.
                "annotations.jobs.context.background",
            ],
        },
    },
]

# SQLite by default, so a fresh checkout runs with no services. PostgreSQL
# (psycopg 3) is what production and CI use: DATABASE_URL=postgres://...
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'workbench.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The API's hot statements are prepared on the server (annotations/api/prepared.py):
    # psycopg prepares nothing while the threshold is None, Django's default, and
    # Django's own cursors bind on the client and never prepare, whatever it is. They
    # are planned once, not again for each request's values (PostgreSQL kept planning
    # the claims page anew, 0.8 ms of its time); plan_cache_mode touches only prepared
    # statements. Behind a pooler that cannot keep them, set DATABASE_PREPARED=false.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    if env_bool("DATABASE_PREPARED", default=True):
        options["prepare_threshold"] = 2**31
        options["options"] = " ".join(
            filter(None, [options.get("options", ""), "-c plan_cache_mode=force_generic_plan"])
        )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the reader keep reading while a background import writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
    # A file, not memory, so a real Celery worker in the tests can open it too;
    # beside the database it tests, so two checkouts (or two DATABASE_URLs) do
    # not share one.
    _database = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": str(_database.with_name(f"test_{_database.name}"))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("WORKBENCH_PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# Source maps (most of Swagger UI's and Redoc's bytes) are for developers'
# tools: compressing them made collectstatic take minutes.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
) -> dict[str, Any]:
    """The default storage in an S3-compatible bucket (tests/test_s3_exports.py uses it too)."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            "access_key": access_key,
            "secret_key": secret_key,
            "default_acl": "private",
            # Downloads are redirected to a signed link that expires within a
            # minute (annotations/export_views.py); unsigned, the bucket refuses.
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }


# Uploads and export files: MEDIA_ROOT, or an S3-compatible bucket (AWS, MinIO,
# Ceph, ...) when WORKBENCH_S3_BUCKET is set. Needs the "s3" extra:
# pip install '.[s3]' (django-storages and boto3). Files stay private:
# downloads go through the workbench, which checks who asks and then sends
# the browser to a signed link, so the endpoint must be one browsers reach.
S3_BUCKET = env_str("WORKBENCH_S3_BUCKET")
if S3_BUCKET:
    STORAGES["default"] = s3_storage(
        bucket=S3_BUCKET,
        endpoint_url=env_str("WORKBENCH_S3_ENDPOINT_URL") or None,
        region=env_str("WORKBENCH_S3_REGION") or None,
        access_key=env_str("WORKBENCH_S3_ACCESS_KEY_ID") or None,
        secret_key=env_str("WORKBENCH_S3_SECRET_ACCESS_KEY") or None,
    )

# Celery: the broker, task results and the cache's Redis, acknowledgements,
# publisher confirms and celery beat's schedule (workbench/settings_celery.py).
# Read here, after the settings above, so that their configuration errors come first.
from workbench.settings_celery import *  # noqa: E402, F403
from workbench.settings_celery import (  # noqa: E402
    CACHE_URL,
    CELERY_BEAT_SCHEDULE,
    CELERY_TASK_ALWAYS_EAGER,
)

# A changed claim refreshes its collection's agreement once the reviewer has
# paused this long; in-process tasks run at once.
WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS = env_int(
    "WORKBENCH_AGREEMENT_DEBOUNCE_SECONDS", 0 if CELERY_TASK_ALWAYS_EAGER else 2
)
# A webhook delivery that fails is tried again after this many seconds, then
# twice as long each time (annotations/webhooks.py); 30 s gives a partner's
# receiver about an hour to come back before the delivery is marked failed.
WORKBENCH_WEBHOOK_BACKOFF_SECONDS = env_int("WORKBENCH_WEBHOOK_BACKOFF_SECONDS", 30)
# Webhooks to loopback and private networks: for development and tests (a
# receiver on 127.0.0.1); in production only public internet addresses.
WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES = env_bool(
    "WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES", default=not PRODUCTION
)

# Pages from the web: articles imported by URL, archived sources, watched
# articles and feeds (docs/operations.md, "Fetching pages"). One vetted client
# (annotations/core/web.py) fetches them all, from public internet addresses
# only; development and tests may also fetch from 127.0.0.1 and private networks.
WORKBENCH_FETCH_PRIVATE_ADDRESSES = env_bool(
    "WORKBENCH_FETCH_PRIVATE_ADDRESSES", default=not PRODUCTION
)
# One fetch, redirects included, from the first connection to the last byte:
# a server that drips its answer a byte at a time is cut off here.
WORKBENCH_FETCH_TIMEOUT_SECONDS = env_int("WORKBENCH_FETCH_TIMEOUT_SECONDS", 20)
# A news page is rarely over 2 MB of HTML; 10 MB leaves room and still stops a
# runaway body from filling a worker's memory.
WORKBENCH_FETCH_MAX_BYTES = env_int("WORKBENCH_FETCH_MAX_BYTES", 10_000_000)
WORKBENCH_FETCH_MAX_REDIRECTS = env_int("WORKBENCH_FETCH_MAX_REDIRECTS", 5)
# Addresses one import by URL may hold (the form, the API, the command).
WORKBENCH_FETCH_MAX_URLS = env_int("WORKBENCH_FETCH_MAX_URLS", 200)
# Sources saved on claims are found and archived this often; an archived source
# is looked at again (is it gone?) every WORKBENCH_ARCHIVE_RECHECK_HOURS.
WORKBENCH_ARCHIVE_SWEEP_SECONDS = env_int("WORKBENCH_ARCHIVE_SWEEP_SECONDS", 60)
WORKBENCH_ARCHIVE_RECHECK_HOURS = env_int("WORKBENCH_ARCHIVE_RECHECK_HOURS", 24 * 7)
# A watched article is fetched again this often (a conditional request); after
# errors, twice as long each time, up to WORKBENCH_WATCH_MAX_BACKOFF_HOURS.
WORKBENCH_WATCH_INTERVAL_MINUTES = env_int("WORKBENCH_WATCH_INTERVAL_MINUTES", 6 * 60)
WORKBENCH_WATCH_MAX_BACKOFF_HOURS = env_int("WORKBENCH_WATCH_MAX_BACKOFF_HOURS", 7 * 24)
# Feeds are read this often, and at most this many new items are imported from one reading.
WORKBENCH_FEED_INTERVAL_MINUTES = env_int("WORKBENCH_FEED_INTERVAL_MINUTES", 30)
WORKBENCH_FEED_MAX_ITEMS = env_int("WORKBENCH_FEED_MAX_ITEMS", 50)
CELERY_BEAT_SCHEDULE |= {
    "archive-cycle": {
        "task": "annotations.tasks.archive_cycle",
        "schedule": float(WORKBENCH_ARCHIVE_SWEEP_SECONDS),
    },
    "watch-cycle": {"task": "annotations.tasks.watch_cycle", "schedule": 300.0},
    "feeds-cycle": {"task": "annotations.tasks.feeds_cycle", "schedule": 60.0},
}

# Where exports link to (ClaimReview's url, the Web Annotation ids): the
# public address of this workbench.
WORKBENCH_PUBLIC_URL = env_str("WORKBENCH_PUBLIC_URL", "http://127.0.0.1:8000")
# Export files are deleted this many days after they are written (celery beat).
WORKBENCH_EXPORT_DAYS = env_int("WORKBENCH_EXPORT_DAYS", 7)
# Where an export is written before the storage takes the complete file.
# A PDF report takes about 30 s and 600 MB per 1,000 claims (WeasyPrint).
WORKBENCH_REPORT_PDF_MAX_CLAIMS = env_int("WORKBENCH_REPORT_PDF_MAX_CLAIMS", 1000)
WORKBENCH_EXPORT_TMP = Path(env_str("WORKBENCH_EXPORT_TMP", str(VAR_DIR / "tmp" / "exports")))

# Discussion and notifications (annotations/discussion, annotations/notifications;
# docs/configuration.md, "Email and notifications") ----------------------------------
# Mentions and requests for changes are emailed through Django's email, SMTP from
# the environment. With no EMAIL_HOST in development they are printed on the
# console instead, so a laptop needs no mail server; in production the default
# is an SMTP server on localhost (a local relay). The EMAIL_* variables make Django
# 6.1's MAILERS (its EMAIL_* settings are deprecated, and refused beside MAILERS).
_EMAIL_HOST = env_str("EMAIL_HOST")
_EMAIL_SMTP = "django.core.mail.backends.smtp.EmailBackend"
_EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    _EMAIL_SMTP if _EMAIL_HOST or PRODUCTION else "django.core.mail.backends.console.EmailBackend"
)
if env_bool("EMAIL_USE_TLS", False) and env_bool("EMAIL_USE_SSL", False):
    raise ConfigError("EMAIL_USE_TLS and EMAIL_USE_SSL: set one of them, not both")
MAILERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": _EMAIL_BACKEND}}
if _EMAIL_BACKEND == _EMAIL_SMTP:
    MAILERS["default"]["OPTIONS"] = {
        "host": _EMAIL_HOST or "localhost",
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER") or None,
        "password": env_str("EMAIL_HOST_PASSWORD") or None,
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        # A mail server that does not answer must not hold a worker for minutes.
        "timeout": env_int("EMAIL_TIMEOUT", 10),
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Fact-check Workbench <workbench@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# The daily digest leaves at this hour (UTC) for those who chose it.
WORKBENCH_DIGEST_HOUR = env_int("WORKBENCH_DIGEST_HOUR", 7)
if not 0 <= WORKBENCH_DIGEST_HOUR <= 23:
    raise ConfigError(f"WORKBENCH_DIGEST_HOUR={WORKBENCH_DIGEST_HOUR}: an hour from 0 to 23")
# A notification blind review hides from its recipient waits this long for a digest.
WORKBENCH_DIGEST_KEEP_DAYS = env_int("WORKBENCH_DIGEST_KEEP_DAYS", 7)
# Open threads ask for what changed this often (a cheap question: 204 when nothing did).
WORKBENCH_DISCUSSION_POLL_SECONDS = env_int("WORKBENCH_DISCUSSION_POLL_SECONDS", 5)
CELERY_BEAT_SCHEDULE |= {
    "notification-digest": {
        "task": "annotations.tasks.notification_digest",
        "schedule": crontab(hour=WORKBENCH_DIGEST_HOUR, minute=0),
    },
}
# `inbox`: the header's unread count, counted (one query) only by a page that shows it.
TEMPLATES[0]["OPTIONS"]["context_processors"].append(  # type: ignore[index]
    "annotations.notifications.context.inbox"
)

# Limits on what an import accepts, so a runaway file cannot fill the database.
WORKBENCH_MAX_ARTICLE_CHARS = env_int("WORKBENCH_MAX_ARTICLE_CHARS", 2_000_000)
WORKBENCH_MAX_NOTE_CHARS = env_int("WORKBENCH_MAX_NOTE_CHARS", 10_000)
WORKBENCH_MAX_UPLOAD_BYTES = env_int("WORKBENCH_MAX_UPLOAD_BYTES", 20_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5_000_000)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_500_000

# Caches: the API's throttle counts. Redis when there is one (CACHE_URL, with
# Celery above), so every gunicorn worker counts the same requests; memory for
# the embedded default. Login lockouts are counted in the database, not here.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# The REST API (/api/v1/; README: "Partner API").
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotations.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["annotations.api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["annotations.api.throttles.KeyRateThrottle"],
    # Per key (or member, or address without credentials); "none" turns it off.
    "DEFAULT_THROTTLE_RATES": {"api": env_str("WORKBENCH_API_RATE", "600/min")},
    "DEFAULT_RENDERER_CLASSES": ["annotations.api.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "annotations.api.renderers.ContentNegotiation",
    "DEFAULT_PARSER_CLASSES": ["annotations.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "annotations.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fact-check Workbench API",
    "DESCRIPTION": (
        "Published verified claims for partner newsrooms, and the workbench's own "
        "articles, claim annotations, agreement and exports for its members. "
        "Authenticate with `Authorization: Bearer wb_…` (an API key of your newsroom)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The system's fonts: Redoc's own (Montserrat, Roboto) come from Google Fonts.
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif"},
                "code": {"fontFamily": "ui-monospace, 'SFMono-Regular', Menlo, monospace"},
            }
        }
    },
    "COMPONENT_SPLIT_REQUEST": True,
    # Several documents have a `status`, each with its own values: one name for each set.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "annotations.models.JobStatus",
        "ExportStatusFilterEnum": "annotations.models.ExportStatusFilter",
        "MatchModeEnum": "annotations.models.MatchMode",
        "StanceEnum": "annotations.models.Stance",
        "ExportFormatEnum": "annotations.models.ExportFormat",
        "PublicClaimStatusEnum": "annotations.api.serializers.PUBLIC_STATUSES",
        "AnnotationStatusEnum": "annotations.api.serializers.ANNOTATION_STATUSES",
        "ImportStatusEnum": "annotations.api.serializers.IMPORT_STATUSES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "annotations.api.errors.postprocess_errors",
    ],
}
# A JSON body over this is refused with 413 before it is parsed.
WORKBENCH_API_MAX_BODY_BYTES = env_int("WORKBENCH_API_MAX_BODY_BYTES", 1_000_000)
# The claims list shows changes this many seconds old or older, so a change
# committed late can never land behind a partner's sync cursor.
WORKBENCH_API_SYNC_LAG_SECONDS = env_int("WORKBENCH_API_SYNC_LAG_SECONDS", 2)

if PRODUCTION:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # Trust X-Forwarded-Proto only behind a proxy that sets it (and strips a
    # client's own); otherwise a client could claim it came over HTTPS.
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health checks come over plain HTTP from inside the container network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Security: what a browser may run, logins, sessions ---------------------------------
# (README: "Security".)
#
# Content-Security-Policy, with Django's own middleware. No inline scripts or
# styles anywhere: every script and stylesheet is a static file, and verdict
# colours come from taxonomies/<pk>/verdicts.css. htmx is told not to add its
# own <style> (the htmx-config meta in templates/_base.html). Only the API's
# Swagger UI and Redoc pages loosen it, for their own inline styles
# (annotations/api/urls.py).
CSP_POLICY: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Where browsers send violation reports, if anywhere (an address the operator runs).
CSP_REPORT_URI = env_str("WORKBENCH_CSP_REPORT_URI")
if CSP_REPORT_URI:
    CSP_POLICY["report-uri"] = [CSP_REPORT_URI]
# Report-only: browsers report what the policy would block and block nothing,
# for trying a change to the policy (or a proxy's injected script) safely.
if env_bool("WORKBENCH_CSP_REPORT_ONLY", False):
    SECURE_CSP: dict[str, list[str]] = {}
    SECURE_CSP_REPORT_ONLY = CSP_POLICY
else:
    SECURE_CSP = CSP_POLICY
# The CSRF token reaches htmx through the page (hx-headers), never a script
# reading the cookie, so the cookie can be hidden from scripts.
CSRF_COOKIE_HTTPONLY = True

# Sessions: in the database, for WORKBENCH_SESSION_HOURS (12: a working day)
# from the last time the session changed; optionally only until the browser
# closes. Each login is recorded (annotations.models.UserSession) so that
# removing someone from a newsroom can end all their sessions at once.
SESSION_COOKIE_AGE = env_int("WORKBENCH_SESSION_HOURS", 12) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("WORKBENCH_SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

# Failed logins (django-axes, counted in the database, so SQLite and
# PostgreSQL alike): after WORKBENCH_LOGIN_FAILURE_LIMIT failures for one
# username from one address, that pair is locked out for
# WORKBENCH_LOGIN_LOCKOUT_MINUTES. Per pair, so a guesser elsewhere cannot
# lock a colleague out, nor one colleague's typos the whole newsroom behind
# one office address; the price is that one address may try five passwords
# on each username (the log shows such spraying). API keys are not passwords
# and are not counted.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("WORKBENCH_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("WORKBENCH_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Lockouts and failures are still logged; this only drops the banner axes
# would log each time any process (every management command) starts.
AXES_VERBOSE = False
# Log lines name the address a lockout came from (for blocking it), not the
# username typed, which is now and then a password typed in the wrong field.
AXES_SENSITIVE_PARAMETERS = ["username"]
# Behind a proxy every request comes from the proxy's address: with
# WORKBENCH_TRUSTED_PROXIES=N the client is taken from X-Forwarded-For, N hops
# back (only where those N proxies set it and strip what the client sent).
TRUSTED_PROXIES = env_int("WORKBENCH_TRUSTED_PROXIES", 0)
if TRUSTED_PROXIES:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXIES
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

# check --deploy asks for the HSTS preload flag. Preloading is a promise about
# every subdomain that browsers keep for months: the operator opts in with
# SECURE_HSTS_PRELOAD=true, and we do not nag until then.
SILENCED_SYSTEM_CHECKS = [] if PRODUCTION and SECURE_HSTS_PRELOAD else ["security.W021"]

# Logs: one JSON object per line in production, for a log collector; readable
# text in development. Every line carries its request's id, and inside a task
# the task's name and id (workbench/logs.py; README: "Logs and request ids").
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text").strip().lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ConfigError(f"LOG_FORMAT={LOG_FORMAT!r}: use 'json' or 'text'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "workbench.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "workbench.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # In-process tasks would log every run into the web server's console.
    "loggers": {
        "celery": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
        # In-process, Celery sets up a producer it never connects; kombu would
        # warn that it has no hostname on every task.
        "kombu.connection": {"level": "ERROR" if CELERY_TASK_ALWAYS_EAGER else "WARNING"},
        # WeasyPrint logs each step of every PDF at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}
