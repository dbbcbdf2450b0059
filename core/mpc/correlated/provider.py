"""Party-side access to correlated randomness (`TripleProvider`)."""

from __future__ import annotations

from collections import deque
from typing import Protocol

import numpy as np

from core.mpc.correlated.kinds import CORRELATIONS, Parts
from core.mpc.prg import PRG
from core.mpc.ring import RING64, Ring
from core.mpc.ring128 import wrap


class Dealer(Protocol):
    """Where the fixed party's correction shares come from (in request order)."""

    def submit(self, kind: str, params: tuple) -> None: ...

    def collect(self, kind: str, params: tuple) -> Parts: ...


class _Pending:
    """Rank 0's fixed parts of one request, collected from the dealer when first needed.

    Protocols use the fixed parts (e.g. c of a Beaver triple) last, so the dealer computes them
    while rank 0 draws its own parts, opens the masked values and does its local products.
    """

    def __init__(self, provider: TripleProvider, kind: str, params: tuple, parts: Parts):
        self._provider, self._kind, self._params = provider, kind, params
        self._parts = parts
        self.ready = False

    def prepare(self) -> None:
        """Obtain the fixed parts now (e.g. while this party's messages travel)."""
        if not self.ready:
            self._provider._collect_until(self)

    def fill(self, fixed: Parts) -> None:
        # FM128 parts decoded from a dealer's frame are plain record arrays: restore the ring
        self._parts.update({key: wrap(value) for key, value in fixed.items()})
        self.ready = True

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._parts and not self.ready:
            self._provider._collect_until(self)
        return self._parts[key]


class TripleProvider:
    """One party's view: draws its own parts from the PRG it shares with the dealer.

    The party of rank `fixed_rank` (0 unless the correlations come from a trusted first party,
    `core.mpc.correlated.first_party`) additionally asks the `dealer` for its fixed parts;
    other ranks never talk to it. A dealer is anything with `submit(kind, params)` and
    `collect(kind, params)` answering requests in order.
    """

    def __init__(self, rank: int, seed: bytes, dealer: Dealer | None, fixed_rank: int = 0):
        if rank == fixed_rank and dealer is None:
            raise ValueError(f"rank {rank} needs the dealer to obtain its correction shares")
        self.rank = rank
        self._prg = PRG(seed)
        self._dealer = dealer if rank == fixed_rank else None
        self._waiting: deque[_Pending] = deque()

    def _get(self, kind: str, params: tuple):
        if self._dealer is None:
            return CORRELATIONS[kind].draw(self._prg, False, params)
        self._dealer.submit(kind, params)
        pending = _Pending(self, kind, params, CORRELATIONS[kind].draw(self._prg, True, params))
        self._waiting.append(pending)
        return pending

    def _collect_until(self, target: _Pending) -> None:
        """Dealer replies arrive in request order: fill every older request first."""
        while not target.ready:
            oldest = self._waiting.popleft()
            oldest.fill(self._dealer.collect(oldest._kind, oldest._params))

    # Every request names its ring first ("FM64" / "FM128"): the dealer draws and fixes in it.
    def beaver(self, shape: tuple, ring: Ring = RING64):
        p = self._get("beaver", (ring.name, tuple(shape)))
        return p["a"], p["b"], p

    def matmul(self, shape_a: tuple, shape_b: tuple, shape_c: tuple, ring: Ring = RING64):
        p = self._get("matmul", (ring.name, tuple(shape_a), tuple(shape_b), tuple(shape_c)))
        return p["a"], p["b"], p

    def and_triple(self, shape: tuple, ring: Ring = RING64):
        """AND triple on words of `ring` (uint64 words are FM64's)."""
        p = self._get("and", (ring.name, tuple(shape)))
        return p["a"], p["b"], p

    def trunc_pair(self, shape: tuple, bits: int, ring: Ring = RING64):
        p = self._get("trunc", (ring.name, tuple(shape), int(bits)))
        return p["r"], p

    def trunc_square(self, shape: tuple, bits: int, ring: Ring = RING64):
        p = self._get("trunc_square", (ring.name, tuple(shape), int(bits)))
        return p["r"], p

    def trunc_powers(
        self, shape: tuple, shifts: tuple[int, ...], degrees: tuple[int, ...], ring: Ring = RING64
    ):
        shifts, degrees = tuple(int(b) for b in shifts), tuple(int(k) for k in degrees)
        p = self._get("trunc_powers", (ring.name, tuple(shape), shifts, degrees))
        return p["r"], p

    def random_bit(self, shape: tuple, ring: Ring = RING64):
        """rb: uint64 0/1 words (XOR shares of the bit), ra: its additive shares in `ring`."""
        p = self._get("bit", (ring.name, tuple(shape)))
        return p["rb"], p


def prepare(parts) -> None:
    """Compute a correlation's pending fixed parts now if this process computes them.

    Protocols call it between sending and receiving, so that a trusted first party replays
    every party's draws (`core.mpc.correlated.first_party`, a dealer with `computes_here`)
    while its messages travel. Nothing for parts drawn in full, nor for a dealer thread or
    process: it computes concurrently anyway, and collecting its reply early would only make
    this party wait for it before the peers' messages and its own local products.
    """
    if isinstance(parts, _Pending) and getattr(parts._provider._dealer, "computes_here", False):
        parts.prepare()
