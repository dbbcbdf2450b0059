"""Network links: one process per party, gRPC bidirectional streams under mutual TLS.

Every party runs a gRPC server at its address and opens one stream to every peer's server.
The stream a party opens carries its messages *to* that peer (requests) and the peer's control
replies (responses: welcome, acknowledgements), so each ordered pair has its own stream: FIFO by
construction, checked with sequence numbers. Nothing from the network is unpickled: messages
are typed frames (`core.comm.frames`) cut into chunks (`core.comm.wire`), so no gRPC size limit
is ever hit whatever the array. Channels multiplex the links of several devices (the cluster's
own link, each SPU's, PSI's) over one stream per pair.

Flow control: a sender queues at most `peer.MAX_PENDING_FRAMES` frames per peer and blocks
beyond; a receiver stops reading its stream while more than `peer.RECV_BUFFER_BYTES` of
received messages wait unread, and HTTP/2's window then stops the sender: a fast sender cannot
exhaust a slow receiver's memory.

Security: links run under mutual TLS (`core.comm.tls`); plaintext only when the caller says
`insecure_plaintext=True` (tests on one machine), never because `tls` is missing.

Handshake: the first message of a stream is a hello (link version, sender, intended receiver,
the sorted party names, the sender's session token, the dial's number: `core.comm.outgoing`);
the server checks it, and with TLS that
the client's certificate is the claimed party's (`core.comm.tls`), then answers with a welcome
(carrying the next sequence number it expects) or a refusal naming the mismatch.

Reconnection: if a stream breaks without a goodbye, the sender dials again for up to
`reconnect_grace` seconds with the same session token; the receiver's welcome says which frame
it expects next, and the sender resends every unacknowledged frame from there (`core.comm.peer`).
A peer that restarted (another session token) is refused: its state is gone. After the grace
period the link fails and so does every party, cleanly.

Errors name the peer and the cause: unreachable at start (retried until the connect deadline,
unless the caller learns by other means that the peer failed and says so: `PeerFailures`),
refused handshake, wrong certificate, lost mid-run (not restored within the grace period),
aborted (the peer failed and said why, without data values), malformed frame, timed out. When a
party fails it sends an abort to every peer, so no peer stays blocked. At start, the party
that cannot reach a peer reports that first, naming the address it dialled (one rule orders
start-up errors: `core.comm.causes.startup_order`); the peer, which reached it but waits in vain
for its dial, learns why from its refusal (`Transport._tell_the_peers`). A link that failed
stays failed: a reconnection is refused, saying why. Each error says its cause
twice: as English text and as a `core.comm.causes.LinkCause` (`LinkError.cause`, `Peer.error`),
which travels in aborts and refused hellos too, so the layers above word it for their readers.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import threading
import time
from concurrent import futures
from typing import Any

import grpc

from core.comm import frames
from core.comm.causes import LinkCause, startup_order
from core.comm.incoming import IncomingStreams
from core.comm.link import DEFAULT_TIMEOUT_S, Link
from core.comm.outgoing import OutgoingStreams
from core.comm.peer import Frame, Peer
from core.comm.stats import CommStats
from core.comm.steps import ended_during_step, tagged, untagged
from core.comm.tls import TlsConfig
from core.comm.wire import ABORT, BYE, GRPC_OPTIONS, MAX_CHANNEL, METHOD, SERVICE, control
from core.errors import ConfigError, LinkError

MAX_ABORT_MESSAGE = 8 << 10
WIRE_VERSION = 3  # 2: hellos carry the dial number (core.comm.outgoing); 3: program steps
STARTUP_LINGER_S = 1.0
HELLO_MARGIN_S = 2.0  # see `Transport._await_hellos`


class PeerFailures:
    """Failures of peers learnt other than over a transport's own links: a peer's node
    reporting that its party stopped before it joined them, or another transport of this party
    (each transport attached here reports the peers that aborted or went away on its links).
    `report(party, cause)`, from any thread, fails at once the transports attached here
    (`Transport(peer_failures=...)`) that wait on that party: a start dialling it raises
    LinkError with `cause` (as `at_party`) instead of dialling until the connect deadline, and
    so does a link waiting on it. A report made before a transport starts counts for it too.
    `cause` travels to the other peers in the start's abort: no data.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reported: dict[str, LinkCause] = {}
        self._transports: list[Transport] = []

    def report(self, party: str, cause: LinkCause) -> None:
        with self._lock:
            if party in self._reported:
                return
            self._reported[party] = cause
            transports = list(self._transports)
        for transport in transports:
            transport.peer_failed(party, cause)

    def reported(self) -> dict[str, LinkCause]:
        with self._lock:
            return dict(self._reported)

    def attach(self, transport: Transport) -> None:
        with self._lock:
            self._transports.append(transport)
            reported = dict(self._reported)
        for party, cause in reported.items():
            transport.peer_failed(party, cause)


def check_security(tls: TlsConfig | None, insecure_plaintext: bool) -> None:
    """ConfigError unless exactly one of `tls` (a `TlsConfig`, or the dict
    `TlsConfig.from_dict` reads) and `insecure_plaintext=True` is given: plaintext is never
    what a forgotten or misspelt setting gets (a missing `tls`, or an `insecure_plaintext` of
    "false" read from a file, is refused)."""
    if not isinstance(insecure_plaintext, bool):
        raise ConfigError(f"insecure_plaintext must be True or False, got {insecure_plaintext!r}")
    if tls is None and not insecure_plaintext:
        raise ConfigError(
            "network links need tls (this party's key and certificate, and the peers' "
            "certificates or a CA); plaintext links only with insecure_plaintext=True "
            "(tests on one machine)"
        )
    if tls is not None and insecure_plaintext:
        raise ConfigError("give either tls or insecure_plaintext=True, not both")


class Transport(OutgoingStreams, IncomingStreams):
    """This party's server and its streams to every peer; see the module docstring."""

    name = "grpc"  # as `core.comm.transports` calls it

    def __init__(
        self,
        self_party: str,
        addresses: dict[str, str],
        tls: TlsConfig | None,
        *,
        insecure_plaintext: bool = False,
        stats: CommStats | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        connect_timeout: float = 30.0,
        reconnect_grace: float = 10.0,
        max_frame_bytes: int = frames.DEFAULT_MAX_FRAME_BYTES,
        peer_failures: PeerFailures | None = None,
    ):
        if self_party not in addresses:
            raise ConfigError(f"self_party {self_party!r} is not in {sorted(addresses)}")
        check_security(tls, insecure_plaintext)
        if tls is not None and not isinstance(tls, TlsConfig):
            raise ConfigError(f"tls must be a TlsConfig (from_dict), got {type(tls).__name__}")
        self.party = self_party
        self.parties = sorted(addresses)
        self.addresses = dict(addresses)
        self.tls = tls
        self.stats = stats if stats is not None else CommStats()
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.reconnect_grace = reconnect_grace
        self.max_frame_bytes = max_frame_bytes
        self.session = secrets.token_hex(8)  # tells a reconnection from a restarted peer
        self.reconnections = 0
        self.wire_version = WIRE_VERSION
        self.peers = {p: Peer(p, a) for p, a in addresses.items() if p != self_party}
        self._closing = False
        self._server: grpc.Server | None = None
        self._startup_failed = threading.Event()
        self._failure: str | None = None  # why start-up failed (a LinkCause when known)
        self.peer_failures = peer_failures
        if peer_failures is not None:
            for peer in self.peers.values():
                peer.on_fail = functools.partial(self._share_failure, peer.name)

    # ----- start ------------------------------------------------------------------------
    def start(self) -> Transport:
        """Listen, dial every peer and wait for every peer's hello; LinkError naming who failed."""
        try:
            self._listen()
            if self.peer_failures is not None:
                self.peer_failures.attach(self)
            deadline = time.monotonic() + self.connect_timeout
            errors: dict[str, LinkCause] = {}
            dialers = [
                threading.Thread(target=self._dial_into, args=(peer, deadline, errors))
                for peer in self.peers.values()
            ]
            for thread in dialers:
                thread.start()
            for thread in dialers:
                thread.join()
            if errors:
                raise LinkError(self._startup_report(errors))
            self._await_hellos(deadline)
        except BaseException as exc:
            # Tell the peers already linked, stay reachable a moment so that peers still
            # dialling learn why too, then quit.
            cause = exc.cause if isinstance(exc, LinkError) else None
            self._failure = cause if cause is not None else str(exc)[:300]
            self._startup_failed.set()
            self._tell_the_peers(LinkCause("setup_failed", party=self.party, reason=self._failure))
            time.sleep(STARTUP_LINGER_S)
            self.close(graceful=False)
            raise
        return self

    def _tell_the_peers(self, failure: LinkCause) -> None:
        """Tell every peer why this party's start failed: an abort on our stream to it, and
        a peer we have no stream to (we could not reach it, though it reached us) has its
        stream to us ended, so that it dials again and reads `failure` in our refusal
        (`IncomingStreams._ended_link`) while we linger."""
        self.abort(failure)
        for peer in self.peers.values():
            if not peer.channels and peer.end_inbound is not None:
                with contextlib.suppress(Exception):  # (a stream that just ended)
                    peer.end_inbound()

    def peer_failed(self, party: str, cause: LinkCause) -> None:
        """`party` failed, as learnt by other means (`PeerFailures`): waits on it end now."""
        peer = self.peers.get(party)
        if peer is None:
            return
        peer.fail(cause)
        self._startup_failed.set()  # a start still dialling any peer gives up

    def _share_failure(self, party: str, cause: LinkCause) -> None:
        """`party` stopped (it aborted, or went away and did not come back): report it to
        `peer_failures`, so that this party's other transports waiting on it (an SPU's links
        starting among its cluster_def addresses) end at once too."""
        if not self._closing and (cause.code == "aborted" or cause.lost):
            self.peer_failures.report(party, cause)

    def _startup_report(self, errors: dict[str, LinkCause]) -> LinkCause:
        """The most telling start-up errors (`core.comm.causes.startup_order`), of the dials
        that failed (`errors`, by peer) and of what peers revealed (their refusals, aborts,
        their nodes' reports); per peer the more telling of the two."""
        ranked: dict[str, tuple[int, LinkCause]] = {}
        for name, peer in self.peers.items():  # linked or not: e.g. a peer that aborted
            if peer.error is not None:
                revealed = LinkCause("at_party", party=self.party, reason=peer.error)
                ranked[name] = (startup_order(revealed, self.party), revealed)
        for name, cause in errors.items():
            order = startup_order(cause, self.party)
            if name not in ranked or order < ranked[name][0]:
                ranked[name] = (order, cause)
        best = min(order for order, _ in ranked.values())
        causes = [cause for order, cause in ranked.values() if order == best]
        return causes[0] if len(causes) == 1 else LinkCause("several", causes=causes)

    def _listen(self) -> None:
        handler = grpc.method_handlers_generic_handler(
            SERVICE, {METHOD: grpc.stream_stream_rpc_method_handler(self._serve)}
        )
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=2 * len(self.peers) + 4),
            handlers=[handler],
            # Not gRPC's default SO_REUSEPORT: a second server on the port (another node, a
            # test's leftover) would silently take half of the connections instead of failing.
            options=[*GRPC_OPTIONS, ("grpc.so_reuseport", 0)],
        )
        address = self.addresses[self.party]
        try:
            if self.tls is None:
                bound = self._server.add_insecure_port(address)
            else:
                creds = grpc.ssl_server_credentials(
                    [(self.tls.key, self.tls.cert)],
                    root_certificates=self.tls.all_roots(),
                    require_client_auth=True,
                )
                bound = self._server.add_secure_port(address, creds)
        except RuntimeError as exc:
            if "failed to bind" in str(exc).lower():  # (gRPC's words for a port in use)
                bound = 0
            else:
                failed = {"party": self.party, "address": address, "reason": str(exc)}
                raise LinkError(LinkCause("listen_failed", **failed)) from None
        if not bound:
            raise LinkError(LinkCause("address_in_use", party=self.party, address=address))
        self._server.start()

    def _await_hellos(self, deadline: float) -> None:
        """Wait for every peer's hello. A peer we reached but that has not dialled us back is
        alive and still dialling, for as long as we do: wait `HELLO_MARGIN_S` past our own
        deadline, so that its error (which names the address it dials) comes first, and
        reaches us (its start ends our stream to it, we dial again and read its refusal:
        `_tell_the_peers`); failing that, name it and the address it should dial."""
        for peer in self.peers.values():
            peer.greeted.wait(timeout=max(0.0, deadline + HELLO_MARGIN_S - time.monotonic()))
            if peer.error is not None:
                raise LinkError(LinkCause("at_party", party=self.party, reason=peer.error))
            if not peer.greeted.is_set():
                address = self.addresses[self.party]
                silent = {"peer": peer.name, "seconds": self.connect_timeout, "address": address}
                raise LinkError(LinkCause("no_hello_at", party=self.party, **silent))

    # ----- sending and receiving --------------------------------------------------------
    def send(self, to: str, channel: str, obj: Any) -> None:
        peer = self.peers[to]
        parts = frames.encode(obj)
        total = frames.frame_length(parts)
        if total > self.max_frame_bytes:
            raise LinkError(LinkCause("too_large", size=total, peer=to))
        peer.offer(Frame(-1, parts, total, channel.encode()), self.timeout, self.party)

    def recv(self, frm: str, channel: str, timeout: float) -> Any:
        return self.peers[frm].get(channel, timeout, self.party)

    def link(self, parties: list[str], channel: str, timeout: float | None = None) -> NetworkLink:
        """This party's link among `parties` (ranks in that order) on `channel`."""
        if self.party not in parties or not set(parties) <= set(self.addresses):
            raise ConfigError(f"{self.party!r} cannot join a link among {parties}")
        if len(channel.encode()) > MAX_CHANNEL:
            raise ConfigError(f"channel name {channel!r} is longer than {MAX_CHANNEL} bytes")
        return NetworkLink(self, parties, channel, self.timeout if timeout is None else timeout)

    # ----- ending -----------------------------------------------------------------------
    def abort(self, reason: str, message: dict | None = None) -> None:
        """Tell every reachable peer that this party failed (`reason` must carry no data).

        A `reason` that is a `LinkCause` travels with its cause; `message` (a small JSON-ready
        map, at most `MAX_ABORT_MESSAGE` bytes encoded, else left out) is passed to the peers'
        layers above the engine untouched (`core.comm.causes`: the `message` of `aborted`)."""
        body: dict = {"reason": reason[:500]}
        if isinstance(reason, LinkCause):
            body["cause"] = reason.to_wire()
        if message is not None and len(control(ABORT, {"message": message})) <= MAX_ABORT_MESSAGE:
            body["message"] = message
        message = control(ABORT, body)
        for peer in self.peers.values():
            if peer.channels:
                peer.offer(message, 1.0, self.party, urgent=True)

    def close(self, graceful: bool = True) -> None:
        """Say goodbye to every peer, end the streams and stop the server."""
        if self._closing:
            return
        self._closing = True
        for peer in self.peers.values():
            if graceful and peer.channels and peer.error is None:
                with contextlib.suppress(LinkError):
                    peer.offer(control(BYE, {}), 1.0, self.party)
            peer.close_outbound(discard=not graceful)
        if graceful:
            deadline = time.monotonic() + 5.0
            for peer in self.peers.values():
                for reader in peer.readers:
                    reader.join(timeout=max(0.0, deadline - time.monotonic()))
        for peer in self.peers.values():
            peer.fail(LinkCause("closed"))
            for channel in peer.channels:
                channel.close()
        if self._server is not None:
            self._server.stop(grace=1.0 if graceful else 0).wait(timeout=5)


class NetworkLink(Link):
    """One party's endpoint among a group of parties, over a `Transport` channel; every
    message carries its program step (`core.comm.steps`)."""

    simulation = False

    def __init__(self, transport: Transport, parties: list[str], channel: str, timeout: float):
        super().__init__(parties, parties.index(transport.party), transport.stats, timeout)
        self.transport = transport
        self.channel = channel

    def _deliver(self, to: int, obj: Any) -> None:
        self.transport.send(self.parties[to], self.channel, tagged(self.step_with(to), obj))

    def _receive(self, frm: int) -> Any:
        try:
            received = self.transport.recv(self.parties[frm], self.channel, self.timeout)
        except LinkError as exc:
            raise ended_during_step(self, frm, exc) from None
        return untagged(self, frm, received, self.step_with(frm))

    def close(self, reason: str = "link closed") -> None:
        self.transport.abort(reason)
