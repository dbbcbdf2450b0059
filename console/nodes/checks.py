"""System checks for the deployment mode: a network node needs its identity to pair."""

from django.conf import settings
from django.core.checks import Warning, register


@register()
def network_node_has_identity(app_configs=None, **kwargs) -> list[Warning]:
    """In network mode, `manage.py node init` must have created this node's key pair."""
    from console.nodes.identity import identity_exists

    if settings.PRIVPAD_DEPLOYMENT != "network" or identity_exists():
        return []
    return [
        Warning(
            "PRIVPAD_DEPLOYMENT=network but this installation has no node identity: it cannot "
            "pair with other nodes or answer them.",
            hint="Run `manage.py node init --name NAME --address HOST:PORT`, then "
            "`manage.py node serve`.",
            id="privpad.nodes.W001",
        )
    ]
