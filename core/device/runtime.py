"""The session created by `init()`: parties, their worker threads, stores and links.

Every party owns one worker thread (a single-thread executor), a plaintext object store for its
PYU and one `Link` on the session hub. Device calls are submitted to the workers of the parties
involved, in the same order for every party, so SPMD programs meet in the same order on every
link. This is the one piece of global state the SecretFlow-style API needs.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from core.comm import CommStats, Link, LocalLinkHub
from core.errors import ConfigError, EngineError, LinkError, PartyError, PartyFailure

FAILURE_GRACE_S = 2.0


class Session:
    """Parties, per-party workers, object stores and the traffic statistics of one `init()`."""

    def __init__(self, parties: Sequence[str], seed: int | None = None):
        names = sorted(parties)
        if not names or len(set(names)) != len(names):
            raise PartyError(f"parties must be distinct names, got {parties!r}")
        self.parties = names
        self.seed = seed
        self.stats = CommStats()
        self.hub = LocalLinkHub(names, stats=self.stats)
        self.links = {p: self.hub.link(i) for i, p in enumerate(names)}
        self.stores: dict[str, dict[int, Any]] = {p: {} for p in names}
        self._workers = {
            p: cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"party-{p}") for p in names
        }
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self.closers: list[Callable[[], None]] = []
        self.broken: str | None = None

    def check_party(self, party: str) -> None:
        if party not in self.stores:
            raise PartyError(f"unknown party {party!r}; parties are {self.parties}")

    def new_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def submit(self, party: str, fn: Callable[[], Any]) -> cf.Future:
        self._check_alive()
        return self._workers[party].submit(fn)

    def run_one(self, party: str, fn: Callable[[], Any]) -> Any:
        """Run fn on `party`'s worker and wait for its result."""
        return self.submit(party, fn).result()

    def run_all(self, parties: Sequence[str], programs: Sequence[Callable[[], Any]], hub=None):
        """Run one program per party concurrently (SPMD) and return their results in order.

        If every failing party raised the same engine error (a deterministic refusal such as a
        shape mismatch), that error is re-raised as is. Otherwise peers blocked on the link are
        woken by closing it, the session is marked broken and `PartyFailure` names the party.
        """
        futures = [self.submit(p, prog) for p, prog in zip(parties, programs, strict=True)]
        done, pending = cf.wait(futures, return_when=cf.FIRST_EXCEPTION)
        if pending:
            done, pending = cf.wait(futures, timeout=FAILURE_GRACE_S)
        if not pending and all(f.exception() is None for f in futures):
            return [f.result() for f in futures]
        return self._raise_failure(parties, futures, pending, hub or self.hub)

    def _raise_failure(self, parties, futures, pending, hub):
        if pending:
            hub.close("a party failed")
            self.broken = "a party failed during a joint computation"
            cf.wait(futures)
        errors = [
            (p, f.exception()) for p, f in zip(parties, futures, strict=True) if f.exception()
        ]
        errors.sort(key=lambda e: isinstance(e[1], LinkError))
        party, error = errors[0]
        same = len(errors) == len(parties) and len({type(e) for _, e in errors}) == 1
        if (
            isinstance(error, EngineError)
            and not isinstance(error, LinkError)
            and (same or not pending)
        ):
            raise error
        raise PartyFailure(party, error) from error

    def _check_alive(self) -> None:
        if self.broken:
            raise ConfigError(f"session unusable ({self.broken}); call shutdown() and init() again")

    def link(self, party: str) -> Link:
        return self.links[party]

    def close(self) -> None:
        for closer in self.closers:
            closer()
        for worker in self._workers.values():
            worker.shutdown(wait=True, cancel_futures=True)
        self.hub.close("session shut down")


_session: Session | None = None


def current() -> Session:
    if _session is None:
        raise ConfigError("no session: call init(parties=[...], address='local') first")
    return _session


def start(parties: Sequence[str], seed: int | None = None) -> Session:
    global _session
    if _session is not None:
        _session.close()
    _session = Session(parties, seed)
    return _session


def stop() -> None:
    global _session
    if _session is not None:
        _session.close()
        _session = None
