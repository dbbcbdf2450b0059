"""Safe ranges of the fixed-point encoding, and choosing the field and fraction bits from data.

The SPU stores a real v as round(v 2^f) in the ring Z_2^k (k = 64 for FM64, 128 for FM128),
read as a signed k-bit integer. Three limits follow, for f fraction bits:

- encoding: |v| <= 2^(k - 3 - f) (`safe_magnitude`; 2^43 ~ 8.8e12 for FM64 with f = 18,
  2^99 for FM128 with f = 26). The encoding then stays below 2^(k-3), so a sum or difference
  of two encodable values, and every comparison (the sign of a difference), is exact.
- products: a fixed-point product x * y is the ring integer x y 2^(2f) before it is truncated
  by f bits, and every truncation protocol needs that intermediate below 2^(k-2)
  (`trunc_limit_bits`): |x y| < 2^(k - 2 - 2f) (`product_limit`; 2^26 ~ 6.7e7 for FM64 with
  f = 18, 2^74 ~ 1.9e22 for FM128 with f = 26). A matrix product sums n such terms before
  truncating, so it needs n |x| |y| < 2^(k - 2 - 2f). Beyond that the truncation wraps and the
  result is garbage, silently: the engine's bound tracking (`core.mpc.bounds`) refuses such
  products before computing them.
- probabilistic truncation: SEMI2K with 2 parties and ABY3 with `trunc_mode="local"` (both
  opt-in; both truncate exactly by default) fail with probability |t| / 2^k per element for a
  truncation input t. Plans keep `PROBABILISTIC_MARGIN_BITS` of headroom below 2^(k-2) under
  those protocols, so even at the planned maximum a truncation fails with probability below
  2^-(margin + 2) per element (typical values are far below the maximum, and far safer).

Choosing the field (`plan_precision` with field=None, what components do): FM64 whenever it
holds the data with at least MIN_FRACTION_BITS (8) fraction bits, since FM128 costs several
times more (two 64-bit limbs per element, ~4x the work per product; `benchmarks/fm128.py`);
otherwise FM128, as SecretPad recommends for Pearson/VIF on large data, with up to 26 fraction
bits (SPU's FM128 default). The plan's `reason` says which field was picked and why; a
RangeError names the bound when even FM128 cannot hold the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import ConfigError, RangeError, format_bound
from core.mpc.config import DEFAULT_FRACTION_BITS as FIELD_DEFAULT_BITS
from core.mpc.config import FIELDS, PROTOCOLS, RuntimeConfig
from core.mpc.fixedpoint import encoding_limit
from core.mpc.ring import RING64, ring_for
from core.range_problems import RangeProblem

TRUNC_LIMIT_BITS = RING64.trunc_limit_bits  # FM64: |t| < 2^62 (SEMI2K opens t + 2^62 + r)
DEFAULT_FRACTION_BITS = FIELD_DEFAULT_BITS["FM64"]  # 18, SPU's FM64 default; plans stop there
MIN_FRACTION_BITS = 8  # resolution 2^-8 ~ 0.004: below this fixed point is too coarse to trust
PROBABILISTIC_MARGIN_BITS = 10
# Protocols that keep the margin: SEMI2K and ABY3, whose default truncations are exact but
# which may be asked to truncate locally (probabilistically); there the margin is also the
# headroom that sums and model weights (which plans do not count) live in, and components'
# limits (SS-LR's batch products) are calibrated with it.
_PROBABILISTIC_TRUNCATION = {"REF2K": False, "SEMI2K": True, "ABY3": True}


def safe_magnitude(config: RuntimeConfig) -> float:
    """Largest |x| that encodes safely under `config`: 2^(k - 3 - fxp_fraction_bits)."""
    return encoding_limit(config.fxp_fraction_bits, ring_for(config.field))


def product_limit(fraction_bits: int, field: str = "FM64") -> float:
    """Bound on |x y| (or n |x| |y| for a matmul of inner dimension n): below 2^(k - 2 - 2f)."""
    return 2.0 ** (ring_for(field).trunc_limit_bits - 2 * fraction_bits)


def truncation_margin_bits(protocol: str) -> int:
    """Headroom a plan keeps below 2^(k-2) for the protocol's truncation (see module doc)."""
    return PROBABILISTIC_MARGIN_BITS if _PROBABILISTIC_TRUNCATION[protocol] else 0


@dataclass(frozen=True)
class PrecisionPlan:
    """A field and a number of fraction bits, with the sentence explaining them (for logs)."""

    field: str
    fxp_fraction_bits: int
    reason: str
    # The figures `reason` cites, for callers that word it themselves (in the reader's
    # language): the inputs' bound, the chained products, the protocol and its truncation
    # margin, the most fraction bits that would fit, and FM64's (when FM128 was picked).
    max_abs: float = 0.0
    products: int = 0
    protocol: str = ""
    margin: int = 0
    possible: int = 0
    fm64_bits: int | None = None


def plan_precision(
    max_abs: float, *, products: int = 1, protocol: str = "SEMI2K", field: str | None = None
) -> PrecisionPlan:
    """The field and the most fraction bits with which values up to `max_abs` fit.

    Constraints, for f fraction bits in a k-bit ring and B = max(max_abs, 1) (values below 1
    need no integer bits, but still their product intermediates):
    - encoding: max_abs <= 2^(k - 3 - f);
    - `products` >= 1 chained fixed-point products of such values (x_1 x_2 ... x_(p+1)): the
      largest 2f-bit intermediate B^(p+1) 2^(2f) stays below 2^(k - 2 - margin), where margin
      is `truncation_margin_bits(protocol)` (10 bits for SEMI2K and ABY3, which may
      truncate locally when asked to; 0 for REF2K). Sums are not counted:
      pass the bound of a sum (e.g. n max|x| for an inner dimension n) as `max_abs` when it
      matters.
    Plans stop at the field's default fraction bits (18 on FM64, 26 on FM128, as SPU): the
    kernels' approximations are tuned there and more bits would only spend headroom that sums
    may need.

    `field` None (the default) picks FM64 when it leaves at least MIN_FRACTION_BITS (8)
    fraction bits, FM128 otherwise (see the module docstring); "FM64" or "FM128" plans in that
    field only. Raises ConfigError for a bad argument (negative or non-finite `max_abs`,
    unknown protocol or field), and RangeError when the field (FM128 when picking) cannot hold
    the values with at least 8 fraction bits: the data must then be scaled.
    """
    _check_plan_args(max_abs, products, protocol, field)
    margin = truncation_margin_bits(protocol)
    fields = FIELDS if field is None else (field,)
    for name in fields:
        bits = _most_fraction_bits(max_abs, products, margin, ring_for(name).bits)
        if bits >= MIN_FRACTION_BITS:
            fraction_bits = min(FIELD_DEFAULT_BITS[name], bits)
            reason = _reason(name, max_abs, products, protocol, margin, fraction_bits, bits)
            fm64_bits = None
            if name != fields[0]:
                reason += " " + _why_not_fm64(max_abs, products, margin)
                fm64_bits = _most_fraction_bits(max_abs, products, margin, RING64.bits)
            return PrecisionPlan(
                name, fraction_bits, reason, max_abs, products, protocol, margin, bits, fm64_bits
            )
    raise _too_large(fields[-1], max_abs, products, margin)


def _too_large(field: str, max_abs: float, products: int, margin: int) -> RangeError:
    ring_bits = ring_for(field).bits
    int_bits = integer_bits(max_abs)
    return RangeError(
        "plan_precision",
        _largest_fitting(products, margin, ring_bits),
        RangeProblem(
            "plan_too_large",
            max_abs=f"{max_abs:.6g}",
            integer_bits=int_bits,
            products=products,
            min_fraction_bits=MIN_FRACTION_BITS,
            field=field,
            ring_bits=ring_bits,
            wider="" if field == FIELDS[-1] else FIELDS[-1],
        ),
        fix="scale the inputs (for example standardise them) or split the computation",
    )


def _why_not_fm64(max_abs: float, products: int, margin: int) -> str:
    fm64 = _most_fraction_bits(max_abs, products, margin, RING64.bits)
    left = f"only {_bits_text(fm64, 'fraction')}" if fm64 > 0 else "no fraction bits"
    return (
        f"FM64 cannot hold these products: it would leave {left} (fewer than "
        f"{MIN_FRACTION_BITS}), so the 128-bit ring is used (slower: two 64-bit limbs per value)."
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
    if field is not None and field not in FIELDS:
        raise ConfigError(f"unsupported field {field!r}; choose one of {FIELDS} or None (pick)")


def integer_bits(max_abs: float) -> int:
    """Bits for the integer part of |x| <= max_abs, plus the sign bit."""
    return max(0, math.ceil(math.log2(max_abs))) + 1 if max_abs >= 1 else 1


def _bits_text(count: int, what: str) -> str:
    return f"{count} {what} bit" + ("" if count == 1 else "s")


def _most_fraction_bits(max_abs: float, products: int, margin: int, ring_bits: int = 64) -> int:
    """Largest f meeting the encoding and product constraints (may be below the minimum)."""
    limit_bits = ring_bits - 2
    log_b = math.log2(max_abs) if max_abs > 0 else -math.inf
    by_encoding = math.floor(limit_bits - 1 - max(log_b, 0.0))
    if not products:
        return by_encoding
    # the largest intermediate is the last one for B >= 1, the first one otherwise
    log_intermediate = max((products + 1) * log_b, 2 * log_b)
    room = limit_bits - margin - max(log_intermediate, -limit_bits)
    return min(by_encoding, math.ceil(room / 2) - 1)  # strict: B^(p+1) 2^(2f) < 2^(k-2-m)


def _largest_fitting(products: int, margin: int, ring_bits: int = 64) -> float:
    """Largest max_abs a plan accepts with MIN_FRACTION_BITS (the bound named by RangeError)."""
    if not products:
        return float(2 ** (ring_bits - 3 - MIN_FRACTION_BITS))
    room = ring_bits - 2 - margin - 2 * MIN_FRACTION_BITS
    return 2.0 ** (room / (products + 1))


def _reason(field, max_abs, products, protocol, margin, fraction_bits, possible) -> str:
    text = (
        f"{field} with {fraction_bits} fraction bits: inputs up to {max_abs:.6g} need "
        f"{_bits_text(integer_bits(max_abs), 'integer')}"
    )
    if products:
        top = max(max_abs, 1.0) ** (products + 1)
        text += (
            f"; {products} chained {'product reaches' if products == 1 else 'products reach'} "
            f"at most {format_bound(top)} "
            f"(2^{math.log2(top) + 2 * fraction_bits:.1f} before truncation), "
            f"within 2^{ring_for(field).trunc_limit_bits - margin} ({protocol} keeps {margin} "
            "bits of truncation headroom)"
        )
    default = FIELD_DEFAULT_BITS[field]
    if possible > fraction_bits:
        text += f"; capped at the default {default} (up to {possible} would fit)"
    return text + "."
