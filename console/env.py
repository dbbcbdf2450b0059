"""Small helpers that read typed settings from environment variables (and turn URLs into the
configuration dicts Django and channels take).

Every variable read here is listed, with its default, in `.env.example`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def envstr(name: str, default: str) -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def envint(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def persistent_secret_key(data_dir: Path) -> str:
    """Return PRIVPAD_SECRET_KEY, or a random key generated once and kept in the data dir."""
    given = os.environ.get("PRIVPAD_SECRET_KEY")
    if given:
        return given
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Create with 0600 so other local users cannot read it; O_EXCL avoids two processes racing.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def database_from_url(url: str) -> dict:
    """Translate a DATABASE_URL (postgres://, postgresql://, sqlite:///) into Django's dict."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"postgres", "postgresql", "pgsql"}:
        options = dict(parse_qsl(parts.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
        }
    if scheme == "sqlite":
        # sqlite:///relative.sqlite3 or sqlite:////absolute/path.sqlite3 (the usual convention).
        path = unquote(parts.path)[1:]
        if parts.netloc or not path:
            raise ImproperlyConfigured(
                f"DATABASE_URL={url!r}: use sqlite:////absolute/path.sqlite3"
            )
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {scheme!r} is not supported (use postgres:// or sqlite:///)"
    )


# A websocket consumer waits for its next event with a blocking pop that Redis ends after
# `RedisChannelLayer.brpop_timeout` (5 s). redis-py 8 gives every read a 5 s socket timeout by
# default: an idle consumer (a run waiting in the queue, a long step without progress) then
# raised "Timeout reading from" and daphne closed its socket (1011), losing every later event.
# Reads may wait longer than the pop, and still fail on a dead connection.
REDIS_SOCKET_TIMEOUT_SECONDS = 30


def redis_channel_layer(url: str, capacity: int) -> dict:
    """The channels_redis layer on REDIS_URL, each channel holding up to `capacity` messages."""
    host = {"address": url, "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS}
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [host], "capacity": capacity},
    }
