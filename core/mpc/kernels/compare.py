"""Comparison kernels on fixed-point secrets, via boolean sharing.

`less(x, y)` is msb(x - y): an A2B-style carry circuit extracts the sign bit of the difference
(`core.mpc.circuits.msb`) and a bit injection turns it back into an arithmetic 0/1. Inputs must
satisfy |x - y| < 2^(k-1) / 2^f for the ring's k bits, i.e. |x|, |y| < 2^(k - 2 - f) (2^44 for
f = 18 on FM64, 2^100 for f = 26 on FM128): always true for encodable values. Results are
exact. Bits are ring 0/1 integers inside kernels; tensors see them as fixed-point 0.0 / 1.0.
"""

from __future__ import annotations

import numpy as np

from core.mpc import circuits
from core.mpc.context import MPCContext
from core.mpc.kernels.arith import mul_many
from core.mpc.shares import AShare, flat_concat, flat_split


def msb_bits(ctx: MPCContext, xs: list[AShare]) -> list[AShare]:
    """[x < 0] as ring 0/1 for several secrets, batched into one circuit."""
    flat, _ = flat_concat(xs)
    bits = ctx.proto.b2a_bit(circuits.msb(ctx.proto, flat))
    return flat_split(bits, xs)


def less_ss(ctx: MPCContext, x: AShare, y: AShare) -> AShare:
    """[x < y] as ring 0/1."""
    return msb_bits(ctx, [ctx.proto.sub_ss(x, y)])[0]


def less_sp(ctx: MPCContext, x: AShare, p) -> AShare:
    """[x < p] for public p."""
    return msb_bits(ctx, [_sub_public(ctx, x, p)])[0]


def _sub_public(ctx: MPCContext, x: AShare, p) -> AShare:
    enc = np.broadcast_to(ctx.encode(p), x.shape)
    return ctx.proto.add_sp(x, -enc)


def less_ps(ctx: MPCContext, p, x: AShare) -> AShare:
    """[p < x] = [p - x < 0]."""
    return msb_bits(ctx, [ctx.proto.neg(_sub_public(ctx, x, p))])[0]


def not_bit(ctx: MPCContext, bit: AShare) -> AShare:
    return ctx.proto.add_sp(ctx.proto.neg(bit), 1)


def equal_ss(ctx: MPCContext, x: AShare, y: AShare) -> AShare:
    """[x == y] = 1 - [x < y] - [y < x] (both comparisons in one circuit)."""
    d = ctx.proto.sub_ss(x, y)
    lt, gt = msb_bits(ctx, [d, ctx.proto.neg(d)])
    return not_bit(ctx, ctx.proto.add_ss(lt, gt))


def select(ctx: MPCContext, bit: AShare, a: AShare, b: AShare) -> AShare:
    """bit ? a : b with ring 0/1 `bit` (exact: b + bit * (a - b))."""
    return ctx.proto.add_ss(b, ctx.proto.mul_ss(bit, ctx.proto.sub_ss(a, b)))


def maximum(ctx: MPCContext, x: AShare, y: AShare) -> AShare:
    return select(ctx, less_ss(ctx, x, y), y, x)


def minimum(ctx: MPCContext, x: AShare, y: AShare) -> AShare:
    return select(ctx, less_ss(ctx, x, y), x, y)


def abs_(ctx: MPCContext, x: AShare) -> AShare:
    """|x| = x - 2 [x < 0] x."""
    neg = msb_bits(ctx, [x])[0]
    return ctx.proto.sub_ss(x, ctx.proto.mul_sp(ctx.proto.mul_ss(neg, x), 2))


def relu(ctx: MPCContext, x: AShare) -> AShare:
    neg = msb_bits(ctx, [x])[0]
    return ctx.proto.sub_ss(x, ctx.proto.mul_ss(neg, x))


def sign_select(ctx: MPCContext, neg: AShare, x: AShare) -> AShare:
    """(-1)^neg * x for a ring 0/1 `neg`."""
    return ctx.proto.sub_ss(x, ctx.proto.mul_sp(ctx.proto.mul_ss(neg, x), 2))


def _halves(x: AShare) -> tuple[AShare, AShare, AShare | None]:
    n = x.shape[-1]
    half = n // 2
    odd = x[..., 2 * half :] if n % 2 else None
    return x[..., :half], x[..., half : 2 * half], odd


def max_last_axis(ctx: MPCContext, x: AShare, with_index: bool = False):
    """Tournament max over the last axis (log2(n) comparison rounds); optionally the argmax.

    The index travels as a fixed-point secret selected by the same comparison bits.
    """
    idx = None
    if with_index:
        positions = np.broadcast_to(np.arange(x.shape[-1], dtype=np.float64), x.shape)
        idx = ctx.proto.public_a(ctx.encode(positions))
    while x.shape[-1] > 1:
        a, b, rest = _halves(x)
        take_b = less_ss(ctx, a, b)
        if idx is None:
            x = select(ctx, take_b, b, a)
        else:
            ia, ib, irest = _halves(idx)
            x, idx = mul_many_select(ctx, take_b, [(b, a), (ib, ia)])
            if irest is not None:
                idx = AShare(np.concatenate([idx.data, irest.data], axis=-1))
        if rest is not None:
            x = AShare(np.concatenate([x.data, rest.data], axis=-1))
    x = x[..., 0]
    return (x, idx[..., 0]) if with_index else x


def mul_many_select(ctx: MPCContext, bit: AShare, options: list[tuple[AShare, AShare]]):
    """Several selects driven by the same bit in one multiplication round."""
    diffs = [ctx.proto.sub_ss(a, b) for a, b in options]
    products = mul_many(ctx, [(bit, d) for d in diffs], scale=False)
    return [ctx.proto.add_ss(b, p) for (_, b), p in zip(options, products, strict=True)]
