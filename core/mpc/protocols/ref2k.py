"""REF2K: the plaintext reference protocol. NOT SECURE.

Scheme: none. Every party holds the plaintext ring value (one component); `share` simply sends
the owner's value to everyone. It implements the exact same interface as the secure protocols
so kernels can be validated against it ("run the algorithm in plaintext first") and so tests
have an oracle. Truncation is an exact arithmetic shift. Runs on FM64 and FM128 alike.
Parties: any number >= 1. Threat model: none, every party learns every input.
Reference: SPU's REF2K reference protocol plays the same role.
"""

from __future__ import annotations

import numpy as np

from core.comm import Link
from core.mpc.prg import PRG, fresh_seed
from core.mpc.protocols.base import Protocol, low_bits, received
from core.mpc.ring import RING64, Ring
from core.mpc.shares import AShare, BShare


class Ref2k(Protocol):
    """One party of the plaintext reference protocol."""

    name = "REF2K"
    components = 1

    def __init__(self, link: Link, seed: int | None = None, ring: Ring = RING64):
        super().__init__(link, ring)
        # One PRG shared by all parties keeps `rand_a` identical everywhere.
        if self.rank == 0:
            common = fresh_seed() if seed is None else int(seed).to_bytes(16, "little")
            self.link.send_all(np.frombuffer(common, dtype=np.uint8))
        else:
            common = bytes(self.link.recv(0))
        self._prg = PRG(common)

    @property
    def public_slots(self) -> tuple[int, ...]:
        return (0,)

    def share(self, value: np.ndarray | None, owner: int, shape: tuple[int, ...]) -> AShare:
        if self.rank == owner:
            plain = self.ring.asarray(value).reshape(shape)
            self.link.send_all(plain)
        else:
            like = np.empty(shape, self.ring.dtype)
            plain = received(self.link.recv_like(owner, like, "an input")).copy()
        return AShare(plain[None])

    def reveal(self, x: AShare, to: int | None = None) -> np.ndarray | None:
        if to is not None and to != self.rank:
            return None
        return x.data[0].copy()

    def reveal_b(self, x: BShare) -> np.ndarray:
        return x.data[0].copy()

    def mul_ss(self, x: AShare, y: AShare) -> AShare:
        return AShare(x.data * y.data)

    def matmul_ss(self, x: AShare, y: AShare) -> AShare:
        return AShare(self.ring.matmul(x.data[0], y.data[0])[None])

    def and_ss(self, x: BShare, y: BShare) -> BShare:
        return BShare(x.data & y.data)

    def trunc(self, x: AShare, bits: int) -> AShare:
        return AShare(self.ring.arshift(x.data, bits))

    def b2a_bit(self, b: BShare) -> AShare:
        return AShare(self.ring.asarray(low_bits(b.data)))

    def rand_a(self, shape: tuple[int, ...]) -> AShare:
        return AShare(self._prg.ring(shape, self.ring)[None])

    def bool_summands(self, x: AShare) -> list[BShare]:
        return [BShare(x.data)]
