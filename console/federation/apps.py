from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "console.federation"
    label = "federation"
    verbose_name = "Projects across nodes"

    def ready(self) -> None:
        from console.federation import dealing, handlers, hooks, run_events, runs  # noqa: F401
        from console.federation.outbox import deliver_pending
        from console.nodes.link.health import AFTER_HEALTH_CHECKS

        if deliver_pending not in AFTER_HEALTH_CHECKS:
            AFTER_HEALTH_CHECKS.append(deliver_pending)
