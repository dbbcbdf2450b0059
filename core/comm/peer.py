"""One peer of a network `Transport`: what it sent us and what we send it.

Inbound: chunks are reassembled into frames (sequence numbers must follow each other), each
decoded frame waits in the inbox of its channel until a link receives it; while more than
`RECV_BUFFER_BYTES` wait unread, the stream is not read further (HTTP/2 then stops the sender).
A peer's failure (`fail`) wakes every receiver; queued messages are still delivered first.

Outbound: `offer` queues a frame (at most `MAX_PENDING_FRAMES`, so a fast sender blocks), the
current stream `take`s frames in order and keeps each in `unacked` until the peer acknowledges
it. When a stream breaks, the next stream (`resume`) resends every frame from the sequence
number the peer says it expects, so a reconnection loses and duplicates nothing.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from core.comm import frames
from core.comm.wire import parse_chunk
from core.errors import LinkError

RECV_BUFFER_BYTES = 256 << 20
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
        self.error: str | None = None
        self.bye = False
        self.greeted = threading.Event()
        self.session: str | None = None
        self.seq_in = 0
        self.in_generation = 0
        self.lost_at: float | None = None
        self._partial: tuple[int, bytearray, int, str] | None = None
        self._in_lock = threading.Lock()
        # outbound
        self.out_cond = threading.Condition()
        self.pending: deque = deque()
        self.unacked: deque[Frame] = deque()
        self.generation = 0
        self.closing = False
        self.seq_out = itertools.count()
        self.channels: list = []
        self.readers: list[threading.Thread] = []

    # ----- inbound ----------------------------------------------------------------------
    def fail(self, reason: str) -> None:
        with self.cond:
            if self.error is None:
                self.error = reason
            self.cond.notify_all()
        with self.out_cond:
            self.out_cond.notify_all()
        self.greeted.set()  # wakes a start-up still waiting for this peer's hello

    def new_inbound(self) -> tuple[int, int]:
        """A new stream from the peer replaces the previous one: (its generation, next seq)."""
        with self._in_lock:
            self.in_generation += 1
            self._partial, self.lost_at = None, None
            return self.in_generation, self.seq_in

    def accept_chunk(self, message: bytes, generation: int, max_bytes: int):
        """Add one chunk; (seq, channel, message, size) once its frame is complete, else None."""
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
                    self.seq_in += 1
                    return seq, channel, frames.decode(body, max_bytes), total
                self._partial = (seq, bytearray(total), 0, channel)
            pseq, buffer, filled, pchannel = self._partial
            if (seq, offset, channel) != (pseq, filled, pchannel) or filled + len(body) > total:
                raise LinkError(f"chunk of frame {seq} at {offset} does not continue the frame")
            buffer[filled : filled + len(body)] = body
            filled += len(body)
            if filled < len(buffer):
                self._partial = (pseq, buffer, filled, pchannel)
                return None
            self._partial, self.seq_in = None, self.seq_in + 1
        return seq, channel, frames.decode(buffer, max_bytes), len(buffer)

    def put(self, channel: str, obj: Any, size: int) -> None:
        with self.cond:
            self.inbox.setdefault(channel, deque()).append((obj, size))
            self.queued += size
            self.cond.notify_all()
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

    # ----- outbound ---------------------------------------------------------------------
    def offer(self, item: Frame | bytes, timeout: float, me: str, urgent: bool = False) -> None:
        """Queue a frame (numbered here, in queue order) or a control message for the stream.

        Blocks while `MAX_PENDING_FRAMES` wait; `urgent` control messages (abort) go first and
        never wait.
        """
        deadline = time.monotonic() + timeout
        with self.out_cond:
            while len(self.pending) >= MAX_PENDING_FRAMES and not urgent:
                if self.error is not None:
                    raise LinkError(f"{me!r}: {self.error}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LinkError(
                        f"{me!r} timed out after {timeout:.0f}s sending to {self.name!r} "
                        "(it stopped reading)"
                    )
                self.out_cond.wait(timeout=remaining)
            if self.error is not None and not urgent:
                raise LinkError(f"{me!r}: {self.error}")
            if isinstance(item, Frame):
                item.seq = next(self.seq_out)
            (self.pending.appendleft if urgent else self.pending.append)(item)
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
                    self.out_cond.notify_all()
                    return item
                self.out_cond.wait(timeout=0.5)

    def ack(self, seq: int) -> None:
        with self.out_cond:
            while self.unacked and self.unacked[0].seq <= seq:
                self.unacked.popleft()

    def resume(self, next_seq: int) -> tuple[int, list[Frame]]:
        """Start a new outgoing stream: (its generation, frames to resend from `next_seq`)."""
        with self.out_cond:
            self.generation += 1
            resend = [frame for frame in self.unacked if frame.seq >= next_seq]
            self.unacked.clear()
            self.out_cond.notify_all()
            return self.generation, resend

    def sent_again(self, frame: Frame) -> None:
        with self.out_cond:
            self.unacked.append(frame)

    def close_outbound(self, discard: bool = False) -> None:
        """End the outgoing stream once `pending` is sent (at once with `discard`)."""
        with self.out_cond:
            self.closing = True
            if discard:
                self.pending.clear()
            self.out_cond.notify_all()
