"""Reciprocal, division, exp, log, sqrt and rsqrt on fixed-point secrets (f fraction bits).

These raw kernels do not check their inputs: outside the ranges below they return garbage
(exp(15) = -7659). `core.mpc.kernels.domains` wraps them with the checks and clamps that
`SecretTensor` uses; call them directly only on inputs known to be in range.

Documented ranges and error bounds (f = 18 on FM64, checked by tests/core/mpc; FM128 runs the
same algorithms with its wider ring: "2^60" below reads 2^124 there, and the squaring mode's
powers of u keep 31, 30 and 27 fraction bits, so errors shrink with f):
- reciprocal(x): |x| in [2^-6, 2^(f-2)]: relative error < 1e-4 (Newton-Raphson, 3 iterations
  from the linear minimax start 2.9142 - 2u on the normalised u in [0.5, 1)).
- div_ss(x, y) = (x * w) * F with 1/y = w * F (w in (1, 2], F a power of two): same domain
  for y, |x / y| < 2^20; relative error < 2e-4 + (8 + 1 / |y|) ulp absolute (the rounding of
  x * w is multiplied by F ~ 1 / |y|).
- exp(x), mode "squaring" (default): x in [-11, 11]: relative error < 1e-4 + 4 ulp absolute;
  x in [-160, -11): a value in [0, 2^-15] (p(u) stays in [0.27, 0.85] there, so the 64th
  power decays); outside: undefined (use mode "bits" for inputs far below). e^x = p(u)^(2^6)
  with u = x / 2^6 and p the degree-4 Chebyshev interpolant of e^u on [-11.1, 11.1] / 2^6
  (approximation error < 7e-6 after the six squarings). p's linear term uses x itself; u^2,
  u^3 and u^4 come from one opening (`trunc_powers`: x truncated to 20, 15 and 12 fraction
  bits of u, each power local from the dealer's powers of the masks) with coefficients
  carrying the remaining bits up to 2^60, so their rounding adds < 4e-5. Each squaring is a
  truncation fused with a square (`trunc_square`: one opening under SEMI2K, the square itself
  is local), with fraction bits chosen per step as high as the value range allows. 8 rounds,
  8 openings of one ring element per party; every truncation is exact to one unit
  (`trunc_wide`, also when SEMI2K truncates products locally). ABY3 (exact truncation) runs
  the same plan with its generic `trunc_powers` and `trunc_square` (truncations, then
  multiplications): 19 rounds. Under a protocol without a wide truncation (ABY3 with its
  opt-in local truncation) values near 2^60 would make truncation fail, so there "bits" is
  used.
- exp(x), mode "bits": x <= 11: relative error < 1e-4 + 4 ulp absolute on [-11, 11], and 0
  for x < -11.09 (any such x). With t = x log2(e) + 16, k = trunc(t) (floor, or floor + 1)
  and s = t - k in [-1, 1): 2^k is a product of six ring integers selected by k's bits (a
  6-bit packed A2B), 2^s a degree-6 polynomial, and the result 2^s 2^k 2^-16. t < 0 (true
  value < 2^-16) gives 0, detected by msb(t). 3x the traffic and 5x the CPU of "squaring".
- log(x): x in [2^-10, 2^(f-2)]: absolute error < 1e-4 (normalise to u in [0.5, 1), degree-8
  polynomial for log(u), plus p * ln 2).
- sqrt(x), rsqrt(x): x in [2^-10, 2^(f-2)]: relative error < 2e-4 + 2 ulp absolute, as
  exp(+-log(x) / 2) (exp in mode "bits").
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from core.errors import ConfigError
from core.mpc import circuits
from core.mpc.context import MPCContext
from core.mpc.kernels import poly
from core.mpc.kernels.arith import mul_sp, mul_ss
from core.mpc.kernels.compare import msb_bits, sign_select
from core.mpc.kernels.normalize import normalize, product
from core.mpc.shares import AShare, BShare

NEWTON_START = 2.9142  # minimax linear start for 1/u on [0.5, 1): max relative error 0.086
RECIPROCAL_ITERATIONS = 3
EXP_OFFSET = 16  # t = x log2(e) + 16 must lie in [0, 32)
EXP_INT_BITS = 6  # k = floor(t) (+1) lies in [0, 32]
EXP2_COEFFS = poly.fit_monomial(np.exp2, 6)  # 2^s on [-1, 1], relative error 5e-7
EXP_MODES = ("squaring", "bits")
EXP_SQUARINGS = 6  # e^x = p(x / 2^6)^(2^6)
EXP_DEGREE = 4  # degree of p
EXP_RANGE = 11.1  # the squaring schedule keeps every intermediate in range for |x| <= this
# fraction bits of p(u) before the first squaring: k - 4 (|p| < 4 keeps it below 2^(k-2))
_EXP_BASE_MARGIN = 4
# fraction bits of u for u^2, u^3, u^4 per ring (j bits_j + coefficient bits = k - 4)
_EXP_POWER_BITS = {64: (20, 15, 12), 128: (31, 30, 27)}
LOG_COEFFS = poly.fit_monomial(lambda v: np.log((v + 3) / 4), 8)  # log(u), u = (v+3)/4


def newton_reciprocal(ctx: MPCContext, u: AShare, start: AShare, iterations: int) -> AShare:
    """Newton-Raphson for 1/u: w <- w (2 - u w)."""
    w = start
    for _ in range(iterations):
        t = mul_ss(ctx, u, w)
        w = mul_ss(ctx, w, ctx.proto.add_sp(ctx.proto.neg(t), ctx.encode(2.0)))
    return w


def reciprocal_parts(ctx: MPCContext, x: AShare) -> tuple[AShare, AShare]:
    """(w, F) with 1/x = w * F for secret x > 0: w ~ 1/u in (1, 2], F = 2^(f-1-p)."""
    factor, _ = normalize(ctx, x)
    u = mul_ss(ctx, x, factor)
    start = poly.affine(ctx, u, -2, NEWTON_START)
    return newton_reciprocal(ctx, u, start, RECIPROCAL_ITERATIONS), factor


def reciprocal_positive(ctx: MPCContext, x: AShare) -> AShare:
    """1/x for secret x > 0 (see module docstring for the range)."""
    w, factor = reciprocal_parts(ctx, x)
    return mul_ss(ctx, w, factor)


def reciprocal(ctx: MPCContext, x: AShare) -> AShare:
    """1/x for secret x != 0 of either sign."""
    neg = msb_bits(ctx, [x])[0]
    return sign_select(ctx, neg, reciprocal_positive(ctx, sign_select(ctx, neg, x)))


def div_ss(ctx: MPCContext, x: AShare, y: AShare) -> AShare:
    """x / y as (x * w) * F: multiplying by the power of two last keeps x's precision."""
    neg = msb_bits(ctx, [y])[0]
    w, factor = reciprocal_parts(ctx, sign_select(ctx, neg, y))
    return sign_select(ctx, neg, mul_ss(ctx, mul_ss(ctx, x, w), factor))


def exp(ctx: MPCContext, x: AShare, mode: str = "squaring") -> AShare:
    """e^x; see the module docstring for each mode's range and error."""
    if mode not in EXP_MODES:
        raise ConfigError(f"unknown exp mode {mode!r}; choose one of {EXP_MODES}")
    if mode == "bits" or not ctx.proto.wide_truncation:
        return _exp_bits(ctx, x)
    return _exp_squaring(ctx, x)


def _exp_squaring(ctx: MPCContext, x: AShare) -> AShare:
    """p(u)^(2^n) with u = x / 2^n, every squaring fused with the truncation before it."""
    proto, f = ctx.proto, ctx.frac_bits
    shifts, coeffs, schedule = _exp_plan(f, proto.ring.bits)
    plan = tuple((shift, j) for j, shift in enumerate(shifts, start=2))
    w = proto.mul_sp(x, coeffs[1])  # c_1 u = c_1 x / 2^n, from x itself: no rounding
    for j, power in enumerate(proto.trunc_powers(x, plan), start=2):
        w = proto.add_ss(w, proto.mul_sp(power, coeffs[j]))
    w, w_bits = proto.add_sp(w, coeffs[0]), proto.ring.bits - _EXP_BASE_MARGIN
    for bits in schedule:
        _, w = proto.trunc_square(w, w_bits - bits)
        w_bits = 2 * bits
    return proto.trunc_wide(w, w_bits - f)


@cache
def _exp_plan(
    f: int, ring_bits: int = 64
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Shifts giving u for u^2..u^4, ring coefficients of p (Python ints), fraction bits of
    each squaring.

    With B = k - 4 (60 on FM64), c_j u^j lands on 2^B with u at b_j fraction bits and c_j at
    B - j b_j. Squaring i's input is at most e^(EXP_RANGE 2^(i-1) / 2^n); its fraction bits g
    satisfy 2 g + 2 log2(max) <= k - 3, so the square (the next truncation's input) stays below
    2^(k-2).
    """
    n = EXP_SQUARINGS
    base = ring_bits - _EXP_BASE_MARGIN
    h = EXP_RANGE / 2**n
    mono = poly.fit_monomial(lambda v: np.exp(v * h), EXP_DEGREE) / h ** np.arange(EXP_DEGREE + 1)
    power_bits = [min(n + f - 1, b) for b in _EXP_POWER_BITS[ring_bits]]
    coeff_bits = [base, base - f - n]
    coeff_bits += [base - j * b for j, b in enumerate(power_bits, start=2)]
    coeffs = tuple(
        int(round(float(c) * 2.0**bits)) for c, bits in zip(mono, coeff_bits, strict=True)
    )
    schedule, prev = [], base
    for i in range(1, n + 1):
        top = EXP_RANGE * 2.0 ** (i - 1 - n) / math.log(2) + 0.01
        bits = min(prev - 1, int((ring_bits - 3 - 2 * top) // 2))
        schedule.append(bits)
        prev = 2 * bits
    assert schedule[-1] * 2 > f, "the last square must carry more than f fraction bits"
    return tuple(n + f - b for b in power_bits), coeffs, tuple(schedule)


def _exp_bits(ctx: MPCContext, x: AShare) -> AShare:
    """e^x from the integer and fraction parts of x log2(e) (0 below -11.09)."""
    proto, f = ctx.proto, ctx.frac_bits
    t = proto.add_sp(mul_sp(ctx, x, math.log2(math.e)), ctx.encode(float(EXP_OFFSET)))
    k = proto.trunc(t, f)  # floor(t) or floor(t) + 1, as a ring integer
    frac = proto.sub_ss(t, proto.mul_sp(k, 1 << f))  # in [-1, 1)
    k_bits = circuits.a2b_low_bits(proto, k, EXP_INT_BITS)
    negative = circuits.msb(proto, t)
    picks = [k_bits.data >> np.uint64(j) for j in range(EXP_INT_BITS)] + [negative.data]
    bits = proto.b2a_bit(BShare(np.stack(picks, axis=1)))
    two_frac = poly.evaluate(ctx, frac, EXP2_COEFFS)
    factors = [_power_factor(ctx, bits[j], 1 << j) for j in range(EXP_INT_BITS)]
    factors.append(proto.add_sp(proto.neg(bits[EXP_INT_BITS]), 1))
    power = product(ctx, factors)
    # 2^s 2^k (f fraction bits) reaches 2^51: wide, so a local truncation would fail ~2^-13
    return proto.trunc_wide(proto.mul_ss(two_frac, power), EXP_OFFSET)


def _power_factor(ctx: MPCContext, bit: AShare, exponent: int) -> AShare:
    """1 + bit * (2^exponent - 1): the ring integer 2^(bit * exponent)."""
    return ctx.proto.add_sp(ctx.proto.mul_sp(bit, (1 << exponent) - 1), 1)


def log(ctx: MPCContext, x: AShare) -> AShare:
    """Natural log of secret x > 0."""
    proto, f = ctx.proto, ctx.frac_bits
    factor, q = normalize(ctx, x)
    u = mul_ss(ctx, x, factor)
    log_u = poly.evaluate(ctx, poly.affine(ctx, u, 4, -3.0), LOG_COEFFS)
    # x = u 2^(f - q): log x = log u + (f - q) ln 2, with ln 2 carried with 2f fraction bits
    minus_q_ln2 = proto.trunc_wide(proto.mul_sp(proto.neg(q), _encode_wide(ctx, math.log(2.0))), f)
    return proto.add_sp(proto.add_ss(log_u, minus_q_ln2), ctx.encode(f * math.log(2.0)))


def _encode_wide(ctx: MPCContext, value: float) -> int:
    """`value` with 2f fraction bits, as a Python int (the ring reduces it)."""
    return int(round(value * 2.0 ** (2 * ctx.frac_bits)))


def rsqrt(ctx: MPCContext, x: AShare) -> AShare:
    """1/sqrt(x) = exp(-log(x) / 2) for x > 0."""
    return exp(ctx, mul_sp(ctx, log(ctx, x), -0.5), "bits")


def sqrt(ctx: MPCContext, x: AShare) -> AShare:
    """sqrt(x) = exp(log(x) / 2) for x > 0."""
    return exp(ctx, mul_sp(ctx, log(ctx, x), 0.5), "bits")
