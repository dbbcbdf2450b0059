"""Fixed-point encoding of real numbers into Z_2^64.

A real v is stored as the ring element round(v * 2^f) (two's complement for negatives), with f
fraction bits (18 by default). Encoded magnitudes are limited to |v| <= 2^(61 - f)
(`encoding_limit`, 2^43 for f = 18), so encodings stay below 2^61 and sums, differences and
comparisons of encoded values are exact; products have their own, tighter limit (see
`core.mpc.precision`).
"""

from __future__ import annotations

import numpy as np

from core.errors import EncodingError, RangeError
from core.mpc.ring import RING_DTYPE, to_signed

MAX_ENCODED_BITS = 62
SUPPORTED_KINDS = "biuf"  # bool, signed, unsigned, float


def encoding_limit(fraction_bits: int) -> float:
    """Largest |v| that encodes safely with `fraction_bits`: 2^(61 - fraction_bits)."""
    return float(2 ** (MAX_ENCODED_BITS - fraction_bits - 1))


class FixedPoint:
    """Encoder/decoder for one fraction-bit setting."""

    def __init__(self, fraction_bits: int = 18):
        self.fraction_bits = fraction_bits
        self.scale = float(1 << fraction_bits)
        self.max_abs = encoding_limit(fraction_bits)

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
            shown = "a value" if secret else repr(as_float[too_big].flat[0])
            raise RangeError(
                what,
                self.max_abs,
                f"{shown} is outside the fixed-point range with {self.fraction_bits} fraction "
                f"bits ({count} of {as_float.size} element(s) too large)",
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
