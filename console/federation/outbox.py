"""Sending federation messages: queued in the database, delivered over the pinned node link.

`send` stores the message (in the caller's transaction) and tries it once the transaction
commits; a message the peer could not be reached for stays pending and is re-sent with the
same `message` id by `deliver_pending` (the node service's health loop calls it), so the
receiver applies it once even when only the reply was lost. A message the peer refused is not
re-sent: its reason is kept for the admins. Messages to one peer are delivered in order: a
pending one holds back the later ones.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from console.audit.log import Outcome
from console.federation.models import OutgoingMessage
from console.nodes.link import audit, credentials, transport
from console.nodes.link.envelope import EnvelopeError, error_message, seal, unseal
from console.nodes.models import Node
from workflows.messages import Message, stored_within, translatable

logger = logging.getLogger(__name__)
PERMANENT = ("refused", "rejected")
# Seconds to wait for a peer; a page that sends waits at most this long per unreachable peer.
TIMEOUT = 5.0


def send(peer: Node, method: str, body: dict) -> OutgoingMessage:
    """Queue `body` for `peer` and try to deliver it after the current transaction commits."""
    message = OutgoingMessage.objects.create(
        message_id=secrets.token_hex(16), peer=peer, method=method, body=body
    )
    transaction.on_commit(lambda: deliver_in_order(peer))
    return message


def deliver_in_order(peer: Node) -> None:
    """Deliver the peer's pending messages oldest first; stop at the first it cannot take."""
    for message in OutgoingMessage.objects.filter(peer=peer, state=OutgoingMessage.State.PENDING):
        if not deliver(message):
            break


def deliver_pending() -> None:
    peers = OutgoingMessage.objects.filter(state=OutgoingMessage.State.PENDING)
    for peer_id in peers.values_list("peer_id", flat=True).distinct():
        deliver_in_order(Node.objects.get(pk=peer_id))


def deliver(message: OutgoingMessage) -> bool:
    """One delivery attempt; True when the peer answered (applied, or refused for good)."""
    from console.nodes.pairing import PairingError

    message.attempts += 1
    route = message.peer.route_or_none()
    try:
        message.reply = call(message.peer, message.method, message.body, message.message_id)
    except (transport.NodeCallError, EnvelopeError, PairingError) as error:
        return _failed(message, route, error)
    message.state, message.delivered_at, message.last_error = "delivered", timezone.now(), ""
    message.save(update_fields=["state", "delivered_at", "last_error", "attempts", "reply"])
    audit.call_made(route, message.method, Outcome.SUCCESS, message=message.message_id)
    return True


def call(peer: Node, method: str, body: dict, message_id: str, timeout: float = TIMEOUT) -> dict:
    """One call of `method` at `peer` now, over the pinned link; its reply's body. Raises
    NodeCallError (unreachable, refused: `code`), EnvelopeError or PairingError."""
    return prepare(peer, method, body, message_id, timeout)()


def prepare(
    peer: Node, method: str, body: dict, message_id: str, timeout: float = TIMEOUT
) -> Callable[[], dict]:
    """`call` in two halves: what it reads from the database, now (raising as `call` does),
    and the returned function, which only talks to the peer: several peers can then be
    called at once from threads, which must not use this thread's database connection."""
    from console.nodes.pairing import require_identity

    route = peer.route_or_none()
    identity, me = require_identity()
    if route is None or not route.enabled:
        raise transport.NodeCallError(
            peer.name, getattr(route, "address", ""), _no_route(route), "disabled"
        )
    link = credentials.for_route(route, identity)  # around a certificate rotation too
    name, address = peer.name, route.address

    def send() -> dict:
        reply, _ = transport.call(
            peer=name,
            address=address,
            root_cert=link.root_cert,
            key=link.key,
            cert_chain=link.cert_chain,
            method=method,
            payload=seal(me.name, {**body, "message": message_id}),
            timeout=timeout,
        )
        return unseal(reply).body

    return send


def _no_route(route) -> Message:
    if route:
        return translatable("the route is disabled on this node")
    return translatable("this node is not paired with it")


def _failed(message: OutgoingMessage, route, error: Exception) -> bool:
    code = getattr(error, "code", "")
    permanent = code in PERMANENT or isinstance(error, EnvelopeError)
    # A peer's refusal is kept as msgid and params: worded for whoever reads it.
    said = error_message(error)
    message.last_error = stored_within(said, 500)
    if permanent:
        message.state = OutgoingMessage.State.REFUSED
    message.save(update_fields=["state", "last_error", "attempts"])
    audit.call_made(
        route or message.peer.name,
        message.method,
        Outcome.DENIED if permanent else Outcome.FAILED,
        said,  # worded in English by the audit writer
        message=message.message_id,
    )
    logger.warning("federation: %s to %s: %s", message.method, message.peer.name, error)
    return permanent
