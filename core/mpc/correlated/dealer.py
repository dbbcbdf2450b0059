"""The trusted dealer of SEMI2K in a simulation, modelled as its own entity with its own thread.

In a deployment the correlations come from a trusted first party
(`core.mpc.correlated.first_party`) or a dealer process (`core.mpc.correlated.remote`).

The dealer holds one PRG seed per party (handed out once at setup). On request from rank 0 it
replays every party's PRG draws for the requested correlation and returns rank 0's fixed parts.
The dealer never sees a secret input: it only knows correlated randomness, which is why a
semi-honest dealer that does not collude with any party leaks nothing.

Traffic is recorded in the session's `CommStats` under the party name `dealer`, so
`link_stats()` shows request bytes (rank 0 -> dealer) and correction bytes (dealer -> rank 0).
"""

from __future__ import annotations

import queue
import threading

import numpy as np

from core.comm import CommStats, payload_size
from core.errors import LinkError
from core.mpc.blas import limit_blas_threads
from core.mpc.correlated.kinds import CORRELATIONS, Parts
from core.mpc.prg import PRG, SEED_BYTES, fresh_seed

DEALER = "dealer"


def fix_parts(prgs: list[PRG], fixed_rank: int, kind: str, params: tuple) -> Parts:
    """Replay every party's draws of one correlation; return `fixed_rank`'s fixed parts.

    The correlations' `fix` reads the fixed party's draws first and the others after it.
    """
    corr = CORRELATIONS[kind]
    order = [fixed_rank] + [r for r in range(len(prgs)) if r != fixed_rank]
    parts = [corr.draw(prgs[rank], rank == fixed_rank, params) for rank in order]
    with np.errstate(over="ignore"):  # ring arithmetic wraps; numpy warns for 0-d only
        return corr.fix(parts, params)


class TrustedDealer:
    """Dealer state and its service thread; call `seed_for(rank)` at setup, `close()` at the end."""

    def __init__(self, parties: list[str], stats: CommStats, seed: int | None = None):
        self.parties = list(parties)
        self.stats = stats
        if seed is None:
            seeds = [fresh_seed() for _ in parties]
        else:
            seeds = [
                (seed * 1_000_003 + i).to_bytes(SEED_BYTES, "little") for i in range(len(parties))
            ]
        self._seeds = seeds
        self._prgs = [PRG(s) for s in seeds]
        self._requests: queue.Queue = queue.Queue()
        self._responses: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="mpc-dealer", daemon=True)
        self._thread.start()

    def seed_for(self, rank: int) -> bytes:
        """Hand party `rank` its seed (recorded as setup traffic)."""
        self.stats.record_send(DEALER, self.parties[rank], SEED_BYTES, True)
        return self._seeds[rank]

    def submit(self, kind: str, params: tuple) -> None:
        """Called by rank 0's provider: send a request (the reply is collected by `collect`)."""
        # Requests could all be sent ahead (offline phase), so they do not count as a round.
        self.stats.record_send(self.parties[0], DEALER, payload_size((kind, params)), False)
        self._requests.put((kind, params))

    def collect(self, kind: str, params: tuple) -> Parts:
        """Wait for rank 0's fixed parts of the oldest outstanding request."""
        reply = self._responses.get()
        if isinstance(reply, BaseException):
            raise LinkError(f"dealer failed on {kind}{params}: {reply}") from reply
        return reply

    def _serve(self) -> None:
        limit_blas_threads(1)  # the dealer shares the cores with the parties
        while True:
            item = self._requests.get()
            if item is None:
                return
            kind, params = item
            try:
                reply = self._fix(kind, params)
                self.stats.record_send(
                    DEALER, self.parties[0], payload_size(list(reply.values())), True
                )
            except Exception as exc:  # noqa: BLE001 - handed to the requesting party
                reply = exc
            self._responses.put(reply)

    def _fix(self, kind: str, params: tuple) -> Parts:
        return fix_parts(self._prgs, 0, kind, params)

    def close(self) -> None:
        self._requests.put(None)
