"""The streams peers open to a party's server: handshake, reading frames, acknowledgements.

Mixed into `core.comm.network.Transport`. The first message of a stream is the peer's hello;
`_check_hello` refuses a certificate that is not the claimed party's (checked first: what a
hello says is believed only from its sender), another link version, another set of parties, or
a peer that restarted (another session token); a refusal fails the link to the claimed party,
except a hello under another party's certificate once that party is linked (no party can cut
another's link by claiming its name). A new stream from a peer supersedes the previous one (a
reconnection), unless it comes from an older dial than the current stream (the hello of an
attempt the peer abandoned, arriving late). A stream that breaks without a goodbye fails the
peer only if no new stream arrives within `reconnect_grace` seconds.
"""

from __future__ import annotations

import threading
from typing import Any

import grpc

from core.comm.causes import LinkCause
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
        if problem is not None:
            if peer is not None and self._failure is None and not _forged(peer, problem):
                peer.fail(problem)
                self._startup_failed.set()
            yield _refusal(problem)
            return
        ended = self._ended_link(peer)
        if ended is not None:  # this party stopped, or its link to the peer failed: for good
            yield _refusal(ended)
            return
        dial = self._hello_dial(hello)
        opened = peer.new_inbound(dial) if dial is not None else None
        if opened is None:  # not the peer's failure: its current stream goes on
            yield _refusal(LinkCause("stale_dial", dial=dial))
            return
        generation, next_seq = opened
        yield control(WELCOME, {"ok": True, "v": self.wire_version, "next": next_seq})
        peer.greeted.set()
        peer.end_inbound = context.cancel  # (the current stream's: see `Transport.start`)
        yield from self._pump(peer, requests, generation)

    def _ended_link(self, peer: Peer) -> LinkCause | None:
        """Why a well-formed hello from `peer` is refused all the same: this party's start
        failed (`setup_failed`), or its link to `peer` already failed (`at_party`: a stream
        reconnecting after a malformed frame, or after the grace period, must not deliver
        frames on a link that is over). Either says that this party stopped linking with
        `peer`, and why: the dialling party reads it as this party's abort
        (`PEER_STOPPED`, `OutgoingStreams._reconnect`)."""
        if self._failure is not None:
            return LinkCause("setup_failed", party=self.party, reason=self._failure)
        if peer.error is not None:
            return LinkCause("at_party", party=self.party, reason=peer.error)
        return None

    def _check_hello(self, message: bytes, context) -> tuple[Peer | None, LinkCause | None]:
        if message[:1] != HELLO:
            return None, LinkCause("not_hello")
        try:
            hello = parse_control(message)
        except LinkError as exc:  # never None: a malformed hello must be refused
            return None, exc.cause or LinkCause("malformed_control", problem=str(exc)[:200])
        sender = hello.get("from")
        peer = self.peers.get(sender) if isinstance(sender, str) else None
        me = {"party": self.party}
        if peer is None:
            return None, LinkCause("stranger", peer=_shown(sender), parties=self.parties)
        if self.tls is not None:  # first: what follows is believed only from `sender` itself
            presented = (context.auth_context().get("x509_pem_cert") or [None])[0]
            problem = self.tls.identity_problem(sender, presented)
            if problem is not None:
                return peer, LinkCause("wrong_certificate", problem=problem)
        if hello.get("v") != self.wire_version:
            theirs = _shown(hello.get("v"))
            return peer, LinkCause(
                "version_mismatch", peer=sender, theirs=theirs, ours=self.wire_version, **me
            )
        if hello.get("to") != self.party:
            return peer, LinkCause("misdialled", peer=sender, dialled=_shown(hello.get("to")), **me)
        if hello.get("parties") != self.parties:
            theirs = _shown(hello.get("parties"))
            return peer, LinkCause(
                "parties_mismatch", peer=sender, theirs=theirs, ours=self.parties, **me
            )
        return peer, self._check_session(peer, hello.get("session"))

    @staticmethod
    def _hello_dial(message: bytes) -> int | None:
        """The hello's dial number (counting the sender's attempts to reach us), if valid."""
        dial = parse_control(message).get("dial")
        return dial if isinstance(dial, int) and not isinstance(dial, bool) and dial >= 0 else None

    def _check_session(self, peer: Peer, session: Any) -> LinkCause | None:
        with peer.cond:
            if peer.session is None:
                peer.session = session
            elif peer.session != session:
                return LinkCause("restarted", peer=peer.name)
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
                    peer.fail(_abort_cause(peer, parse_control(message)))
                    self._startup_failed.set()  # a start still dialling others gives up
                    return
                else:
                    raise LinkError(f"unknown message kind {kind!r}")
        except LinkError as exc:
            peer.fail(LinkCause("malformed_frame", peer=peer.name, detail=str(exc)))
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
                peer.fail(LinkCause("lost", peer=peer.name, seconds=self.reconnect_grace))

        timer = threading.Timer(self.reconnect_grace, verdict)
        timer.daemon = True
        timer.start()


def _forged(peer: Peer, problem: LinkCause) -> bool:
    """Whether a refused hello must leave `peer`'s link alone: it came under another party's
    certificate while `peer` is linked (at start-up the refusal explains a misconfigured
    certificate of `peer` itself, so it fails the start at once)."""
    return problem.code == "wrong_certificate" and peer.greeted.is_set()


def _refusal(problem: LinkCause) -> bytes:
    """A welcome refusing the stream: the English words and the cause (`core.comm.causes`)."""
    return control(WELCOME, {"ok": False, "error": str(problem), "cause": problem.to_wire()})


def _abort_cause(peer: Peer, body: dict) -> LinkCause:
    """Why `peer` aborted: its cause if it sent one, else its words; with the `message` the
    layers above it sent (`Transport.abort`), passed on untouched."""
    words = str(body.get("reason", "no reason given"))[:500]
    reason = LinkCause.from_wire(body.get("cause")) or words
    message = body.get("message")
    extra = {"message": message} if isinstance(message, dict) else {}
    return LinkCause("aborted", peer=peer.name, reason=reason, **extra)


def _shown(value: Any) -> Any:
    """A value from a peer's hello as a cause's param: plain values as they are, anything
    else (a peer may send any map) as bounded text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value[:200] if isinstance(value, str) else value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v[:200] for v in value[:64]]
    return repr(value)[:200]
