"""The streams peers open to a party's server: handshake, reading frames, acknowledgements.

Mixed into `core.comm.network.Transport`. The first message of a stream is the peer's hello;
`_check_hello` refuses another link version, another set of parties, a certificate that is not
the claimed party's, or a peer that restarted (another session token). A new stream from a peer
supersedes the previous one (a reconnection), unless it comes from an older dial than the
current stream (the hello of an attempt the peer abandoned, arriving late). A stream that breaks
without a goodbye fails the peer only if no new stream arrives within `reconnect_grace` seconds.
"""

from __future__ import annotations

import threading
from typing import Any

import grpc

from core.comm.peer import Peer
from core.comm.wire import ABORT, ACK, BYE, DATA, HELLO, WELCOME, control, parse_control
from core.errors import LinkError

ACK_BYTES, ACK_FRAMES = 8 << 20, 32  # acknowledge after this much, to free the sender's copies


class IncomingStreams:
    """Transport's incoming side (see the module docstring)."""

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
        dial = self._hello_dial(hello)
        opened = peer.new_inbound(dial) if dial is not None else None
        if opened is None:  # not the peer's failure: its current stream goes on
            yield control(WELCOME, {"ok": False, "error": f"stale or malformed dial {dial!r}"})
            return
        generation, next_seq = opened
        yield control(WELCOME, {"ok": True, "v": self.wire_version, "next": next_seq})
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
        if hello.get("v") != self.wire_version:
            return peer, (
                f"protocol mismatch: {sender!r} speaks link version {hello.get('v')!r}, "
                f"{self.party!r} speaks {self.wire_version}"
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

    @staticmethod
    def _hello_dial(message: bytes) -> int | None:
        """The hello's dial number (counting the sender's attempts to reach us), if valid."""
        dial = parse_control(message).get("dial")
        return dial if isinstance(dial, int) and not isinstance(dial, bool) and dial >= 0 else None

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
                    done = peer.deliver_chunk(message, generation, self.max_frame_bytes)
                    if done is None:
                        continue
                    peer.wait_for_room()
                    seq, size = done
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
                    self._startup_failed.set()  # a start still dialling others gives up
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
