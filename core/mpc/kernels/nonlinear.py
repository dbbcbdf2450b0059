"""Reciprocal, division, exp, log, sqrt and rsqrt on fixed-point secrets (f fraction bits).

Documented ranges and error bounds (f = 18, checked by tests/core/mpc):
- reciprocal(x): |x| in [2^-6, 2^(f-2)]: relative error < 1e-4 (Newton-Raphson, 3 iterations
  from the linear minimax start 2.9142 - 2u on the normalised u in [0.5, 1)).
- div_ss(x, y) = (x * w) * F with 1/y = w * F (w in (1, 2], F a power of two): same domain
  for y, |x / y| < 2^20; relative error < 2e-4 + 8 ulp absolute.
- exp(x): x in [-11, 11]: relative error < 1e-4 + 2 ulp absolute. 2^t is split into 2^floor(t)
  (from the integer bits of t = x log2(e), exact) and a degree-8 polynomial for 2^frac(t);
  x < -11.09 gives 0 (true value < 2^-16).
- log(x): x in [2^-10, 2^(f-2)]: absolute error < 1e-4 (normalise to u in [0.5, 1), degree-8
  polynomial for log(u), plus p * ln 2).
- sqrt(x), rsqrt(x): x in [2^-10, 2^(f-2)]: relative error < 2e-4 + 2 ulp absolute, as
  exp(+-log(x) / 2).
"""

from __future__ import annotations

import math

import numpy as np

from core.mpc import circuits
from core.mpc.context import MPCContext
from core.mpc.kernels import poly
from core.mpc.kernels.arith import mul_many, mul_sp, mul_ss
from core.mpc.kernels.compare import msb_bits, sign_select
from core.mpc.kernels.normalize import leading_position, normalize
from core.mpc.ring import RING_DTYPE
from core.mpc.shares import AShare, BShare

NEWTON_START = 2.9142  # minimax linear start for 1/u on [0.5, 1): max relative error 0.086
RECIPROCAL_ITERATIONS = 3
EXP_OFFSET = 16  # t = x log2(e) + 16 must lie in [0, 32)
EXP_INT_BITS = 5
EXP2_COEFFS = poly.fit_monomial(lambda v: np.exp2((v + 1) / 2), 8)  # 2^s, s = (v+1)/2 in [0,1)
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


def exp(ctx: MPCContext, x: AShare) -> AShare:
    """e^x for x in [-11, 11] (0 below -11.09)."""
    proto, f = ctx.proto, ctx.frac_bits
    t = proto.add_sp(mul_sp(ctx, x, math.log2(math.e)), ctx.encode(float(EXP_OFFSET)))
    tb = circuits.a2b(proto, t)
    picks = [(tb.data >> RING_DTYPE(f + j)) for j in range(EXP_INT_BITS)] + [
        tb.data >> RING_DTYPE(63)
    ]
    bits = proto.b2a_bit(BShare(np.stack(picks, axis=1)))
    k = [bits[j] for j in range(EXP_INT_BITS)]
    negative = bits[EXP_INT_BITS]
    frac = t
    for j, kj in enumerate(k):
        frac = proto.sub_ss(frac, proto.mul_sp(kj, np.uint64(1 << (f + j))))
    two_frac = poly.evaluate(ctx, poly.affine(ctx, frac, 2, -1.0), EXP2_COEFFS)
    factors = [_power_factor(ctx, kj, 1 << j) for j, kj in enumerate(k)]
    factors.append(proto.add_sp(proto.neg(negative), np.uint64(1)))
    power = _product(ctx, factors)
    return proto.trunc(proto.mul_ss(two_frac, power), EXP_OFFSET)


def _power_factor(ctx: MPCContext, bit: AShare, exponent: int) -> AShare:
    """1 + bit * (2^exponent - 1): the ring integer 2^(bit * exponent)."""
    return ctx.proto.add_sp(ctx.proto.mul_sp(bit, np.uint64((1 << exponent) - 1)), np.uint64(1))


def _product(ctx: MPCContext, factors: list[AShare]) -> AShare:
    """Product of ring integers by a balanced tree (log2(len) rounds, no truncation)."""
    while len(factors) > 1:
        pairs = [(factors[i], factors[i + 1]) for i in range(0, len(factors) - 1, 2)]
        merged = mul_many(ctx, pairs, scale=False)
        factors = merged + ([factors[-1]] if len(factors) % 2 else [])
    return factors[0]


def log(ctx: MPCContext, x: AShare) -> AShare:
    """Natural log of secret x > 0."""
    proto, f = ctx.proto, ctx.frac_bits
    factor, onehot = normalize(ctx, x)
    p = leading_position(ctx, onehot)
    u = mul_ss(ctx, x, factor)
    log_u = poly.evaluate(ctx, poly.affine(ctx, u, 4, -3.0), LOG_COEFFS)
    # integer p times ln 2 carried with 2f fraction bits, so p * (rounding of ln 2) stays tiny
    scaled_p = proto.trunc(proto.mul_sp(p, _encode_wide(ctx, math.log(2.0))), f)
    return proto.add_sp(proto.add_ss(log_u, scaled_p), ctx.encode((1 - f) * math.log(2.0)))


def _encode_wide(ctx: MPCContext, value: float) -> np.ndarray:
    return np.int64(round(value * 2.0 ** (2 * ctx.frac_bits))).view(RING_DTYPE)


def rsqrt(ctx: MPCContext, x: AShare) -> AShare:
    """1/sqrt(x) = exp(-log(x) / 2) for x > 0."""
    return exp(ctx, mul_sp(ctx, log(ctx, x), -0.5))


def sqrt(ctx: MPCContext, x: AShare) -> AShare:
    """sqrt(x) = exp(log(x) / 2) for x > 0."""
    return exp(ctx, mul_sp(ctx, log(ctx, x), 0.5))
