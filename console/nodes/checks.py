"""System checks for network nodes: an identity to pair with, not about to expire, a rotation
grace period rotations accept, and an engine address for runs."""

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


@register()
def network_node_has_engine_address(app_configs=None, **kwargs) -> list[Warning]:
    """In network mode, runs need this node's engine address: without it every run that
    involves this node is refused when it starts (`console.federation.runs`, `initiate`)."""
    if settings.PRIVPAD_DEPLOYMENT != "network" or settings.PRIVPAD_ENGINE_ADDRESS:
        return []
    return [
        Warning(
            "PRIVPAD_DEPLOYMENT=network but PRIVPAD_ENGINE_ADDRESS is empty: this node can "
            "pair, but every pipeline run it takes part in is refused.",
            hint="Set PRIVPAD_ENGINE_ADDRESS to the host:port where the other nodes reach this "
            "node's engine links (not the node service's port).",
            id="privpad.nodes.W005",
        )
    ]


@register()
def node_certificate_not_expiring(app_configs=None, **kwargs) -> list[Warning]:
    """This node's certificate is at least 30 days from its expiry (else: rotate it)."""
    from django.utils import timezone

    from console.nodes.identity import IdentityError, identity_exists, load_identity
    from console.nodes.models import EXPIRY_WARNING_DAYS

    if not identity_exists():
        return []
    try:
        expires_at = load_identity().expires_at
    except IdentityError as error:
        return [Warning(f"This node's identity cannot be read: {error}", id="privpad.nodes.W002")]
    days = (expires_at - timezone.now()).days
    if days >= EXPIRY_WARNING_DAYS:
        return []
    return [
        Warning(
            f"This node's certificate expires on {expires_at:%Y-%m-%d} ({days} days): then "
            "every peer refuses it.",
            hint="Run `manage.py node rotate-certificate` (peers are told over the current link).",
            id="privpad.nodes.W003",
        )
    ]


@register()
def rotation_grace_in_range(app_configs=None, **kwargs) -> list[Warning]:
    from console.nodes.rotation import MAX_GRACE

    limit, grace = int(MAX_GRACE.total_seconds()), settings.PRIVPAD_NODE_ROTATION_GRACE_SECONDS
    if grace <= limit:
        return []
    return [
        Warning(
            f"PRIVPAD_NODE_ROTATION_GRACE_SECONDS={grace} "
            f"is above {limit} (7 days): every certificate rotation would be refused.",
            hint="Set it to at most 604800.",
            id="privpad.nodes.W004",
        )
    ]
