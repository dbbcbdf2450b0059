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
    """Largest limb width w with inner_dim * (2^(w-1))^2 <= 2^53, so limb matmuls are exact.

    Limbs are balanced (signed digits in [-2^(w-1), 2^(w-1))), so every product of two limbs
    has magnitude at most 2^(2w-2) and a sum of inner_dim of them stays within 2^53.
    """
    if inner_dim <= 1:
        return 27
    headroom = _FLOAT_EXACT_BITS - (int(inner_dim) - 1).bit_length()  # 2^that >= inner_dim
    return min(27, (headroom + 2) // 2)


def _limb_layout(width: int) -> list[tuple[int, int]]:
    """(offset, bits) of each limb covering the 64 ring bits; the last limb may be narrower."""
    return [(off, min(width, RING_BITS - off)) for off in range(0, RING_BITS, width)]


def _split_limbs(x: np.ndarray, layout: list[tuple[int, int]]) -> list[np.ndarray]:
    """Balanced digits d_i with x = sum d_i 2^offset_i mod 2^64, as float64 arrays.

    Adding H = sum 2^(bits_i - 1) 2^offset_i turns the balanced digits into the ordinary
    unsigned digits of x + H, so each digit is one shift and mask away (minus 2^(bits_i - 1)).
    """
    bias = sum(1 << (off + bits - 1) for off, bits in layout) % (1 << RING_BITS)
    y = x + RING_DTYPE(bias)
    limbs = []
    for off, bits in layout:
        digit = (y >> RING_DTYPE(off)) if off else y
        if off + bits < RING_BITS:
            digit = digit & RING_DTYPE((1 << bits) - 1)
        limb = digit.view(np.int64).astype(np.float64)
        limb -= float(1 << (bits - 1))  # exact: |limb| < 2^27
        limbs.append(limb)
    return limbs


def matmul_shape(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of a @ b under numpy's matmul rules, without multiplying anything."""
    if not shape_a or not shape_b:
        raise ShapeError("matmul needs operands with at least one dimension")
    k = shape_a[-1]
    if shape_b[-2 if len(shape_b) > 1 else 0] != k:
        raise ShapeError(f"matmul inner dimensions differ: {shape_a} @ {shape_b}")
    # the same product with inner dimension 0 has the same shape and costs nothing
    empty_b = (0,) if len(shape_b) == 1 else (*shape_b[:-2], 0, shape_b[-1])
    return np.matmul(np.empty((*shape_a[:-1], 0)), np.empty(empty_b)).shape


def _plan(inner_dim: int) -> tuple[int, int, int]:
    """(limb width w, limb count c, limb products per BLAS call) for `ring_matmul`.

    c = ceil(64 / w) limbs need c (c + 1) / 2 limb products, so c is the fewest the 2^53 bound
    allows; w is then the narrowest width with that c, which leaves the most headroom to sum
    several limb products inside one BLAS call.
    """
    count = -(-RING_BITS // limb_bits_for(inner_dim))
    width = -(-RING_BITS // count)
    per_call = (1 << _FLOAT_EXACT_BITS) // (max(1, int(inner_dim)) << (2 * width - 2))
    return width, count, max(1, per_call)


def ring_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact matrix product modulo 2^64 of uint64 operands (numpy matmul broadcasting rules).

    Both operands are split into c balanced limbs of w bits. Limb products whose offset w(i+j)
    reaches 64 vanish modulo 2^64; the others are grouped by t = i + j and summed inside BLAS,
    [A_i .. A_i'] @ [B_(t-i); ..; B_(t-i')], as many per call as keep the sum within 2^53. For
    k = 512 that is w = 22, c = 3: three calls doing the work of 6 limb products.
    """
    a = np.asarray(a, dtype=RING_DTYPE)
    b = np.asarray(b, dtype=RING_DTYPE)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul needs operands with at least one dimension")
    k = a.shape[-1]
    if b.shape[-2 if b.ndim > 1 else 0] != k:
        raise ShapeError(f"matmul inner dimensions differ: {a.shape} @ {b.shape}")
    width, count, per_call = _plan(k)
    layout = _limb_layout(width)
    a_cat = np.concatenate(_split_limbs(a, layout), axis=-1)  # [A_0 | A_1 | ..]
    b_rev = np.concatenate(_split_limbs(b, layout)[::-1], axis=-2 if b.ndim > 1 else 0)
    out = None
    for t in range(count):
        for first in range(0, t + 1, per_call):
            last = min(t + 1, first + per_call)
            rows = slice((count - 1 - t + first) * k, (count - 1 - t + last) * k)
            b_part = b_rev[..., rows, :] if b.ndim > 1 else b_rev[rows]
            # at most per_call * k terms of magnitude <= 2^(2w-2): an exact float integer
            part = np.matmul(a_cat[..., first * k : last * k], b_part)
            part = part.astype(np.int64).view(RING_DTYPE)
            if t:
                part <<= RING_DTYPE(t * width)
            if out is None:
                out = part
            else:
                out += part
    return out
