"""One installation seen from inside: this node (`is_self`) and paired peers with routes.

Handlers are called as the node service calls them, with the caller's route and an envelope;
messages this node sends stay queued (`OutgoingMessage`): nothing here touches the network.
"""

from __future__ import annotations

import secrets
import time

import pytest

from console.federation import handlers
from console.nodes import pairing
from console.nodes.identity import make_key_and_certificate
from console.nodes.link.envelope import Envelope
from console.nodes.models import Node, PeerRoute


@pytest.fixture(autouse=True)
def network_mode(settings):
    settings.PRIVPAD_DEPLOYMENT = "network"


@pytest.fixture(autouse=True)
def reports_sent_in_line(monkeypatch):
    """A member's run reports go out from the worker's own thread, when its part ends (a
    background thread would not see the test's transaction)."""
    from console.federation.part_reports import Forwarder

    monkeypatch.setattr(Forwarder, "start", lambda self: None)
    monkeypatch.setattr(Forwarder, "stop", lambda self: self.flush())


@pytest.fixture(autouse=True)
def parties_read_once(monkeypatch):
    """The initiator reads the parties' reports once as its part starts its links, not again
    from a watching thread (`run_events.EndedParties`: it would not see the test's
    transaction)."""
    from console.federation.run_events import EndedParties

    monkeypatch.setattr(EndedParties, "_watch", lambda self: None)


def make_self(node: Node) -> Node:
    Node.objects.filter(pk=node.pk).update(is_self=True)
    node.refresh_from_db()
    return node


def make_route(node: Node) -> PeerRoute:
    _, cert = make_key_and_certificate(node.name)
    return pairing.PeerRoute.objects.create(
        node=node,
        address=f"127.0.0.1:{9000 + node.pk}",
        fingerprint=secrets.token_hex(32),
        certificate=cert.decode(),
        certificate_expires_at=pairing.ids.certificate_expiry(cert),
        origin=PeerRoute.Origin.ACCEPTED,
    )


def deliver(route: PeerRoute, method: str, body: dict, message: str | None = None) -> dict:
    """`body` arriving from `route`'s node as the node service hands it over."""
    envelope = Envelope(
        sender=route.node.name,
        nonce=secrets.token_hex(16),
        timestamp=time.time(),
        body={**body, "message": message or secrets.token_hex(16)},
    )
    return handlers.receive(method, route, envelope)


@pytest.fixture
def at_alice(alice, bob, carol) -> dict[str, PeerRoute]:
    """This installation is alice's node; bob and carol are paired peers."""
    make_self(alice)
    return {node.name: make_route(node) for node in (bob, carol)}


@pytest.fixture
def at_bob(alice, bob, carol) -> dict[str, PeerRoute]:
    """This installation is bob's node; alice and carol are paired peers."""
    make_self(bob)
    return {node.name: make_route(node) for node in (alice, carol)}


def sent(method: str, to: str | None = None) -> list:
    from console.federation.models import OutgoingMessage

    messages = OutgoingMessage.objects.filter(method=method)
    return list(messages.filter(peer__name=to) if to else messages)
