"""The engine links of a member's part of a run: addresses from the initiator, trust from here.

A network run's parties talk over the engine's links under mutual TLS
(`core.device.deployment.Deployment`). The identities are the node certificates: this node
presents its own key and certificate (`console.nodes.identity`), and pins, for every other
party, the certificate it pinned itself when the two nodes paired (`PeerRoute.certificate`).
The initiator only says where each party's engine listens (`RunLaunch`): it can send a wrong
address, but never make this node trust a certificate it did not pin, so a party's
engine link can only reach that party. A party this node is not paired with, or whose route is
disabled here, is named and the run cannot start at this node; so is the project's dealer node
(`console.federation.dealers`), whose certificate every party pins from its own pairing too.
The links' transport is this node's `PRIVPAD_LINK_TRANSPORT`: every node of a run must set the
same (a party on the other one is refused in the links' handshake, and every node's run says
so, naming the setting).
"""

from __future__ import annotations

import re

from django.conf import settings

from console.federation import wire
from console.nodes import identity
from console.nodes.link.envelope import EnvelopeError
from console.nodes.models import PeerRoute
from core.errors import ConfigError
from workflows.messages import Message, render, translatable
from workflows.party_jobs import Network


class EngineSetupError(ConfigError):
    """This node cannot join a run's engine links; `message` (a `workflows.messages` message)
    says why, for the run's readers at every node in their language."""

    def __init__(self, message: Message):
        super().__init__(render(message, "en"))
        self.message = message


ADDRESS = re.compile(r"^[-a-zA-Z0-9_.:\[\]]{1,255}:[0-9]{1,5}$")
# Seconds: a run's engine links wait this long for a party, and this long for a lost one.
TIMEOUT, CONNECT_TIMEOUT, RECONNECT_GRACE = 600.0, 30.0, 10.0


def engines_field(body: dict, nodes) -> dict[str, str]:
    """`body["engines"]`: one host:port for each of `nodes` (a run's parties, and its dealer
    node if it has one); EnvelopeError naming them otherwise."""
    engines = wire.map_field(body, "engines")
    if set(engines) != set(nodes) or not all(
        isinstance(address, str) and ADDRESS.match(address) for address in engines.values()
    ):
        raise EnvelopeError(
            translatable(
                "'engines' gives one host:port to each of %(parties)s", parties=list(nodes)
            )
        )
    return dict(engines)


def engine_network(parties: list[str], me: str, addresses: dict, dealer: str = "") -> Network:
    """The engine network of `me` among `parties` at `addresses` ({node: host:port}): a
    party, or the run's `dealer` node. With a dealer, `addresses` holds its address too and
    the cluster declares it `"role": "dealer"` (it serves SEMI2K's triples, runs no program,
    is sent no revealed value; `workflows.components.secure` then uses it)."""
    nodes = [*parties, dealer] if dealer else list(parties)
    if set(addresses) != set(nodes):
        missing = sorted(set(nodes) - set(addresses)) or sorted(set(addresses) - set(nodes))
        raise EngineSetupError(
            translatable(
                "the run's engine addresses do not match its parties: %(parties)s",
                parties=missing,
            )
        )
    for party, address in addresses.items():
        if not isinstance(address, str) or not ADDRESS.match(address):
            raise EngineSetupError(
                translatable("the engine address of %(party)s is not host:port", party=party)
            )
    mine = identity.load_identity()
    cluster = {"parties": {p: {"address": addresses[p]} for p in parties}, "self_party": me}
    peers = {party: pinned_certificate(party) for party in parties if party != me}
    if dealer:
        cluster["parties"][dealer] = {"address": addresses[dealer], "role": "dealer"}
        if dealer != me:
            peers[dealer] = pinned_dealer_certificate(dealer)
    return Network(
        cluster_config=cluster,
        tls={"key": mine.key_pem, "cert": mine.cert_pem, "peers": peers},
        timeout=TIMEOUT,
        connect_timeout=CONNECT_TIMEOUT,
        reconnect_grace=RECONNECT_GRACE,
        link_transport=settings.PRIVPAD_LINK_TRANSPORT,
    )


def pinned_certificate(party: str) -> str:
    route = PeerRoute.objects.filter(node__name=party).first()
    if route is None:
        raise EngineSetupError(
            translatable(
                "this node is not paired with %(party)s: pair the two nodes first", party=party
            )
        )
    if not route.enabled:
        raise EngineSetupError(
            translatable("the route to %(party)s is disabled on this node", party=party)
        )
    return route.certificate


def pinned_dealer_certificate(dealer: str) -> str:
    """The dealer node's certificate as this node pinned it when they paired: a party pins
    its dealer itself, so the initiator cannot substitute another triple source."""
    route = PeerRoute.objects.filter(node__name=dealer).first()
    if route is None:
        raise EngineSetupError(
            translatable(
                "this node is not paired with the project's dealer node %(dealer)s: pair with "
                "%(dealer)s first",
                dealer=dealer,
            )
        )
    if not route.enabled:
        raise EngineSetupError(
            translatable(
                "the route to the project's dealer node %(dealer)s is disabled on this node",
                dealer=dealer,
            )
        )
    return route.certificate
