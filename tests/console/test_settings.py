"""Settings come from the environment with safe defaults; bad values fail with a named error."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from console.env import database_from_url, envbool, envint, envlist, persistent_secret_key

ROOT = Path(__file__).resolve().parents[2]


def test_it_parses_postgres_urls_with_escapes_and_options():
    db = database_from_url(
        "postgres://priv%40pad:s%3Acret@db.internal:5433/privpad?sslmode=require"
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"]) == ("priv@pad", "s:cret")
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("db.internal", "5433", "privpad")
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_it_parses_sqlite_urls():
    assert database_from_url("sqlite:////srv/privpad/db.sqlite3") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/srv/privpad/db.sqlite3",
    }


@pytest.mark.parametrize("url", ["mysql://x@y/z", "sqlite://relative.db", "sqlite:///"])
def test_it_rejects_unsupported_database_urls(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url(url)


def test_envbool_reads_words_and_rejects_others(monkeypatch):
    monkeypatch.setenv("PRIVPAD_X", "yes")
    assert envbool("PRIVPAD_X", False) is True
    monkeypatch.setenv("PRIVPAD_X", "off")
    assert envbool("PRIVPAD_X", True) is False
    monkeypatch.setenv("PRIVPAD_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="PRIVPAD_X='maybe'"):
        envbool("PRIVPAD_X", False)
    monkeypatch.delenv("PRIVPAD_X")
    assert envbool("PRIVPAD_X", True) is True


def test_envint_names_bad_values(monkeypatch):
    monkeypatch.setenv("PRIVPAD_N", "12")
    assert envint("PRIVPAD_N", 1) == 12
    monkeypatch.setenv("PRIVPAD_N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="PRIVPAD_N='twelve' is not an integer"):
        envint("PRIVPAD_N", 1)
    monkeypatch.setenv("PRIVPAD_N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        envint("PRIVPAD_N", 1, minimum=1)


def test_envlist_drops_blanks(monkeypatch):
    monkeypatch.setenv("PRIVPAD_L", " a, ,b ,")
    assert envlist("PRIVPAD_L", "") == ["a", "b"]


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("PRIVPAD_SECRET_KEY", raising=False)
    first = persistent_secret_key(tmp_path / "data")
    assert len(first) >= 50
    assert persistent_secret_key(tmp_path / "data") == first
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / "secret_key").st_mode)
    assert mode == 0o600


def test_a_given_secret_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVPAD_SECRET_KEY", "given")
    assert persistent_secret_key(tmp_path) == "given"
    assert not (tmp_path / "secret_key").exists()


def test_defaults_are_safe(settings):
    assert settings.DEBUG is False
    assert settings.PRIVPAD_UPLOAD_MAX_BYTES == 2 * 1024**3
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer")
    assert str(settings.NODE_STORAGE_DIR).startswith(str(settings.DATA_DIR))


def test_env_example_lists_every_variable_the_settings_read():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    source = (root / "console/settings.py").read_text() + (root / "console/env.py").read_text()
    read = set(re.findall(r'env(?:str|bool|int|list|choice)\("([A-Z_]+)"', source))
    read |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', source))
    documented = set(re.findall(r"^([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert read, "no variables found: the pattern no longer matches settings.py"
    assert read - documented == set()


def _settings_with(setting: str = "PRIVPAD_LINK_TRANSPORT", **env) -> subprocess.CompletedProcess:
    """Load the settings module in a fresh interpreter with `env` set; print `setting`."""
    code = f"import console.settings as s; print(s.{setting})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_link_transport_defaults_to_the_engines_and_reads_either_name():
    from core.comm.transports import DEFAULT_TRANSPORT

    assert _settings_with().stdout.strip() == DEFAULT_TRANSPORT
    assert _settings_with(PRIVPAD_LINK_TRANSPORT=" GRPC ").stdout.strip() == "grpc"
    assert _settings_with(PRIVPAD_LINK_TRANSPORT="socket").stdout.strip() == "socket"


def test_a_bad_link_transport_names_the_value_and_the_choices():
    loaded = _settings_with(PRIVPAD_LINK_TRANSPORT="http2")
    assert loaded.returncode != 0
    assert "PRIVPAD_LINK_TRANSPORT='http2' is not one of grpc, socket" in loaded.stderr


def test_the_run_execution_mode_is_one_of_two_and_a_typo_is_refused():
    """A typo ("workers") used to run embedded with a warning: runs went to the web server's
    threads while the operator believed they were on the queue."""
    assert _settings_with("PRIVPAD_RUN_EXECUTION").stdout.strip() == "embedded"
    worker = _settings_with("TASKS", PRIVPAD_RUN_EXECUTION="Worker")
    assert "django_tasks_db.DatabaseBackend" in worker.stdout
    loaded = _settings_with(PRIVPAD_RUN_EXECUTION="workers")
    assert loaded.returncode != 0
    assert "PRIVPAD_RUN_EXECUTION='workers' is not one of embedded, worker" in loaded.stderr


def _documented_values() -> dict[str, str]:
    """NAME=VALUE of every variable `.env.example` lists ("the values shown are the defaults")."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _settings_dump(data_dir, **env) -> dict:
    """Every upper-case setting, loaded in a fresh interpreter with only `env` of the variables
    `.env.example` lists (and the data directory) set."""
    code = (
        "import json, console.settings as s; "
        "print(json.dumps({k: repr(getattr(s, k)) for k in dir(s) if k.isupper()}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in _documented_values()}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "PYTHONPATH": str(ROOT), **env, "PRIVPAD_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_env_example_shows_the_defaults_the_settings_use(tmp_path):
    """Setting every variable to the value `.env.example` shows changes no setting: the file
    and the settings' defaults cannot drift apart (the README points to the file for them)."""
    documented = _documented_values()
    assert (ROOT / documented.pop("PRIVPAD_DATA_DIR")).resolve() == (ROOT / "var").resolve()
    defaults = _settings_dump(tmp_path)
    as_documented = _settings_dump(tmp_path, **documented)
    differing = {
        k: (defaults[k], as_documented[k]) for k in defaults if defaults[k] != as_documented[k]
    }
    assert differing == {}
