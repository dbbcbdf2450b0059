"""Fixed-point encoding of real numbers into the SPU's ring (FM64: Z_2^64, FM128: Z_2^128).

A real v is stored as the ring element round(v * 2^f) (two's complement for negatives), with f
fraction bits (18 by default on FM64, 26 on FM128, as SPU). Encoded magnitudes are limited to
|v| <= 2^(bits - 3 - f) (`encoding_limit`: 2^43 for FM64 with f = 18, 2^99 for FM128 with
f = 26), so encodings stay below 2^(bits - 3) and sums, differences and comparisons of encoded
values are exact; products have their own, tighter limit (see `core.mpc.precision`).

Floats are converted exactly: round(v 2^f) is an integer-valued float64, split into 64-bit
limbs for FM128 (`Ring.from_float`), so an FM128 encoding of a large value keeps all 53 of the
float's significant bits.
"""

from __future__ import annotations

import numpy as np

from core.errors import EncodingError, RangeError
from core.mpc.ring import RING64, Ring
from core.range_problems import RangeProblem

SUPPORTED_KINDS = "biuf"  # bool, signed, unsigned, float


def encoding_limit(fraction_bits: int, ring: Ring = RING64) -> float:
    """Largest |v| that encodes safely: 2^(bits - 3 - fraction_bits) (2^(61 - f) on FM64)."""
    return float(2 ** (ring.bits - 3 - fraction_bits))


class FixedPoint:
    """Encoder/decoder for one ring and fraction-bit setting."""

    def __init__(self, fraction_bits: int = 18, ring: Ring = RING64):
        self.fraction_bits = fraction_bits
        self.ring = ring
        self.scale = float(1 << fraction_bits)
        self.max_abs = encoding_limit(fraction_bits, ring)

    @property
    def product_limit(self) -> float:
        """Bound on |x y| (k |x| |y| for a matmul): below 2^(bits - 2 - 2f)."""
        return 2.0 ** (self.ring.trunc_limit_bits - 2 * self.fraction_bits)

    def encode(self, values, what: str = "value", secret: bool = False) -> np.ndarray:
        """Encode numbers as ring elements.

        Raises EncodingError for unsupported dtypes and non-finite values, RangeError (an
        EncodingError) for |v| > `max_abs`. The message names the offending value only when
        `secret` is False: errors about secret inputs may reach other parties.
        """
        arr = np.asarray(values)
        if arr.dtype.kind not in SUPPORTED_KINDS:
            raise EncodingError(f"{what}: unsupported dtype {arr.dtype} (need bool, int or float)")
        as_float = arr.astype(np.float64)
        bad = ~np.isfinite(as_float)
        if bad.any():
            shown = "" if secret else f" {as_float[bad].flat[0]!r}"
            raise EncodingError(f"{what}: cannot encode non-finite value{shown}")
        too_big = np.abs(as_float) > self.max_abs
        if too_big.any():
            count = int(too_big.sum())
            figures = {
                "fraction_bits": self.fraction_bits,
                "ring": self.ring.name,
                "count": count,
                "size": int(as_float.size),
            }
            if secret:
                problem = RangeProblem("secret_outside_encoding", **figures)
            else:
                shown = repr(as_float[too_big].flat[0])
                problem = RangeProblem("public_outside_encoding", value=shown, **figures)
            raise RangeError(what, self.max_abs, problem)
        if arr.dtype.kind in "iub":
            return self.ring.asarray(arr.astype(np.int64)) << self.fraction_bits
        return self.ring.from_float(np.rint(as_float * self.scale))

    def decode(self, ring_values: np.ndarray) -> np.ndarray:
        """Decode ring elements to float64."""
        return self.ring.to_float(ring_values) / self.scale

    @property
    def ulp(self) -> float:
        """Resolution 2^-f."""
        return 1.0 / self.scale


def as_fixed_point(spec: int | FixedPoint) -> FixedPoint:
    """A FixedPoint from itself or from a number of fraction bits (meaning FM64)."""
    return spec if isinstance(spec, FixedPoint) else FixedPoint(int(spec))
