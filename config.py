"""Configuration classes, read from the environment.

`create_app` picks `TestingConfig` for tests and `Config` otherwise; every value
can be overridden with an environment variable of the same name (SECRET_KEY is
also read from the instance folder's `secret_key` file when it is not set).
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("VAKA_INSTANCE_DIR", BASE_DIR / "instance"))

#: Placeholder that must never reach production; `create_app` refuses it.
DEFAULT_SECRET_KEY = "dev-not-secret"
#: Where `make run` writes a random key; used when SECRET_KEY is not in the environment.
SECRET_KEY_FILE = INSTANCE_DIR / "secret_key"


def secret_key(environ: Mapping[str, str] = os.environ,
               key_file: Path = SECRET_KEY_FILE) -> str | None:
    """SECRET_KEY from the environment, else from the instance's key file, else None."""
    if environ.get("SECRET_KEY"):
        return environ["SECRET_KEY"]
    try:
        return key_file.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, accepting the common short forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    SECRET_KEY = secret_key() or DEFAULT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'vaka.sqlite'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    #: Milliseconds a SQLite writer waits for another writer before giving up.
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "15000"))
    #: Load the active model when the app is created, for servers other than gunicorn
    #: (gunicorn.conf.py loads it in every worker), such as `flask run`.
    WARM_UP_MODEL = os.environ.get("WARM_UP_MODEL", "0") == "1"
    #: Seconds between two `PRAGMA optimize` runs on one pooled SQLite connection.
    SQLITE_OPTIMIZE_EVERY_S = float(os.environ.get("SQLITE_OPTIMIZE_EVERY_S", "3600"))
    # A report is at most 10,000 characters (up to 40 kB in UTF-8) plus a suggestion.
    MAX_CONTENT_LENGTH = 256 * 1024
    WTF_CSRF_TIME_LIMIT = None  # a long report must not expire while it is typed
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: The login cookie travels over HTTPS only. `make run` (plain HTTP on 127.0.0.1) and
    #: the tests turn it off; a production start gets it without asking.
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    BABEL_DEFAULT_LOCALE = "sv"
    LANGUAGES = ("sv", "en")
    #: The region's zone: every page shows times in it (stored times stay UTC).
    TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Stockholm")
    QUEUE_PAGE_SIZE = 25
    #: Days the coordination group usually takes to answer a new report, which the
    #: confirmation tells the reporter (in weeks when it is whole weeks).
    REPORT_ANSWER_DAYS = int(os.environ.get("REPORT_ANSWER_DAYS", "5"))
    #: How soon a report must be handled, by risk score: the first row whose
    #: minimum score the report reaches gives its hours (score 8+ within a day).
    RISK_DUE_HOURS = ((8, 24), (4, 7 * 24), (1, 30 * 24))
    #: Rate-limit counters: Redis when REDIS_URL is set (shared by all app instances),
    #: else this process's memory (each worker then counts on its own).
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS",
                                             "20 per minute;100 per hour")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT",
                                             "5 per minute;30 per hour")
    RECEIPT_LIMIT_PER_ADDRESS = os.environ.get("RECEIPT_LIMIT_PER_ADDRESS",
                                               "10 per minute;60 per hour")
    #: The report form asks for matching known issues as a reporter types (debounced).
    MATCHING_LIMIT_PER_ADDRESS = os.environ.get("MATCHING_LIMIT_PER_ADDRESS",
                                                "120 per minute;2000 per hour")
    #: Refused API tokens per client address (app/throttle.py).
    API_AUTH_FAILURE_LIMIT_PER_ADDRESS = os.environ.get("API_AUTH_FAILURE_LIMIT_PER_ADDRESS",
                                                        "20 per minute;100 per hour")
    #: How many reverse proxies in front of the app may set X-Forwarded-For (0: none,
    #: the header is ignored and the connecting address counts).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    #: Days a report's free text is kept, per kind, counted from the day it was submitted;
    #: 0 or empty keeps it forever. `flask retention apply` blanks older text (checked there).
    RETENTION_DAYS_INCIDENT = os.environ.get("RETENTION_DAYS_INCIDENT", "730")
    RETENTION_DAYS_FEEDBACK = os.environ.get("RETENTION_DAYS_FEEDBACK", "365")
    #: Rows fetched per round trip when an export streams.
    EXPORT_BATCH_SIZE = int(os.environ.get("EXPORT_BATCH_SIZE", "2000"))
    #: The key behind research pseudonyms (each project gets its own key derived
    #: from it); SECRET_KEY when unset. Changing it changes every pseudonym.
    PSEUDONYM_KEY = os.environ.get("PSEUDONYM_KEY")
    #: The key behind stored receipt hashes (app/services/reports.py); SECRET_KEY when
    #: unset. Changing it makes every receipt code given out so far stop working.
    RECEIPT_KEY = os.environ.get("RECEIPT_KEY")
    #: Aggregate counts below this are suppressed so no small group can be singled out.
    AGGREGATE_MIN_CELL = int(os.environ.get("AGGREGATE_MIN_CELL", "5"))
    #: How passwords are hashed: a method of werkzeug's
    #: `generate_password_hash`. Stored hashes name their method, so changing it
    #: affects new hashes only.
    PASSWORD_HASH_METHOD = "scrypt"
    #: A directory of labeled *.jsonl files the model trains on instead of the bundled
    #: corpus (ml/data/corpus); the human labels are added either way.
    TRAINING_CORPUS_DIR = os.environ.get("TRAINING_CORPUS_DIR") or None
    #: The address people open Vaka at; links in e-mails start with it.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://localhost:5000")
    #: SMTP for the alert e-mails; without MAIL_SERVER no e-mail is sent.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_STARTTLS = os.environ.get("MAIL_USE_STARTTLS", "0") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "vaka@localhost")
    #: Seconds to wait for the SMTP server.
    MAIL_TIMEOUT_S = float(os.environ.get("MAIL_TIMEOUT_S", "10"))
    #: Where the background jobs' queue lives (app/jobs): JOBS_URL when set
    #: (``redis://``, ``postgresql://`` or ``sqlite:///path``), else REDIS_URL, else a
    #: SQLite file in the instance folder (the embedded default, `make run`).
    JOBS_URL = (os.environ.get("JOBS_URL") or os.environ.get("REDIS_URL")
                or f"sqlite:///{INSTANCE_DIR / 'jobs.sqlite'}")
    #: Run each job at once in the process that enqueues it (no worker): the tests.
    JOBS_IMMEDIATE = os.environ.get("JOBS_IMMEDIATE", "0") == "1"
    #: Threads of one `flask jobs worker`.
    JOBS_WORKERS = int(os.environ.get("JOBS_WORKERS", "2"))
    #: A failing job is tried again this many times, the first after JOBS_RETRY_DELAY_S
    #: seconds, each wait twice the one before (10 s, 20 s, ... 160 s by default).
    JOBS_RETRIES = int(os.environ.get("JOBS_RETRIES", "5"))
    JOBS_RETRY_DELAY_S = float(os.environ.get("JOBS_RETRY_DELAY_S", "10"))
    # Operations (app/ops; README, Production, "Operations") --------------------------
    #: Networks that may read /metrics, comma-separated CIDR blocks; anyone else gets 404
    #: unless they send METRICS_TOKEN. The address is resolved as for rate limits
    #: (TRUSTED_PROXIES): behind a proxy that is not trusted, it is the proxy's.
    METRICS_ALLOWED_NETWORKS = os.environ.get("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
    #: A bearer token that opens /metrics from anywhere (``Authorization: Bearer ...``).
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    #: Redis, when the instances share one: /readyz checks that it answers.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # Single sign-on with OpenID Connect (app/auth/sso.py; README, "Single sign-on") ---------
    #: The provider's discovery document; without it there is no single sign-on.
    OIDC_METADATA_URL = os.environ.get("OIDC_METADATA_URL") or None
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID") or None
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET") or None
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
    #: The ID token's claim that holds the e-mail address Vaka knows the person by.
    OIDC_EMAIL_CLAIM = os.environ.get("OIDC_EMAIL_CLAIM", "email")
    #: The claim whose values map to Vaka roles, and the map: "value=role,value=role",
    #: the first value the person has wins (write the most privileged first).
    OIDC_ROLE_CLAIM = os.environ.get("OIDC_ROLE_CLAIM", "groups")
    OIDC_ROLE_MAP = os.environ.get("OIDC_ROLE_MAP", "")
    #: Seconds an ID token's times (exp, iat, nbf) may be off, for clocks that differ.
    OIDC_CLOCK_SKEW_S = int(os.environ.get("OIDC_CLOCK_SKEW_S", "60"))
    #: Seconds to wait for the provider (discovery, keys, token).
    OIDC_TIMEOUT_S = float(os.environ.get("OIDC_TIMEOUT_S", "10"))
    #: Whether the password form is offered: "1" or "0"; unset, only when there is no
    #: single sign-on.
    PASSWORD_LOGIN = {"1": True, "0": False}.get(os.environ.get("PASSWORD_LOGIN", ""))


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    WTF_CSRF_ENABLED = False
    SESSION_COOKIE_SECURE = False  # the test client and live servers speak plain HTTP
    QUEUE_PAGE_SIZE = 5
    RATELIMIT_ENABLED = False  # tests of throttling turn it on
    RATELIMIT_STORAGE_URI = "memory://"
    #: Cheap hashes: scrypt costs about 0.1 s per test user.
    #: tests/test_password_hashing.py checks the production method.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Assertions read English; tests of Swedish send Accept-Language.
    BABEL_DEFAULT_LOCALE = "en"
    MAIL_SERVER = None  # tests of e-mail start their own SMTP server
    #: A submitted report is processed before the POST returns, as the tests expect;
    #: tests/test_jobs.py runs a real worker instead.
    JOBS_IMMEDIATE = True
