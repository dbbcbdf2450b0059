"""The ring Z_2^128 (FM128) as vectorised numpy: two uint64 limbs per element.

numpy has no 128-bit integer, and Python-int object arrays are ~50x slower than limbs (see
`benchmarks/fm128.py`), so an FM128 element is a record (lo, hi) of two little-endian uint64
words, x = lo + hi 2^64, stored in a structured dtype (`DTYPE128`). Because every element is
one numpy item, the structural operations the engine performs on shares (indexing, reshape,
transpose, stack, concatenate, broadcast_to, where, zeros) work unchanged on these arrays.

`U128Array` is an ndarray subclass that gives the arithmetic operators their ring meaning
through `__array_ufunc__`, so protocol code (`x.data[0] - a`, `e * b + f * a`, `c >> bits`)
reads the same for FM64 (`uint64`) and FM128. Every operation wraps modulo 2^128:
- add / sub: limb-wise with the carry (borrow) out of the low word, detected as lo < a_lo
  (lo > a_lo) after numpy's wrapping add (sub);
- mul: (a_lo + a_hi 2^64)(b_lo + b_hi 2^64) = a_lo b_lo + 2^64 (a_lo b_hi + a_hi b_lo) mod 2^128.
  The cross terms only matter mod 2^64 (numpy's wrapping uint64 product), and the full 128-bit
  a_lo b_lo comes from four 32 x 32 -> 64-bit partial products (`mul_64x64`): numpy has no
  64-bit high-multiply, and 32-bit halves are the widest whose products fit uint64 exactly;
- shifts by a public count (logical right, left; `arshift` for signed right), bitwise and, or,
  xor, invert on both limbs; comparisons (unsigned) from the high limbs, ties by the low ones;
- integer operands (Python ints, numpy scalars and arrays) are lifted first: unsigned and bool
  zero-extended, signed sign-extended (two's complement), Python ints reduced mod 2^128.
Results are always `U128Array` (0-d for scalars); arrays of `DTYPE128` that lost the subclass
(np.zeros, np.asarray, frames from the network) are re-wrapped with `wrap`. Large operands are
processed in cache-sized steps (`_chunked`): a limb operation's temporaries, not its
arithmetic, are what costs on 1e5 elements. FM128 products then cost ~25x FM64's uint64
product (1.2 ms against 0.05 ms for 1e5 elements) and ~100x less than Python-int objects.
"""

from __future__ import annotations

import math

import numpy as np

from core.errors import EncodingError

DTYPE128 = np.dtype([("lo", "<u8"), ("hi", "<u8")])
MASK64 = (1 << 64) - 1
MOD128 = 1 << 128
_U64 = np.uint64
_LOW32 = _U64(0xFFFFFFFF)
_32 = _U64(32)


def is128(arr) -> bool:
    return isinstance(arr, np.ndarray) and arr.dtype == DTYPE128


def wrap(arr):
    """`arr` as a U128Array when it holds 128-bit elements; other arrays as plain ndarrays."""
    arr = np.asarray(arr)
    return arr.view(U128Array) if arr.dtype == DTYPE128 else arr


def pack(lo: np.ndarray, hi: np.ndarray) -> U128Array:
    """The 128-bit elements lo + hi 2^64 (uint64 arrays of one shape)."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=_U64), np.asarray(hi, dtype=_U64))
    out = np.empty(lo.shape, DTYPE128)
    out["lo"], out["hi"] = lo, hi
    return out.view(U128Array)


def limbs(value) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) uint64 arrays of a 128-bit operand, lifting integers (see module docstring)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value %= MOD128
        return np.asarray(_U64(value & MASK64)), np.asarray(_U64(value >> 64))
    arr = np.asarray(value)
    if arr.dtype == DTYPE128:
        return arr["lo"], arr["hi"]
    if arr.dtype.kind == "b" or arr.dtype.kind == "u":
        return arr.astype(_U64, copy=False), np.zeros(arr.shape, _U64)
    if arr.dtype.kind == "i":
        signed = arr.astype(np.int64, copy=False)
        return signed.view(_U64), (signed >> np.int64(63)).view(_U64)
    raise EncodingError(f"FM128 elements must be integers, got dtype {arr.dtype}")


def from_int(value: int) -> U128Array:
    """A 0-d ring element from a Python int (reduced mod 2^128)."""
    lo, hi = limbs(int(value))
    return pack(lo, hi)


def from_ints(values) -> U128Array:
    """Ring elements from nested Python ints (tests and constants; slow, not for data)."""
    arr = np.asarray(values, dtype=object)
    flat = [int(v) % MOD128 for v in arr.ravel()]
    lo = np.array([v & MASK64 for v in flat], dtype=_U64).reshape(arr.shape)
    hi = np.array([v >> 64 for v in flat], dtype=_U64).reshape(arr.shape)
    return pack(lo, hi)


def to_ints(arr) -> np.ndarray:
    """Python ints in [0, 2^128) (object array; tests and error messages only)."""
    lo, hi = limbs(arr)
    out = np.empty(np.shape(lo), dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = int(lo[idx]) | (int(hi[idx]) << 64)
    return out


# ----- limb arithmetic (uint64 arrays in, uint64 arrays out) ----------------------------------
def mul_64x64(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The full 128-bit product of uint64 arrays, as (lo, hi), from 32-bit partial products."""
    a0, a1 = a & _LOW32, a >> _32
    b0, b1 = b & _LOW32, b >> _32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> _32) + (p01 & _LOW32) + (p10 & _LOW32)  # < 3 * 2^32: no overflow
    hi = p11 + (p01 >> _32) + (p10 >> _32) + (mid >> _32)
    lo = (mid << _32) | (p00 & _LOW32)
    return lo, hi


def _add(a, b):
    (al, ah), (bl, bh) = a, b
    with np.errstate(over="ignore"):  # numpy warns about wrapping on 0-d operands only
        lo = al + bl
        return lo, ah + bh + (lo < al)


def _sub(a, b):
    (al, ah), (bl, bh) = a, b
    with np.errstate(over="ignore"):
        return al - bl, ah - bh - (al < bl)


def _mul(a, b):
    (al, ah), (bl, bh) = a, b
    lo, hi = mul_64x64(al, bl)
    hi += al * bh
    hi += ah * bl
    return lo, hi


def _neg(a):
    return _sub((_U64(0), _U64(0)), a)


def shift_left(a, bits: int):
    lo, hi = a
    bits = _shift_count(bits)
    if bits == 0:
        return lo.copy(), hi.copy()
    if bits >= 64:
        return np.zeros(np.shape(lo), _U64), lo << _U64(bits - 64)
    return lo << _U64(bits), (hi << _U64(bits)) | (lo >> _U64(64 - bits))


def shift_right(a, bits: int, signed: bool = False):
    lo, hi = a
    bits = _shift_count(bits)
    if bits == 0:
        return lo.copy(), hi.copy()
    top = hi.view(np.int64) >> np.int64(63) if signed else np.zeros(np.shape(hi), np.int64)
    if bits >= 64:
        shifted = (hi.view(np.int64) >> np.int64(bits - 64)) if signed else hi >> _U64(bits - 64)
        return np.asarray(shifted).view(_U64), top.view(_U64)
    new_hi = (hi.view(np.int64) >> np.int64(bits)).view(_U64) if signed else hi >> _U64(bits)
    return (lo >> _U64(bits)) | (hi << _U64(64 - bits)), new_hi


def _shift_count(bits) -> int:
    if isinstance(bits, np.ndarray) and bits.dtype == DTYPE128:
        if bits.size != 1:
            raise EncodingError("FM128 shifts take one public shift count")
        bits = int(bits["lo"].ravel()[0])
    count = int(bits)
    if not 0 <= count < 128:
        raise EncodingError(f"FM128 shift count must lie in [0, 128), got {count}")
    return count


def _less(a, b):
    (al, ah), (bl, bh) = a, b
    return (ah < bh) | ((ah == bh) & (al < bl))


def _equal(a, b):
    (al, ah), (bl, bh) = a, b
    return (ah == bh) & (al == bl)


def _bitwise(op):
    def apply(a, b):
        return op(a[0], b[0]), op(a[1], b[1])

    return apply


_BINARY = {
    np.add: _add,
    np.subtract: _sub,
    np.multiply: _mul,
    np.bitwise_and: _bitwise(np.bitwise_and),
    np.bitwise_or: _bitwise(np.bitwise_or),
    np.bitwise_xor: _bitwise(np.bitwise_xor),
}
_COMPARE = {
    np.less: lambda a, b: _less(a, b),
    np.greater: lambda a, b: _less(b, a),
    np.less_equal: lambda a, b: ~_less(b, a),
    np.greater_equal: lambda a, b: ~_less(a, b),
    np.equal: _equal,
    np.not_equal: lambda a, b: ~_equal(a, b),
}
_UNARY = {
    np.negative: _neg,
    np.invert: lambda a: (~a[0], ~a[1]),
    np.positive: lambda a: (a[0].copy(), a[1].copy()),
}


class U128Array(np.ndarray):
    """Elements of Z_2^128 (dtype `DTYPE128`) with ring operators; see the module docstring."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if method != "__call__" or kwargs:
            return NotImplemented
        with np.errstate(over="ignore"):  # wrapping is the ring's arithmetic (0-d warns)
            result = _apply(ufunc, inputs)
        if result is NotImplemented:
            return NotImplemented
        if out is None:
            return result
        target = np.asarray(out[0])
        if isinstance(result, U128Array):
            target["lo"], target["hi"] = (
                result.view(np.ndarray)["lo"],
                result.view(np.ndarray)["hi"],
            )
        else:
            target[...] = result
        return out[0]

    def __array_function__(self, func, types, args, kwargs):
        # structural numpy functions (stack, where, broadcast_to, ...) work on the records;
        # only the subclass is restored on the result
        plain = tuple(ndarray_type(t) for t in types)
        result = super().__array_function__(func, plain, args, kwargs)
        if isinstance(result, np.ndarray) and result.dtype == DTYPE128:
            return result.view(U128Array)
        return result

    def __getitem__(self, key):
        # a single element is a 0-d array, not a numpy void scalar (which has no operators)
        out = super().__getitem__(key)
        if isinstance(out, np.void):
            return np.array(out, dtype=DTYPE128).view(U128Array)
        return out


def ndarray_type(t):
    return np.ndarray if t is U128Array else t


def _apply(ufunc, inputs):
    if ufunc in _BINARY or ufunc in _COMPARE:
        operands = [limbs(v) for v in inputs]
        if ufunc in _COMPARE:
            return _chunked(_COMPARE[ufunc], operands, compare=True)
        return _chunked(_BINARY[ufunc], operands)
    if ufunc in _UNARY:
        return _chunked(_UNARY[ufunc], [limbs(inputs[0])])
    if ufunc is np.left_shift:
        count = _shift_count(inputs[1])
        return _chunked(lambda a: shift_left(a, count), [limbs(inputs[0])])
    if ufunc is np.right_shift:
        count = _shift_count(inputs[1])
        return _chunked(lambda a: shift_right(a, count), [limbs(inputs[0])])
    if ufunc is np.matmul:
        from core.mpc.ring import RING128  # the limb matmul lives with FM64's

        return RING128.matmul(inputs[0], inputs[1])
    return NotImplemented


CHUNK = 8192  # elements per step of a limb operation: its temporaries stay in the CPU cache


def _chunked(fn, operands: list, compare: bool = False):
    """fn over limb operands, in steps of CHUNK elements for large arrays.

    A limb operation makes a dozen temporaries the size of its input (the product makes
    twenty); over 1e5 elements these fresh 0.8 MB arrays cost page faults that dominate the
    arithmetic (measured 6 ms instead of 0.6 ms per product), so large operands are processed
    in cache-sized steps straight into the output records.
    """
    shape = np.broadcast_shapes(*(np.shape(limb) for op in operands for limb in op))
    size = math.prod(shape)
    if size <= CHUNK:
        out = fn(*operands)
        return np.asarray(out) if compare else pack(*out)
    flat = [tuple(_flat(limb, shape) for limb in op) for op in operands]
    out = np.empty(size, bool if compare else DTYPE128)
    lo, hi = (None, None) if compare else (out["lo"], out["hi"])
    for start in range(0, size, CHUNK):
        part = slice(start, start + CHUNK)
        step = fn(*[tuple(_part(limb, part) for limb in op) for op in flat])
        if compare:
            out[part] = step
        else:
            lo[part], hi[part] = step
    out = out.reshape(shape)
    return out if compare else out.view(U128Array)


def _flat(limb: np.ndarray, shape: tuple) -> np.ndarray:
    limb = np.asarray(limb)
    if limb.size == 1:
        return limb.reshape(())  # a constant broadcasts inside every step
    return np.broadcast_to(limb, shape).reshape(-1)


def _part(limb: np.ndarray, part: slice) -> np.ndarray:
    return limb if limb.ndim == 0 else limb[part]


def arshift(values, bits: int) -> U128Array:
    """Arithmetic (sign-extending) right shift of 128-bit elements read as signed."""
    count = _shift_count(bits)
    return _chunked(lambda a: shift_right(a, count, signed=True), [limbs(values)])


def to_float(values) -> np.ndarray:
    """Signed 128-bit elements as float64 (correctly rounded magnitude, relative error 2^-53).

    The magnitude is converted, not hi 2^64 + lo with a negative hi: for a small negative
    value that sum cancels catastrophically (-2^64 + (2^64 - 3) is 0 in float64).
    """
    lo, hi = limbs(values)
    negative = (hi >> _U64(63)).astype(bool)
    m_lo, m_hi = _neg((lo, hi))
    m_lo, m_hi = np.where(negative, m_lo, lo), np.where(negative, m_hi, hi)
    magnitude = m_hi.astype(np.float64) * 2.0**64 + m_lo.astype(np.float64)
    return np.where(negative, -magnitude, magnitude)


def from_float(values: np.ndarray) -> U128Array:
    """Integer-valued float64 (|v| < 2^127) to ring elements, exactly.

    |v| splits exactly into hi = floor(|v| / 2^64) and lo = |v| - hi 2^64 (both are multiples
    of |v|'s last significant bit, and lo < 2^64); negatives are then negated in the ring.
    """
    values = np.asarray(values, dtype=np.float64)
    magnitude = np.abs(values)
    hi = np.floor(magnitude / 2.0**64)
    lo = magnitude - hi * 2.0**64
    positive = pack(lo.astype(_U64), hi.astype(_U64))
    return np.where(values < 0, -positive, positive).view(U128Array)


def msb(values) -> np.ndarray:
    """The top bit (bit 127) of every element, as uint64 0/1."""
    _, hi = limbs(values)
    return hi >> _U64(63)


def low_word(values) -> np.ndarray:
    """Bits 0..63 of every element (uint64)."""
    return np.ascontiguousarray(limbs(values)[0])


def popcount(values) -> np.ndarray:
    """Number of set bits of every element (uint64)."""
    lo, hi = limbs(values)
    return (np.bitwise_count(lo) + np.bitwise_count(hi)).astype(_U64)


def ring_sum(values, axis, keepdims: bool = False) -> U128Array:
    """Sum modulo 2^128 over `axis` (a tuple), carrying with 32-bit digits.

    Each limb is split into 32-bit digits whose sums fit uint64 for up to 2^32 terms; the
    digit sums are recombined with their carries.
    """
    lo, hi = limbs(values)
    digits = [lo & _LOW32, lo >> _32, hi & _LOW32, hi >> _32]
    sums = [np.sum(d, axis=axis, keepdims=keepdims, dtype=_U64) for d in digits]
    total = (np.zeros(np.shape(sums[0]), _U64), np.zeros(np.shape(sums[0]), _U64))
    for position, part in enumerate(sums):
        total = _add(
            total, shift_left((np.asarray(part), np.zeros(np.shape(part), _U64)), 32 * position)
        )
    return pack(*total)
