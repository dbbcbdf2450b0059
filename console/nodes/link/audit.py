"""Audit events of node-to-node calls, on the calling side and on the called side."""

from __future__ import annotations

from console.audit.log import Action, Outcome, record
from console.nodes.models import Node, PeerRoute
from workflows.actors import Actor
from workflows.messages import Storable, render

# Audit entries keep one wording whoever reads them: English (a reason may be a message).
AUDIT_LANGUAGE = "en"


def _peer_node(name: str, fingerprint: str) -> Node | None:
    route = PeerRoute.objects.select_related("node").pinned_to(fingerprint).first()
    if route is not None:
        return route.node
    return Node.objects.filter(name=name, is_self=False).first() if name else None


def call_received(
    method: str, sender: str, fingerprint: str, outcome: str, reason: Storable = "", node=None
) -> None:
    """A call this node's service answered (or refused, with the reason)."""
    node = node or _peer_node(sender, fingerprint)
    record(
        None,
        Action.NODE_CALL,
        node=node,
        target=node,
        outcome=outcome,
        username=f"node:{sender or 'unknown'}",
        direction="received",
        method=method,
        fingerprint=fingerprint,
        **({"reason": render(reason, AUDIT_LANGUAGE)} if reason else {}),
    )


def call_made(route_or_node, method: str, outcome: str, reason: Storable = "", **detail) -> None:
    """A call this node made to a peer (a route, a node, or only a name before pairing)."""
    if isinstance(route_or_node, str):
        node, detail["peer"] = None, route_or_node
    else:
        node = getattr(route_or_node, "node", route_or_node)
    record(
        None,
        Action.NODE_CALL,
        node=node,
        target=node,
        outcome=outcome,
        username="node:self",
        direction="sent",
        method=method,
        **({"reason": render(reason, AUDIT_LANGUAGE)[:300]} if reason else {}),
        **detail,
    )


def paired(route: PeerRoute, actor: Actor | None = None, **detail) -> None:
    """A pairing: accepted by `actor` here, or (None) completed by the peer's Hello call."""
    record(
        actor,
        Action.NODE_PAIR,
        target=route.node,
        node=route.node,
        username="" if actor is not None else f"node:{route.node.name}",
        fingerprint=route.fingerprint,
        address=route.address,
        **detail,
    )


__all__ = ["Outcome", "call_made", "call_received", "paired"]
