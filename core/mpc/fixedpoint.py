"""Fixed-point encoding of real numbers into Z_2^64.

A real v is stored as the ring element round(v * 2^f) (two's complement for negatives), with f
fraction bits (18 by default). Encoded magnitudes are limited to 2^MAX_ENCODED_BITS so that a
product of two encoded values (2f fraction bits) still fits the truncation protocols, which
require |x| < 2^62 before truncating.
"""

from __future__ import annotations

import numpy as np

from core.errors import EncodingError
from core.mpc.ring import RING_DTYPE, to_signed

MAX_ENCODED_BITS = 62
SUPPORTED_KINDS = "biuf"  # bool, signed, unsigned, float


class FixedPoint:
    """Encoder/decoder for one fraction-bit setting."""

    def __init__(self, fraction_bits: int = 18):
        self.fraction_bits = fraction_bits
        self.scale = float(1 << fraction_bits)
        self.max_abs = float(2 ** (MAX_ENCODED_BITS - fraction_bits - 1))

    def encode(self, values, what: str = "value") -> np.ndarray:
        """Encode numbers as ring elements; raises EncodingError naming what is wrong."""
        arr = np.asarray(values)
        if arr.dtype.kind not in SUPPORTED_KINDS:
            raise EncodingError(f"{what}: unsupported dtype {arr.dtype} (need bool, int or float)")
        as_float = arr.astype(np.float64)
        bad = ~np.isfinite(as_float)
        if bad.any():
            raise EncodingError(f"{what}: cannot encode non-finite value {as_float[bad].flat[0]!r}")
        too_big = np.abs(as_float) >= self.max_abs
        if too_big.any():
            raise EncodingError(
                f"{what}: {as_float[too_big].flat[0]!r} is outside the fixed-point range "
                f"(|v| < {self.max_abs:g} with {self.fraction_bits} fraction bits)"
            )
        if arr.dtype.kind in "iub":
            return (arr.astype(np.int64) << np.int64(self.fraction_bits)).view(RING_DTYPE)
        return np.rint(as_float * self.scale).astype(np.int64).view(RING_DTYPE)

    def decode(self, ring_values: np.ndarray) -> np.ndarray:
        """Decode ring elements to float64."""
        return to_signed(ring_values).astype(np.float64) / self.scale

    @property
    def ulp(self) -> float:
        """Resolution 2^-f."""
        return 1.0 / self.scale
