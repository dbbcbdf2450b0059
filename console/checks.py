"""System checks for unsafe production combinations of settings.

Run by `manage.py check --deploy` and at every management command start; they warn rather
than fail so the embedded default keeps working with no setup.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def _debug_with_public_host() -> list[Warning]:
    public = [host for host in settings.ALLOWED_HOSTS if host not in LOCAL_HOSTS]
    if settings.DEBUG and public:
        return [
            Warning(
                f"PRIVPAD_DEBUG is on while the console answers public hosts {public}: "
                "tracebacks and settings would be shown to anyone.",
                hint="Unset PRIVPAD_DEBUG, or restrict PRIVPAD_ALLOWED_HOSTS to loopback.",
                id="privpad.W001",
            )
        ]
    return []


def default_database_engine() -> str:
    return settings.DATABASES["default"]["ENGINE"]


def _sqlite_with_several_workers() -> list[Warning]:
    if default_database_engine().endswith("sqlite3") and settings.PRIVPAD_WEB_WORKERS > 1:
        return [
            Warning(
                f"SQLite with PRIVPAD_WEB_WORKERS={settings.PRIVPAD_WEB_WORKERS}: concurrent "
                "writers lock the database and requests fail with 'database is locked'.",
                hint="Set DATABASE_URL to a PostgreSQL database, or run one worker.",
                id="privpad.W002",
            )
        ]
    return []


def _memory_layer_with_separate_worker() -> list[Warning]:
    in_memory = settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer")
    if in_memory and settings.PRIVPAD_RUN_EXECUTION == "worker":
        return [
            Warning(
                "Runs execute in separate worker processes but the channel layer is in-memory: "
                "each open run page reads their progress back from the database every second "
                "(workflows.relay) instead of receiving it as it happens.",
                hint="Set REDIS_URL, or use PRIVPAD_RUN_EXECUTION=embedded.",
                id="privpad.W003",
            )
        ]
    if in_memory and settings.PRIVPAD_WEB_WORKERS > 1:
        return [
            Warning(
                "Several server workers share an in-memory channel layer: a browser connected "
                "to one worker misses events published by another.",
                hint="Set REDIS_URL when PRIVPAD_WEB_WORKERS > 1.",
                id="privpad.W004",
            )
        ]
    return []


def _dealer_without_engine() -> list[Warning]:
    """A node that serves as a dealer must be in network mode with an engine address the
    parties can dial (`console.federation.dealing` refuses every DealerStart otherwise)."""
    from console.federation.engine import ADDRESS

    if not settings.PRIVPAD_SERVES_DEALER:
        return []
    if settings.PRIVPAD_DEPLOYMENT != "network":
        return [
            Warning(
                "PRIVPAD_SERVES_DEALER is on but PRIVPAD_DEPLOYMENT is not 'network': an "
                "embedded console's runs use their own dealer thread, so this node serves none.",
                hint="Set PRIVPAD_DEPLOYMENT=network, or unset PRIVPAD_SERVES_DEALER.",
                id="privpad.W006",
            )
        ]
    if not ADDRESS.match(settings.PRIVPAD_ENGINE_ADDRESS):
        return [
            Warning(
                f"PRIVPAD_SERVES_DEALER is on but PRIVPAD_ENGINE_ADDRESS "
                f"({settings.PRIVPAD_ENGINE_ADDRESS!r}) is not host:port: the parties' engines "
                "cannot dial this dealer node, so it refuses every run.",
                hint="Set PRIVPAD_ENGINE_ADDRESS=host:port, reachable by every party.",
                id="privpad.W007",
            )
        ]
    return []


@register(Tags.security, Tags.compatibility)
def check_production_settings(app_configs=None, **kwargs) -> list[Warning]:
    return (
        _debug_with_public_host()
        + _sqlite_with_several_workers()
        + _memory_layer_with_separate_worker()
        + _dealer_without_engine()
    )
