"""Fixed-point arithmetic kernels: add, mul, matmul, truncation, division by public, sums.

Secret operands are `AShare` holding fixed-point values with f fraction bits in the protocol's
ring (k = 64 bits for FM64, 128 for FM128); public operands are numbers or numpy arrays
(encoded here). Products carry 2f fraction bits and are truncated by f, so every product is
exact up to one unit in the last place (ulp = 2^-f) as long as |x * y| < 2^(k - 2 - 2f)
(2^26 for f = 18 on FM64, 2^74 for f = 26 on FM128). Under a protocol without
`exact_truncation` (the opt-in `trunc_mode="local"` of 2-party SEMI2K, SPU's default there,
and of ABY3) each truncation also fails, with a huge error, with probability
|x * y| 2^(2f) / 2^k per element (2^-28 for |x * y| = 1 with f = 18 on FM64); the default
truncations of SEMI2K and ABY3 are exact.

These kernels do not check ranges; `SecretTensor` refuses, from public bounds, any product
that could reach the 2^(k - 2 - 2f) limit before calling them (`core.mpc.bounds`).
`div_sp` multiplies x by two limbs of 1/d, so it needs |x| and |x / d| below 2^(k - 2 - 2f).
"""

from __future__ import annotations

import numpy as np

from core.mpc.context import MPCContext
from core.mpc.ring import ring_of
from core.mpc.shares import AShare, flat_concat, flat_split

_INT_FAST_PATH_LIMIT = 2**20


def add_sp(ctx: MPCContext, x: AShare, p) -> AShare:
    return ctx.proto.add_sp(x, ctx.encode(p))


def sub_ps(ctx: MPCContext, p, x: AShare) -> AShare:
    return ctx.proto.add_sp(ctx.proto.neg(x), ctx.encode(p))


def trunc(ctx: MPCContext, x: AShare, bits: int | None = None) -> AShare:
    return ctx.proto.trunc(x, ctx.frac_bits if bits is None else bits)


def mul_ss(ctx: MPCContext, x: AShare, y: AShare) -> AShare:
    """x * y in fixed point (error <= 1 ulp)."""
    return ctx.proto.mul_trunc(x, y, ctx.frac_bits)


def mul_many(
    ctx: MPCContext, pairs: list[tuple[AShare, AShare]], scale: bool = True
) -> list[AShare]:
    """Several independent products in one multiplication round (and one truncation round)."""
    xs, _ = flat_concat([p[0] for p in pairs])
    ys, _ = flat_concat([p[1] for p in pairs])
    out = ctx.proto.mul_trunc(xs, ys, ctx.frac_bits) if scale else ctx.proto.mul_ss(xs, ys)
    return flat_split(out, [p[0] for p in pairs])


def mul_bit(ctx: MPCContext, bit: AShare, x: AShare) -> AShare:
    """bit * x where `bit` is a ring 0/1 (not fixed point): exact, no truncation."""
    return ctx.proto.mul_ss(bit, x)


def mul_sp(ctx: MPCContext, x: AShare, p) -> AShare:
    """x * p for public p; small integer p needs no truncation and is exact."""
    arr = np.asarray(p)
    if is_small_int(arr):
        return ctx.proto.mul_sp(x, arr.astype(np.int64))
    return trunc(ctx, ctx.proto.mul_sp(x, ctx.encode(arr)))


def is_small_int(arr: np.ndarray) -> bool:
    """True when `mul_sp` multiplies by `arr` as ring integers, without truncation."""
    if arr.dtype.kind in "iub":
        return bool(np.all(np.abs(arr.astype(np.int64)) < _INT_FAST_PATH_LIMIT))
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)):
        return bool(np.all(arr == np.round(arr)) and np.all(np.abs(arr) < _INT_FAST_PATH_LIMIT))
    return False


def div_sp(ctx: MPCContext, x: AShare, d) -> AShare:
    """x / d for public non-zero d: error about 1 ulp + |x| * 2^-(2f).

    1/d is split into a high and a low fixed-point limb (f and 2f fraction bits), so the
    reciprocal's own rounding contributes almost nothing, and the sum is truncated once.
    """
    f = ctx.frac_bits
    inv = 1.0 / np.asarray(d, dtype=np.float64)
    hi = np.floor(inv * 2.0**f)
    lo = np.rint((inv * 2.0**f - hi) * 2.0**f)
    proto = ctx.proto
    hi_part = proto.mul_sp(x, proto.ring.from_float(hi))
    lo_part = proto.trunc(proto.mul_sp(x, proto.ring.from_float(lo)), f)
    return proto.trunc(proto.add_ss(hi_part, lo_part), f)


def div_sp_rounded(ctx: MPCContext, x: AShare, d: int) -> AShare:
    """x / d for integer-valued secret x and public integer d != 0, correctly rounded.

    The approximate quotient q (error < 2 ulp) leaves a residual e = x - d q that is exact and
    small, so round(e / d) in {-2..2} follows from four comparisons of 2e with +-d and +-3d
    (one batched circuit): integer averages such as (5000 + 6000 + 7000) / 3 come out exact.
    """
    from core.mpc.kernels.compare import msb_bits  # compare builds on this module

    proto = ctx.proto
    q = div_sp(ctx, x, d)
    d = int(d)
    twice_e = proto.mul_sp(proto.sub_ss(x, proto.mul_sp(q, d)), 2)
    below = [proto.add_sp(twice_e, k * d) for k in (1, 3)]  # 2e + kd < 0
    above = [proto.add_sp(proto.neg(twice_e), k * d - 1) for k in (1, 3)]
    b1, b3, a1, a3 = msb_bits(ctx, below + above)  # a_k: 2e >= kd  <=>  kd - 1 - 2e < 0
    up = proto.add_ss(a1, a3)
    down = proto.add_ss(b1, b3)
    return proto.add_ss(q, proto.sub_ss(up, down))  # corrections are in ulps


def matmul_ss(ctx: MPCContext, x: AShare, y: AShare) -> AShare:
    return ctx.proto.matmul_trunc(x, y, ctx.frac_bits)


def matmul_sp(ctx: MPCContext, x: AShare, p) -> AShare:
    return trunc(ctx, ctx.proto.matmul_sp(x, ctx.encode(p)))


def matmul_ps(ctx: MPCContext, p, x: AShare) -> AShare:
    return trunc(ctx, ctx.proto.matmul_ps(ctx.encode(p), x))


def sum_(x: AShare, axis=None, keepdims: bool = False) -> AShare:
    """Local sum over tensor axes (wraps mod 2^k like the shares)."""
    if axis is None:
        axes = tuple(range(1, x.data.ndim))
    else:
        axes = tuple((a % len(x.shape)) + 1 for a in np.atleast_1d(axis))
    return AShare(ring_of(x.data).sum(x.data, axes, keepdims))


def mean(ctx: MPCContext, x: AShare, axis=None, keepdims: bool = False) -> AShare:
    count = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))
    return div_sp(ctx, sum_(x, axis, keepdims), count)


def lift_bits(ctx: MPCContext, bits: AShare) -> AShare:
    """Ring 0/1 bits -> fixed-point 0.0/1.0 (a local shift)."""
    return ctx.proto.mul_sp(bits, 1 << ctx.frac_bits)
