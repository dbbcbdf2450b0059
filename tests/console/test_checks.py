"""The system check warns about unsafe production combinations, and only about those."""

from console.checks import check_production_settings

REDIS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}


def on_postgres(monkeypatch) -> None:
    monkeypatch.setattr(
        "console.checks.default_database_engine", lambda: "django.db.backends.postgresql"
    )


def on_sqlite(monkeypatch) -> None:
    monkeypatch.setattr(
        "console.checks.default_database_engine", lambda: "django.db.backends.sqlite3"
    )


def ids(settings) -> set[str]:
    return {warning.id for warning in check_production_settings()}


def test_the_embedded_default_is_clean(settings):
    assert ids(settings) == set()


def test_it_warns_about_debug_with_a_public_host(settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["127.0.0.1", "privpad.bank.example"]
    assert ids(settings) == {"privpad.W001"}
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    assert ids(settings) == set()


def test_it_warns_about_sqlite_with_several_workers(settings, monkeypatch):
    on_sqlite(monkeypatch)
    settings.PRIVPAD_WEB_WORKERS = 4
    settings.CHANNEL_LAYERS = REDIS
    assert ids(settings) == {"privpad.W002"}
    on_postgres(monkeypatch)
    assert ids(settings) == set()


def test_it_warns_about_an_in_memory_layer_with_a_separate_worker(settings):
    settings.PRIVPAD_RUN_EXECUTION = "worker"
    assert ids(settings) == {"privpad.W003"}
    settings.CHANNEL_LAYERS = REDIS
    assert ids(settings) == set()


def test_it_warns_about_an_in_memory_layer_shared_by_several_workers(settings, monkeypatch):
    settings.PRIVPAD_WEB_WORKERS = 2
    on_postgres(monkeypatch)
    assert ids(settings) == {"privpad.W004"}
