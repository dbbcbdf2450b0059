"""Seeded pseudo-random generators for shares and correlated randomness.

Scheme: the generator keyed by a 128-bit seed k is AES-128 in counter mode, G(k) = AES_k(0) ||
AES_k(1) || ..., read as little-endian 64-bit words in order; this is SPU's choice too (yacl's
AES-CTR PRG). Parties that share a seed draw identical streams as long as they draw the same
amounts in the same order, which SPMD programs guarantee.

Why a cryptographic generator: a party sees other parties' PRG outputs only masked (an opened
x - a, a re-masked product share, a PRSS zero share), and the protocols' security proofs replace
those outputs with uniform values. That step holds only if no party lacking k can predict G(k)
from what it saw: true of AES-CTR under the standard assumption that AES is a pseudorandom
permutation (for streams far shorter than 2^64 blocks per key), false of statistical generators
such as PCG or Mersenne Twister, whose state can be recovered from their output. AES-NI also
makes it the faster choice here: about 8 GB/s on one core against about 6 GB/s for numpy's
PCG64DXSM raw words.

Each seed keys one stream only (the counter starts at 0): the protocols never build two PRGs
from one seed for different purposes, and fresh seeds come from the operating system.
"""

from __future__ import annotations

import secrets

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from core.mpc.ring import RING64, RING_DTYPE, Ring

SEED_BYTES = 16
_BLOCK_BYTES = 16  # AES block; `update_into` wants this much room minus one past the data
_CHUNK_BYTES = 1 << 18  # key stream made per call: the zero input stays in cache
_ZEROS = memoryview(bytes(_CHUNK_BYTES))


def fresh_seed() -> bytes:
    """A new random seed from the operating system."""
    return secrets.token_bytes(SEED_BYTES)


def seed_key(seed: bytes | int) -> bytes:
    """The AES key of a seed: its 16 bytes, or a test seed's integer as 16 little-endian bytes.

    Raises ValueError for a byte seed of another length or an integer outside [0, 2^128).
    """
    if isinstance(seed, bytes):
        if len(seed) != SEED_BYTES:
            raise ValueError(f"a PRG seed has {SEED_BYTES} bytes, got {len(seed)}")
        return seed
    value = int(seed)
    if not 0 <= value < 1 << (8 * SEED_BYTES):
        raise ValueError(f"an integer PRG seed must be in [0, 2^128), got {value}")
    return value.to_bytes(SEED_BYTES, "little")


class PRG:
    """A stream of uniform 64-bit words derived from one seed (AES-128-CTR, see the module)."""

    def __init__(self, seed: bytes | int):
        cipher = Cipher(algorithms.AES(seed_key(seed)), modes.CTR(bytes(_BLOCK_BYTES)))
        self._stream = cipher.encryptor()

    def raw(self, count: int) -> np.ndarray:
        """The next `count` words of the stream as a uint64 array."""
        nbytes = 8 * int(count)
        out = np.empty(nbytes + _BLOCK_BYTES - 1, dtype=np.uint8)
        view = memoryview(out)
        for start in range(0, nbytes, _CHUNK_BYTES):
            size = min(_CHUNK_BYTES, nbytes - start)
            # Encrypting zeros writes the key stream itself, straight into our buffer.
            self._stream.update_into(_ZEROS[:size], view[start : start + size + _BLOCK_BYTES - 1])
        return out[:nbytes].view(RING_DTYPE)

    def ring(self, shape: tuple[int, ...] | int, ring: Ring = RING64) -> np.ndarray:
        """Uniform elements of `ring` (Z_2^64 by default) with the given shape."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return ring.draw(self, shape)

    def words32(self, shape: tuple[int, ...] | int) -> np.ndarray:
        """Uniform uint32 words (two per 64-bit word of the stream: half the work)."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        count = int(np.prod(shape, dtype=np.int64))
        raw = self.raw((count + 1) // 2)
        return raw.view(np.uint32)[:count].reshape(shape)

    def bits(self, shape: tuple[int, ...] | int) -> np.ndarray:
        """Uniform 0/1 uint64 words (in either ring, bits are XOR-shared 64-bit words)."""
        return self.ring(shape) & RING_DTYPE(1)
