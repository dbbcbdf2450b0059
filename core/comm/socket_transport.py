"""Network links over raw mutual-TLS sockets: the gRPC transport's rules, fewer copies.

`SocketTransport` is `core.comm.network.Transport` with gRPC's streams replaced by plain TCP
connections under TLS (`core.comm.sockets`): the same peers, sequence numbers, flow control,
handshake checks, reconnection and grace period (`core.comm.peer`, `core.comm.incoming`,
`core.comm.outgoing`), the same messages (`core.comm.wire`), and the same statistics (counted by
`core.comm.link.Link`). What changes is the path of a frame's bytes: gRPC copies every byte
five times (the chunk join, its slice, Python's `bytes` per received message, the join into the
message, the frame's reassembly); here a frame is written from the sender's arrays and read
straight into the buffer its arrays are decoded in (`benchmarks/README.md`, "Network links").

Connections: as with gRPC, a party dials every peer's listener, and the connection it opens
carries the party's frames *to* that peer: FIFO per ordered pair by construction. During the
handshake the dialling party writes its hello and reads the listener's welcome; after it, each
connection carries bytes one way only (OpenSSL does not allow one TLS connection to be read and
written by two threads at once, and a blocking reader and writer per direction is what keeps
the copies out). So the listener's acknowledgements travel on its own connection to the
dialling party, as control messages among its frames (`peer.offer(..., urgent=True)`), and the
dialling party learns that its connection broke from the socket itself: a `readable` connection
that should carry nothing back has been closed or reset (`_watch`). TCP keepalive finds a
silent dead peer.

Per peer: a writer thread (the outgoing connection's frames), a watcher (its breakage), a
reader (the incoming connection: frames, acknowledgements, goodbye, abort); one accepting
thread; each accepted connection's TLS handshake and hello run in its own thread, with a
timeout, so a peer that connects and says nothing holds up nobody, and at most
`MAX_HANDSHAKES_PER_HOST` at once from one host, so that connections from anyone who reaches
the port cannot pile up threads.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator

from core.comm import sockets
from core.comm.causes import LinkCause
from core.comm.network import Transport
from core.comm.peer import Frame, Peer
from core.comm.wire import ABORT, ACK, BYE, TLS_FAILURE, WELCOME, parse_control
from core.errors import LinkError

HANDSHAKE_TIMEOUT_S = 10.0  # an accepted connection's TLS handshake and hello
# Accepted connections from one host still in their handshake at once: anyone who reaches the
# port can open connections before TLS says who they are, and each costs a thread for up to
# the timeout. Beyond this many, that host's new connection is closed at once (a peer's
# dialling retries); other hosts are not held up.
MAX_HANDSHAKES_PER_HOST = 16
WATCH_INTERVAL_S = 0.2


class SocketTransport(Transport):
    """This party's listener and its connections to every peer; see the module docstring."""

    name = "socket"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._listener: socket.socket | None = None
        self._accepted: set[socket.socket] = set()
        self._accepted_lock = threading.Lock()
        self._handshakes: dict[str, int] = {}  # host -> accepted connections in handshake
        self._server_tls = sockets.server_context(self.tls) if self.tls is not None else None
        self._client_tls = (
            {p: sockets.client_context(self.tls, p) for p in self.peers}
            if self.tls is not None
            else {}
        )

    # ----- listening ----------------------------------------------------------------------
    def _listen(self) -> None:
        address = self.addresses[self.party]
        try:
            self._listener = sockets.listen(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                in_use = LinkCause("address_in_use", party=self.party, address=address)
                raise LinkError(in_use) from None
            reason = sockets.describe(exc)
            failed = LinkCause("listen_failed", party=self.party, address=address, reason=reason)
            raise LinkError(failed) from None
        threading.Thread(target=self._accept, name=f"accept-{self.party}", daemon=True).start()

    def _accept(self) -> None:
        listener = self._listener
        while not self._closing:
            try:
                raw, (host, *_) = listener.accept()
            except OSError:
                return  # closed
            if not self._handshake_begins(host):
                raw.close()  # too many of this host's connections still saying who they are
                continue
            serve = threading.Thread(target=self._serve_connection, args=(raw, host), daemon=True)
            serve.start()

    def _handshake_begins(self, host: str) -> bool:
        with self._accepted_lock:
            if self._handshakes.get(host, 0) >= MAX_HANDSHAKES_PER_HOST:
                return False
            self._handshakes[host] = self._handshakes.get(host, 0) + 1
            return True

    def _handshake_ends(self, host: str) -> None:
        with self._accepted_lock:
            self._handshakes[host] -= 1
            if not self._handshakes[host]:
                del self._handshakes[host]

    def _serve_connection(self, raw: socket.socket, host: str) -> None:
        """One peer's incoming connection: TLS, the handshake of `IncomingStreams._serve`,
        then its messages until it ends or is superseded."""
        sock, handshaking = raw, True
        self._track(raw)
        try:
            sockets.configure(raw)
            raw.settimeout(HANDSHAKE_TIMEOUT_S)
            if self._server_tls is not None:
                sock = self._server_tls.wrap_socket(raw, server_side=True)  # (detaches `raw`)
                self._track(sock, instead_of=raw)
                if sock.selected_alpn_protocol() != sockets.ALPN:
                    return  # another transport's client (gRPC offers "h2"): it learns on its side
            incoming = _Incoming(sock, self.max_frame_bytes)
            replies = self._serve(incoming, _Presented(sock))
            welcome = next(replies, None)
            self._handshake_ends(host)  # the peer said who it is (or was refused)
            handshaking = False
            if welcome is None:
                return
            sockets.write_message(sock, welcome)
            if not parse_control(welcome).get("ok"):
                return
            sock.settimeout(None)
            peer = self.peers[parse_control(incoming.hello)["from"]]
            incoming.on_ack = peer.ack
            for ack in replies:  # `_pump`'s acknowledgements go back on our own connection
                if not self._closing:
                    peer.offer(ack, 1.0, self.party, urgent=True)
        except (OSError, ValueError, LinkError):  # ValueError: the socket was closed
            pass  # a failed handshake or hello: the dialling party learns why on its side
        finally:
            if handshaking:
                self._handshake_ends(host)
            self._track(None, instead_of=sock)
            sock.close()

    def _track(self, sock: socket.socket | None, instead_of: socket.socket | None = None) -> None:
        """Keep the accepted connections open now, for `close` to interrupt their readers."""
        with self._accepted_lock:
            self._accepted.discard(instead_of)
            if sock is not None:
                self._accepted.add(sock)

    # ----- dialling -----------------------------------------------------------------------
    def _try_dial(self, peer: Peer, deadline: float) -> tuple[bool, str] | None:
        """None once the peer welcomed a new connection; else (refused by the peer?, reason).

        The handshake runs in this thread, so a dial that gets no welcome in time is closed
        and can resume nothing (the gRPC transport's abandoned dials).
        """
        hello = self._hello(peer)
        try:
            sock = self._connect(peer, deadline)
        except OSError as exc:
            return False, sockets.describe(exc)
        if self.tls is not None and sock.selected_alpn_protocol() != sockets.ALPN:
            sock.close()  # a gRPC server, say: it would not understand our hello
            return True, LinkCause("other_transport", peer=peer.name, ours=self.name)
        try:
            sockets.write_message(sock, hello)
            reply = sockets.read_message(sock, sockets.MAX_CONTROL_BYTES)
        except (OSError, LinkError) as exc:
            sock.close()
            return False, self._no_welcome(exc)
        outcome = self._resume(peer, sock, reply)
        if outcome is not None:
            sock.close()
        return outcome

    def _connect(self, peer: Peer, deadline: float) -> socket.socket:
        raw = sockets.connect(peer.address, max(0.1, deadline - time.monotonic()))
        if self.tls is None:
            return raw
        try:
            return self._client_tls[peer.name].wrap_socket(raw, server_hostname=peer.name)
        except BaseException:
            raw.close()
            raise

    def _no_welcome(self, exc: BaseException) -> str:
        if self.tls is not None and isinstance(exc, ConnectionError | sockets.EndOfStream):
            # TLS 1.3 checks the client's certificate after the client's handshake: a listener
            # that refuses it closes the connection before any welcome.
            return (
                f"{TLS_FAILURE} (the peer closed the connection: it may not trust our certificate)"
            )
        return sockets.describe(exc)

    def _resume(self, peer: Peer, sock: socket.socket, reply) -> tuple[bool, str] | None:
        body = parse_control(reply) if reply[:1] == WELCOME else {"error": "no welcome"}
        next_seq = body.get("next")
        if not body.get("ok") or not isinstance(next_seq, int) or next_seq < 0:
            words = str(body.get("error", "malformed welcome"))[:500]
            return True, LinkCause.from_wire(body.get("cause")) or words
        try:
            generation, resend = peer.resume(next_seq, self.party)
        except LinkError as exc:
            said = exc.cause or str(exc)
            peer.fail(LinkCause("cannot_resume", peer=peer.name, reason=said))
            return True, str(exc)
        sock.settimeout(None)
        outgoing = _Outgoing(sock)
        writer = threading.Thread(
            target=self._write,
            args=(peer, outgoing, generation, resend),
            name=f"send-{peer.name}",
            daemon=True,
        )
        watcher = threading.Thread(
            target=self._watch, args=(peer, outgoing, generation), daemon=True
        )
        peer.channels.append(outgoing)
        peer.readers.append(writer)
        writer.start()
        watcher.start()
        return None

    # ----- an outgoing connection ---------------------------------------------------------
    def _write(self, peer: Peer, outgoing: _Outgoing, generation: int, resend: list) -> None:
        """Resend the frames the peer did not get, then send what `peer.take` hands out."""
        try:
            for frame in resend:  # kept in `unacked` until acknowledged
                if not peer.is_current(generation):
                    return
                self._send(outgoing, frame)
            while (item := peer.take(generation)) is not None:
                self._send(outgoing, item)
        except (OSError, ValueError) as exc:  # ValueError: written after a close
            self._broken(peer, outgoing, generation, sockets.describe(exc))
        finally:
            outgoing.written.set()

    @staticmethod
    def _send(outgoing: _Outgoing, item: Frame | bytes) -> None:
        if isinstance(item, Frame):
            sockets.write_frame(outgoing.sock, item.seq, item.parts, item.total, item.channel)
            return
        sockets.write_message(outgoing.sock, item)
        if item[:1] in (ABORT, BYE):
            outgoing.ended = True  # the peer stops reading and closes: no reconnection

    def _watch(self, peer: Peer, outgoing: _Outgoing, generation: int) -> None:
        """Notice that the connection broke (it carries nothing back), then close it once the
        writer is done with it (the socket's only closer, so no other socket reuses its
        descriptor while it is watched)."""
        try:
            while not outgoing.written.is_set():
                if sockets.readable(outgoing.sock, WATCH_INTERVAL_S):
                    if not outgoing.ended:
                        self._broken(peer, outgoing, generation, "the connection was closed")
                    break
            sockets.interrupt(outgoing.sock)
            outgoing.written.wait()
        finally:
            outgoing.sock.close()

    def _broken(self, peer: Peer, outgoing: _Outgoing, generation: int, reason: str) -> None:
        """Reconnect (once per connection, however many threads notice the break)."""
        with outgoing.lock:
            if outgoing.broken:
                return
            outgoing.broken = True
        sockets.interrupt(outgoing.sock)
        self._outgoing_broken(peer, generation, reason)

    # ----- ending -------------------------------------------------------------------------
    def close(self, graceful: bool = True) -> None:
        if self._closing:
            return
        super().close(graceful)  # goodbyes, writers drained, outgoing connections interrupted
        if self._listener is not None:
            sockets.interrupt(self._listener)  # wakes `accept`
            self._listener.close()
        with self._accepted_lock:
            for sock in self._accepted:
                sockets.interrupt(sock)


class _Outgoing:
    """One outgoing connection (what `Peer.channels` holds: `close` ends it)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.written = threading.Event()  # the writer is done with the socket
        self.lock = threading.Lock()
        self.broken = False
        self.ended = False

    def close(self) -> None:
        sockets.interrupt(self.sock)


class _Incoming:
    """An incoming connection's messages, as the request iterator `IncomingStreams._serve`
    reads: the first is the hello (bounded like a control message); acknowledgements of our
    own frames are taken out here (`on_ack`), since they share the peer's connection."""

    def __init__(self, sock: socket.socket, max_frame_bytes: int):
        self.sock, self.max_frame_bytes = sock, max_frame_bytes
        self.hello: bytes | None = None
        self.on_ack = None

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        if self.hello is None:
            self.hello = bytes(self._read(sockets.MAX_CONTROL_BYTES))
            return self.hello
        while True:
            message = self._read(self.max_frame_bytes)
            if message[:1] != ACK:
                return message
            if self.on_ack is None:
                raise LinkError("an acknowledgement before the handshake")
            seq = parse_control(message).get("seq")
            self.on_ack(seq if isinstance(seq, int) else -1)

    def _read(self, limit: int):
        try:
            return sockets.read_message(self.sock, limit)
        except sockets.EndOfStream:
            raise StopIteration from None


class _Presented:
    """What `IncomingStreams._serve` asks of a gRPC context: the certificate the client
    presented (read from the TLS socket), and a way to end the stream."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    def auth_context(self) -> dict:
        pem = sockets.peer_certificate(self.sock)
        return {"x509_pem_cert": [pem]} if pem else {}

    def cancel(self) -> None:
        """End the connection (as gRPC's `context.cancel` ends a stream): its reader stops,
        and the dialling party sees it closed."""
        sockets.interrupt(self.sock)
