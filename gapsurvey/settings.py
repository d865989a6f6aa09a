"""GapSurvey settings, read from the environment.

Every setting has a safe local default so that `make run` works on a fresh machine;
production sets DJANGO_DEBUG=false, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and friends.
"""

import copy
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state (the default SQLite database, collected static files, mails) lives
# here; it is made on first use so a fresh clone needs no set-up step for it.
VAR_DIR = BASE_DIR / "var"
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)


def envbool(name: str, default: bool) -> bool:
    """Read a boolean; anything but true/false (any case) is an error, not a guess."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}")


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


DEBUG = envbool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG=false GapSurvey refuses "
            "to start without a secret key: set DJANGO_SECRET_KEY to a long random "
            "string (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    # Development only: a fixed key so sessions survive restarts of `make run`.
    SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Base of absolute links in emails (personal survey links, set-password links).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# A contact's copy of their own data is mailed to them as a single-use link
# valid for this many days.
DATA_EXPORT_DAYS = 7

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_tasks",
    "django_tasks_db",
    "surveys",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gapsurvey.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gapsurvey.ratelimit.RateLimitMiddleware",
]

ROOT_URLCONF = "gapsurvey.urls"
WSGI_APPLICATION = "gapsurvey.wsgi.application"

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
                "surveys.context_processors.workspace",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'gapsurvey.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
        # A `SELECT 1` before each request's first query, only worth it with
        # persistent connections through something that drops them.
        conn_health_checks=envbool("DATABASE_CONN_HEALTH_CHECKS", False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the file: wait for locks instead of
    # failing, and use WAL so readers never block the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# A read replica (e.g. a PostgreSQL streaming standby). Only the read-only part of
# the dashboard and the exports reads from it (gapsurvey/replica.py); writes,
# transactions, access checks and the snapshot publish stay on `default`.
# Without DATABASE_REPLICA_URL the alias mirrors `default` (same database, and in
# tests Django's TEST MIRROR: the test database itself) and nothing is routed to
# it unless REPLICA_READS is turned on (the tests do, to prove the routing).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=envbool("DATABASE_CONN_HEALTH_CHECKS", False),
    )
else:
    DATABASES["replica"] = copy.deepcopy(DATABASES["default"])
DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
REPLICA_READS = bool(DATABASE_REPLICA_URL)
DATABASE_ROUTERS = ["gapsurvey.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: console by default, so a new user sees the mails and their links.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "GapSurvey <gapsurvey@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks (sending invitations and reminders) through Django's Tasks API
# (the django-tasks backport): the database backend and
# `manage.py db_worker` by default; RQ on Redis as the scale-out option
# (TASKS_BACKEND=django_tasks_rq.RQBackend, REDIS_URL, and
# `manage.py rqworker --job-class django_tasks_rq.Job default`).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}
if TASKS_BACKEND == "django_tasks_rq.RQBackend":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS["default"]["QUEUES"] = ["default"]
    RQ_QUEUES = {
        "default": {
            "URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "DEFAULT_TIMEOUT": 900,
        }
    }

# Security: HTTPS settings come from the environment (on by default with debug off).
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG
)
SECURE_HSTS_PRELOAD = envbool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
if envbool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# A worker's claim on a batch of invitations; after this long it counts as a dead
# worker's and another worker (or `send_reminders` from cron) mails the rest.
INVITATION_CLAIM_LEASE_SECONDS = envint("GAPSURVEY_SEND_LEASE_SECONDS", 600)

# Uploads (CSV imports) are refused above this size with a clear message.
MAX_UPLOAD_BYTES = envint("GAPSURVEY_MAX_UPLOAD_BYTES", 2 * 1024 * 1024)
MAX_IMPORT_ROWS = envint("GAPSURVEY_MAX_IMPORT_ROWS", 20000)
# A confirmed contacts or staff import of more rows than this runs in the task
# queue, in chunks of IMPORT_CHUNK_ROWS with progress on its page, instead of in
# the request.
IMPORT_INLINE_MAX_ROWS = envint("GAPSURVEY_IMPORT_INLINE_ROWS", 500)
IMPORT_CHUNK_ROWS = envint("GAPSURVEY_IMPORT_CHUNK_ROWS", 1000)
# An import preview lists at most this many rows (only the rejected ones when any
# are); the counts above it cover the whole file.
IMPORT_PREVIEW_ROWS = envint("GAPSURVEY_IMPORT_PREVIEW_ROWS", 200)
# Bounds on what one organization can create, so that every page stays fast.
# Stored results (analysis.results): the cuts computed per published snapshot in
# the worker: everyone, each department, each segment, and their pairs while
# there are at most this many cuts in all (others are computed on first view).
RESULTS_MAX_CUTS = envint("GAPSURVEY_RESULTS_MAX_CUTS", 500)
# Studies whose published snapshots hold more respondents than this are
# published and computed by the worker alone: a page asks for it and shows the
# newest stored results (or says they are being prepared), never waiting.
INLINE_MAX_RESPONDENTS = envint("GAPSURVEY_INLINE_MAX_RESPONDENTS", 5000)
MAX_DEPARTMENTS = envint("GAPSURVEY_MAX_DEPARTMENTS", 200)
MAX_SEGMENTS = envint("GAPSURVEY_MAX_SEGMENTS", 200)
# An organization's logo upload (surveys.branding); it is re-encoded smaller.
LOGO_MAX_BYTES = envint("GAPSURVEY_LOGO_MAX_BYTES", 512 * 1024)

# The shared cache: rate-limit counters (and room for dashboard aggregates). A
# database table by default, so every web process sees the same counts with no
# extra service; Redis when REDIS_URL is set.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "gapsurvey_cache",
        }
    }

# Rate limits (gapsurvey/ratelimit.py): fixed windows, per address and per account.
RATE_LIMITS_ENABLED = envbool("GAPSURVEY_RATE_LIMITS", True)
RATE_LIMIT_TRUST_FORWARDED_FOR = envbool("DJANGO_BEHIND_PROXY", False)
RATE_LIMITS = [
    # Survey links: generous for a person, ruinous for guessing tokens.
    {
        "name": "survey-ip",
        "path_prefix": "/s/",
        "methods": ("GET", "POST"),
        "key": "ip",
        "limit": envint("GAPSURVEY_SURVEY_RATE", 120),
        "window": 60,
    },
    {
        "name": "login-ip",
        "path_prefix": ("/accounts/login/", "/admin/login/"),
        "methods": ("POST",),
        "key": "ip",
        "limit": 30,
        "window": 300,
    },
    {
        "name": "login-account",
        "path_prefix": ("/accounts/login/", "/admin/login/"),
        "methods": ("POST",),
        "key": "username",
        "limit": 10,
        "window": 900,
    },
    {
        "name": "reset-ip",
        "path_prefix": "/accounts/password_reset/",
        "methods": ("POST",),
        "key": "ip",
        "limit": 10,
        "window": 3600,
    },
    {
        "name": "reset-account",
        "path_prefix": "/accounts/password_reset/",
        "methods": ("POST",),
        "key": "email",
        "limit": 3,
        "window": 3600,
    },
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "gapsurvey.staticfinders.PlotlyFinder",
]
