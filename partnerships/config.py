"""Configuration, read from the environment.

Development gets a generated secret key kept in ``instance/`` so sessions survive
restarts; production refuses to start without ``SECRET_KEY`` (see ``create_app``).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from .links import trusted_hosts


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def dev_secret_key(instance_path: Path) -> str:
    """Return a per-checkout development key, creating it on first use."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs given without one (as hosts often do)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings for running the app; every value can come from the environment."""

    ENV_NAME = os.environ.get("APP_ENV", "development")
    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # default set in create_app
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    SQLALCHEMY_RECORD_QUERIES = False
    # SQLite only: how long a writer waits for another's write lock before the request
    # fails (transactions.py takes the lock at BEGIN, so waits queue).
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "5000"))
    SERVICE_NAME = os.environ.get("SERVICE_NAME", "Local Partnerships")
    # Public address of the service, e.g. https://partnerships.example.org: every absolute
    # link in an email, feed, export or printout starts with it, never with the Host header
    # a request came with (see links.py).
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # Hosts the app answers for (comma-separated; ".example.org" allows subdomains); any
    # other Host header gets a 400. Unset: in production, BASE_URL's host; elsewhere, any.
    TRUSTED_HOSTS = (trusted_hosts(BASE_URL, os.environ["TRUSTED_HOSTS"])
                     if os.environ.get("TRUSTED_HOSTS", "").strip() else None)
    # Host part of calendar UIDs (meeting-<id>@<host>). Calendars match events by UID, so
    # it must never change: set it if BASE_URL might. Default: BASE_URL's host.
    CALENDAR_UID_HOST = os.environ.get("CALENDAR_UID_HOST")
    # Fetches of one personal calendar feed (Flask-Limiter syntax).
    CALENDAR_FEED_RATE_LIMIT = os.environ.get("CALENDAR_FEED_RATE_LIMIT", "60 per hour")
    # Requests to the open data API (/api/v1/), per address, all endpoints together.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "300 per minute")
    WTF_CSRF_TIME_LIMIT = None  # tie the token to the session, not the clock
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_BYTES", str(21 * 1024 * 1024)))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", ENV_NAME == "production")
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = "https" if ENV_NAME == "production" else "http"

    # Rate limits (Flask-Limiter). memory:// is per process: use redis:// in production.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    SIGNIN_RATE_LIMIT = os.environ.get("SIGNIN_RATE_LIMIT", "10 per minute;50 per hour")
    # Posts to the account forms that check the current password (details, password,
    # deletion), per signed-in account.
    PASSWORD_CHECK_RATE_LIMIT = os.environ.get("PASSWORD_CHECK_RATE_LIMIT", "10 per hour")
    # Concerns raised while signed out, per address (anyone may raise one, unverified).
    CONCERN_RATE_LIMIT = os.environ.get("CONCERN_RATE_LIMIT", "10 per hour")

    # Pages kept per worker for visitors who are not signed in (pagecache.py); 0: none.
    PAGE_CACHE_BYTES = int(os.environ.get("PAGE_CACHE_BYTES", str(32 * 1024 * 1024)))

    # Email
    MAIL_FROM = os.environ.get("MAIL_FROM", "Local Partnerships <no-reply@localhost>")
    SMTP_HOST = os.environ.get("SMTP_HOST", "localhost")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", False)
    SMTP_SSL = _bool("SMTP_SSL", False)
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "10"))
    # Print each email to the console when it is queued (the demo works with no mail server).
    MAIL_PRINT = _bool("MAIL_PRINT", ENV_NAME != "production")

    # Token lifetimes, in seconds
    CONFIRM_TOKEN_MAX_AGE = 3 * 24 * 3600
    RESET_TOKEN_MAX_AGE = 3600


class TestConfig(Config):
    """Settings for the test suite: in-memory database, no CSRF unless a test asks."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_PRINT = False
    SERVER_NAME = None
    BASE_URL = "http://localhost"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
