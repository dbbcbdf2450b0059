"""Network links: one process per party, gRPC bidirectional streams under mutual TLS.

Every party runs a gRPC server at its address and opens one stream to every peer's server.
The stream a party opens carries its messages *to* that peer (requests) and the peer's control
replies (responses), so each ordered pair has its own stream: FIFO by construction, checked
with sequence numbers. Nothing from the network is unpickled: messages are typed frames
(`core.comm.frames`) cut into chunks of at most `CHUNK_BYTES` (no gRPC size limit is ever
hit, whatever the array), each chunk carrying (sequence number, frame length, offset, channel).
Channels multiplex the links of several devices (the cluster's own link, each SPU's) over one
stream per pair.

Flow control: a sender keeps at most `SEND_WINDOW` chunks queued per peer and blocks beyond;
a receiver stops reading its stream while more than `RECV_BUFFER_BYTES` of received messages
wait unread, and HTTP/2's window then stops the sender: a fast sender cannot exhaust a slow
receiver's memory.

Handshake: the first message of a stream is a hello (link version, sender, intended receiver,
the sorted party names); the server checks it, and with TLS that the client's certificate is
the claimed party's (`core.comm.tls`), then answers with a welcome or a refusal naming the
mismatch. Errors name the peer and the cause: unreachable at start (retried until the connect
deadline), refused handshake, wrong certificate, lost mid-run (stream broken without a
goodbye), aborted (the peer failed and said why, without data values), malformed frame, timed
out. When a party fails it sends an abort to every peer, so no peer stays blocked; a lost
connection is not re-established (the computation fails cleanly on every party instead).
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import struct
import threading
import time
from collections import deque
from concurrent import futures
from typing import Any

import grpc
import msgpack

from core.comm import frames
from core.comm.link import DEFAULT_TIMEOUT_S, Link
from core.comm.stats import CommStats
from core.comm.tls import TlsConfig
from core.errors import ConfigError, LinkError

WIRE_VERSION = 1
SERVICE, METHOD = "privpad.link.v1.Link", "Exchange"
CHUNK_BYTES = 1 << 21
MAX_GRPC_MESSAGE = CHUNK_BYTES + (1 << 16)
SEND_WINDOW = 32
RECV_BUFFER_BYTES = 256 << 20
MAX_CHANNEL = 64
HELLO, WELCOME, DATA, ABORT, BYE = b"H", b"W", b"D", b"A", b"B"
_CHUNK = struct.Struct(">QQQB")
TLS_FAILURE = "TLS handshake failed"
STARTUP_LINGER_S = 1.0
_END = object()
_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_GRPC_MESSAGE),
    ("grpc.max_send_message_length", MAX_GRPC_MESSAGE),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]


def _control(kind: bytes, body: dict) -> bytes:
    return kind + msgpack.packb(body, use_bin_type=True)


def _parse_control(message: bytes) -> dict:
    try:
        body = msgpack.unpackb(message[1:], raw=False, max_str_len=1 << 16, max_array_len=1 << 12)
    except Exception as exc:  # noqa: BLE001 - any garbage is one error
        raise LinkError(f"malformed control message ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise LinkError("malformed control message (not a map)")
    return body


class _Peer:
    """One peer: its inbox (messages received per channel) and its outgoing stream."""

    def __init__(self, name: str, address: str):
        self.name, self.address = name, address
        self.cond = threading.Condition()
        self.inbox: dict[str, deque] = {}
        self.queued = 0
        self.error: str | None = None
        self.bye = False
        self.greeted = threading.Event()
        self.outq: queue.Queue = queue.Queue(maxsize=SEND_WINDOW)
        self.out_error: str | None = None
        self.channel: grpc.Channel | None = None
        self.reader: threading.Thread | None = None
        self.seq_out = itertools.count()
        self.seq_in = 0
        self.partial: tuple[int, bytearray, int, str] | None = None
        self.send_lock = threading.Lock()

    def fail(self, reason: str) -> None:
        with self.cond:
            if self.error is None:
                self.error = reason
            self.cond.notify_all()
        self.greeted.set()  # wakes a start-up still waiting for this peer's hello

    def put(self, channel: str, obj: Any, size: int) -> None:
        with self.cond:
            self.inbox.setdefault(channel, deque()).append((obj, size))
            self.queued += size
            self.cond.notify_all()
            # Stop reading this stream while too much waits unread (HTTP/2 stops the sender).
            while self.queued > RECV_BUFFER_BYTES and self.error is None:
                self.cond.wait(timeout=1.0)

    def get(self, channel: str, timeout: float, me: str) -> Any:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                box = self.inbox.get(channel)
                if box:
                    obj, size = box.popleft()
                    self.queued -= size
                    self.cond.notify_all()
                    return obj
                if self.error is not None:
                    raise LinkError(f"{me!r}: {self.error}")
                if self.bye:
                    raise LinkError(f"{me!r}: {self.name!r} has shut down its link")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LinkError(
                        f"{me!r} timed out after {timeout:.0f}s waiting for {self.name!r}"
                    )
                self.cond.wait(timeout=remaining)


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
        self.max_frame_bytes = max_frame_bytes
        self.peers = {p: _Peer(p, a) for p, a in addresses.items() if p != self_party}
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
    def _dial_into(self, peer: _Peer, deadline: float, errors: dict) -> None:
        try:
            self._dial(peer, deadline)
        except _DialError as exc:
            errors[peer.name] = (exc.rank, str(exc))
            if exc.rank < 2:
                self._startup_failed.set()

    def _dial(self, peer: _Peer, deadline: float) -> None:
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

    def _open_channel(self, peer: _Peer) -> grpc.Channel:
        if self.tls is None:
            return grpc.insecure_channel(peer.address, options=_OPTIONS)
        creds = grpc.ssl_channel_credentials(
            root_certificates=self.tls.roots_for(peer.name),
            private_key=self.tls.key,
            certificate_chain=self.tls.cert,
        )
        options = [*_OPTIONS, ("grpc.ssl_target_name_override", peer.name)]
        return grpc.secure_channel(peer.address, creds, options=options)

    def _try_dial(self, peer: _Peer, deadline: float) -> tuple[bool, str] | None:
        """None once the peer welcomed us; else (refused by the peer?, reason)."""
        channel = self._open_channel(peer)
        outq: queue.Queue = queue.Queue(maxsize=SEND_WINDOW)
        hello = _control(
            HELLO,
            {"v": WIRE_VERSION, "from": self.party, "to": peer.name, "parties": self.parties},
        )
        call = channel.stream_stream(f"/{SERVICE}/{METHOD}")(_requests(hello, outq))
        first: dict = {}
        answered = threading.Event()
        reader = threading.Thread(
            target=self._read_replies, args=(peer, call, first, answered), daemon=True
        )
        reader.start()
        if not answered.wait(timeout=max(0.1, deadline - time.monotonic())):
            call.cancel()
            channel.close()
            return False, "no answer to the hello"
        if "error" in first:
            channel.close()
            return first.get("refused", False), first["error"]
        peer.channel, peer.outq, peer.reader = channel, outq, reader
        return None

    def _read_replies(self, peer: _Peer, call, first: dict, answered: threading.Event) -> None:
        try:
            reply = next(call)
            body = _parse_control(reply) if reply[:1] == WELCOME else {"error": "no welcome"}
            if not body.get("ok"):
                first.update(refused=True, error=str(body.get("error", "refused")))
                answered.set()
                return
            answered.set()
            for _ in call:
                pass
        except grpc.RpcError as exc:
            reason = _describe_rpc_error(exc)
            if not answered.is_set():
                first["error"] = reason
                answered.set()
                return
            self._outgoing_broken(peer, reason)
        except (StopIteration, LinkError) as exc:
            first.setdefault("error", f"the stream ended before the welcome ({exc})")
            answered.set()

    def _outgoing_broken(self, peer: _Peer, reason: str) -> None:
        if self._closing or peer.bye:
            return
        peer.out_error = f"lost connection to {peer.name!r} ({reason})"
        peer.fail(peer.out_error)

    # ----- incoming streams -------------------------------------------------------------
    def _serve(self, requests, context):
        try:
            hello = next(requests)
        except (StopIteration, grpc.RpcError):
            return
        peer, problem = self._check_hello(hello, context)
        if problem is not None:
            if peer is not None:
                peer.fail(problem)
                self._startup_failed.set()
            yield _control(WELCOME, {"ok": False, "error": problem})
            return
        if self._failure is not None:
            reason = f"{self.party!r} could not set up its links: {self._failure}"
            yield _control(WELCOME, {"ok": False, "error": reason})
            return
        yield _control(WELCOME, {"ok": True, "v": WIRE_VERSION})
        peer.greeted.set()
        self._pump(peer, requests)

    def _check_hello(self, message: bytes, context) -> tuple[_Peer | None, str | None]:
        if message[:1] != HELLO:
            return None, "the first message was not a hello"
        try:
            hello = _parse_control(message)
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
        return peer, None

    def _pump(self, peer: _Peer, requests) -> None:
        try:
            for message in requests:
                kind = message[:1]
                if kind == DATA:
                    self._on_chunk(peer, message)
                elif kind == BYE:
                    peer.bye = True
                    with peer.cond:
                        peer.cond.notify_all()
                    return
                elif kind == ABORT:
                    reason = str(_parse_control(message).get("reason", "no reason given"))
                    peer.fail(f"{peer.name!r} aborted: {reason[:500]}")
                    return
                else:
                    raise LinkError(f"unknown message kind {kind!r}")
        except LinkError as exc:
            peer.fail(f"{peer.name!r} sent a malformed frame: {exc}")
            return
        except Exception:  # noqa: BLE001 - a broken stream surfaces as various errors
            pass
        if not self._closing:
            peer.fail(f"lost connection to {peer.name!r} (its stream broke without a goodbye)")

    def _on_chunk(self, peer: _Peer, message: bytes) -> None:
        if len(message) < 1 + _CHUNK.size:
            raise LinkError("truncated chunk")
        seq, total, offset, name_len = _CHUNK.unpack_from(message, 1)
        body_at = 1 + _CHUNK.size + name_len
        if name_len > MAX_CHANNEL or len(message) < body_at:
            raise LinkError("chunk with a malformed channel name")
        body = memoryview(message)[body_at:]
        if peer.partial is None:
            if seq != peer.seq_in or offset != 0:
                raise LinkError(f"frame {seq} at offset {offset}, expected frame {peer.seq_in}")
            if total > self.max_frame_bytes:
                raise LinkError(f"frame of {total} bytes exceeds the limit {self.max_frame_bytes}")
            try:
                channel = bytes(message[1 + _CHUNK.size : body_at]).decode()
            except UnicodeDecodeError:
                raise LinkError("chunk with a malformed channel name") from None
            peer.partial = (seq, bytearray(total), 0, channel)
        pseq, buffer, filled, channel = peer.partial
        if seq != pseq or offset != filled or filled + len(body) > len(buffer):
            raise LinkError(f"chunk of frame {seq} at offset {offset} does not continue the frame")
        buffer[filled : filled + len(body)] = body
        filled += len(body)
        if filled < len(buffer):
            peer.partial = (pseq, buffer, filled, channel)
            return
        peer.partial, peer.seq_in = None, peer.seq_in + 1
        peer.put(channel, frames.decode(buffer, self.max_frame_bytes), len(buffer))

    # ----- sending and receiving --------------------------------------------------------
    def send(self, to: str, channel: str, obj: Any) -> None:
        peer = self.peers[to]
        parts = frames.encode(obj)
        total = frames.frame_length(parts)
        if total > self.max_frame_bytes:
            raise LinkError(f"message of {total} bytes to {to!r} exceeds the frame limit")
        name = channel.encode()
        with peer.send_lock:
            seq = next(peer.seq_out)
            for offset, body in _chunks(parts, total):
                head = DATA + _CHUNK.pack(seq, total, offset, len(name)) + name
                self._put(peer, b"".join([head, *body]))

    def _put(self, peer: _Peer, message: bytes) -> None:
        waited = 0.0
        while True:
            if peer.out_error or peer.error:
                raise LinkError(f"{self.party!r}: {peer.out_error or peer.error}")
            try:
                peer.outq.put(message, timeout=0.5)
                return
            except queue.Full:
                waited += 0.5
                if waited >= self.timeout:
                    raise LinkError(
                        f"{self.party!r} timed out after {self.timeout:.0f}s sending to "
                        f"{peer.name!r} (it stopped reading)"
                    ) from None

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
        message = _control(ABORT, {"reason": reason[:500]})
        for peer in self.peers.values():
            if peer.channel is not None and not peer.out_error:
                with contextlib.suppress(queue.Full):
                    peer.outq.put(message, timeout=1.0)

    def close(self, graceful: bool = True) -> None:
        """Say goodbye to every peer, end the streams and stop the server."""
        if self._closing:
            return
        self._closing = True
        for peer in self.peers.values():
            if peer.channel is None:
                continue
            if graceful and not peer.out_error:
                with contextlib.suppress(queue.Full):
                    peer.outq.put(_control(BYE, {}), timeout=1.0)
            with contextlib.suppress(queue.Full):
                peer.outq.put(_END, timeout=1.0)
        if graceful:
            self._drain(deadline=time.monotonic() + 5.0)
        for peer in self.peers.values():
            peer.fail("the link was closed")
            if peer.channel is not None:
                peer.channel.close()
        if self._server is not None:
            self._server.stop(grace=1.0 if graceful else 0).wait(timeout=5)

    def _drain(self, deadline: float) -> None:
        """Wait until every peer's server has read our goodbye and ended the stream."""
        for peer in self.peers.values():
            if peer.reader is not None:
                peer.reader.join(timeout=max(0.0, deadline - time.monotonic()))


class _DialError(LinkError):
    """A start-up failure with how telling it is (0: the peer said why ... 3: gave up)."""

    def __init__(self, rank: int, message: str):
        super().__init__(message)
        self.rank = rank


def _requests(hello: bytes, outq: queue.Queue):
    yield hello
    while True:
        item = outq.get()
        if item is _END:
            return
        yield item


def _chunks(parts: list, total: int):
    """(offset, [pieces]) of at most CHUNK_BYTES each, slicing the frame's parts without copy."""
    pending, size, offset, start = [], 0, 0, 0
    for part in parts:
        view = memoryview(part)
        while len(view):
            take = min(len(view), CHUNK_BYTES - size)
            pending.append(view[:take])
            view, size = view[take:], size + take
            if size == CHUNK_BYTES:
                yield start, pending
                offset += size
                pending, size, start = [], 0, offset
    if pending or total == 0:
        yield start, pending


def _describe_rpc_error(exc: grpc.RpcError) -> str:
    details = exc.details() if hasattr(exc, "details") else str(exc)
    details = details or str(exc.code() if hasattr(exc, "code") else exc)
    lowered = details.lower()
    if "certificate" in lowered or "handshake" in lowered or "ssl" in lowered:
        return f"{TLS_FAILURE} (wrong or untrusted certificate): {details[:300]}"
    if "socket closed" in lowered:
        # What a TLS 1.3 client sees when the server rejects its certificate.
        return f"{TLS_FAILURE} (the peer closed the connection: it may not trust our certificate)"
    if "connection refused" in lowered or "failed to connect" in lowered:
        return f"connection refused ({details[:200]})"
    return details[:300]


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
