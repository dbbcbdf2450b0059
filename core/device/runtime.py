"""The runtime that `init()` creates: which parties run in this process, their state and links.

`PartyRuntime` is one party's state, as SPU's `Runtime(link, config)`: its plaintext object
store (the PYU's values) and its `Link` to the other parties. A `Cluster` holds the runtimes of
the parties that run *here* and decides how device calls reach them:

- `Simulation` (`init(parties=..., address='local')`): every party runs in this process, each
  on its own worker thread, over in-memory links. All parties then trust this process.
- `core.device.deployment.Deployment` (`init(cluster_config=...)`): one party per process; only
  that party's runtime exists here, the other parties are reached over network links, and a
  device call runs only the programs of this process's party (SecretFlow's production mode).

Device calls are issued in the same order on every party (SPMD), so programs meet in the same
order on every link and object references, allocated by the driver in program order, agree
across processes without any message. This module holds the one piece of global state the
SecretFlow-style API needs (the current cluster); `using(cluster)` binds another cluster to the
current thread (or asyncio task) only, so several simulations can run side by side.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import contextvars
import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from core.comm import CommStats, Link, LocalLinkHub
from core.errors import ConfigError, EngineError, LinkError, PartyError, PartyFailure

FAILURE_GRACE_S = 2.0


class PartyRuntime:
    """One party's state in this process: its object store and its link to the cluster."""

    def __init__(self, party: str, link: Link):
        self.party = party
        self.link = link
        self.store: dict[int, Any] = {}


class Cluster(ABC):
    """The parties of one `init()`, the runtimes of those that run here, and traffic counters."""

    simulation: bool = False

    def __init__(self, parties: Sequence[str], stats: CommStats, seed: int | None = None):
        names = sorted(parties)
        if not names or len(set(names)) != len(names):
            raise PartyError(f"parties must be distinct names, got {parties!r}")
        self.parties = names
        self.stats = stats
        self.seed = seed
        self.runtimes: dict[str, PartyRuntime] = {}
        self.closers: list[Callable[[], None]] = []
        self.broken: str | None = None
        self._ids = itertools.count()
        self._groups = itertools.count()
        self._lock = threading.Lock()

    # ----- parties ----------------------------------------------------------------------
    def check_party(self, party: str) -> None:
        if party not in self.parties:
            raise PartyError(f"unknown party {party!r}; parties are {self.parties}")

    def rank(self, party: str) -> int:
        """`party`'s rank on the cluster-wide links (parties in sorted order)."""
        self.check_party(party)
        return self.parties.index(party)

    @property
    def program_parties(self) -> list[str]:
        """The parties that run the program and ask for revealed values (all in a simulation)."""
        return self.parties

    def is_local(self, party: str) -> bool:
        """True if `party`'s programs run in this process."""
        return party in self.runtimes

    def store(self, party: str) -> dict[int, Any]:
        return self.runtimes[party].store

    def link(self, party: str) -> Link:
        return self.runtimes[party].link

    def new_id(self) -> int:
        """The next object reference; the driver allocates them in program order everywhere."""
        with self._lock:
            return next(self._ids)

    def next_group(self, kind: str) -> str:
        """A name for the links of the next device (the same on every party, in program order)."""
        with self._lock:
            return f"{kind}/{next(self._groups)}"

    # ----- running programs -------------------------------------------------------------
    @abstractmethod
    def group_links(
        self, parties: Sequence[str], name: str, addresses: dict[str, str] | None = None
    ) -> dict[str, Link]:
        """Links among `parties` (ranks in the given order) for the local ones among them.

        `name` is the same on every party (`next_group`); `addresses` (a device's own node
        addresses, if any) are honoured by deployments."""

    @abstractmethod
    def run_one(self, party: str, fn: Callable[[], Any]) -> Any:
        """Run fn as `party` and return its result (None when `party` runs elsewhere)."""

    @abstractmethod
    def run_all(
        self,
        parties: Sequence[str],
        programs: Sequence[Callable[[], Any]],
        links: Sequence[Link] = (),
        step: str = "",
    ) -> list[Any]:
        """Run one program per party (SPMD); return the results of the local parties in order.

        `links` are the links the programs talk over (besides the cluster's own); they are
        closed if a party fails so that no peer stays blocked. `step` names the operation in
        public words (e.g. "spu/0: reveal to 'alice'"): a deployment checks that every message
        is of the same step at its receiver (`core.comm.steps`).
        """

    def check_alive(self) -> None:
        if self.broken:
            raise ConfigError(f"session unusable ({self.broken}); call shutdown() and init() again")

    def close(self) -> None:
        for closer in self.closers:
            closer()


class Simulation(Cluster):
    """Every party in this process: one worker thread each, in-memory links (`address='local'`)."""

    simulation = True

    def __init__(
        self, parties: Sequence[str], seed: int | None = None, stats: CommStats | None = None
    ):
        super().__init__(parties, stats if stats is not None else CommStats(), seed)
        self.hub = LocalLinkHub(self.parties, stats=self.stats)
        for rank, party in enumerate(self.parties):
            self.runtimes[party] = PartyRuntime(party, self.hub.link(rank))
        self._workers = {
            p: cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"party-{p}")
            for p in self.parties
        }

    def group_links(self, parties, name, addresses=None):
        hub = LocalLinkHub(list(parties), stats=self.stats)
        return {party: hub.link(rank) for rank, party in enumerate(parties)}

    def submit(self, party: str, fn: Callable[[], Any]) -> cf.Future:
        self.check_alive()
        return self._workers[party].submit(fn)

    def run_one(self, party: str, fn: Callable[[], Any]) -> Any:
        return self.submit(party, fn).result()

    def run_all(self, parties, programs, links=(), step=""):
        """Run the programs concurrently on the parties' workers.

        If every failing party raised the same engine error (a deterministic refusal such as a
        shape mismatch, a refused input), that error is re-raised as is: the failing party's own
        (`_blame_order`), e.g. the owner's refusal of its input rather than the other parties'
        secondhand copies. Otherwise peers blocked on the link are
        woken by closing it, the session is marked broken and `PartyFailure` names the party.
        """
        futures = [self.submit(p, prog) for p, prog in zip(parties, programs, strict=True)]
        done, pending = cf.wait(futures, return_when=cf.FIRST_EXCEPTION)
        if pending:
            done, pending = cf.wait(futures, timeout=FAILURE_GRACE_S)
        if not pending and all(f.exception() is None for f in futures):
            return [f.result() for f in futures]
        return self._raise_failure(parties, futures, pending, links)

    def _raise_failure(self, parties, futures, pending, links):
        if pending:
            for link in links or [self.hub.link(0)]:
                link.close("a party failed")
            self.broken = "a party failed during a joint computation"
            cf.wait(futures)
        errors = [
            (p, f.exception()) for p, f in zip(parties, futures, strict=True) if f.exception()
        ]
        errors.sort(key=_blame_order)
        party, error = errors[0]
        same = len(errors) == len(parties) and len({type(e) for _, e in errors}) == 1
        if (
            isinstance(error, EngineError)
            and not isinstance(error, LinkError)
            and (same or not pending)
        ):
            raise error
        raise PartyFailure(party, error) from error

    def close(self) -> None:
        super().close()
        for worker in self._workers.values():
            worker.shutdown(wait=True, cancel_futures=True)
        self.hub.close("session shut down")


def _blame_order(failure: tuple[str, BaseException]) -> tuple[bool, bool]:
    """Which party's error the caller reads first: a party's own failure, before the
    secondhand copy of it other parties raise (a refused input: the owner's error says how many
    of its values failed), before a link error (a peer that stopped because another failed)."""
    error = failure[1]
    return isinstance(error, LinkError), bool(getattr(error, "secondhand", False))


_session: Cluster | None = None
_bound: contextvars.ContextVar[Cluster | None] = contextvars.ContextVar("cluster", default=None)


def current() -> Cluster:
    """The cluster bound to this thread by `using`, else the one `init()` created."""
    cluster = _bound.get() or _session
    if cluster is None:
        raise ConfigError("no session: call init(parties=[...], address='local') first")
    return cluster


@contextlib.contextmanager
def using(cluster: Cluster, *, close: bool = True) -> Iterator[Cluster]:
    """Make `cluster` current for this thread (or task) only; closes it on exit unless
    `close=False` (a deployment that outlives the block, e.g. one per pipeline run)."""
    token = _bound.set(cluster)
    try:
        yield cluster
    finally:
        _bound.reset(token)
        if close:
            cluster.close()


def install(cluster: Cluster) -> Cluster:
    """Make `cluster` the process-wide current one (closing the previous)."""
    global _session
    if _session is not None:
        _session.close()
    _session = cluster
    return cluster


def start(parties: Sequence[str], seed: int | None = None) -> Cluster:
    return install(Simulation(parties, seed))


def stop() -> None:
    global _session
    if _session is not None:
        _session.close()
        _session = None
