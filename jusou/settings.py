"""Settings for jusou: one file, configured only by environment variables.

With nothing configured the system runs on SQLite under var/ with Celery tasks run eagerly, for
development and the demo. A deployment sets DEBUG=false, SECRET_KEY (or SECRET_KEY_FILE),
ALLOWED_HOSTS, DATABASE_URL and REDIS_URL; see README.md and .env.example.
"""

import os
from datetime import date, timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from jusou.env import Env, database_from_url, redis_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = Env(os.environ)

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY or SECRET_KEY_FILE (50+ random characters).")
    SECRET_KEY = "django-insecure-development-only-key-never-used-with-debug-off"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DEBUG is off: set ALLOWED_HOSTS to the host names the site answers to.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "guardian",
    "simple_history",
    "axes",
    "csp",
    "jusou",
    "cases",
    "meetings",
    "outreach",
    "participation",
    "community",
]
# Development data (the demo world, the synthetic city, the benchmarks' commands): where DEBUG is on,
# or where DEVDATA=true asks for it on a test system. Never needed in production.
DEVDATA = env.bool("DEVDATA", default=DEBUG)
if DEVDATA:
    INSTALLED_APPS.append("devdata")

MIDDLEWARE = [
    # First: a database too busy to answer (SQLite's lock, a PostgreSQL deadlock) answers 503, never 500.
    "jusou.busy.DatabaseBusyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Right after WhiteNoise: every response but a static file's is kept in no cache (jusou/middleware.py).
    "jusou.middleware.NoStoreMiddleware",
    # Before the session is read: a cookie decoding to a control character is dropped (jusou.hygiene).
    "jusou.hygiene.CookieHygieneMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "jusou.staff.twofactor.TwoFactorMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A session whose IdP session ended (back-channel logout, beat's check) is logged out (jusou.sso).
    "jusou.sso.middleware.SsoSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Control characters in the path, query, headers or form fields: 400 before any view or lookup
    # (inside CSP and X-Frame-Options, so the refusal page carries them; jusou.hygiene).
    "jusou.hygiene.InputHygieneMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A GET asks who may see what once, however many panels ask (jusou.access.grants.visible_q).
    "jusou.access.grants.ReadRequestMemoMiddleware",
    # Last, so that it sees the outcome of authentication (django-axes requirement).
    "axes.middleware.AxesMiddleware",
    # Last: runs a POST's view once per form token (jusou.once), after every other check.
    "jusou.once.SubmissionOnceMiddleware",
]

ROOT_URLCONF = "jusou.urls"
WSGI_APPLICATION = "jusou.wsgi.application"

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
                "jusou.context_processors.staff",
            ],
            # {% submission_token %} in every POST form (jusou.once).
            "builtins": ["jusou.templatetags.submission"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "jusou.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite (development, the demo; PostgreSQL is the production database) takes one writer at a time.
    # By default a transaction begins as a reader, and one that then writes while another holds the
    # write lock fails at once ("database is locked": three API POSTs together were enough). So every
    # transaction takes the write lock when it begins (immediate), writers queue for it up to
    # `timeout` seconds, and WAL lets reads go on meanwhile. A request still locked out after the
    # wait answers 503, never 500 (jusou.busy).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, results and cache -----------------------------------------------------
REDIS_URL = env.str("REDIS_URL")
if REDIS_URL:
    redis_url(REDIS_URL)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without Redis, tasks run in-process as soon as they are sent (after the transaction commits).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_TASK_ACKS_LATE = False  # set per task, only where the task is idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Exports (jusou.exports.jobs): the worker running an export writes a heartbeat this often; beat looks
# every EXPORT_SWEEP_SECONDS for a running export whose heartbeat has been silent for
# EXPORT_HEARTBEAT_TIMEOUT_SECONDS (its worker was killed) and sends it again: running again within
# timeout + sweep (90 s by default; issue 15 asks for 2 minutes).
EXPORT_HEARTBEAT_SECONDS = env.int("EXPORT_HEARTBEAT_SECONDS", default=10, minimum=1, maximum=300)
EXPORT_HEARTBEAT_TIMEOUT_SECONDS = env.int(
    "EXPORT_HEARTBEAT_TIMEOUT_SECONDS", default=60, minimum=2, maximum=3600
)
EXPORT_SWEEP_SECONDS = env.int("EXPORT_SWEEP_SECONDS", default=30, minimum=1, maximum=3600)
# An export's file (statistics, audit exports: the latter hold names) is deleted this many days after it
# was made (beat, daily: jusou.tasks.expire_export_files); the job stays, marked 削除済み.
EXPORT_FILE_KEEP_DAYS = env.int("EXPORT_FILE_KEEP_DAYS", default=7, minimum=1, maximum=365)
# The API's Idempotency-Keys and the page forms' one-time tokens are remembered this many days (beat,
# daily: jusou.tasks.expire_idempotency_keys).
IDEMPOTENCY_KEEP_DAYS = env.int("IDEMPOTENCY_KEEP_DAYS", default=7, minimum=1, maximum=365)
# 保存年限: the 管理者 are told this many days before records reach their 保存期間満了日.
RETENTION_NOTICE_DAYS = env.int("RETENTION_NOTICE_DAYS", default=30, minimum=1, maximum=365)
if EXPORT_HEARTBEAT_TIMEOUT_SECONDS < 2 * EXPORT_HEARTBEAT_SECONDS:
    # One late beat (a busy database) must not make a live export look dead and run twice.
    raise ImproperlyConfigured(
        "EXPORT_HEARTBEAT_TIMEOUT_SECONDS must be at least twice EXPORT_HEARTBEAT_SECONDS."
    )
CELERY_BEAT_SCHEDULE = {
    # The database is the queue of record: anything the fast path missed (broker down, worker
    # killed) is picked up here, so no notification is dropped.
    "deliver-pending-notifications": {
        "task": "jusou.tasks.deliver_pending_notifications",
        "schedule": 60.0,
    },
    "remind-plan-reviews": {
        "task": "meetings.tasks.remind_plan_reviews",
        "schedule": 3600.0,
    },
    "remind-overdue-outreach": {
        "task": "outreach.tasks.remind_overdue_outreach",
        "schedule": 3600.0,
    },
    # Reminders: each finds what is due in the database and sends it once (dedupe keys), so the
    # hourly runs and any retry repeat nothing.
    "remind-follow-ups": {
        "task": "cases.tasks.remind_follow_ups",
        "schedule": 3600.0,
    },
    "remind-expiring-consents": {
        "task": "meetings.tasks.remind_expiring_consents",
        "schedule": 3600.0,
    },
    "remind-closing-meeting-windows": {
        "task": "meetings.tasks.remind_closing_meeting_windows",
        "schedule": 3600.0,
    },
    "expire-access-grants": {
        "task": "jusou.tasks.expire_access_grants",
        "schedule": 300.0,
    },
    # 保存年限: list what is past retention for a 管理者's approval; dispose of what was approved.
    "retention-daily": {
        "task": "jusou.tasks.retention_daily",
        "schedule": crontab(hour=2, minute=30),
    },
    # Export files older than EXPORT_FILE_KEEP_DAYS are deleted (jusou.exports.jobs.exports_expire).
    "expire-export-files": {
        "task": "jusou.tasks.expire_export_files",
        "schedule": crontab(hour=3, minute=0),
    },
    # Idempotency-Keys and form tokens older than IDEMPOTENCY_KEEP_DAYS are forgotten.
    "expire-idempotency-keys": {
        "task": "jusou.tasks.expire_idempotency_keys",
        "schedule": crontab(hour=3, minute=15),
    },
    # Exports whose worker was killed (heartbeat stopped) or whose message was lost are sent again
    # (jusou.exports.jobs).
    "requeue-stale-exports": {
        "task": "jusou.tasks.requeue_stale_exports",
        "schedule": float(EXPORT_SWEEP_SECONDS),
    },
}

# --- Authentication --------------------------------------------------------------------------------
AUTH_USER_MODEL = "jusou.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "jusou.staff.auth.StaffBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on (jusou.sso, README「統合認証（SSO）」): the OpenID Connect and SAML 2.0 IdPs, each a button
# on the login page. LOCAL_LOGIN_ENABLED=false leaves the password form to the システム管理者's break-glass
# account (with its TOTP); every other account then logs in through an IdP.
from jusou.sso.config import oidc_providers, saml_providers, sso_origin  # noqa: E402

SSO_OIDC = oidc_providers(env)
SSO_SAML = saml_providers(env, taken=SSO_OIDC)
# jusou's own SAML signing key and certificate (PEM; AuthnRequests, LogoutRequests, the SP metadata). Where
# DEBUG is on and none is given, a pair is made once under var/saml-sp/ for the demo.
SSO_SAML_SP_KEY_FILE = env.str("SSO_SAML_SP_KEY_FILE", "")
SSO_SAML_SP_CERT_FILE = env.str("SSO_SAML_SP_CERT_FILE", "")
if SSO_SAML and not DEBUG and not (SSO_SAML_SP_KEY_FILE and SSO_SAML_SP_CERT_FILE):
    raise ImproperlyConfigured(
        "SSO_SAML_PROVIDERS is set: SSO_SAML_SP_KEY_FILE and SSO_SAML_SP_CERT_FILE are needed."
    )
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)
# How often beat asks each IdP whether the subjects of open SSO sessions may still sign in (a refresh
# with the session's refresh token): a subject the IdP disabled loses its sessions within this time.
SSO_SESSION_CHECK_SECONDS = env.int("SSO_SESSION_CHECK_SECONDS", default=300, minimum=10, maximum=86400)
CELERY_BEAT_SCHEDULE["sso-sessions-check"] = {
    "task": "jusou.tasks.sso_sessions_check",
    "schedule": float(SSO_SESSION_CHECK_SECONDS),
}
# Seconds of clock difference allowed between jusou and an IdP when checking tokens' times.
SSO_CLOCK_LEEWAY_SECONDS = env.int("SSO_CLOCK_LEEWAY_SECONDS", default=60, minimum=0, maximum=600)

# Lockout after repeated failures (総務省ガイドライン: protect individual accounts).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15, minimum=1, maximum=1440))
# Locked per account, not per address: the staff of one 地域包括支援センター share an office IP, and
# one person's typos must not lock out their colleagues. axes.W006 warns about exactly this choice.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "jusou.staff.auth.lockout_response"  # the page for the form, JSON for the API
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0 if DEBUG else 1, minimum=0, maximum=5)

# 二要素認証 (総務省ガイドライン: 多要素認証): required for 管理者 and システム管理者; anyone who enrols is
# asked too. false switches 2FA off for everyone (jusou/staff/twofactor.py).
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=True)
OTP_TOTP_ISSUER = "jusou"

# Unusual access flagged to supervisors: reads in the quiet hours (Asia/Tokyo, start-end), and more
# than AUDIT_OUTSIDE_BASIS_LIMIT reads within an hour on bases other than the reader's own 担当.
AUDIT_AFTER_HOURS = (
    env.int("AUDIT_AFTER_HOURS_START", default=22, minimum=0, maximum=23),
    env.int("AUDIT_AFTER_HOURS_END", default=6, minimum=0, maximum=23),
)
AUDIT_OUTSIDE_BASIS_LIMIT = env.int("AUDIT_OUTSIDE_BASIS_LIMIT", default=10, minimum=1)
# Refused reads (a protected record asked for by id and answered 404) by one user within an hour
# beyond which the supervisors are told: someone may be probing ids.
AUDIT_REFUSED_LIMIT = env.int("AUDIT_REFUSED_LIMIT", default=10, minimum=1)
# 重複確認 at intake (same name and birth date, or 宛名番号) a user may ask within an hour: each asks
# whether a person is known, so beyond this the check answers as if nobody matched and the
# supervisors are told (cases.selectors.person_duplicates). Intake staff register a few people an hour.
DUPLICATE_CHECK_LIMIT = env.int("DUPLICATE_CHECK_LIMIT", default=30, minimum=1)
# 主担当機関の移行 (cases.services.case_handover_start): the previous lead agency, its lead worker and the
# coordinators keep read-only access to a case handed over for this many days (a grant with an end),
# to answer the next agency's questions; then the case closes to them like any other.
HANDOVER_READ_DAYS = env.int("HANDOVER_READ_DAYS", default=90, minimum=0, maximum=3650)

# アウトリーチ: this many contacts in a row without meeting the person (不在, 拒否, 置き手紙 …) alert the
# coordinators (outreach.services). Practice in the seeds' setting is two; a municipality sets its own.
OUTREACH_NO_CONTACT_ALERT = env.int("OUTREACH_NO_CONTACT_ALERT", default=2, minimum=1, maximum=20)
# 本人同意 given in writing (書面) must come with the scanned form when the municipality asks for it
# (its 文書管理規程); an oral consent (口頭) never has one. Off: the scan may be added, never required.
CONSENT_SCAN_REQUIRED = env.bool("CONSENT_SCAN_REQUIRED", default=False)

# Idle sessions end: the expiry moves forward with every request.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30, minimum=1, maximum=24 * 60)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-guardian: object permissions live in direct foreign-key tables declared next to each
# protected model; no anonymous user row, and selectors never accept global permissions.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

# --- Language and time -------------------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語")]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Uploaded documents (consent forms …): never served as static files; views check access ---
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024

# --- E-mail (notifications) ------------------------------------------------------------------------
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="jusou@localhost")
# Whether notifications are also announced by e-mail (the mail never carries case details).
NOTIFICATION_EMAIL = env.bool("NOTIFICATION_EMAIL", default=False)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Printed documents (jusou.pdf) -----------------------------------------------------------------
# The municipality named in the header of every printed form (相談受付・申込票, 会議録 …).
MUNICIPALITY_NAME = env.str("MUNICIPALITY_NAME", default="みどり市")

# --- Statistics (jusou.reports.statistics) -------------------------------------------------------------------
# The municipality's population, for rates per 10万人 per month; 0: not configured, no rates shown.
STATISTICS_POPULATION = env.int("STATISTICS_POPULATION", default=0, minimum=0, maximum=50_000_000)
# Counts from 1 to this minus one leave the system (exports, API) as ＊ so a small cell cannot identify a person.
STATISTICS_SUPPRESS_BELOW = env.int("STATISTICS_SUPPRESS_BELOW", default=3, minimum=1, maximum=100)

# A supervisor's dashboard charts (city-wide figures) are recounted at most this often, in seconds.
DASHBOARD_FIGURES_SECONDS = env.int("DASHBOARD_FIGURES_SECONDS", default=300, minimum=0, maximum=86_400)

# --- Plausible dates (jusou.plausible) ---------------------------------------------------------------
# The earliest 受付日時, 経過記録, 同意日 … accepted: records of this work begin here (生年月日 from 1900).
try:
    RECORDS_START_DATE = date.fromisoformat(env.str("RECORDS_START_DATE", default="2000-01-01"))
except ValueError:
    raise ImproperlyConfigured(
        "RECORDS_START_DATE must be a date written YYYY-MM-DD, e.g. 2000-01-01."
    ) from None

# --- Security ----------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    # TLS ends at the reverse proxy, which sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        # The logout form's POST ends at the IdP's end-session page (RP-initiated logout): browsers apply
        # form-action to the redirect too, so each IdP's origin is allowed.
        "form-action": [
            SELF,
            *sorted(
                {sso_origin(p.issuer) for p in SSO_OIDC.values()}
                | {origin for p in SSO_SAML.values() for origin in p.origins}
            ),
        ],
        "frame-ancestors": [NONE],
    },
}

# --- REST API (/api/v1/) ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "jusou.api.auth.BearerTokenAuthentication",
        "jusou.api.auth.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["jusou.api.auth.ApiAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["jusou.api.auth.ClientRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "jusou.api.pagination.Cursor",
    # django-filter, refusing unknown parameters and unreadable values (jusou.api.filters).
    "DEFAULT_FILTER_BACKENDS": ["jusou.api.filters.StrictFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with control characters, too deep or too many elements: 400 (jusou.api.parsers).
    "DEFAULT_PARSER_CLASSES": ["jusou.api.parsers.HygienicJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "jusou.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
}
# Personal and machine-client tokens (django-rest-knox) expire after this many days.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30, minimum=1, maximum=366)
# Requests per account (each machine client counts alone), counted in the shared cache.
API_RATE_LIMIT = env.rate("API_RATE_LIMIT", default="600/minute")
API_TOKEN_RATE_LIMIT = env.rate("API_TOKEN_RATE_LIMIT", default="20/minute")
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024, minimum=1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32, minimum=4, maximum=200)
API_JSON_MAX_ELEMENTS = env.int("API_JSON_MAX_ELEMENTS", default=10_000, minimum=100, maximum=1_000_000)
REST_KNOX = {"TOKEN_TTL": timedelta(days=API_TOKEN_DAYS), "AUTH_HEADER_PREFIX": "Bearer"}
SPECTACULAR_SETTINGS = {
    "TITLE": "jusou API",
    "DESCRIPTION": "重層的支援体制整備事業 ケース管理システムの API。閲覧・更新は画面と同じ権限（担当・支援会議・本人同意・管理者）に従います。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "jusou.api.auth.StaffSessionAuthentication",
        "jusou.api.auth.BearerTokenAuthentication",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The error body for every refusal an operation can give, and the OpenAPI links (jusou.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "jusou.api.schema.postprocess",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AgencyKindEnum": "jusou.models.AgencyKind",
        "NoteKindEnum": "cases.models.NoteKind",
        "CaseStatusEnum": "cases.models.CaseStatus",
        "PlanStatusEnum": "meetings.models.PlanStatus",
        "TaskStatusEnum": "meetings.models.TaskStatus",
        "ConsentMethodEnum": "meetings.models.ConsentMethod",
        "ContactKindEnum": "outreach.models.ContactKind",
        "ResourceKindEnum": "community.models.ResourceKind",
        "ParticipationKindEnum": "community.models.ParticipationKind",
    },
}

# --- Logging -----------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env.choice("LOG_LEVEL", ["DEBUG", "INFO", "WARNING", "ERROR"], default="INFO"),
    },
    # WeasyPrint logs every rendering step at INFO, and fontTools every subset: warnings are enough.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
}

# Names this file reads; tests/test_deployment.py checks docker-compose.yml against them.
ENVIRONMENT_VARIABLES = frozenset(env.names_read)
