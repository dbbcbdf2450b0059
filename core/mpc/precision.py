"""Safe ranges of the fixed-point encoding, and choosing fraction bits from the data.

The SPU stores a real v as round(v 2^f) in the ring Z_2^64 (FM64), read as a signed 64-bit
integer. Three limits follow, for f fraction bits:

- encoding: |v| <= 2^(61 - f) (`safe_magnitude`; 2^43 ~ 8.8e12 for f = 18). The encoding
  then stays below 2^61, so a sum or difference of two encodable values, and every comparison
  (the sign of a difference), is exact.
- products: a fixed-point product x * y is the ring integer x y 2^(2f) before it is truncated
  by f bits, and every truncation protocol needs that intermediate below 2^62
  (`TRUNC_LIMIT_BITS`): |x y| < 2^(62 - 2f) (`product_limit`; 2^26 ~ 6.7e7 for f = 18). A
  matrix product sums k such terms before truncating, so it needs k |x| |y| < 2^(62 - 2f).
  Beyond that the truncation wraps and the result is garbage, silently: the engine's bound
  tracking (`core.mpc.bounds`) refuses such products before computing them.
- probabilistic truncation: SEMI2K with 2 parties (local truncation, the default) and ABY3
  truncate with a failure probability of |t| / 2^64 (ABY3: |t| / 2^63) per element for a
  truncation input t. Plans keep `PROBABILISTIC_MARGIN_BITS` of headroom below 2^62 under
  those protocols, so even at the planned maximum a truncation fails with probability below
  2^-(margin + 1) per element (typical values are far below the maximum, and far safer).

FM128 (the ring Z_2^128, which SecretPad recommends when FM64 cannot hold the products, e.g.
Pearson/VIF on large data) is NOT supported by this engine: its shares are numpy `uint64`.
`plan_precision` says so instead of pretending, and the fix is to scale the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import ConfigError, RangeError, format_bound
from core.mpc.config import FIELDS, PROTOCOLS, RuntimeConfig
from core.mpc.fixedpoint import encoding_limit

TRUNC_LIMIT_BITS = 62  # every truncation protocol needs |t| < 2^62 (SEMI2K opens t + 2^62 + r)
DEFAULT_FRACTION_BITS = 18  # SPU's FM64 default; plans never go above it (see plan_precision)
MIN_FRACTION_BITS = 8  # resolution 2^-8 ~ 0.004: below this fixed point is too coarse to trust
PROBABILISTIC_MARGIN_BITS = 10
# Protocols whose ordinary truncation may fail (SEMI2K: with 2 parties, its default).
_PROBABILISTIC_TRUNCATION = {"REF2K": False, "SEMI2K": True, "ABY3": True}
UNSUPPORTED_FM128 = (
    "FM128 (128-bit ring) is not supported by this engine, so nothing larger is available"
)


def safe_magnitude(config: RuntimeConfig) -> float:
    """Largest |x| that encodes safely under `config`: 2^(61 - fxp_fraction_bits)."""
    return encoding_limit(config.fxp_fraction_bits)


def product_limit(fraction_bits: int) -> float:
    """Bound on |x y| (or k |x| |y| for a matmul of inner dimension k): below 2^(62 - 2f)."""
    return 2.0 ** (TRUNC_LIMIT_BITS - 2 * fraction_bits)


def truncation_margin_bits(protocol: str) -> int:
    """Headroom a plan keeps below 2^62 for the protocol's truncation (see module doc)."""
    return PROBABILISTIC_MARGIN_BITS if _PROBABILISTIC_TRUNCATION[protocol] else 0


@dataclass(frozen=True)
class PrecisionPlan:
    """A field and a number of fraction bits, with the sentence explaining them (for logs)."""

    field: str
    fxp_fraction_bits: int
    reason: str


def plan_precision(
    max_abs: float, *, products: int = 1, protocol: str = "SEMI2K", field: str = "FM64"
) -> PrecisionPlan:
    """The most fraction bits (at most 18) with which values up to `max_abs` fit FM64.

    Constraints, for f fraction bits and B = max(max_abs, 1) (values below 1 need no integer
    bits, but still their product intermediates):
    - encoding: max_abs <= 2^(61 - f);
    - `products` >= 1 chained fixed-point products of such values (x_1 x_2 ... x_(p+1)): the
      largest 2f-bit intermediate B^(p+1) 2^(2f) stays below 2^(62 - margin), where margin is
      `truncation_margin_bits(protocol)` (10 bits for SEMI2K, which truncates locally with 2
      parties by default, and ABY3; 0 for REF2K). Sums are not counted: pass the bound of a
      sum (e.g. k max|x| for an inner dimension k) as `max_abs` when it matters.
    Plans stop at 18 bits (SPU's FM64 default): the kernels' approximations are tuned there and
    more bits would only spend headroom that sums may need.

    Raises ConfigError for a bad argument (negative or non-finite `max_abs`, unknown protocol,
    a field other than FM64: FM128 is not supported by this engine), and RangeError when FM64
    cannot hold the values with at least MIN_FRACTION_BITS (8) fraction bits: since FM128 is
    not available, the data must be scaled.
    """
    _check_plan_args(max_abs, products, protocol, field)
    margin = truncation_margin_bits(protocol)
    int_bits = _integer_bits(max_abs)
    bits = _most_fraction_bits(max_abs, products, margin)
    if bits < MIN_FRACTION_BITS:
        raise RangeError(
            "plan_precision",
            _largest_fitting(products, margin),
            f"values up to {max_abs:.6g} need {_bits_text(int_bits, 'integer')}"
            + (f" and {products} chained product(s) of them" if products else "")
            + f", leaving fewer than {MIN_FRACTION_BITS} fraction bits in FM64's 64-bit ring; "
            + UNSUPPORTED_FM128,
            fix="scale the inputs (for example standardise them) or split the computation",
        )
    fraction_bits = min(DEFAULT_FRACTION_BITS, bits)
    return PrecisionPlan(
        field, fraction_bits, _reason(max_abs, products, protocol, margin, fraction_bits, bits)
    )


def _check_plan_args(max_abs, products, protocol, field) -> None:
    if isinstance(max_abs, bool) or not isinstance(max_abs, int | float):
        raise ConfigError(f"max_abs must be a number, got {max_abs!r}")
    if not math.isfinite(max_abs) or max_abs < 0:
        raise ConfigError(f"max_abs must be finite and >= 0, got {max_abs!r}")
    if isinstance(products, bool) or not isinstance(products, int) or products < 0:
        raise ConfigError(f"products must be an int >= 0, got {products!r}")
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")
    if field not in FIELDS:
        raise ConfigError(
            f"unsupported field {field!r}; choose one of {FIELDS} ({UNSUPPORTED_FM128})"
        )


def _integer_bits(max_abs: float) -> int:
    """Bits for the integer part of |x| <= max_abs, plus the sign bit."""
    return max(0, math.ceil(math.log2(max_abs))) + 1 if max_abs >= 1 else 1


def _bits_text(count: int, what: str) -> str:
    return f"{count} {what} bit" + ("" if count == 1 else "s")


def _most_fraction_bits(max_abs: float, products: int, margin: int) -> int:
    """Largest f meeting the encoding and product constraints (may be below the minimum)."""
    log_b = math.log2(max_abs) if max_abs > 0 else -math.inf
    by_encoding = math.floor(61 - max(log_b, 0.0))
    if not products:
        return by_encoding
    # the largest intermediate is the last one for B >= 1, the first one otherwise
    log_intermediate = max((products + 1) * log_b, 2 * log_b)
    room = TRUNC_LIMIT_BITS - margin - max(log_intermediate, -TRUNC_LIMIT_BITS)
    return min(by_encoding, math.ceil(room / 2) - 1)  # strict: B^(p+1) 2^(2f) < 2^(62-m)


def _largest_fitting(products: int, margin: int) -> float:
    """Largest max_abs a plan accepts with MIN_FRACTION_BITS (the bound named by RangeError)."""
    if not products:
        return encoding_limit(MIN_FRACTION_BITS)
    room = TRUNC_LIMIT_BITS - margin - 2 * MIN_FRACTION_BITS
    return 2.0 ** (room / (products + 1))


def _reason(max_abs, products, protocol, margin, fraction_bits, possible) -> str:
    text = (
        f"FM64 with {fraction_bits} fraction bits: inputs up to {max_abs:.6g} need "
        f"{_bits_text(_integer_bits(max_abs), 'integer')}"
    )
    if products:
        top = max(max_abs, 1.0) ** (products + 1)
        text += (
            f"; {products} chained product(s) reach at most {format_bound(top)} "
            f"(2^{math.log2(top) + 2 * fraction_bits:.1f} before truncation), "
            f"within 2^{TRUNC_LIMIT_BITS - margin} ({protocol} keeps {margin} bits of "
            "truncation headroom)"
        )
    if possible > fraction_bits:
        text += f"; capped at the default {DEFAULT_FRACTION_BITS} (up to {possible} would fit)"
    return text + "."
