"""Record audit events in the name of an actor (`workflows.actors.Actor`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from console.audit.models import AuditEvent
from workflows.actors import Actor

Action = AuditEvent.Action
Outcome = AuditEvent.Outcome


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def actor_of(request: HttpRequest | None) -> Actor | None:
    """The actor of a request (None for a signal sent outside any request)."""
    return Actor.from_request(request) if request is not None else None


def record(
    actor: Actor | None,
    action: str,
    *,
    user=None,
    target=None,
    node=None,
    outcome: str = Outcome.SUCCESS,
    username: str = "",
    **detail: Any,
) -> AuditEvent:
    """Write one audit event in the name of `actor`, with its client address if it has one.

    `actor` None is this node itself (bookkeeping of node-to-node calls): name it in
    `username`. `user` overrides the actor's user (a failed sign-in names the account tried);
    `username` the name recorded. `node` is the node owning the touched object and defaults
    to the actor's node. `detail` holds small JSON-friendly facts (never row data).
    """
    if actor is not None and not isinstance(actor, Actor):
        raise TypeError(
            f"record() takes an Actor (e.g. Actor.from_request(request)), not {type(actor)}"
        )
    user, actor_node, name = _who(actor, user)
    return AuditEvent.objects.create(
        actor=user,
        actor_username=username or name,
        actor_node=actor_node,
        node=node if node is not None else actor_node,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        outcome=outcome,
        detail=detail,
        ip_address=actor.ip_address if actor is not None else None,
    )


def _who(actor: Actor | None, user) -> tuple:
    """The user, their node and the name an event records for `actor` (or `user`)."""
    if user is None and actor is not None:
        user = actor.user
    if user is not None:
        return user, getattr(user, "node", None), user.get_username()
    if actor is None:
        return None, None, ""
    return None, actor.node, actor.name


def record_refused_lookup(actor: Actor, kind: str, pk, target, owner, reason: str) -> None:
    """Audit `actor`'s refused request (a 404) for the `kind` object `pk`.

    An object that exists is recorded with its owner node `owner`, whose admins see the
    attempt in full. An id that names nothing is recorded too, with no target: an entry only
    for existing ids would tell the requester's node, in its own log, which ids exist, which
    the 404 hides. Shown to the requester's node (`as_shown_to`) the two read alike.
    """
    if target is not None:
        record(
            actor,
            Action.ACCESS_DENIED,
            target=target,
            node=owner,
            outcome=Outcome.DENIED,
            reason=reason,
        )
        return
    user, actor_node, name = _who(actor, None)
    AuditEvent.objects.create(
        actor=user,
        actor_username=name,
        actor_node=actor_node,
        node=None,  # nobody owns what does not exist
        action=Action.ACCESS_DENIED,
        target_type=kind,
        target_id=str(pk)[:64],
        target_repr=UNKNOWN_TARGET,
        outcome=Outcome.DENIED,
        detail={"reason": reason},
        ip_address=actor.ip_address,
    )


def events_visible_to(user) -> QuerySet[AuditEvent]:
    """Platform admins see every event; node admins their node's; other users none."""
    events = AuditEvent.objects.select_related("actor", "actor_node", "node")
    if user.is_superuser:
        return events
    if getattr(user, "is_node_admin", False):
        return events.filter(Q(node=user.node) | Q(actor_node=user.node))
    return events.none()


HIDDEN_TARGET = "(not visible to your node)"
UNKNOWN_TARGET = "(no such object)"


def hides_target(event: AuditEvent, user) -> bool:
    """Whether `user` must not learn what `event` touched: a refused or failed attempt by
    their node on another node's object (an outsider's 404 on a private dataset must not
    reveal its name or owner in the outsider's own log), or a refused request for an id that
    names nothing (shown alike, so that the log does not tell which ids exist)."""
    if user.is_superuser or event.outcome == Outcome.SUCCESS:
        return False
    if event.node_id is None:
        return event.action == Action.ACCESS_DENIED
    return event.node_id != getattr(user, "node_id", None)


def as_shown_to(event: AuditEvent, user) -> AuditEvent:
    """`event` with the touched object's name, id and owner blanked where `user` may not see
    them (in memory only: the stored event keeps them for the owner's admins)."""
    if hides_target(event, user):
        event.target_repr = HIDDEN_TARGET
        event.target_id = ""
        event.node = None
        event.detail = {key: value for key, value in event.detail.items() if key == "reason"}
    return event
