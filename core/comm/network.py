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

Handshake: the first message of a stream is a hello (link version, sender, intended receiver,
the sorted party names, the sender's session token); the server checks it, and with TLS that
the client's certificate is the claimed party's (`core.comm.tls`), then answers with a welcome
(carrying the next sequence number it expects) or a refusal naming the mismatch.

Reconnection: if a stream breaks without a goodbye, the sender dials again for up to
`reconnect_grace` seconds with the same session token; the receiver's welcome says which frame
it expects next, and the sender resends every unacknowledged frame from there (`core.comm.peer`).
A peer that restarted (another session token) is refused: its state is gone. After the grace
period the link fails and so does every party, cleanly.

Errors name the peer and the cause: unreachable at start (retried until the connect deadline),
refused handshake, wrong certificate, lost mid-run (not restored within the grace period),
aborted (the peer failed and said why, without data values), malformed frame, timed out. When a
party fails it sends an abort to every peer, so no peer stays blocked.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from concurrent import futures
from typing import Any

import grpc

from core.comm import frames
from core.comm.link import DEFAULT_TIMEOUT_S, Link
from core.comm.peer import Frame, Peer
from core.comm.stats import CommStats
from core.comm.tls import TlsConfig
from core.comm.wire import (
    ABORT,
    ACK,
    BYE,
    DATA,
    HELLO,
    MAX_CHANNEL,
    MAX_GRPC_MESSAGE,
    TLS_FAILURE,
    WELCOME,
    control,
    describe_rpc_error,
    frame_messages,
    parse_control,
)
from core.errors import ConfigError, LinkError

WIRE_VERSION = 1
SERVICE, METHOD = "privpad.link.v1.Link", "Exchange"
STARTUP_LINGER_S = 1.0
ACK_BYTES, ACK_FRAMES = 8 << 20, 32
_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_GRPC_MESSAGE),
    ("grpc.max_send_message_length", MAX_GRPC_MESSAGE),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]


class Transport:
    """This party's server and its streams to every peer; see the module docstring."""

    def __init__(
        self,
        self_party: str,
        addresses: dict[str, str],
        tls: TlsConfig | None,
        *,
        stats: CommStats | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        connect_timeout: float = 30.0,
        reconnect_grace: float = 10.0,
        max_frame_bytes: int = frames.DEFAULT_MAX_FRAME_BYTES,
    ):
        if self_party not in addresses:
            raise ConfigError(f"self_party {self_party!r} is not in {sorted(addresses)}")
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
        self.peers = {p: Peer(p, a) for p, a in addresses.items() if p != self_party}
        self._closing = False
        self._server: grpc.Server | None = None
        self._startup_failed = threading.Event()
        self._failure: str | None = None

    # ----- start ------------------------------------------------------------------------
    def start(self) -> Transport:
        """Listen, dial every peer and wait for every peer's hello; LinkError naming who failed."""
        try:
            self._listen()
            deadline = time.monotonic() + self.connect_timeout
            errors: dict[str, str] = {}
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
            # Stay reachable a moment so that peers still dialling learn why, then quit.
            self._failure = str(exc)[:300]
            self._startup_failed.set()
            time.sleep(STARTUP_LINGER_S)
            self.close(graceful=False)
            raise
        return self

    def _startup_report(self, errors: dict[str, tuple[int, str]]) -> str:
        """The most telling start-up errors: what a peer's hello revealed (wrong certificate,
        version), then refusals and TLS failures, before mere unreachability."""
        for name in errors:
            if self.peers[name].error is not None:
                errors[name] = (0, f"{self.party!r}: {self.peers[name].error}")
        best = min(rank for rank, _ in errors.values())
        return "; ".join(message for rank, message in errors.values() if rank == best)

    def _listen(self) -> None:
        handler = grpc.method_handlers_generic_handler(
            SERVICE, {METHOD: grpc.stream_stream_rpc_method_handler(self._serve)}
        )
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=2 * len(self.peers) + 4),
            handlers=[handler],
            options=_OPTIONS,
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
            raise LinkError(f"{self.party!r} cannot listen on {address}: {exc}") from None
        if not bound:
            raise LinkError(f"{self.party!r} cannot listen on {address} (in use or invalid)")
        self._server.start()

    def _await_hellos(self, deadline: float) -> None:
        for peer in self.peers.values():
            peer.greeted.wait(timeout=max(0.0, deadline - time.monotonic()))
            if peer.error is not None:
                raise LinkError(f"{self.party!r}: {peer.error}")
            if not peer.greeted.is_set():
                raise LinkError(
                    f"{self.party!r}: {peer.name!r} did not connect back within "
                    f"{self.connect_timeout:.0f}s"
                )

    # ----- outgoing stream --------------------------------------------------------------
    def _dial_into(self, peer: Peer, deadline: float, errors: dict) -> None:
        try:
            self._dial(peer, deadline)
        except _DialError as exc:
            errors[peer.name] = (exc.rank, str(exc))
            if exc.rank < 2:
                self._startup_failed.set()

    def _dial(self, peer: Peer, deadline: float) -> None:
        handshake_failures, tls_reason = 0, None
        while True:
            outcome = self._try_dial(peer, deadline)
            if outcome is None:
                return
            refused, reason = outcome
            if refused:
                raise _DialError(0, f"{peer.name!r} refused the link from {self.party!r}: {reason}")
            if reason.startswith(TLS_FAILURE):
                handshake_failures, tls_reason = handshake_failures + 1, reason
            if handshake_failures >= 3 or time.monotonic() >= deadline:
                # A TLS refusal explains more than the "connection refused" after the peer quit.
                raise _DialError(
                    1 if tls_reason else 2,
                    f"{self.party!r} cannot reach {peer.name!r} at {peer.address} within "
                    f"{self.connect_timeout:.0f}s: {tls_reason or reason}",
                )
            if self._startup_failed.wait(timeout=0.2):
                raise _DialError(3, f"{self.party!r} gave up dialling {peer.name!r}")

    def _open_channel(self, peer: Peer) -> grpc.Channel:
        if self.tls is None:
            return grpc.insecure_channel(peer.address, options=_OPTIONS)
        creds = grpc.ssl_channel_credentials(
            root_certificates=self.tls.roots_for(peer.name),
            private_key=self.tls.key,
            certificate_chain=self.tls.cert,
        )
        options = [*_OPTIONS, ("grpc.ssl_target_name_override", peer.name)]
        return grpc.secure_channel(peer.address, creds, options=options)

    def _try_dial(self, peer: Peer, deadline: float) -> tuple[bool, str] | None:
        """None once the peer welcomed a new stream; else (refused by the peer?, reason)."""
        channel = self._open_channel(peer)
        hello = control(
            HELLO,
            {
                "v": WIRE_VERSION,
                "from": self.party,
                "to": peer.name,
                "parties": self.parties,
                "session": self.session,
            },
        )
        state: dict = {}
        welcomed = threading.Event()
        call = channel.stream_stream(f"/{SERVICE}/{METHOD}")(
            self._stream(peer, hello, state, welcomed)
        )
        reader = threading.Thread(
            target=self._read_replies, args=(peer, call, state, welcomed), daemon=True
        )
        reader.start()
        if not welcomed.wait(timeout=max(0.1, deadline - time.monotonic())):
            state.setdefault("error", "no answer to the hello")
            welcomed.set()
            call.cancel()
        if "gen" not in state:
            channel.close()
            return state.get("refused", False), state.get("error", "no welcome")
        peer.channels.append(channel)
        peer.readers.append(reader)
        return None

    def _stream(self, peer: Peer, hello: bytes, state: dict, welcomed: threading.Event):
        """The requests of one stream: hello, resent frames, then frames as they come."""
        yield hello
        welcomed.wait()
        generation = state.get("gen")
        if generation is None:
            return
        for frame in state["resend"]:
            peer.sent_again(frame)
            yield from frame_messages(frame.seq, frame.parts, frame.total, frame.channel)
        while (item := peer.take(generation)) is not None:
            if isinstance(item, Frame):
                yield from frame_messages(item.seq, item.parts, item.total, item.channel)
            else:
                yield item

    def _read_replies(self, peer: Peer, call, state: dict, welcomed: threading.Event) -> None:
        try:
            reply = next(call)
            body = parse_control(reply) if reply[:1] == WELCOME else {"error": "no welcome"}
            next_seq = body.get("next")
            if not body.get("ok") or not isinstance(next_seq, int) or next_seq < 0:
                state.update(refused=True, error=str(body.get("error", "malformed welcome")))
                return
            state["gen"], state["resend"] = peer.resume(next_seq)
            welcomed.set()
            for reply in call:
                if reply[:1] == ACK:
                    seq = parse_control(reply).get("seq")
                    peer.ack(seq if isinstance(seq, int) else -1)
        except grpc.RpcError as exc:
            reason = describe_rpc_error(exc)
            if not welcomed.is_set():
                state["error"] = reason
                return
            self._outgoing_broken(peer, state["gen"], reason)
        except (StopIteration, LinkError) as exc:
            state.setdefault("error", f"the stream ended before the welcome ({exc})")
        finally:
            welcomed.set()

    def _outgoing_broken(self, peer: Peer, generation: int, reason: str) -> None:
        if self._closing or peer.bye or peer.error or generation != peer.generation:
            return
        threading.Thread(
            target=self._reconnect, args=(peer, reason), name=f"reconnect-{peer.name}", daemon=True
        ).start()

    def _reconnect(self, peer: Peer, reason: str) -> None:
        """Dial `peer` again until the grace period ends; then fail the link to it."""
        deadline = time.monotonic() + self.reconnect_grace
        while time.monotonic() < deadline and not self._closing and peer.error is None:
            outcome = self._try_dial(peer, deadline)
            if outcome is None:
                self.reconnections += 1
                return
            refused, why = outcome
            if refused:
                peer.fail(f"lost connection to {peer.name!r} ({reason}); it refused: {why}")
                return
            time.sleep(0.2)
        peer.fail(
            f"lost connection to {peer.name!r} ({reason}); not restored within "
            f"{self.reconnect_grace:.0f}s"
        )

    # ----- incoming streams -------------------------------------------------------------
    def _serve(self, requests, context):
        try:
            hello = next(requests)
        except (StopIteration, grpc.RpcError):
            return
        peer, problem = self._check_hello(hello, context)
        if problem is None and self._failure is not None:
            problem = f"{self.party!r} could not set up its links: {self._failure}"
        if problem is not None:
            if peer is not None and self._failure is None:
                peer.fail(problem)
                self._startup_failed.set()
            yield control(WELCOME, {"ok": False, "error": problem})
            return
        generation, next_seq = peer.new_inbound()
        yield control(WELCOME, {"ok": True, "v": WIRE_VERSION, "next": next_seq})
        peer.greeted.set()
        yield from self._pump(peer, requests, generation)

    def _check_hello(self, message: bytes, context) -> tuple[Peer | None, str | None]:
        if message[:1] != HELLO:
            return None, "the first message was not a hello"
        try:
            hello = parse_control(message)
        except LinkError as exc:
            return None, str(exc)
        sender = hello.get("from")
        peer = self.peers.get(sender) if isinstance(sender, str) else None
        if peer is None:
            return None, f"{sender!r} is not a party of {self.parties}"
        if hello.get("v") != WIRE_VERSION:
            return peer, (
                f"protocol mismatch: {sender!r} speaks link version {hello.get('v')!r}, "
                f"{self.party!r} speaks {WIRE_VERSION}"
            )
        if hello.get("to") != self.party:
            return peer, f"{sender!r} dialled {hello.get('to')!r} but reached {self.party!r}"
        if hello.get("parties") != self.parties:
            return peer, (
                f"configuration mismatch: {sender!r} has parties {hello.get('parties')!r}, "
                f"{self.party!r} has {self.parties}"
            )
        if self.tls is not None:
            presented = (context.auth_context().get("x509_pem_cert") or [None])[0]
            problem = self.tls.identity_problem(sender, presented)
            if problem is not None:
                return peer, f"wrong certificate: {problem}"
        return peer, self._check_session(peer, hello.get("session"))

    def _check_session(self, peer: Peer, session: Any) -> str | None:
        with peer.cond:
            if peer.session is None:
                peer.session = session
            elif peer.session != session:
                return f"{peer.name!r} restarted: what it held of the computation is gone"
        return None

    def _pump(self, peer: Peer, requests, generation: int):
        """Read one incoming stream; yield acknowledgements of the frames it completes."""
        since_bytes = since_frames = 0
        try:
            for message in requests:
                if generation != peer.in_generation:
                    return  # superseded by a reconnection
                kind = message[:1]
                if kind == DATA:
                    done = peer.accept_chunk(message, generation, self.max_frame_bytes)
                    if done is None:
                        continue
                    seq, channel, obj, size = done
                    peer.put(channel, obj, size)
                    since_bytes, since_frames = since_bytes + size, since_frames + 1
                    if since_bytes >= ACK_BYTES or since_frames >= ACK_FRAMES:
                        yield control(ACK, {"seq": seq})
                        since_bytes = since_frames = 0
                elif kind == BYE:
                    with peer.cond:
                        peer.bye = True
                        peer.cond.notify_all()
                    return
                elif kind == ABORT:
                    reason = str(parse_control(message).get("reason", "no reason given"))
                    peer.fail(f"{peer.name!r} aborted: {reason[:500]}")
                    return
                else:
                    raise LinkError(f"unknown message kind {kind!r}")
        except LinkError as exc:
            peer.fail(f"{peer.name!r} sent a malformed frame: {exc}")
            return
        except Exception:  # noqa: BLE001 - a broken stream surfaces as various errors
            pass
        self._inbound_lost(peer, generation)

    def _inbound_lost(self, peer: Peer, generation: int) -> None:
        """A stream broke without a goodbye: fail unless the peer reconnects in time."""
        if self._closing or peer.bye or generation != peer.in_generation:
            return

        def verdict():
            if not self._closing and not peer.bye and generation == peer.in_generation:
                peer.fail(
                    f"lost connection to {peer.name!r} (its stream broke and was not restored "
                    f"within {self.reconnect_grace:.0f}s)"
                )

        timer = threading.Timer(self.reconnect_grace, verdict)
        timer.daemon = True
        timer.start()

    # ----- sending and receiving --------------------------------------------------------
    def send(self, to: str, channel: str, obj: Any) -> None:
        peer = self.peers[to]
        parts = frames.encode(obj)
        total = frames.frame_length(parts)
        if total > self.max_frame_bytes:
            raise LinkError(f"message of {total} bytes to {to!r} exceeds the frame limit")
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
    def abort(self, reason: str) -> None:
        """Tell every reachable peer that this party failed (`reason` must carry no data)."""
        message = control(ABORT, {"reason": reason[:500]})
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
            peer.fail("the link was closed")
            for channel in peer.channels:
                channel.close()
        if self._server is not None:
            self._server.stop(grace=1.0 if graceful else 0).wait(timeout=5)


class _DialError(LinkError):
    """A start-up failure with how telling it is (0: the peer said why ... 3: gave up)."""

    def __init__(self, rank: int, message: str):
        super().__init__(message)
        self.rank = rank


class NetworkLink(Link):
    """One party's endpoint among a group of parties, over a `Transport` channel."""

    simulation = False

    def __init__(self, transport: Transport, parties: list[str], channel: str, timeout: float):
        super().__init__(parties, parties.index(transport.party), transport.stats, timeout)
        self.transport = transport
        self.channel = channel

    def _deliver(self, to: int, obj: Any) -> None:
        self.transport.send(self.parties[to], self.channel, obj)

    def _receive(self, frm: int) -> Any:
        return self.transport.recv(self.parties[frm], self.channel, self.timeout)

    def close(self, reason: str = "link closed") -> None:
        self.transport.abort(reason)
