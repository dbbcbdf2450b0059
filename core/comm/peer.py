"""One peer of a network `Transport`: what it sent us and what we send it.

Inbound: chunks are reassembled into frames (sequence numbers must follow each other); a frame
is counted (`seq_in`) and put in the inbox of its channel in one step under `_in_lock`, the
lock that also numbers a new stream's welcome (`new_inbound`), so a frame completed by a stream
that is being superseded is either delivered before the welcome names the next number or
ignored (and resent). While more than `RECV_BUFFER_BYTES` wait unread, the stream is not read
further (HTTP/2 then stops the sender). A peer's failure (`fail`) wakes every receiver; queued
messages are still delivered first.

Outbound: `offer` queues a frame (at most `MAX_PENDING_FRAMES`, so a fast sender blocks), the
current stream `take`s frames in order and keeps each in `unacked` until the peer acknowledges
it. When a stream breaks, the next stream (`resume`) resends every frame from the sequence
number the peer says it expects. Resent frames stay in `unacked` until acknowledged, so a
stream that breaks again while resending loses nothing either; a peer expecting a frame that is
no longer kept, or one never sent, fails the link loudly. A reconnection therefore loses,
repeats and reorders nothing.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.comm import frames
from core.comm.causes import LinkCause
from core.comm.wire import parse_chunk
from core.errors import LinkError

RECV_BUFFER_BYTES = 256 << 20
STALL_S = 5.0  # a full receive buffer nobody reads for this long is a flood (`Peer._flooded`)
MAX_PENDING_FRAMES = 16


@dataclass
class Frame:
    """An encoded message waiting to be sent (parts reference the sender's arrays)."""

    seq: int
    parts: list
    total: int
    channel: bytes


class Peer:
    """State about one peer; see the module docstring."""

    def __init__(self, name: str, address: str):
        self.name, self.address = name, address
        # inbound
        self.cond = threading.Condition()
        self.inbox: dict[str, deque] = {}
        self.queued = 0
        self.error: LinkCause | None = None  # why the link to this peer failed
        self.bye = False
        self.greeted = threading.Event()
        self.session: str | None = None
        self.seq_in = 0
        self.in_generation = 0
        self.last_dial = -1
        self._partial: tuple[int, memoryview, int, str] | None = None
        self.end_inbound: Callable[[], Any] | None = None  # breaks the current inbound stream
        self.on_fail: Callable[[LinkCause], Any] | None = None  # told the first `error`
        self._in_lock = threading.Lock()
        # outbound
        self.out_cond = threading.Condition()
        self.pending: deque = deque()
        self.unacked: deque[Frame] = deque()
        self.generation = 0
        self.closing = False
        self.seq_out = itertools.count()
        self.taken = 0  # sequence number of the next frame a stream takes
        self.dials = itertools.count()
        self.channels: list = []
        self.readers: list[threading.Thread] = []

    # ----- inbound ----------------------------------------------------------------------
    def fail(self, reason: LinkCause) -> None:
        """The link to this peer failed for `reason` (the first reason is kept)."""
        with self.cond:
            first = self.error is None
            if first:
                self.error = reason
            self.cond.notify_all()
        with self.out_cond:
            self.out_cond.notify_all()
        self.greeted.set()  # wakes a start-up still waiting for this peer's hello
        if first and self.on_fail is not None:
            self.on_fail(reason)

    def new_inbound(self, dial: int) -> tuple[int, int] | None:
        """A new stream from the peer replaces the previous one: (its generation, next seq).

        None for a stream of an older dial than the current one's (an attempt the peer gave up
        on, whose hello arrived late): it must not supersede the stream the peer now uses.
        """
        with self._in_lock:
            if dial <= self.last_dial:
                return None
            self.last_dial = dial
            self.in_generation += 1
            self._partial = None
            return self.in_generation, self.seq_in

    def deliver_chunk(self, message: bytes, generation: int, max_bytes: int):
        """Add one chunk; once its frame is complete, put it in its inbox: (seq, size), else None.

        Counting the frame and queueing it are one step under `_in_lock` (see the module
        docstring); `wait_for_room` then applies flow control outside it.
        """
        seq, total, offset, channel, body = parse_chunk(message)
        with self._in_lock:
            if generation != self.in_generation:
                return None  # a stale stream, superseded by a reconnection
            if self._partial is None:
                if seq != self.seq_in or offset != 0:
                    raise LinkError(f"frame {seq} at offset {offset}, expected frame {self.seq_in}")
                if total > max_bytes:
                    raise LinkError(f"frame of {total} bytes exceeds the limit {max_bytes}")
                if len(body) == total:  # a frame in one chunk: decoded in place, no copy
                    return self._deliver(seq, channel, frames.decode(body, max_bytes), total)
                # np.empty: unlike bytearray(total), no zero-filling of memory about to be
                # overwritten (a pass over the whole frame)
                self._partial = (seq, memoryview(np.empty(total, np.uint8)), 0, channel)
            pseq, buffer, filled, pchannel = self._partial
            if (seq, offset, channel) != (pseq, filled, pchannel) or filled + len(body) > total:
                raise LinkError(f"chunk of frame {seq} at {offset} does not continue the frame")
            buffer[filled : filled + len(body)] = body
            filled += len(body)
            if filled < len(buffer):
                self._partial = (pseq, buffer, filled, pchannel)
                return None
            self._partial = None
            return self._deliver(seq, channel, frames.decode(buffer, max_bytes), total)

    def _deliver(self, seq: int, channel: str, obj: Any, size: int) -> tuple[int, int]:
        """Count frame `seq` as received and queue it (caller holds `_in_lock`)."""
        self.seq_in = seq + 1
        with self.cond:
            self.inbox.setdefault(channel, deque()).append((obj, size))
            self.queued += size
            self.cond.notify_all()
        return seq, size

    def wait_for_room(self) -> None:
        """Block the stream's reader while more than `RECV_BUFFER_BYTES` wait unread."""
        with self.cond:
            while self.queued > RECV_BUFFER_BYTES and self.error is None:
                self.cond.wait(timeout=1.0)

    def get(self, channel: str, timeout: float, me: str) -> Any:
        """The next message on `channel`; LinkError if the peer failed or closed, if none
        comes within `timeout`, or if the peer fills the receive buffer with messages nobody
        here reads (`_flooded`) while this waits."""
        deadline = time.monotonic() + timeout
        stalled: tuple[float, int] | None = None  # (since when, bytes) the buffer is full
        with self.cond:
            while True:
                box = self.inbox.get(channel)
                if box:
                    obj, size = box.popleft()
                    self.queued -= size
                    self.cond.notify_all()
                    return obj
                if self.error is not None:
                    raise LinkError(LinkCause("at_party", party=me, reason=self.error))
                if self.bye:
                    closed = LinkCause("peer_closed", peer=self.name)
                    raise LinkError(LinkCause("at_party", party=me, reason=closed))
                stalled = self._flooded(stalled, channel, me)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LinkError(LinkCause("timeout", party=me, seconds=timeout, peer=self.name))
                self.cond.wait(timeout=min(remaining, 1.0))

    def _flooded(self, stalled, channel: str, me: str) -> tuple[float, int] | None:
        """Deadlock by a full receive buffer (caller holds `cond`): the stream is not read
        while more than `RECV_BUFFER_BYTES` wait unread, so the message awaited on `channel`,
        behind them, can only come once something here reads the others. If nothing does for
        `STALL_S` (the buffer stays full), the peer sent what this party's program does not
        read (a dishonest peer flooding a channel, or programs that differ): LinkError naming
        it and the channels, at once rather than at the timeout."""
        if self.queued <= RECV_BUFFER_BYTES:
            return None
        now = time.monotonic()
        if stalled is None or self.queued < stalled[1]:
            return now, self.queued  # full, or still full but being read: watch again
        if now - stalled[0] < STALL_S:
            return stalled
        held = sorted(name for name, box in self.inbox.items() if box)
        held_up = {"channels": held, "channel": channel}
        raise LinkError(LinkCause("flooded", peer=self.name, party=me, size=self.queued, **held_up))

    # ----- outbound ---------------------------------------------------------------------
    def offer(self, item: Frame | bytes, timeout: float, me: str, urgent: bool = False) -> None:
        """Queue a frame (numbered here, in queue order) or a control message for the stream.

        Blocks while `MAX_PENDING_FRAMES` wait; `urgent` control messages (abort) never wait,
        but they follow the frames queued before them: a peer may need those frames to reach
        its own reason to fail, which the abort would otherwise replace.
        """
        deadline = time.monotonic() + timeout
        with self.out_cond:
            while len(self.pending) >= MAX_PENDING_FRAMES and not urgent:
                if self.error is not None:
                    raise LinkError(LinkCause("at_party", party=me, reason=self.error))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LinkError(
                        LinkCause("send_timeout", party=me, seconds=timeout, peer=self.name)
                    )
                self.out_cond.wait(timeout=remaining)
            if self.error is not None and not urgent:
                raise LinkError(LinkCause("at_party", party=me, reason=self.error))
            if isinstance(item, Frame):
                item.seq = next(self.seq_out)
            self.pending.append(item)
            self.out_cond.notify_all()

    def take(self, generation: int) -> Frame | bytes | None:
        """The next item for the stream of `generation`; None once it is superseded or done."""
        with self.out_cond:
            while True:
                if generation != self.generation or (self.closing and not self.pending):
                    return None
                if self.pending:
                    item = self.pending.popleft()
                    if isinstance(item, Frame):
                        self.unacked.append(item)
                        self.taken = item.seq + 1
                    self.out_cond.notify_all()
                    return item
                self.out_cond.wait(timeout=0.5)

    def is_current(self, generation: int) -> bool:
        return generation == self.generation

    def ack(self, seq: int) -> None:
        with self.out_cond:
            while self.unacked and self.unacked[0].seq <= seq:
                self.unacked.popleft()

    def resume(self, next_seq: int, me: str) -> tuple[int, list[Frame]]:
        """Start a new outgoing stream: (its generation, frames to resend from `next_seq`).

        The frames before `next_seq` arrived and are dropped; the others stay in `unacked`
        until acknowledged. LinkError if the peer expects a frame that is no longer kept or
        was never sent (which would lose or invent messages).
        """
        with self.out_cond:
            kept_from = self.unacked[0].seq if self.unacked else self.taken
            if next_seq < kept_from:
                raise LinkError(
                    LinkCause(
                        "frame_dropped", peer=self.name, expected=next_seq, party=me, kept=kept_from
                    )
                )
            if next_seq > self.taken:
                sent = {"party": me, "last": self.taken - 1}
                raise LinkError(
                    LinkCause("frame_unsent", peer=self.name, expected=next_seq, **sent)
                )
            while self.unacked and self.unacked[0].seq < next_seq:
                self.unacked.popleft()
            self.generation += 1
            self.out_cond.notify_all()
            return self.generation, list(self.unacked)

    def close_outbound(self, discard: bool = False) -> None:
        """End the outgoing stream once `pending` is sent (at once with `discard`)."""
        with self.out_cond:
            self.closing = True
            if discard:
                self.pending.clear()
            self.out_cond.notify_all()
