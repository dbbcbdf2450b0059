"""Bit matrices for OT extension: packed layout, fast transpose, and a column PRG.

Layout: a bit matrix of R rows and C columns is a (R, C/8) uint8 array; bit j of a row is bit
j % 8 (least significant first) of byte j // 8, i.e. `np.packbits(bits, bitorder="little")`.
With that order, the eight bytes of an 8x8 block read as one little-endian uint64 hold element
(r, c) at bit 8r + c, so transposing the block is the classic three delta swaps (Warren,
"Hacker's Delight", 2nd ed., section 7-3); the bytes of every block are gathered and scattered
with two strided numpy copies. This is several times faster than `np.unpackbits` followed by a
byte transpose and `np.packbits`, which `transpose_reference` keeps as the test oracle.

PRG: column i of a chunk is SHAKE128(seed_i || chunk index), which is a PRG under the standard
assumption that SHAKE128 behaves as a random oracle (FIPS 202 gives it 128-bit security).
"""

from __future__ import annotations

import hashlib

import numpy as np

SEED_BYTES = 16
# (shift, mask) of the three delta swaps of an 8x8 bit transpose on little-endian uint64.
_SWAPS = (
    (7, np.uint64(0x00AA00AA00AA00AA)),
    (14, np.uint64(0x0000CCCC0000CCCC)),
    (28, np.uint64(0x00000000F0F0F0F0)),
)


def transpose(packed: np.ndarray) -> np.ndarray:
    """Transpose a packed (R, C/8) bit matrix into a packed (C, R/8) one; R, C multiples of 8."""
    rows, width = packed.shape
    if rows % 8:
        raise ValueError(f"bit matrix rows must be a multiple of 8, got {rows}")
    # blocks[cb, rb, r]: byte of row rb*8 + r holding columns cb*8 .. cb*8 + 7.
    blocks = packed.reshape(rows // 8, 8, width).transpose(2, 0, 1).copy()  # never a view
    words = blocks.view("<u8").reshape(width, rows // 8)
    for shift, mask in _SWAPS:
        t = (words ^ (words >> np.uint64(shift))) & mask
        words ^= t ^ (t << np.uint64(shift))
    # words[cb, rb] now holds, in byte c, the bits of rows rb*8 .. rb*8 + 7 at column cb*8 + c.
    out = words.view(np.uint8).reshape(width, rows // 8, 8).transpose(0, 2, 1)
    return np.ascontiguousarray(out).reshape(width * 8, rows // 8)


def transpose_reference(packed: np.ndarray) -> np.ndarray:
    """Slow, obviously correct transpose (unpack, transpose, pack) for tests."""
    bits = np.unpackbits(packed, axis=1, bitorder="little")
    return np.packbits(np.ascontiguousarray(bits.T), axis=1, bitorder="little")


def prg_columns(seeds: list[bytes], chunk: int, nbytes: int) -> np.ndarray:
    """Expand each seed into `nbytes` pseudorandom bytes for chunk number `chunk`.

    Returns a (len(seeds), nbytes) uint8 array; row i depends only on seeds[i] and `chunk`.
    """
    out = np.empty((len(seeds), nbytes), dtype=np.uint8)
    suffix = chunk.to_bytes(8, "little")
    for i, seed in enumerate(seeds):
        out[i] = np.frombuffer(hashlib.shake_128(seed + suffix).digest(nbytes), dtype=np.uint8)
    return out
