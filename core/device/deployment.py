"""Production mode: this process is one party of a cluster reached over network links.

`Deployment(cluster_config, tls=...)` is the `Cluster` behind `init(cluster_config=...)`
(SecretFlow's shape: {"parties": {name: {"address": "host:port"}}, "self_party": name}; a node
with `"role": "dealer"` serves SEMI2K's correlations, runs no program and is sent no revealed
value, see `core.device.dealer_node`). Only
the runtime of `self_party` lives here; the same program runs in every party's process, and a
device call runs only this party's program (other parties' PYU functions are skipped and
yield references). Links are `core.comm.network` links with mutual TLS, raw TLS sockets
by default or gRPC streams (`link_transport`, `core.comm.transports`), or plaintext with
`insecure_plaintext=True` (tests only).

Every joint operation (`run_all`) is a program step: its messages carry the step's number
and label, so a peer running another program is caught where the programs diverge, naming it
and both steps (`core.comm.steps`).

If this party's program fails, the cluster is marked broken and every peer is told, so each
surviving party fails with an error naming this party and the error's type (never its message,
which could carry data values) instead of waiting for a message that will not come. Every
transport of this party (the cluster's, each SPU's own) shares one `PeerFailures`: a peer that
stopped, as its node reported or as one transport heard, ends the others' waits on it at once.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Sequence
from typing import Any

from core.comm import CommStats, Link
from core.comm.causes import LinkCause
from core.comm.network import PeerFailures, Transport, check_security
from core.comm.tls import TlsConfig
from core.comm.transports import transport_class
from core.device.runtime import Cluster, PartyRuntime
from core.errors import ConfigError, EngineError, LinkError, PartyFailure

MAIN_CHANNEL = "main"
ROLES = ("party", "dealer")


def dealers_of(cluster_config: dict) -> list[str]:
    """Nodes with `"role": "dealer"`: they serve SEMI2K correlations and run no program."""
    return sorted(
        p for p, node in cluster_config["parties"].items() if node.get("role") == "dealer"
    )


def parse_cluster_config(cluster_config: Any) -> tuple[dict[str, str], str]:
    """(party -> address, self_party) from a SecretFlow-style cluster_config."""
    if not isinstance(cluster_config, dict) or not isinstance(cluster_config.get("parties"), dict):
        raise ConfigError("cluster_config needs 'parties': {name: {'address': 'host:port'}}")
    addresses = {}
    for party, node in cluster_config["parties"].items():
        address = node.get("address") if isinstance(node, dict) else None
        if not isinstance(party, str) or not party or not isinstance(address, str):
            raise ConfigError(f"cluster_config party {party!r} needs an 'address' 'host:port'")
        if ":" not in address:
            raise ConfigError(f"address {address!r} of {party!r} needs a port ('host:port')")
        if node.get("role", "party") not in ROLES:
            raise ConfigError(f"role {node.get('role')!r} of {party!r} is not one of {ROLES}")
        addresses[party] = address
    if len(addresses) < 2:
        raise ConfigError(f"a cluster needs at least 2 parties, got {sorted(addresses)}")
    self_party = cluster_config.get("self_party")
    if self_party not in addresses:
        raise ConfigError(f"self_party {self_party!r} is not one of {sorted(addresses)}")
    return addresses, self_party


class Deployment(Cluster):
    """One party of a networked cluster; see the module docstring."""

    simulation = False

    def __init__(
        self,
        cluster_config: dict,
        tls: dict | None = None,
        *,
        insecure_plaintext: bool = False,
        timeout: float = 600.0,
        connect_timeout: float = 30.0,
        reconnect_grace: float = 10.0,
        link_transport: str | None = None,
        peer_failures: PeerFailures | None = None,
    ):
        addresses, self_party = parse_cluster_config(cluster_config)
        super().__init__(list(addresses), CommStats())
        self.self_party = self_party
        self.dealers = dealers_of(cluster_config)
        peers = [p for p in addresses if p != self_party]
        check_security(tls, insecure_plaintext)  # (before reading tls: plaintext stays explicit)
        self.tls = TlsConfig.from_dict(tls, peers) if tls is not None else None
        self.insecure_plaintext = insecure_plaintext
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.reconnect_grace = reconnect_grace
        self.transport_type = transport_class(link_transport)
        # Shared by every transport of this party: a peer that stopped, as its node reported
        # or as one transport learnt, ends the others' waits on it (`PeerFailures`).
        self.peer_failures = peer_failures if peer_failures is not None else PeerFailures()
        self._closed = False
        self.transport = self._transport(addresses)
        link = self.transport.link(self.parties, MAIN_CHANNEL)
        self.runtimes[self_party] = PartyRuntime(self_party, link)
        _close_at_exit(self)

    def _transport(self, addresses: dict[str, str]) -> Transport:
        transport = self.transport_type(
            self.self_party,
            addresses,
            self.tls,
            insecure_plaintext=self.insecure_plaintext,
            stats=self.stats,
            timeout=self.timeout,
            connect_timeout=self.connect_timeout,
            reconnect_grace=self.reconnect_grace,
            peer_failures=self.peer_failures,
        )
        return transport.start()

    def group_links(
        self, parties: Sequence[str], name: str, addresses: dict[str, str] | None = None
    ) -> dict[str, Link]:
        """This party's link among `parties`: on its own transport when every party's address
        is given (an SPU's cluster_def nodes), else on a channel of the cluster's transport."""
        if self.self_party not in parties:
            return {}
        transport = self.transport
        if addresses and all(addresses.get(p) for p in parties):
            transport = self.transport_type(
                self.self_party,
                {p: addresses[p] for p in parties},
                self._group_tls(parties),
                insecure_plaintext=self.insecure_plaintext,
                stats=self.stats,
                timeout=self.timeout,
                connect_timeout=self.connect_timeout,
                reconnect_grace=self.reconnect_grace,
                peer_failures=self.peer_failures,
            ).start()
            self.closers.append(transport.close)
        return {self.self_party: transport.link(list(parties), name)}

    @property
    def program_parties(self) -> list[str]:
        """The parties that run the program (and ask for revealed values): not the dealers."""
        return [p for p in self.parties if p not in self.dealers]

    def pair_link(self, peer: str, channel: str, timeout: float | None = None) -> Link:
        """This party's two-party link with `peer` on `channel` of the cluster's transport."""
        self.check_party(peer)
        return self.transport.link(sorted([self.self_party, peer]), channel, timeout)

    def _group_tls(self, parties: Sequence[str]) -> TlsConfig | None:
        if self.tls is None or self.tls.ca is not None:
            return self.tls
        pinned = {p: c for p, c in self.tls.peer_certs.items() if p in parties}
        return TlsConfig(self.tls.key, self.tls.cert, pinned)

    def run_one(self, party: str, fn: Callable[[], Any]) -> Any:
        if not self.is_local(party):
            self.check_alive()
            return None
        return self._guard(fn)

    def run_all(self, parties, programs, links=(), step=""):
        """Run this party's program, if it is among `parties`, as the next joint step with the
        others (on the cluster's link and on `links`; `core.comm.steps`)."""
        self.check_alive()
        if self.self_party not in parties:
            return []
        stepping = [self.link(self.self_party), *links]
        for link in stepping:
            peers = [link.rank_of(p) for p in parties if p != self.self_party and p in link.parties]
            link.begin_step(step, peers)
        try:
            return [
                self._guard(program)
                for party, program in zip(parties, programs, strict=True)
                if self.is_local(party)
            ]
        finally:
            for link in stepping:
                link.end_step()

    def _guard(self, fn: Callable[[], Any]) -> Any:
        self.check_alive()
        try:
            return fn()
        except BaseException as exc:
            self.broken = f"{self.self_party!r} failed ({type(exc).__name__})"
            self._abort_peers(exc)
            if isinstance(exc, EngineError):
                raise
            raise PartyFailure(self.self_party, exc) from exc

    def _abort_peers(self, exc: BaseException) -> None:
        reason = LinkCause("party_failed", party=self.self_party, error=type(exc).__name__)
        if isinstance(exc, LinkError):  # link errors carry party names and causes, never data
            said = exc.cause if exc.cause is not None else str(exc)
            reason = LinkCause(
                "party_failed_link", party=self.self_party, error=type(exc).__name__, reason=said
            )
        self.transport.abort(reason)
        for closer in self.closers:
            owner = getattr(closer, "__self__", None)
            if isinstance(owner, Transport):
                owner.abort(reason)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        super().close()
        self.transport.close()


def _close_at_exit(deployment: Deployment) -> None:
    """Say goodbye to the peers when the program ends without `shutdown()`.

    Registered with threading's exit hooks, which run before the interpreter joins non-daemon
    threads: gRPC's server threads would otherwise wait for streams the peers, themselves
    exiting, never end.
    """
    register = getattr(threading, "_register_atexit", None)
    try:
        (register or atexit.register)(deployment.close)
    except RuntimeError:  # interpreter already shutting down
        atexit.register(deployment.close)
