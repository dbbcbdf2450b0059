"""Node use cases: platform admins register parties and edit their public description."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from console.audit.log import Action, record
from console.nodes.models import Node
from workflows import revocation
from workflows.actors import Actor
from workflows.messages import translatable

REGISTER_FIELDS = ("name", "display_name", "institution", "kind", "address", "status")
# The name is the node's identity (and its storage directory): fixed once registered.
UPDATE_FIELDS = ("display_name", "institution", "kind", "address", "status")


def ensure_platform_admin(actor: Actor, action: str) -> None:
    if not actor.is_superuser:
        raise PermissionDenied(_("Only platform admins may %(action)s.") % {"action": action})


def _reject_unknown(fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError(
            _("Cannot set %(unknown)s; allowed fields: %(allowed)s.")
            % {"unknown": ", ".join(unknown), "allowed": ", ".join(allowed)},
            code="invalid_field",
        )


def register_node(actor: Actor, **fields) -> Node:
    """Register a node (platform admins only) and create its private storage."""
    ensure_platform_admin(actor, "register nodes")
    if settings.PRIVPAD_DEPLOYMENT == "network":
        # Here a peer is a node another institution runs: it exists only through pairing.
        raise ValidationError(
            _(
                "In a network deployment other nodes join by pairing (create or accept an "
                "invitation), not by registration."
            ),
            code="network_deployment",
        )
    _reject_unknown(fields, REGISTER_FIELDS)
    node = Node(**fields)
    if not node.display_name:
        node.display_name = node.name
    node.full_clean()
    with transaction.atomic():
        node.save()
        node.ensure_storage()
        record(actor, Action.NODE_REGISTER, target=node, node=node, kind=node.kind)
    return node


def update_node(actor: Actor, node: Node, **fields) -> Node:
    """Change a node's description, kind, address or status (platform admins only)."""
    ensure_platform_admin(actor, "change nodes")
    _reject_unknown(fields, UPDATE_FIELDS)
    for field, value in fields.items():
        setattr(node, field, value)
    node.full_clean()
    if fields:
        with transaction.atomic():
            node.save(update_fields=sorted(fields))
            record(actor, Action.NODE_REGISTER, target=node, node=node, updated=sorted(fields))
            if node.status != Node.Status.ONLINE:
                _stop_runs(node)
    return node


def _stop_runs(node: Node) -> None:
    """A disabled or offline node takes part in nothing: its projects' active runs stop."""
    from console.projects.models import ProjectMember

    projects = ProjectMember.objects.filter(node=node).values_list("project_id", flat=True)
    if node.status == Node.Status.DISABLED:
        reason = translatable("node %(node)s is disabled", node=node.name)
    else:
        reason = translatable("node %(node)s is offline", node=node.name)
    revocation.node_withdrawn(projects, reason)
