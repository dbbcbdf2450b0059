"""The rings of the SPU: Z_2^64 (FM64, numpy `uint64`) and Z_2^128 (FM128, `core.mpc.ring128`).

`Ring` is the one abstraction protocol and kernel code is written against: `RING64` and
`RING128` give the element dtype, constants, conversions from and to signed integers and
floats, the arithmetic right shift, the most significant bit and the exact matrix product.
Element-wise arithmetic needs no method: uint64 arrays and `U128Array`s both wrap around with
numpy's operators (`+ - * << >> & ^`), so `x.data[0] - a` reads the same in both rings.
Python ints are the portable constants (`x + (1 << (ring.bits - 2))`); keep numpy `uint64`
scalars out of FM128 code, since they are zero-extended, never sign-extended.

FM64: numpy's unsigned integer arithmetic wraps modulo 2^64, which is exactly ring arithmetic.
FM128: two uint64 limbs per element (see `core.mpc.ring128` for how the 128-bit product is
built from 32-bit partial products and why).

numpy lacks a fast integer matrix product (there is no integer BLAS), so `Ring.matmul` splits
both operands into small limbs, multiplies limbs with float64 BLAS and recombines: every partial
sum of limb products stays below 2^53, so the float results are exact integers. FM128 needs
ceil(128 / w) limbs instead of ceil(64 / w), about 3.5x the limb products of FM64.
"""

from __future__ import annotations

import numpy as np

from core.errors import ConfigError, EncodingError, ShapeError
from core.mpc import ring128

RING_BITS = 64
RING_DTYPE = np.uint64
_FLOAT_EXACT_BITS = 53  # float64 represents every integer below 2^53 exactly


def to_ring(values: np.ndarray | int) -> np.ndarray:
    """Reinterpret integers as FM64 ring elements (two's complement for negatives)."""
    if isinstance(values, int) and not isinstance(values, bool):
        return np.asarray(RING_DTYPE(values % (1 << RING_BITS)))
    arr = np.asarray(values)
    if arr.dtype == RING_DTYPE:
        return arr
    if arr.dtype.kind not in "iub":
        raise EncodingError(f"ring elements must be integers, got dtype {arr.dtype}")
    return (
        arr.astype(np.int64).view(RING_DTYPE) if arr.dtype.kind == "i" else arr.astype(RING_DTYPE)
    )


def to_signed(values: np.ndarray) -> np.ndarray:
    """Interpret FM64 ring elements as signed 64-bit integers."""
    return np.asarray(values, dtype=RING_DTYPE).view(np.int64)


def arshift(values: np.ndarray, bits: int) -> np.ndarray:
    """Arithmetic (sign-extending) right shift of FM64 ring elements read as signed."""
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


def _limb_layout(width: int, ring_bits: int) -> list[tuple[int, int]]:
    """(offset, bits) of each limb covering the ring's bits; the last limb may be narrower."""
    return [(off, min(width, ring_bits - off)) for off in range(0, ring_bits, width)]


def _split_limbs(x, layout: list[tuple[int, int]], ring: Ring) -> list[np.ndarray]:
    """Balanced digits d_i with x = sum d_i 2^offset_i mod 2^bits, as float64 arrays.

    Adding H = sum 2^(bits_i - 1) 2^offset_i turns the balanced digits into the ordinary
    unsigned digits of x + H, so each digit is one shift and mask away (minus 2^(bits_i - 1)).
    """
    bias = sum(1 << (off + bits - 1) for off, bits in layout) % (1 << ring.bits)
    y = x + ring.const(bias)
    limbs = []
    for off, bits in layout:
        digit = ring.low_word(y >> off if off else y) & RING_DTYPE((1 << bits) - 1)
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


def _plan(inner_dim: int, ring_bits: int = RING_BITS) -> tuple[int, int, int]:
    """(limb width w, limb count c, limb products per BLAS call) for `Ring.matmul`.

    c = ceil(bits / w) limbs need c (c + 1) / 2 limb products, so c is the fewest the 2^53
    bound allows; w is then the narrowest width with that c, which leaves the most headroom to
    sum several limb products inside one BLAS call.
    """
    count = -(-ring_bits // limb_bits_for(inner_dim))
    width = -(-ring_bits // count)
    per_call = (1 << _FLOAT_EXACT_BITS) // (max(1, int(inner_dim)) << (2 * width - 2))
    return width, count, max(1, per_call)


def _limb_matmul(a, b, ring: Ring):
    """Exact matrix product modulo 2^bits (numpy matmul broadcasting rules).

    Both operands are split into c balanced limbs of w bits. Limb products whose offset w(i+j)
    reaches the ring's bits vanish; the others are grouped by t = i + j and summed inside BLAS,
    [A_i .. A_i'] @ [B_(t-i); ..; B_(t-i')], as many per call as keep the sum within 2^53. For
    k = 512 that is w = 22: c = 3 (6 limb products) for FM64, c = 6 (21) for FM128.
    """
    a, b = ring.asarray(a), ring.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul needs operands with at least one dimension")
    k = a.shape[-1]
    if b.shape[-2 if b.ndim > 1 else 0] != k:
        raise ShapeError(f"matmul inner dimensions differ: {a.shape} @ {b.shape}")
    width, count, per_call = _plan(k, ring.bits)
    layout = _limb_layout(width, ring.bits)
    a_cat = np.concatenate(_split_limbs(a, layout, ring), axis=-1)  # [A_0 | A_1 | ..]
    b_rev = np.concatenate(_split_limbs(b, layout, ring)[::-1], axis=-2 if b.ndim > 1 else 0)
    out = None
    for t in range(count):
        for first in range(0, t + 1, per_call):
            last = min(t + 1, first + per_call)
            rows = slice((count - 1 - t + first) * k, (count - 1 - t + last) * k)
            b_part = b_rev[..., rows, :] if b.ndim > 1 else b_rev[rows]
            # at most per_call * k terms of magnitude <= 2^(2w-2): an exact float integer
            part = ring.asarray(
                np.matmul(a_cat[..., first * k : last * k], b_part).astype(np.int64)
            )
            if t:
                part = part << (t * width)
            out = part if out is None else out + part
    return out


def ring_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact matrix product modulo 2^64 of uint64 operands (FM64's `Ring.matmul`)."""
    return _limb_matmul(a, b, RING64)


class Ring:
    """One ring Z_2^bits: what protocol and kernel code needs beyond numpy operators."""

    name: str
    bits: int
    dtype: np.dtype

    @property
    def trunc_limit_bits(self) -> int:
        """Truncation inputs satisfy |t| < 2^(bits - 2) (SEMI2K opens t + 2^(bits-2) + r)."""
        return self.bits - 2

    def asarray(self, values):
        """Ring elements from ring arrays or integers (signed ones in two's complement)."""
        raise NotImplementedError

    def const(self, value: int):
        """A 0-d ring element from a Python int (reduced modulo 2^bits)."""
        return self.asarray(int(value) % (1 << self.bits))

    def zeros(self, shape):
        return self.asarray(np.zeros(shape, self.dtype))

    def matmul(self, a, b):
        return _limb_matmul(a, b, self)

    def draw(self, prg, shape: tuple[int, ...]):
        """Uniform elements from a `core.mpc.prg.PRG` (`bits // 64` of its words each)."""
        count = int(np.prod(shape, dtype=np.int64)) * (self.bits // 64)
        return self.asarray(prg.raw(count).view(self.dtype).reshape(shape))

    def __repr__(self) -> str:
        return f"<ring {self.name}>"


class Ring64(Ring):
    name, bits, dtype = "FM64", 64, np.dtype(RING_DTYPE)

    def asarray(self, values):
        return to_ring(values)

    def from_float(self, values) -> np.ndarray:
        """Integer-valued floats (|v| < 2^63) to ring elements, exactly."""
        return np.asarray(values, dtype=np.float64).astype(np.int64).view(RING_DTYPE)

    def to_float(self, values) -> np.ndarray:
        """Ring elements read as signed integers, as float64."""
        return to_signed(values).astype(np.float64)

    def arshift(self, values, bits: int):
        return arshift(values, bits)

    def msb(self, values) -> np.ndarray:
        return np.asarray(values, dtype=RING_DTYPE) >> RING_DTYPE(63)

    def low_word(self, values) -> np.ndarray:
        return np.asarray(values, dtype=RING_DTYPE)

    def popcount(self, values) -> np.ndarray:
        return np.bitwise_count(np.asarray(values, dtype=RING_DTYPE)).astype(RING_DTYPE)

    def sum(self, values, axis, keepdims: bool = False):
        return np.asarray(np.sum(values, axis=axis, keepdims=keepdims, dtype=RING_DTYPE))

    def to_ints(self, values) -> np.ndarray:
        return np.asarray(values, dtype=RING_DTYPE).astype(object)


class Ring128(Ring):
    name, bits, dtype = "FM128", 128, ring128.DTYPE128

    def asarray(self, values):
        if isinstance(values, int) and not isinstance(values, bool):
            return ring128.from_int(values)
        arr = np.asarray(values)
        if arr.dtype == ring128.DTYPE128:
            return arr.view(ring128.U128Array)
        return ring128.pack(*ring128.limbs(arr))

    def const(self, value: int):
        return ring128.from_int(value)

    def from_float(self, values):
        return ring128.from_float(values)

    def to_float(self, values) -> np.ndarray:
        return ring128.to_float(values)

    def arshift(self, values, bits: int):
        return ring128.arshift(values, bits)

    def msb(self, values) -> np.ndarray:
        return ring128.msb(values)

    def low_word(self, values) -> np.ndarray:
        return ring128.low_word(values)

    def popcount(self, values) -> np.ndarray:
        return ring128.popcount(values)

    def sum(self, values, axis, keepdims: bool = False):
        return ring128.ring_sum(values, axis, keepdims)

    def to_ints(self, values) -> np.ndarray:
        return ring128.to_ints(values)


RING64 = Ring64()
RING128 = Ring128()
RINGS = {ring.name: ring for ring in (RING64, RING128)}


def ring_for(field: str) -> Ring:
    """The ring of a runtime_config `field` ("FM64" or "FM128")."""
    try:
        return RINGS[field]
    except KeyError:
        raise ConfigError(f"unsupported field {field!r}; choose one of {tuple(RINGS)}") from None


def ring_of(values) -> Ring:
    """The ring whose elements `values` holds (FM64 for uint64 words)."""
    return RING128 if ring128.is128(values) else RING64
