"""The streams a party opens to its peers: dialling, the requests it sends, reconnection.

Mixed into `core.comm.network.Transport` (which holds the peers, TLS and timeouts). A party's
stream to a peer carries its frames to that peer; the peer's replies carry the welcome (with the
next sequence number it expects) and acknowledgements. When a stream breaks without a goodbye,
`_reconnect` dials again for up to `reconnect_grace` seconds and the new stream resends every
unacknowledged frame from the sequence number the peer expects (`core.comm.peer`).

A dial that gets no welcome in time is abandoned, and stays abandoned even if its welcome comes
after all (deciding that and resuming are one step under the dial's lock): two live streams to
one peer would each resume, and frames could go to the one the peer no longer reads. Hellos carry
the dial's number, so the peer also ignores an abandoned dial whose hello arrives late.
"""

from __future__ import annotations

import threading
import time

import grpc

from core.comm.causes import PEER_STOPPED, LinkCause, startup_order
from core.comm.peer import Frame, Peer
from core.comm.wire import (
    ACK,
    GRPC_OPTIONS,
    HELLO,
    METHOD,
    SERVICE,
    TLS_FAILURE,
    WELCOME,
    control,
    describe_rpc_error,
    frame_messages,
    parse_control,
    speaks_other_transport,
)
from core.errors import LinkError

# Pauses between dials at start-up, doubling: parties start within milliseconds of each other
# (a run's nodes launch together), so the first retries come soon; later ones back off. After a
# failed TLS handshake the pause is the longest one at once (see `_dial`).
FIRST_DIAL_PAUSE_S = 0.01
LAST_DIAL_PAUSE_S = 0.2


class _DialError(LinkError):
    """A start-up failure to link with one peer (its cause: `core.comm.causes.startup_order`
    says how telling it is)."""


class OutgoingStreams:
    """Transport's outgoing side (see the module docstring)."""

    def _dial_into(self, peer: Peer, deadline: float, errors: dict) -> None:
        try:
            self._dial(peer, deadline)
        except _DialError as exc:
            errors[peer.name] = exc.cause
            if startup_order(exc.cause, self.party) < 2:  # says it all: the others stop too
                self._startup_failed.set()

    def _dial(self, peer: Peer, deadline: float) -> None:
        handshake_failures, tls_reason = 0, None
        pause, started = FIRST_DIAL_PAUSE_S, time.monotonic()
        while True:
            outcome = self._try_dial(peer, deadline)
            if outcome is None:
                return
            refused, reason = outcome
            if refused:
                raise _DialError(self._refused(peer, reason))
            if reason.startswith(TLS_FAILURE):
                handshake_failures, tls_reason = handshake_failures + 1, reason
                # A peer (or a relay before it) still starting can fail a handshake too: three
                # failures count as a refusal only when they span the full pauses.
                pause = LAST_DIAL_PAUSE_S
            out_of_time = handshake_failures >= 3 or time.monotonic() >= deadline
            if not out_of_time and not self._startup_failed.wait(timeout=pause):
                pause = min(2 * pause, LAST_DIAL_PAUSE_S)
                continue
            # Out of time, or another failure ends the start (a peer's abort may just say that
            # we did not connect back): what this party knows of the peer is that it could not
            # reach it at this address, and why (a TLS refusal explains more than the
            # "connection refused" after the peer quit).
            seconds = self.connect_timeout if out_of_time else time.monotonic() - started
            raise _DialError(
                LinkCause(
                    "unreachable",
                    party=self.party,
                    peer=peer.name,
                    address=peer.address,
                    seconds=seconds,
                    reason=tls_reason or reason,
                )
            )

    def _refused(self, peer: Peer, reason: str) -> LinkCause:
        """Why `peer` refused our hello at start, as this party's start-up error."""
        code = getattr(reason, "code", None)
        if code == "other_transport":
            return reason  # says it all: the peer refused nothing
        if code in PEER_STOPPED:  # the peer stopped, and says why: as its abort would
            peer.fail(LinkCause("aborted", peer=peer.name, reason=reason))
            return LinkCause("at_party", party=self.party, reason=peer.error)
        return LinkCause("dial_refused", peer=peer.name, party=self.party, reason=reason)

    def _open_channel(self, peer: Peer) -> grpc.Channel:
        if self.tls is None:
            return grpc.insecure_channel(peer.address, options=GRPC_OPTIONS)
        creds = grpc.ssl_channel_credentials(
            root_certificates=self.tls.roots_for(peer.name),
            private_key=self.tls.key,
            certificate_chain=self.tls.cert,
        )
        options = [*GRPC_OPTIONS, ("grpc.ssl_target_name_override", peer.name)]
        return grpc.secure_channel(peer.address, creds, options=options)

    def _try_dial(self, peer: Peer, deadline: float) -> tuple[bool, str] | None:
        """None once the peer welcomed a new stream; else (refused by the peer?, reason)."""
        channel = self._open_channel(peer)
        hello = self._hello(peer)
        state: dict = {"lock": threading.Lock()}
        welcomed = threading.Event()
        call = channel.stream_stream(f"/{SERVICE}/{METHOD}")(
            self._stream(peer, hello, state, welcomed)
        )
        reader = threading.Thread(
            target=self._read_replies, args=(peer, call, state, welcomed), daemon=True
        )
        reader.start()
        if not welcomed.wait(timeout=max(0.1, deadline - time.monotonic())):
            with state["lock"]:
                if "gen" not in state:  # else the welcome came just now: the stream is live
                    state["abandoned"] = True
                    state.setdefault("error", "no answer to the hello")
            if state.get("abandoned"):
                welcomed.set()
                call.cancel()
        if "gen" not in state:
            channel.close()
            return state.get("refused", False), state.get("error", "no welcome")
        peer.channels.append(channel)
        peer.readers.append(reader)
        return None

    def _hello(self, peer: Peer) -> bytes:
        """The first message of a new stream to `peer` (checked by `IncomingStreams`)."""
        return control(
            HELLO,
            {
                "v": self.wire_version,
                "from": self.party,
                "to": peer.name,
                "parties": self.parties,
                "session": self.session,
                "dial": next(peer.dials),
            },
        )

    def _stream(self, peer: Peer, hello: bytes, state: dict, welcomed: threading.Event):
        """The requests of one stream: hello, resent frames, then frames as they come."""
        yield hello
        welcomed.wait()
        generation = state.get("gen")
        if generation is None:
            return
        for frame in state["resend"]:  # kept in `unacked` until acknowledged
            if not peer.is_current(generation):
                return
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
                words = str(body.get("error", "malformed welcome"))[:500]
                state.update(refused=True, error=LinkCause.from_wire(body.get("cause")) or words)
                return
            with state["lock"]:
                if state.get("abandoned"):
                    return
                try:
                    state["gen"], state["resend"] = peer.resume(next_seq, self.party)
                except LinkError as exc:
                    said = exc.cause or str(exc)
                    peer.fail(LinkCause("cannot_resume", peer=peer.name, reason=said))
                    state.update(refused=True, error=str(exc))
                    return
            welcomed.set()
            for reply in call:
                if reply[:1] == ACK:
                    seq = parse_control(reply).get("seq")
                    peer.ack(seq if isinstance(seq, int) else -1)
        except grpc.RpcError as exc:
            reason = describe_rpc_error(exc)
            if not welcomed.is_set():
                if speaks_other_transport(exc):  # no use dialling again: a refusal
                    reason = LinkCause("other_transport", peer=peer.name, ours=self.name)
                    state["refused"] = True
                state["error"] = reason
                return
            self._outgoing_broken(peer, state["gen"], reason)
        except (StopIteration, LinkError) as exc:
            if welcomed.is_set():  # a garbled acknowledgement: the peer's, as a garbled frame
                peer.fail(LinkCause("malformed_frame", peer=peer.name, detail=str(exc)))
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
            if refused and isinstance(why, LinkCause) and why.code in PEER_STOPPED:
                peer.fail(LinkCause("aborted", peer=peer.name, reason=why))  # it said why
                return
            if refused:
                peer.fail(LinkCause("lost_refused", peer=peer.name, reason=reason, refusal=why))
                return
            time.sleep(0.2)
        lost = LinkCause(
            "lost_not_restored", peer=peer.name, reason=reason, seconds=self.reconnect_grace
        )
        peer.fail(lost)
