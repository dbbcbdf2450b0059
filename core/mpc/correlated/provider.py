"""Party-side access to correlated randomness (`TripleProvider`)."""

from __future__ import annotations

import numpy as np

from core.mpc.correlated.dealer import TrustedDealer
from core.mpc.correlated.kinds import CORRELATIONS, Parts
from core.mpc.prg import PRG


class TripleProvider:
    """One party's view: draws its own parts from the PRG it shares with the dealer.

    Rank 0 additionally asks the dealer for its fixed parts; other ranks never talk to it.
    """

    def __init__(self, rank: int, seed: bytes, dealer: TrustedDealer | None):
        if rank == 0 and dealer is None:
            raise ValueError("rank 0 needs the dealer to obtain its correction shares")
        self.rank = rank
        self._prg = PRG(seed)
        self._dealer = dealer if rank == 0 else None

    def _get(self, kind: str, params: tuple) -> Parts:
        if self._dealer is not None:
            self._dealer.submit(kind, params)  # the dealer works while we draw our own parts
        parts = CORRELATIONS[kind].draw(self._prg, self.rank == 0, params)
        if self._dealer is not None:
            parts.update(self._dealer.collect(kind, params))
        return parts

    def beaver(self, shape: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self._get("beaver", (tuple(shape),))
        return p["a"], p["b"], p["c"]

    def matmul(self, shape_a: tuple, shape_b: tuple, shape_c: tuple):
        p = self._get("matmul", (tuple(shape_a), tuple(shape_b), tuple(shape_c)))
        return p["a"], p["b"], p["c"]

    def and_triple(self, shape: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self._get("and", (tuple(shape),))
        return p["a"], p["b"], p["c"]

    def trunc_pair(self, shape: tuple, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self._get("trunc", (tuple(shape), int(bits)))
        return p["r"], p["r_hi"], p["r_msb"]

    def random_bit(self, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
        p = self._get("bit", (tuple(shape),))
        return p["rb"], p["ra"]
