"""Django settings for PrivPad, read from environment variables with defaults that need no setup.

Embedded default: SQLite and node storage under PRIVPAD_DATA_DIR, in-memory channel layer,
runs executed inside the server process. Production: DATABASE_URL (PostgreSQL) and REDIS_URL.
Every variable is documented with its default in `.env.example`; `console.checks` warns about
unsafe combinations.
"""

import os
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

from csp.constants import NONCE, NONE, SELF

from console.env import (
    database_from_url,
    envbool,
    envchoice,
    envint,
    envlist,
    envstr,
    persistent_secret_key,
    redis_channel_layer,
)
from core.comm.transports import DEFAULT_TRANSPORT, TRANSPORTS

BASE_DIR = Path(__file__).resolve().parent.parent

# Everything this process creates (database, uploads, datasets, run outputs, the secret key) is
# readable by the server's user only: directories 0700, files 0600. Set before anything is
# created; `manage.py storage_check --fix-permissions` tightens what older versions left.
os.umask(0o077)

DATA_DIR = Path(envstr("PRIVPAD_DATA_DIR", "var"))
if not DATA_DIR.is_absolute():
    DATA_DIR = (BASE_DIR / DATA_DIR).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
NODE_STORAGE_DIR = DATA_DIR / "nodes"
# This installation's node key pair and certificate (`manage.py node init`), files 0600.
NODE_IDENTITY_DIR = DATA_DIR / "node-identity"
UPLOAD_TEMP_DIR = DATA_DIR / "uploads"
UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = persistent_secret_key(DATA_DIR)
# "embedded": one console hosts several nodes (trials, teaching; every party trusts this one
# operator). "network": this installation is ONE institution's node, paired with its peers.
PRIVPAD_DEPLOYMENT = envchoice("PRIVPAD_DEPLOYMENT", "embedded", ["embedded", "network"])
# Node-to-node calls: how far a call's timestamp may be from this node's clock (replays within
# the window are refused by nonce), and how often `manage.py node serve` pings each peer.
PRIVPAD_NODE_CALL_WINDOW_SECONDS = envint("PRIVPAD_NODE_CALL_WINDOW_SECONDS", 120, minimum=5)
PRIVPAD_NODE_HEALTH_INTERVAL_SECONDS = envint("PRIVPAD_NODE_HEALTH_INTERVAL_SECONDS", 60, minimum=5)
# After `manage.py node rotate-certificate`: how long peers still accept the old certificate
# (and this node can still tell a peer that was offline); at most 7 days.
PRIVPAD_NODE_ROTATION_GRACE_SECONDS = envint(
    "PRIVPAD_NODE_ROTATION_GRACE_SECONDS", 86400, minimum=0
)
# Network mode: where this node's engine listens for the other nodes' engine links during a
# run (host:port, reachable by every peer; mutual TLS with the node certificates).
PRIVPAD_ENGINE_ADDRESS = envstr("PRIVPAD_ENGINE_ADDRESS", "")
# Network mode: what carries the engine links (`core.comm.transports`): raw mutual-TLS sockets
# or gRPC streams. Every node of a run must use the same.
PRIVPAD_LINK_TRANSPORT = envchoice("PRIVPAD_LINK_TRANSPORT", DEFAULT_TRANSPORT, sorted(TRANSPORTS))
# Network mode: this node serves SEMI2K's Beaver triples as a dealer node for runs of projects
# it is no member of (`console.federation.dealing`): off by default, its operator's decision.
# It then needs PRIVPAD_ENGINE_ADDRESS (the parties' engines dial it there).
PRIVPAD_SERVES_DEALER = envbool("PRIVPAD_SERVES_DEALER", False)
DEBUG = envbool("PRIVPAD_DEBUG", False)
ALLOWED_HOSTS = envlist("PRIVPAD_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("PRIVPAD_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "console.accounts",
    "console.nodes",
    "console.projects",
    "console.datasets",
    "console.audit",
    "console.pages",
    "console.api",
    "console.demo",
    "console.pipelines",
    "console.approvals",
    "console.federation",
    "workflows",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "console.pages.headers.BrowserPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Language from the session/cookie or the browser; a signed-in user's saved preference
    # wins (UserLanguageMiddleware below, once the user is known).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "console.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "console.accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "console.accounts.sessions.IdleSessionMiddleware",
    # Last: it turns a sign-in that axes locked out into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
ASGI_APPLICATION = "console.asgi.application"
WSGI_APPLICATION = None

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
                "console.pages.context.navigation",
                "console.nodes.context.deployment",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASE_URL = envstr("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "privpad.sqlite3",
            # Concurrent writers (requests and run threads) queue instead of failing with
            # "database is locked": WAL lets reads proceed while one connection writes; every
            # transaction takes the write lock when it begins (IMMEDIATE), so it waits for it
            # up to `timeout` seconds, where a deferred transaction that read first and writes
            # later fails at once (SQLite cannot wait to upgrade a read lock held by a reader
            # whose snapshot is stale). Run data is re-creatable: NORMAL sync is durable in WAL.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Tests use a file too: an in-memory shared-cache database fails at once with
            # "table is locked" when a run thread writes while a request thread reads.
            "TEST": {"NAME": DATA_DIR / "test-privpad.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL", "")
# Messages a websocket's channel holds before the layer drops new ones (the default is 100):
# a page busy drawing must not lose a run's status events.
CHANNEL_CAPACITY = 1000
if REDIS_URL:
    CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_URL, CHANNEL_CAPACITY)}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY},
        }
    }

# How runs execute: "embedded" (thread pool inside the server) or "worker" (separate
# `manage.py db_worker` processes); and how many server processes serve the console.
PRIVPAD_RUN_EXECUTION = envchoice("PRIVPAD_RUN_EXECUTION", "embedded", ["embedded", "worker"])
PRIVPAD_WEB_WORKERS = envint("PRIVPAD_WEB_WORKERS", 1, minimum=1)
# Pipeline runs go through Django's Tasks API (django-tasks): embedded -> a thread pool in the
# server process; worker -> django-tasks-db's queue, drained by `manage.py db_worker`.
if PRIVPAD_RUN_EXECUTION == "worker":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    TASKS = {
        "default": {
            "BACKEND": "workflows.backends.ThreadPoolBackend",
            "OPTIONS": {"max_workers": envint("PRIVPAD_RUN_THREADS", 2, minimum=1)},
        }
    }
# Disclosure: the fewest rows behind any aggregate one party's data gives to another party
# (curve points and bins of an evaluation, statistics of another party's columns).
PRIVPAD_DISCLOSURE_MIN_ROWS = envint("PRIVPAD_DISCLOSURE_MIN_ROWS", 20, minimum=2)
# How workflows reads console facts (projects, parties, authorised datasets): see workflows.ports.
PRIVPAD_PIPELINE_PORT = "console.datasets.pipeline_sources.ConsoleSources"

AUTH_USER_MODEL = "accounts.User"
# Authenticator apps show this name next to the account.
OTP_TOTP_ISSUER = "PrivPad"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out client before any password is checked.
    "console.accounts.authentication.ClientLockoutBackend",
    # Django's backend, refusing users of disabled nodes (at sign-in and on open sessions).
    "console.accounts.authentication.NodeAwareBackend",
    # Roles grant their Django permissions (e.g. approvers decide disclosure requests).
    "console.accounts.roles.RolePermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "pages:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# English by default; Simplified Chinese for users who choose it (their saved preference,
# the language switcher, or their browser's Accept-Language).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = envstr("PRIVPAD_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # plotly.js as the installed plotly package ships it (one version for pages and reports).
    ("vendor/plotly", Path(find_spec("plotly").submodule_search_locations[0]) / "package_data"),
]
STATIC_ROOT = DATA_DIR / "collected-static"
# The console serves its own static files (no CDN, no separate web server needed).
PRIVPAD_SERVE_STATIC = envbool("PRIVPAD_SERVE_STATIC", True)

# Uploads: files stream to disk in chunks (never held whole in memory), capped in size.
PRIVPAD_UPLOAD_MAX_BYTES = envint("PRIVPAD_UPLOAD_MAX_BYTES", 2 * 1024**3, minimum=1)
FILE_UPLOAD_HANDLERS = ["console.datasets.uploads.NodeStorageUploadHandler"]
FILE_UPLOAD_TEMP_DIR = str(UPLOAD_TEMP_DIR)
FILE_UPLOAD_PERMISSIONS = 0o600
# Request bodies other than uploaded files (JSON, form fields): larger ones answer 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Deepest nesting of lists/objects accepted in a JSON body (a pipeline graph needs about 6).
PRIVPAD_JSON_MAX_DEPTH = 32
# Widest accepted dataset: more columns are refused at upload with a message saying so.
PRIVPAD_DATASET_MAX_COLUMNS = envint("PRIVPAD_DATASET_MAX_COLUMNS", 2000, minimum=1)
PRIVPAD_PREVIEW_ROWS = 100

# Browser security. Content-Security-Policy (django-csp): scripts and styles only from this
# site or carrying the page's nonce; no inline event handlers, no style="" attributes, no
# plugins, no framing; websockets to this site only ('self' covers ws/wss in CSP 3).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE, "'report-sample'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Features no page of the console uses (console.pages.headers sends it).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
# TLS: PRIVPAD_TLS=true when users reach the console over HTTPS (usually through a reverse
# proxy that sets X-Forwarded-Proto): HSTS, redirect to HTTPS, secure cookies.
PRIVPAD_TLS = envbool("PRIVPAD_TLS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRIVPAD_TLS else None
SECURE_SSL_REDIRECT = PRIVPAD_TLS
SECURE_HSTS_SECONDS = envint("PRIVPAD_HSTS_SECONDS", 31536000, minimum=0) if PRIVPAD_TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRIVPAD_TLS
SECURE_HSTS_PRELOAD = PRIVPAD_TLS and envbool("PRIVPAD_HSTS_PRELOAD", False)

# Run outputs: the table outputs of a pipeline's runs older than its last N are removed after
# each run (models, reports and outputs kept runs reuse stay; workflows.retention). 0: keep all.
PRIVPAD_KEEP_RUNS = envint("PRIVPAD_KEEP_RUNS", 20, minimum=0)

SESSION_COOKIE_HTTPONLY = True
# Sessions end after this much inactivity (console.accounts.sessions.IdleSessionMiddleware).
PRIVPAD_SESSION_IDLE_MINUTES = envint("PRIVPAD_SESSION_IDLE_MINUTES", 60, minimum=1)
SESSION_COOKIE_AGE = PRIVPAD_SESSION_IDLE_MINUTES * 60
# Sensitive actions (deleting a dataset, issuing a token) need a sign-in at most this old.
PRIVPAD_REAUTH_MINUTES = envint("PRIVPAD_REAUTH_MINUTES", 15, minimum=1)

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT failures in a row from one
# address for one username (or bad API tokens from one address), that pair is locked out for
# the cool-off; every new failure while locked restarts it. See console.accounts.lockout.
AXES_FAILURE_LIMIT = envint("PRIVPAD_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("PRIVPAD_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "console.accounts.lockout.lockout_response"
# The client address is REMOTE_ADDR: behind a reverse proxy, run daphne with --proxy-headers
# so that it is the client's, not the proxy's (README, "Production settings").
# Only the sign-in form's failures are logged by axes (our audit log records the rest).
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
SESSION_COOKIE_SECURE = envbool("PRIVPAD_SECURE_COOKIES", PRIVPAD_TLS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # People's hashed, scoped, expiring tokens with hardening's bad-token lockout, also
        # applying the user's saved language.
        "console.accounts.authentication.LanguageTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "console.accounts.permissions.RoleAndScope",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "console.api.exceptions.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "console.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "console.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# The schema and Swagger UI need a signed-in user unless published (console.api.docs).
PRIVPAD_PUBLISH_API_SCHEMA = envbool("PRIVPAD_PUBLISH_API_SCHEMA", False)
SPECTACULAR_SETTINGS = {
    "TITLE": "PrivPad API",
    "DESCRIPTION": "Nodes, projects, datasets, authorisations and audit of a PrivPad console.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise ask validator.swagger.io for a badge: nothing leaves the site.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Several models have a "status" or "role" field: give each choice set its own name.
    "ENUM_NAME_OVERRIDES": {
        "NodeStatusEnum": "console.nodes.models.Node.Status",
        "ProjectStatusEnum": "console.projects.models.Project.Status",
        "UserRoleEnum": "console.accounts.models.User.Role",
        "ApiTokenScopeEnum": "console.accounts.models.ApiToken.Scope",
        "ColumnRoleEnum": "console.datasets.models.Authorization.Role",
        "KindEnum": "console.nodes.models.Node.Kind",  # named before shared projects had kinds
        "MembershipDecisionEnum": "console.federation.models.Decision",
        "MembershipChangeEnum": "console.federation.models.Proposal.Kind",
    },
}

LOG_LEVEL = envstr("PRIVPAD_LOG_LEVEL", "INFO")
# Log the phases of every run at this node with timestamps (`workflows.timeline`): profiling.
PRIVPAD_RUN_TIMELINE = envbool("PRIVPAD_RUN_TIMELINE", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "privpad.timeline": {"level": "INFO" if PRIVPAD_RUN_TIMELINE else "WARNING"},
    },
}
