"""Point-to-point links between parties.

A `Link` is one party's endpoint: it knows its own `rank`, the ordered party names and can
`send` to / `recv` from any other rank. Messages between one ordered pair are delivered in
order (FIFO). Protocol code only ever talks through a `Link`, so the in-memory hub used for
simulation can later be replaced by a network transport without changing protocol code.

The in-memory hub delivers Python objects by reference. Senders must not mutate an array after
sending it (protocols send fresh arrays); receivers get read-only views to catch mistakes.
"""

from __future__ import annotations

import pickle
import queue
import threading
from typing import Any

import numpy as np

from core.comm.stats import CommStats
from core.errors import LinkError, PartyError

DEFAULT_TIMEOUT_S = 600.0


def payload_size(obj: Any) -> int:
    """Bytes `obj` would occupy on the wire (arrays by their buffer, other objects pickled)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, bytes | bytearray | memoryview):
        return len(obj)
    if isinstance(obj, list | tuple) and obj and all(isinstance(o, np.ndarray) for o in obj):
        return sum(int(o.nbytes) for o in obj)
    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _freeze(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        view = obj.view()
        view.flags.writeable = False
        return view
    return obj


class LocalLinkHub:
    """In-process message fabric for `address='local'` simulation: one FIFO per ordered pair."""

    def __init__(self, parties: list[str], stats: CommStats | None = None):
        if len(set(parties)) != len(parties) or not parties:
            raise PartyError(f"party names must be unique and non-empty, got {parties!r}")
        self.parties = list(parties)
        self.stats = stats if stats is not None else CommStats()
        self._queues = {
            (src, dst): queue.Queue()
            for src in range(len(parties))
            for dst in range(len(parties))
            if src != dst
        }
        self._closed = threading.Event()

    def link(self, rank: int) -> Link:
        if not 0 <= rank < len(self.parties):
            raise PartyError(f"rank {rank} is outside 0..{len(self.parties) - 1}")
        return Link(self, rank)

    def close(self, reason: str = "link closed") -> None:
        """Wake every blocked receiver with a `LinkError` (used when a party fails)."""
        self._closed.set()
        for q in self._queues.values():
            q.put(_Closed(reason))


class _Closed:
    def __init__(self, reason: str):
        self.reason = reason


class Link:
    """One party's endpoint on a hub."""

    def __init__(self, hub: LocalLinkHub, rank: int, timeout: float = DEFAULT_TIMEOUT_S):
        self._hub = hub
        self.rank = rank
        self.parties = hub.parties
        self.world_size = len(hub.parties)
        self.timeout = timeout
        self._received_since_send = True

    @property
    def party(self) -> str:
        return self.parties[self.rank]

    @property
    def stats(self) -> CommStats:
        return self._hub.stats

    def rank_of(self, party: str) -> int:
        try:
            return self.parties.index(party)
        except ValueError:
            raise PartyError(f"unknown party {party!r}; parties are {self.parties}") from None

    def _check_peer(self, peer: int) -> None:
        if peer == self.rank or not 0 <= peer < self.world_size:
            raise PartyError(f"party {self.party!r} cannot talk to rank {peer}")

    def send(self, to: int, obj: Any) -> None:
        self._check_peer(to)
        if self._hub._closed.is_set():
            raise LinkError(f"link of {self.party!r} is closed")
        new_round = self._received_since_send
        self._received_since_send = False
        self._hub.stats.record_send(self.party, self.parties[to], payload_size(obj), new_round)
        self._hub._queues[(self.rank, to)].put(_freeze(obj))

    def recv(self, frm: int) -> Any:
        self._check_peer(frm)
        try:
            obj = self._hub._queues[(frm, self.rank)].get(timeout=self.timeout)
        except queue.Empty:
            raise LinkError(
                f"{self.party!r} waited {self.timeout:.0f}s for {self.parties[frm]!r}"
            ) from None
        if isinstance(obj, _Closed):
            self._hub._queues[(frm, self.rank)].put(obj)  # keep other readers awake too
            raise LinkError(f"{self.party!r}: {obj.reason}")
        self._received_since_send = True
        return obj

    def send_all(self, obj: Any) -> None:
        """Send the same object to every other party."""
        for peer in range(self.world_size):
            if peer != self.rank:
                self.send(peer, obj)

    def exchange(self, to: int, obj: Any, frm: int | None = None) -> Any:
        """Send to `to` then receive from `frm` (default: the same peer)."""
        self.send(to, obj)
        return self.recv(to if frm is None else frm)
