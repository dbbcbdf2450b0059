"""The ring Z_2^64 on numpy `uint64` arrays.

numpy's unsigned integer arithmetic wraps modulo 2^64, which is exactly ring arithmetic, so
additions and products need no explicit reduction. The one thing numpy lacks is a fast integer
matrix product (there is no integer BLAS), so `ring_matmul` splits both operands into small limbs,
multiplies limbs with float64 BLAS and recombines: every partial sum of limb products stays below
2^53, so the float results are exact integers.
"""

from __future__ import annotations

import numpy as np

from core.errors import EncodingError, ShapeError

RING_BITS = 64
RING_DTYPE = np.uint64
_FLOAT_EXACT_BITS = 53  # float64 represents every integer below 2^53 exactly


def to_ring(values: np.ndarray | int) -> np.ndarray:
    """Reinterpret integers as ring elements (two's complement for negatives)."""
    arr = np.asarray(values)
    if arr.dtype == RING_DTYPE:
        return arr
    if arr.dtype.kind not in "iub":
        raise EncodingError(f"ring elements must be integers, got dtype {arr.dtype}")
    return (
        arr.astype(np.int64).view(RING_DTYPE) if arr.dtype.kind == "i" else arr.astype(RING_DTYPE)
    )


def to_signed(values: np.ndarray) -> np.ndarray:
    """Interpret ring elements as signed 64-bit integers."""
    return np.asarray(values, dtype=RING_DTYPE).view(np.int64)


def arshift(values: np.ndarray, bits: int) -> np.ndarray:
    """Arithmetic (sign-extending) right shift of ring elements read as signed."""
    return (to_signed(values) >> np.int64(bits)).view(RING_DTYPE)


def lshift(values: np.ndarray, bits: int) -> np.ndarray:
    return np.left_shift(values, RING_DTYPE(bits))


def rshift(values: np.ndarray, bits: int) -> np.ndarray:
    """Logical right shift."""
    return np.right_shift(values, RING_DTYPE(bits))


def limb_bits_for(inner_dim: int) -> int:
    """Largest limb width w with inner_dim * (2^w - 1)^2 < 2^53, so limb matmuls are exact."""
    if inner_dim < 1:
        return 26
    headroom = _FLOAT_EXACT_BITS - int(inner_dim).bit_length()
    return max(1, headroom // 2)


def _split_limbs(x: np.ndarray, width: int, count: int) -> list[np.ndarray]:
    mask = RING_DTYPE((1 << width) - 1)
    return [((x >> RING_DTYPE(width * i)) & mask).astype(np.float64) for i in range(count)]


def ring_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact matrix product modulo 2^64 of uint64 operands (numpy matmul broadcasting rules).

    Limb products whose shift reaches 2^64 vanish modulo 2^64, so only limb pairs (i, j) with
    w*(i+j) < 64 are computed: for k = 512 (w = 22, 3 limbs) that is 6 float matmuls.
    """
    a = np.asarray(a, dtype=RING_DTYPE)
    b = np.asarray(b, dtype=RING_DTYPE)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul needs operands with at least one dimension")
    k = a.shape[-1]
    if b.shape[-2 if b.ndim > 1 else 0] != k:
        raise ShapeError(f"matmul inner dimensions differ: {a.shape} @ {b.shape}")
    width = limb_bits_for(k)
    count = -(-RING_BITS // width)
    a_limbs = _split_limbs(a, width, count)
    b_limbs = _split_limbs(b, width, count)
    out = None
    for total in range(count):
        shift = width * total
        if shift >= RING_BITS:
            break
        acc = None
        for i in range(total + 1):
            part = (a_limbs[i] @ b_limbs[total - i]).astype(RING_DTYPE)
            acc = part if acc is None else acc + part
        term = acc << RING_DTYPE(shift)
        out = term if out is None else out + term
    return out
