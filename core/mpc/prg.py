"""Seeded pseudo-random generators for shares and correlated randomness.

Parties that share a 128-bit seed draw identical streams as long as they draw the same amounts
in the same order, which SPMD programs guarantee. PCG64DXSM's raw output is uniform over 64-bit
words and is the fastest numpy generator on this hardware.
"""

from __future__ import annotations

import secrets

import numpy as np

from core.mpc.ring import RING64, RING_DTYPE, Ring

SEED_BYTES = 16


def fresh_seed() -> bytes:
    """A new random seed from the operating system."""
    return secrets.token_bytes(SEED_BYTES)


class PRG:
    """A stream of uniform ring elements derived from one seed."""

    def __init__(self, seed: bytes | int):
        value = int.from_bytes(seed, "little") if isinstance(seed, bytes) else int(seed)
        self._bits = np.random.PCG64DXSM(value)

    def ring(self, shape: tuple[int, ...] | int, ring: Ring = RING64) -> np.ndarray:
        """Uniform elements of `ring` (Z_2^64 by default) with the given shape."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return ring.draw(self._bits, shape)

    def words32(self, shape: tuple[int, ...] | int) -> np.ndarray:
        """Uniform uint32 words (two per raw 64-bit draw: half the generator's work)."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        count = int(np.prod(shape, dtype=np.int64))
        raw = self._bits.random_raw((count + 1) // 2).astype(RING_DTYPE, copy=False)
        return raw.view(np.uint32)[:count].reshape(shape)

    def bits(self, shape: tuple[int, ...] | int) -> np.ndarray:
        """Uniform 0/1 uint64 words (in either ring, bits are XOR-shared 64-bit words)."""
        return self.ring(shape) & RING_DTYPE(1)
