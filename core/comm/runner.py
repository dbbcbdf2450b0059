"""Run one program per party concurrently (SPMD) over an in-memory hub.

Each party's callable receives its own `Link` and returns its own result. The parties run in
threads: numpy, libsodium and gmpy2 release the GIL in their heavy loops, so both cores work.
If any party raises, the hub is closed so that peers blocked in `recv` fail fast instead of
hanging, and the first failure is re-raised as `PartyFailure` naming the party.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from core.comm.link import Link, LocalLinkHub
from core.errors import LinkError, PartyFailure


def run_spmd(hub: LocalLinkHub, programs: Sequence[Callable[[Link], Any]]) -> list[Any]:
    """Run `programs[rank](link_of_rank)` for every rank concurrently; return results by rank."""
    if len(programs) != len(hub.parties):
        raise ValueError(f"need {len(hub.parties)} programs, got {len(programs)}")
    results: list[Any] = [None] * len(programs)
    failures: list[tuple[int, BaseException]] = []
    lock = threading.Lock()

    def body(rank: int) -> None:
        try:
            results[rank] = programs[rank](hub.link(rank))
        except BaseException as exc:  # noqa: BLE001 - re-raised below with the party name
            with lock:
                failures.append((rank, exc))
            hub.close(f"party {hub.parties[rank]!r} failed")

    threads = [
        threading.Thread(target=body, args=(rank,), name=f"party-{hub.parties[rank]}", daemon=True)
        for rank in range(len(programs))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        # Report the root cause, not a peer's LinkError caused by the shutdown.
        failures.sort(key=lambda f: isinstance(f[1], LinkError))
        rank, exc = failures[0]
        raise PartyFailure(hub.parties[rank], exc) from exc
    return results
