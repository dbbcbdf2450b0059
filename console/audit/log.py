"""Record audit events from views, API endpoints and signal receivers."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from console.audit.models import AuditEvent

Action = AuditEvent.Action
Outcome = AuditEvent.Outcome


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    request: HttpRequest | None,
    action: str,
    *,
    user=None,
    target=None,
    node=None,
    outcome: str = Outcome.SUCCESS,
    username: str = "",
    **detail: Any,
) -> AuditEvent:
    """Write one audit event.

    `user` defaults to the request's user; `node` is the node owning the touched object and
    defaults to the actor's node. `detail` holds small JSON-friendly facts (never row data).
    """
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    actor_node = getattr(user, "node", None) if user is not None else None
    return AuditEvent.objects.create(
        actor=user,
        actor_username=username or (user.get_username() if user is not None else ""),
        actor_node=actor_node,
        node=node if node is not None else actor_node,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        outcome=outcome,
        detail=detail,
        ip_address=client_ip(request),
    )


def events_visible_to(user) -> QuerySet[AuditEvent]:
    """Platform admins see every event; node admins their node's; other users none."""
    events = AuditEvent.objects.select_related("actor", "actor_node", "node")
    if user.is_superuser:
        return events
    if getattr(user, "is_node_admin", False):
        return events.filter(Q(node=user.node) | Q(actor_node=user.node))
    return events.none()
