"""Point-to-point links between parties: the `Link` interface and the in-memory hub.

A `Link` is one party's endpoint: it knows its own `rank`, the ordered party names and can
`send` to / `recv` from any other rank. Messages between one ordered pair are delivered in
order (FIFO). Protocol code only ever talks through a `Link`, so the same protocol runs over
the in-memory hub (`LocalLinkHub`, the `address='local'` simulation) and over the network
(`core.comm.network.NetworkLink`, one process per party, mutual TLS over raw sockets or gRPC).

Protocols receive share-carrying messages with `recv_like`, which checks their dtype and
shape (`core.comm.expect`); device operations mark the program step each message belongs to
(`begin_step`), which network links send along and check (`core.comm.steps`).

Both implementations count the same traffic (`payload_size` of every message, rounds as in
`core.comm.stats`), so statistics of a simulation and of a deployment are comparable.

The in-memory hub delivers Python objects by reference. Senders must not mutate an array after
sending it (protocols send fresh arrays); receivers get read-only views to catch mistakes, as
they get read-only arrays decoded from network frames.
"""

from __future__ import annotations

import pickle
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

import numpy as np

from core.comm.expect import check_like
from core.comm.stats import CommStats
from core.errors import LinkError, PartyError

DEFAULT_TIMEOUT_S = 600.0


def payload_size(obj: Any) -> int:
    """Bytes `obj` would occupy on the wire (arrays by their buffer, other objects pickled).

    Pickling here only measures small metadata for the statistics; nothing is ever unpickled.
    """
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


class Link(ABC):
    """One party's endpoint to the other parties of a group (ranks 0..world_size-1).

    Subclasses move the messages (`_deliver`, `_receive`, `close`); this base class checks
    ranks and records traffic, so every transport counts bytes and rounds the same way.
    `simulation` is True only for in-memory links, where every party lives in this process
    (shared test seeds are accepted only there).
    """

    simulation: bool = False

    def __init__(
        self,
        parties: list[str],
        rank: int,
        stats: CommStats,
        timeout: float = DEFAULT_TIMEOUT_S,
    ):
        if not 0 <= rank < len(parties):
            raise PartyError(f"rank {rank} is outside 0..{len(parties) - 1}")
        self.parties = list(parties)
        self.rank = rank
        self.world_size = len(parties)
        self.stats = stats
        self.timeout = timeout
        self._received_since_send = True
        self._steps: dict[int, int] = {}  # joint steps begun with each peer (`begin_step`)
        self._step_label = ""

    @property
    def party(self) -> str:
        return self.parties[self.rank]

    def rank_of(self, party: str) -> int:
        try:
            return self.parties.index(party)
        except ValueError:
            raise PartyError(f"unknown party {party!r}; parties are {self.parties}") from None

    def _check_peer(self, peer: int) -> None:
        if isinstance(peer, bool) or not isinstance(peer, int | np.integer):
            raise PartyError(f"party {self.party!r}: a peer rank must be an int, got {peer!r}")
        if peer == self.rank or not 0 <= peer < self.world_size:
            raise PartyError(f"party {self.party!r} cannot talk to rank {peer}")

    def send(self, to: int, obj: Any) -> None:
        """Queue `obj` for rank `to` (FIFO per ordered pair); raises LinkError once closed."""
        self._check_peer(to)
        self._check_open()
        new_round = self._received_since_send
        self._received_since_send = False
        self.stats.record_send(self.party, self.parties[to], payload_size(obj), new_round)
        self._deliver(int(to), obj)

    def recv(self, frm: int) -> Any:
        """The next message from rank `frm`; LinkError on timeout, closure or a failed peer."""
        self._check_peer(frm)
        obj = self._receive(int(frm))
        self._received_since_send = True
        return obj

    def recv_like(self, frm: int, like: Any, what: str) -> Any:
        """The next message from rank `frm`, which must have `like`'s form: an array of exactly
        its dtype and shape, or a list of such arrays item by item (`core.comm.expect`); else
        LinkError naming the peer, both forms, `what` the message is (e.g. "an opening") and
        the step. Protocols receive every share-carrying message through here."""
        return check_like(self, frm, self.recv(frm), like, what)

    def begin_step(self, label: str, peers: Iterable[int]) -> None:
        """Enter the next joint step of the program with `peers` (ranks), labelled `label` in
        public words (an operation, a device, parties; never a value). Network links send each
        message with its step and refuse a peer's message of another step (`core.comm.steps`);
        in-memory links, whose parties share one driver, only keep count."""
        for peer in peers:
            self._steps[peer] = self._steps.get(peer, 0) + 1
        self._step_label = label

    def end_step(self) -> None:
        self._step_label = ""

    def step_with(self, peer: int) -> tuple[int, str]:
        """(count, label) of this party's current step with rank `peer`."""
        return self._steps.get(peer, 0), self._step_label

    def send_all(self, obj: Any) -> None:
        """Send the same object to every other party."""
        for peer in range(self.world_size):
            if peer != self.rank:
                self.send(peer, obj)

    def exchange(self, to: int, obj: Any, frm: int | None = None) -> Any:
        """Send to `to` then receive from `frm` (default: the same peer)."""
        self.send(to, obj)
        return self.recv(to if frm is None else frm)

    def _check_open(self) -> None:  # noqa: B027 - optional hook, most links need no check
        """Raise LinkError if the link can no longer send."""

    @abstractmethod
    def _deliver(self, to: int, obj: Any) -> None:
        """Move `obj` towards rank `to`."""

    @abstractmethod
    def _receive(self, frm: int) -> Any:
        """Wait for the next object from rank `frm`."""

    @abstractmethod
    def close(self, reason: str = "link closed") -> None:
        """Wake every party blocked on this link's group with a LinkError carrying `reason`."""


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

    def link(self, rank: int, timeout: float = DEFAULT_TIMEOUT_S) -> LocalLink:
        if not 0 <= rank < len(self.parties):
            raise PartyError(f"rank {rank} is outside 0..{len(self.parties) - 1}")
        return LocalLink(self, rank, timeout)

    def close(self, reason: str = "link closed") -> None:
        """Wake every blocked receiver with a `LinkError` (used when a party fails)."""
        self._closed.set()
        for q in self._queues.values():
            q.put(_Closed(reason))


class _Closed:
    def __init__(self, reason: str):
        self.reason = reason


class LocalLink(Link):
    """One party's endpoint on a `LocalLinkHub`."""

    simulation = True

    def __init__(self, hub: LocalLinkHub, rank: int, timeout: float = DEFAULT_TIMEOUT_S):
        super().__init__(hub.parties, rank, hub.stats, timeout)
        self._hub = hub

    def _check_open(self) -> None:
        if self._hub._closed.is_set():
            raise LinkError(f"link of {self.party!r} is closed")

    def _deliver(self, to: int, obj: Any) -> None:
        self._hub._queues[(self.rank, to)].put(_freeze(obj))

    def _receive(self, frm: int) -> Any:
        try:
            obj = self._hub._queues[(frm, self.rank)].get(timeout=self.timeout)
        except queue.Empty:
            raise LinkError(
                f"{self.party!r} waited {self.timeout:.0f}s for {self.parties[frm]!r}"
            ) from None
        if isinstance(obj, _Closed):
            self._hub._queues[(frm, self.rank)].put(obj)  # keep other readers awake too
            raise LinkError(f"{self.party!r}: {obj.reason}")
        return obj

    def close(self, reason: str = "link closed") -> None:
        self._hub.close(reason)
