"""Streaming building blocks of ECDH-PSI: pooled masking, paced sending, relaying, collecting.

Memory stays bounded because nothing is ever produced faster than it is consumed: a party keeps
at most `WINDOW` chunks in the process pool, and a sender keeps at most `WINDOW` chunks that the
receiver has not yet taken off the link (the receiver acknowledges each chunk as it takes it).
Values that a party must keep (the comparer's fully-masked sets) go into preallocated arrays.
One exception: with three or more parties, the comparer's own values come back from the last
hop without pacing while the comparer is still sending, so up to 16 bytes per key of its own
set may wait on its link (as much again as the array they are copied into).

Messages on a link: numpy arrays carry data, the strings `ACK` and `END` carry control.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass

import numpy as np

from core.comm import Link
from core.errors import LinkError
from core.psi.errors import PsiCancelled
from core.psi.kernels import POINT_BYTES, hash_and_mask, mask_points
from core.psi.source import PsiSource
from core.psi.store import MaskedSetStore

ACK = "ack"
END = "end"
WINDOW = 4
# Rows of room made for a peer's announced set before its values arrive (FinalSink, KKRT's
# receiver): allocated, not touched, so an honest set up to this size never regrows.
FIRST_ROWS = 1 << 24


class Progress:
    """Monotone fraction-done reporter; work is counted in scalar multiplications."""

    def __init__(self, callback: Callable[[float], None] | None, expected: int):
        self._callback = callback
        self._total = max(expected, 1)
        self._done = 0
        self._last = 0.0

    def set_total(self, total: int) -> None:
        self._total = max(total, self._done, 1)

    def add(self, units: int) -> None:
        self._done += units
        # The last 5% cover comparing and writing the output.
        self._report(0.95 * min(self._done / self._total, 1.0))

    def finish(self) -> None:
        self._report(1.0)

    def _report(self, fraction: float) -> None:
        if self._callback is not None and fraction > self._last:
            self._last = fraction
            self._callback(fraction)


@dataclass
class PartyWork:
    """One party's handle on the shared machinery: link, pool, secret, progress, cancel check."""

    link: Link
    pool: Executor
    scalar: bytes
    progress: Progress
    should_cancel: Callable[[], bool] | None = None

    def check_cancel(self) -> None:
        if self.should_cancel is not None and self.should_cancel():
            raise PsiCancelled(f"party {self.link.party!r}: PSI cancelled by the caller")

    def submit(self, fn: Callable, *args) -> Future:
        self.check_cancel()
        return self.pool.submit(fn, self.scalar, *args)

    def take(self, future: Future, width: int) -> np.ndarray:
        values = np.frombuffer(future.result(), dtype=np.uint8).reshape(-1, width)
        self.progress.add(len(values))
        return values


def mask_own(work: PartyWork, source: PsiSource, store: MaskedSetStore, chunk: int) -> int:
    """Hash and mask every key of `source` into `store`; return the number of rows read."""
    pending: deque[tuple[int, Future]] = deque()
    rows = 0
    for start, keys in source.iter_keys(chunk):
        pending.append((start, work.submit(hash_and_mask, keys)))
        rows = start + len(keys)
        while len(pending) >= WINDOW:
            first, future = pending.popleft()
            store.append(work.take(future, POINT_BYTES), first)
    while pending:
        first, future = pending.popleft()
        store.append(work.take(future, POINT_BYTES), first)
    return rows


class PacedSender:
    """Send chunks to one peer with at most `WINDOW` of them not yet acknowledged.

    Messages from that peer that are not acknowledgements go to `on_other(message, its rank)`
    (the comparer's own stream in the two-party case comes back on the link that also carries
    its ACKs).
    """

    def __init__(self, link: Link, to: int, on_other: Callable[[object, int], None] | None = None):
        self._link, self._to, self._on_other = link, to, on_other
        self._unacked = 0

    def send(self, chunk: np.ndarray) -> None:
        while self._unacked >= WINDOW:
            self._receive_one()
        self._link.send(self._to, chunk)
        self._unacked += 1

    def finish(self) -> None:
        self._link.send(self._to, END)
        while self._unacked:
            self._receive_one()

    def _receive_one(self) -> None:
        message = self._link.recv(self._to)
        if isinstance(message, str) and message == ACK:
            self._unacked -= 1
        elif self._on_other is not None:
            self._on_other(message, self._to)
        else:
            raise LinkError(
                f"{self._link.party!r} expected an acknowledgement from "
                f"{self._link.parties[self._to]!r}, got {type(message).__name__}"
            )


def send_stream(work: PartyWork, to: int, chunks: Iterable[np.ndarray], on_other=None) -> None:
    """Send a party's sorted masked chunks to the next hop, paced by its acknowledgements."""
    sender = PacedSender(work.link, to, on_other)
    for chunk in chunks:
        work.check_cancel()
        sender.send(chunk)
    sender.finish()


def process_stream(
    work: PartyWork, frm: int, keep: int, emit: Callable[[np.ndarray], None]
) -> None:
    """Receive point chunks from `frm` until END, raise them to our scalar, `emit` the results.

    Each chunk is acknowledged as soon as it is taken off the link; results are emitted in the
    order received, each truncated to its first `keep` bytes.
    """
    pending: deque[Future] = deque()
    ended = False
    while not ended or pending:
        if not ended and len(pending) < WINDOW:
            message = work.link.recv(frm)
            if isinstance(message, str) and message == END:
                ended = True
                continue
            points = _checked(work.link, frm, message, POINT_BYTES)
            work.link.send(frm, ACK)
            pending.append(work.submit(mask_points, points.tobytes(), keep))
            continue
        emit(work.take(pending.popleft(), keep))


class Rows:
    """An array of rows filled chunk by chunk, preallocated from the expected row count and
    grown by doubling (never past `most` rows, if given).

    Concatenating the chunks at the end would hold every row twice for a moment.
    """

    def __init__(self, expected: int, width: int, dtype, most: int | None = None):
        self._data = np.empty((max(expected, 16), width), dtype=dtype)
        self._most = most
        self.filled = 0

    def append(self, rows: np.ndarray) -> None:
        needed = self.filled + len(rows)
        if needed > len(self._data):  # the row estimate was short: grow
            size = 2 * needed if self._most is None else max(needed, min(self._most, 2 * needed))
            grown = np.empty((size, self._data.shape[1]), self._data.dtype)
            grown[: self.filled] = self._data[: self.filled]
            self._data = grown
        self._data[self.filled : needed] = rows
        self.filled = needed

    @property
    def array(self) -> np.ndarray:
        return self._data[: self.filled]


class FinalSink:
    """Collects a party's fully-masked values into a (size, width) array.

    `size` is what the party announced; room grows as values arrive (doubling, from at most
    `FIRST_ROWS`), so a party announcing a huge set makes the comparer allocate nothing it
    has not been sent."""

    def __init__(self, link: Link, owner: int, size: int, width: int):
        self._link, self._owner, self._width = link, owner, width
        self._size = size
        self._rows = Rows(min(size, FIRST_ROWS), width, np.uint8, most=size)
        self.ended = False

    @property
    def values(self) -> np.ndarray:
        return self._rows.array

    def accept(self, message: object, sender: int | None = None) -> None:
        """Take `message`, of this set's values or its END, from rank `sender` (the set's
        owner if not given): a malformed one is a LinkError naming who sent it."""
        if isinstance(message, str) and message == END:
            self.ended = True
            return
        frm = self._owner if sender is None else sender
        values = _checked(self._link, frm, message, self._width)
        if self._rows.filled + len(values) > self._size:
            raise LinkError(
                f"{self._link.party!r} received more masked values for "
                f"{self._link.parties[self._owner]!r} than its announced {self._size}"
            )
        self._rows.append(values)

    def drain(self, frm: int) -> None:
        while not self.ended:
            self.accept(self._link.recv(frm), frm)
        self.check_complete()

    def check_complete(self) -> None:
        if self._rows.filled != self._size:
            raise LinkError(
                f"{self._link.party!r} received {self._rows.filled} masked values for "
                f"{self._link.parties[self._owner]!r}, announced {self._size}"
            )


def _checked(link: Link, frm: int, message: object, width: int) -> np.ndarray:
    ok = (
        isinstance(message, np.ndarray)
        and message.dtype == np.uint8
        and message.ndim == 2
        and message.shape[1] == width
    )
    if not ok:
        raise LinkError(
            f"{link.party!r} expected ({width}-byte) masked values from {link.parties[frm]!r}, "
            f"got {type(message).__name__} {getattr(message, 'shape', '')}"
        )
    return message
