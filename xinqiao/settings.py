"""The one settings file. Every knob comes from the environment, with safe defaults.

Two modes (DESIGN.md "Running"):
* embedded default (``XINQIAO_ENV`` unset or ``development``): SQLite under the data directory,
  secret and data-encryption keys generated there on first run (mode 0600);
* production (``XINQIAO_ENV=production``): keys, allowed hosts and ``DATABASE_URL`` come from
  the environment, and start-up is refused if DEBUG is on, a key is missing or default, or
  ``check --deploy`` has anything to say (see ``xinqiao/deploy.py``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from xinqiao.lib.crypto import decode_master_key
from xinqiao.lib.env import envbool, envint, envlist, envstr
from xinqiao.lib.keys import read_or_create_key_file

BASE_DIR = Path(__file__).resolve().parent.parent
XINQIAO_ENV = envstr("XINQIAO_ENV", "development")
if XINQIAO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("XINQIAO_ENV must be 'development' or 'production'")
PRODUCTION = XINQIAO_ENV == "production"
_SILENCED: list[str] = []  # system checks silenced on purpose, each with its reason

DATA_DIR = Path(envstr("XINQIAO_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)

# --- keys ------------------------------------------------------------------------------------
# Production: from the environment (or NAME_FILE). Embedded: generated into DATA_DIR/keys.
_INSECURE_MARKERS = ("django-insecure", "changeme", "change-me", "secret", "xinqiao-demo")
if PRODUCTION:
    SECRET_KEY = envstr("SECRET_KEY")
    _data_keys_text = envlist("XINQIAO_DATA_KEYS", [envstr("XINQIAO_DATA_KEY")])
else:
    SECRET_KEY = envstr("SECRET_KEY") or read_or_create_key_file(
        DATA_DIR / "keys" / "secret_key", nbytes=48
    )
    _data_keys_text = envlist("XINQIAO_DATA_KEYS", []) or [
        envstr("XINQIAO_DATA_KEY") or read_or_create_key_file(DATA_DIR / "keys" / "data_key")
    ]

try:
    # The first key encrypts; the others only decrypt (key rotation, docs/security.md).
    DATA_KEYS = [decode_master_key(text) for text in _data_keys_text if text]
except ValueError as exc:
    raise ImproperlyConfigured(f"XINQIAO_DATA_KEY: {exc}") from exc

if PRODUCTION:
    _problems = []
    if DEBUG:
        _problems.append("DEBUG must be off in production")
    if len(SECRET_KEY) < 50 or any(m in SECRET_KEY.lower() for m in _INSECURE_MARKERS):
        _problems.append("SECRET_KEY must be set to a long random value")
    if not DATA_KEYS:
        _problems.append("XINQIAO_DATA_KEY must be set (32 random bytes, url-safe base64)")
    if not envstr("DATABASE_URL"):
        _problems.append("DATABASE_URL must be set")
    if not envlist("ALLOWED_HOSTS", []):
        _problems.append("ALLOWED_HOSTS must list the site's host names")
    if _problems:
        raise ImproperlyConfigured("refusing to start in production: " + "; ".join(_problems))

# --- hosts and security headers --------------------------------------------------------------
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "xinqiao.workbench.errors.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# Content-Security-Policy (xinqiao/lib/headers.py; docs/deployment.md "Security headers"): every
# script is a file served by the site itself, never inline, so an injected <script> or onclick=
# does not run. Styles allow 'unsafe-inline': a few templates carry <style> blocks and style=
# attributes, and htmx and ECharts set styles from script; CSS cannot run code.
XINQIAO_CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],  # QR codes and the API viewer's icons are data: URLs
    "font-src": ["'self'"],
    "media-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
# No page needs these browser features; nothing embedded may ask for them either.
XINQIAO_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The preload list is a choice for the operator, not a defect.
    _SILENCED.append("security.W021")

# --- applications ----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "auditlog",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "xinqiao.accounts",
    "xinqiao.orgs",
    "xinqiao.audit",
    "xinqiao.people",
    "xinqiao.instruments",
    "xinqiao.notify",
    "xinqiao.risk",
    "xinqiao.assessments",
    "xinqiao.referrals",
    "xinqiao.followups",
    "xinqiao.counselling",
    "xinqiao.booking",
    "xinqiao.hotline",
    "xinqiao.content",
    "xinqiao.portal",
    "xinqiao.reports",
    "xinqiao.workbench",
    "xinqiao.ops",
]

MIDDLEWARE = [
    "xinqiao.ops.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "xinqiao.lib.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "xinqiao.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "xinqiao.audit.middleware.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xinqiao.urls"
WSGI_APPLICATION = "xinqiao.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "workbench:home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "xinqiao" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xinqiao.workbench.context.navigation",
                "xinqiao.notify.context.unread",
            ],
        },
    }
]

# --- database --------------------------------------------------------------------------------
_sqlite_default = f"sqlite:///{DATA_DIR / 'xinqiao.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", _sqlite_default),
        conn_max_age=envint("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE transactions take
        # the write lock up front so two writers wait instead of failing with "locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server: one statement text per query, prepared by psycopg after
    # a few runs on a connection, instead of values quoted into the SQL by Python (measured by
    # bench/alerts.py: about a fifth less CPU for a crisis submission). A pooler in
    # transaction mode without prepared-statement support needs DB_SERVER_SIDE_BINDING=0.
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": envbool("DB_SERVER_SIDE_BINDING", True)
    }
# A read replica for the dashboards (docs/deployment.md "Scale out"): the aggregate tables are
# read from it when DATABASE_REPORTS_URL is set; every write, lock and access check stays on
# the primary. Tests get the alias as a mirror of the default database (unused unless a test
# asks for it with XINQIAO_REPORTS_DATABASE="reports").
if envstr("DATABASE_REPORTS_URL"):
    DATABASES["reports"] = dj_database_url.parse(
        envstr("DATABASE_REPORTS_URL"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
    DATABASES["reports"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    XINQIAO_REPORTS_DATABASE = "reports"
else:
    XINQIAO_REPORTS_DATABASE = "default"
    if os.environ.get("XINQIAO_TESTING") == "1":
        DATABASES["reports"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache (rate limits, lockout counters) -----------------------------------------------------
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- authentication ----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions end after this many seconds without a request (sliding), and with the browser.
SESSION_COOKIE_AGE = envint("XINQIAO_SESSION_TIMEOUT", 30 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Lockout (django-axes): after AXES_FAILURE_LIMIT failed logins for one username the account is
# locked for the cool-off time, whichever address the attempts came from.
AXES_FAILURE_LIMIT = envint("XINQIAO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("XINQIAO_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address in the lockout key. We lock by username alone, which is
# stricter (an attacker cannot rotate addresses against one account), and limit attempts per
# address separately (XINQIAO_LOGIN_RATE_PER_MINUTE) without locking a whole office behind NAT.
_SILENCED.append("axes.W006")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "xinqiao.accounts.views.locked_out"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = envint("XINQIAO_PROXY_COUNT", 0, minimum=0) or None
# Login attempts per client address per minute, before any password is checked.
XINQIAO_LOGIN_RATE_PER_MINUTE = envint("XINQIAO_LOGIN_RATE_PER_MINUTE", 20, minimum=1)
# Administrators (system, city, district, street) must use a TOTP second factor.
XINQIAO_ADMIN_2FA_REQUIRED = envbool("XINQIAO_ADMIN_2FA_REQUIRED", True)
OTP_TOTP_ISSUER = "Xinqiao"
XINQIAO_API_TOKEN_DAYS = envint("XINQIAO_API_TOKEN_DAYS", 90, minimum=1)

# --- internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "xinqiao" / "locale"]
USE_I18N = True
TIME_ZONE = envstr("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- static files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Uploads larger than 2.5 MB (spreadsheets of person files) are spooled to disk while the
# request runs: inside the data directory, private, never in the shared /tmp.
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "uploads"
FILE_UPLOAD_TEMP_DIR.mkdir(mode=0o700, exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# A full disk while an upload is spooled or saved is a message on the form, never a 500 or a
# partial file (xinqiao/lib/storage.py; issue #10 item 3).
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "xinqiao.lib.storage.SpoolingUploadHandler",
]
STATICFILES_DIRS = [BASE_DIR / "xinqiao" / "static"]
STORAGES = {
    "default": {"BACKEND": "xinqiao.lib.storage.UploadStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- REST API (stable interface, DESIGN.md) ----------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "xinqiao.accounts.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "xinqiao.api.CountNextPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "xinqiao.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": "10/min"},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Xinqiao API",
    "DESCRIPTION": "Community psychological service and crisis-intervention platform.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and its viewer describe the interface and hold no data: public.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Several models have a "status" (or "mode") field: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "FileStatusEnum": "xinqiao.people.models.FileStatus",
        "AssessmentStatusEnum": "xinqiao.assessments.models.AssessmentStatus",
        "AssessmentModeEnum": "xinqiao.assessments.models.AssessmentMode",
        "InterventionEnum": "xinqiao.assessments.models.Intervention",
    },
}

# --- audit (django-auditlog for the change log; our own access log) ----------------------------
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False
AUDITLOG_MASK_CALLABLE = "xinqiao.audit.log.mask_value"

# --- background jobs (Huey) --------------------------------------------------------------------
# Tests run jobs in-process at once (XINQIAO_TESTING), unless told otherwise.
_huey_immediate = envbool("XINQIAO_JOBS_IMMEDIATE", os.environ.get("XINQIAO_TESTING") == "1")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "xinqiao",
        "url": REDIS_URL,
        "immediate": _huey_immediate,
        "consumer": {
            "workers": envint("XINQIAO_WORKER_THREADS", 2, minimum=1),
            "worker_type": "thread",
        },
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "xinqiao",
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": _huey_immediate,
        "consumer": {
            "workers": envint("XINQIAO_WORKER_THREADS", 2, minimum=1),
            "worker_type": "thread",
        },
    }

# Jobs in the database (xinqiao/ops/jobs.py): how often an idle worker looks for due jobs,
# how long a claimed job stays a worker's before another may take it over, and how many
# threads of each `xinqiao worker` run them.
XINQIAO_JOB_POLL_SECONDS = float(envstr("XINQIAO_JOB_POLL_SECONDS", "0.2"))
XINQIAO_JOB_LEASE_SECONDS = envint("XINQIAO_JOB_LEASE_SECONDS", 120, minimum=1)
XINQIAO_JOB_THREADS = envint("XINQIAO_JOB_THREADS", 2, minimum=1)

# --- monitoring (xinqiao/ops/metrics.py, docs/deployment.md "Monitoring") -----------------------
# The bearer token a Prometheus scraper sends to /metrics; empty: only signed-in staff with the
# audit permission over the whole platform may read it.
XINQIAO_METRICS_TOKEN = envstr("XINQIAO_METRICS_TOKEN")
if PRODUCTION and XINQIAO_METRICS_TOKEN and len(XINQIAO_METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("XINQIAO_METRICS_TOKEN must be at least 32 random characters")

# --- platform knobs ----------------------------------------------------------------------------
# Aggregates that leave a unit suppress cells below this count (DESIGN.md "Data and privacy").
XINQIAO_SMALL_CELL_THRESHOLD = envint("XINQIAO_SMALL_CELL_THRESHOLD", 5, minimum=1)
XINQIAO_PORT = envint("XINQIAO_PORT", 8000, minimum=1)
XINQIAO_HOTLINE_NUMBER = envstr("XINQIAO_HOTLINE_NUMBER", "12356")
# Call-back requests one client address may leave per hour on the portal's crisis path
# (xinqiao.portal.core; R-CRISIS: a person in distress leaves one or two, more is a script).
XINQIAO_CALLBACKS_PER_HOUR = envint("XINQIAO_CALLBACKS_PER_HOUR", 5, minimum=1)
# Worry mailbox: messages and code tries per client address (xinqiao.hotline.mailbox_public).
XINQIAO_MAILBOX_WRITES_PER_HOUR = envint("XINQIAO_MAILBOX_WRITES_PER_HOUR", 5, minimum=1)
XINQIAO_MAILBOX_WRITES_PER_DAY = envint("XINQIAO_MAILBOX_WRITES_PER_DAY", 20, minimum=1)
XINQIAO_MAILBOX_CODE_TRIES_PER_10_MIN = envint(
    "XINQIAO_MAILBOX_CODE_TRIES_PER_10_MIN", 10, minimum=1
)
# The address people reach from their phones (printed in QR codes); empty: the request's own.
XINQIAO_PUBLIC_URL = envstr("XINQIAO_PUBLIC_URL", "")
# Public self-assessment pages: requests per client address per minute, and new assessments
# started per address per hour on one link (a school behind one NAT address stays well below).
XINQIAO_SELF_SERVICE_RATE_PER_MINUTE = envint(
    "XINQIAO_SELF_SERVICE_RATE_PER_MINUTE", 300, minimum=1
)
XINQIAO_SELF_SERVICE_STARTS_PER_HOUR = envint(
    "XINQIAO_SELF_SERVICE_STARTS_PER_HOUR", 200, minimum=1
)

# --- public portal and education (issue #8) ---------------------------------------------------
# Anonymous portal pages without a form of their own (home, lessons, an article, the list of
# questionnaires) are served from the cache for this many seconds (0: off; off in tests unless a
# test turns it on): an article published or a phone number changed shows within that time.
# Visits are counted in each web process and written every XINQIAO_PORTAL_VISIT_FLUSH_SECONDS
# (0: at once), one UPDATE per page and day instead of one per view (xinqiao/portal/page.py).
_testing = os.environ.get("XINQIAO_TESTING") == "1"
XINQIAO_PORTAL_PAGE_CACHE_SECONDS = envint(
    "XINQIAO_PORTAL_PAGE_CACHE_SECONDS", 0 if _testing else 30, minimum=0
)
XINQIAO_PORTAL_VISIT_FLUSH_SECONDS = envint(
    "XINQIAO_PORTAL_VISIT_FLUSH_SECONDS", 0 if _testing else 10, minimum=0
)
# Uploaded lesson media (video, audio) live under the data directory; an upload larger than
# this is refused before its body is read.
MEDIA_ROOT = envstr("XINQIAO_MEDIA_DIR", str(DATA_DIR / "media"))
XINQIAO_MEDIA_MAX_MB = envint("XINQIAO_MEDIA_MAX_MB", 300, minimum=1)
# One-time sign-in codes for the public's light accounts: how they are sent ("console" prints
# them to the server's terminal, for the embedded default; "http" posts them to the SMS gateway
# below), how long a code lives, wrong entries before the code is void, codes one number may be
# sent per hour, and how long a number stays locked after repeated wrong codes.
XINQIAO_PUBLIC_SMS = envstr("XINQIAO_PUBLIC_SMS", "console")
if XINQIAO_PUBLIC_SMS not in ("console", "http"):
    raise ImproperlyConfigured("XINQIAO_PUBLIC_SMS: choose console or http")
XINQIAO_CODE_MINUTES = envint("XINQIAO_CODE_MINUTES", 10, minimum=1)
XINQIAO_CODE_TRIES = envint("XINQIAO_CODE_TRIES", 5, minimum=1)
XINQIAO_CODES_PER_HOUR = envint("XINQIAO_CODES_PER_HOUR", 5, minimum=1)
XINQIAO_CODE_LOCK_MINUTES = envint("XINQIAO_CODE_LOCK_MINUTES", 30, minimum=1)
# A call-back request waiting longer than this is shown as late on the hotline's queue.
XINQIAO_CALLBACK_TARGET_MINUTES = envint("XINQIAO_CALLBACK_TARGET_MINUTES", 15, minimum=1)

# --- notifications (xinqiao/notify, docs/deployment.md "Notifications") ------------------------
# Every notification is shown in the app; these external channels send a copy as well. Each is
# off unless listed here, and a listed channel without its address refuses start-up.
XINQIAO_NOTIFY_CHANNELS = envlist("XINQIAO_NOTIFY_CHANNELS", [])
_unknown_channels = set(XINQIAO_NOTIFY_CHANNELS) - {"email", "sms", "webhook"}
if _unknown_channels:
    raise ImproperlyConfigured(
        f"XINQIAO_NOTIFY_CHANNELS: unknown channel(s) {', '.join(sorted(_unknown_channels))}; "
        "choose from email, sms, webhook"
    )
# Seconds to wait for a gateway or mail server, and delivery attempts before a message is
# marked "not delivered" (retried after 2, 4, 8 … s: six attempts take about a minute).
XINQIAO_NOTIFY_TIMEOUT = envint("XINQIAO_NOTIFY_TIMEOUT", 10, minimum=1)
XINQIAO_NOTIFY_MAX_ATTEMPTS = envint("XINQIAO_NOTIFY_MAX_ATTEMPTS", 6, minimum=1)
# email: SMTP through Django's mail framework.
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = XINQIAO_NOTIFY_TIMEOUT
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "xinqiao@localhost")
# sms: an HTTP gateway (POST JSON {"to", "text"} with a bearer token).
XINQIAO_SMS_URL = envstr("XINQIAO_SMS_URL")
XINQIAO_SMS_TOKEN = envstr("XINQIAO_SMS_TOKEN")
# webhook: a WeCom/DingTalk-style group-chat robot (its URL carries its key: a secret);
# with XINQIAO_WEBHOOK_SECRET, requests are signed the DingTalk way (timestamp + sign).
XINQIAO_WEBHOOK_URL = envstr("XINQIAO_WEBHOOK_URL")
XINQIAO_WEBHOOK_SECRET = envstr("XINQIAO_WEBHOOK_SECRET")
_notify_problems = []
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    _notify_problems.append("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other")
for _channel, _url_name, _url in (
    ("sms", "XINQIAO_SMS_URL", XINQIAO_SMS_URL),
    ("webhook", "XINQIAO_WEBHOOK_URL", XINQIAO_WEBHOOK_URL),
):
    if _channel in XINQIAO_NOTIFY_CHANNELS and not _url.startswith(("https://", "http://")):
        _notify_problems.append(f"the {_channel} channel needs {_url_name} (an http(s) URL)")
if "sms" in XINQIAO_NOTIFY_CHANNELS and not XINQIAO_SMS_TOKEN:
    _notify_problems.append("the sms channel needs XINQIAO_SMS_TOKEN")
# The public's one-time sign-in codes (issue #8): the console adapter prints them in the
# server's output, which is for the embedded demo only.
if XINQIAO_PUBLIC_SMS == "http" and not (
    XINQIAO_SMS_URL.startswith(("https://", "http://")) and XINQIAO_SMS_TOKEN
):
    _notify_problems.append("XINQIAO_PUBLIC_SMS=http needs XINQIAO_SMS_URL and XINQIAO_SMS_TOKEN")
if PRODUCTION and XINQIAO_PUBLIC_SMS == "console":
    _notify_problems.append(
        "XINQIAO_PUBLIC_SMS=console would print sign-in codes in the server's output: "
        "set XINQIAO_PUBLIC_SMS=http in production"
    )
if _notify_problems:
    raise ImproperlyConfigured("notifications: " + "; ".join(_notify_problems))

# --- logging: never personal data; requests are logged by path and status only ----------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # At DEBUG the template logger dumps template contexts (a search's URL with a phone
        # number in it): never personal data in the logs.
        "django.template": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "huey": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

SILENCED_SYSTEM_CHECKS = _SILENCED

if os.environ.get("XINQIAO_TESTING") == "1":
    # Fast password hashing in tests only; a test checks the real setting is Argon2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
