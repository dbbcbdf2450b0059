"""Sigmoid (three modes) and tanh on fixed-point secrets.

Modes (names as in SPU's runtime config):
- `real`: 1 / (1 + exp(-x)) computed as s = 1 / (1 + exp(-|x|)) (exp argument <= 0, exp mode
  "bits" as it must give 0 for any large |x|; reciprocal
  argument in [1, 2], so Newton needs no normalisation) and sigmoid(x) = s or 1 - s by sign.
  |x| <= 2^(k - 3 - 2f) for the ring's k bits (2^25 for f = 18 on FM64, 2^73 for f = 26 on
  FM128: x log2(e) must fit a product); absolute error < 1e-4.
  Beyond, garbage: `core.mpc.kernels.domains` clamps inputs not known to be in range.
- `mm1`: the degree-1 approximation 0.5 + 0.125 x (SPU's SIGMOID_MM1); exact to 1 ulp as a
  formula, but only close to the sigmoid near 0 (absolute error < 0.02 on [-2, 2]).
- `seg3`: 3-piece segment: 0 for x < -4, 0.5 + 0.125 x on [-4, 4], 1 for x > 4 (SPU's
  SIGMOID_SEG3); exact to 1 ulp as a formula, within 0.12 of the sigmoid everywhere.
tanh(x) = 2 sigmoid_real(2x) - 1 for |x| <= 2^(60 - 2f): absolute error < 2e-4.
`mm1` is a public scaling (0.125 x), so its products follow the rule of `core.mpc.bounds`.
"""

from __future__ import annotations

from core.errors import ConfigError
from core.mpc.context import MPCContext
from core.mpc.kernels import nonlinear
from core.mpc.kernels.arith import mul_many, mul_sp
from core.mpc.kernels.compare import msb_bits, sign_select
from core.mpc.shares import AShare

SIGMOID_MODES = ("real", "mm1", "seg3")


def sigmoid(ctx: MPCContext, x: AShare, mode: str = "real") -> AShare:
    if mode == "real":
        return _sigmoid_real(ctx, x)
    if mode == "mm1":
        return _linear(ctx, x)
    if mode == "seg3":
        return _sigmoid_seg3(ctx, x)
    raise ConfigError(f"unknown sigmoid mode {mode!r}; choose one of {SIGMOID_MODES}")


def _linear(ctx: MPCContext, x: AShare) -> AShare:
    return ctx.proto.add_sp(mul_sp(ctx, x, 0.125), ctx.encode(0.5))


def _sigmoid_real(ctx: MPCContext, x: AShare) -> AShare:
    proto = ctx.proto
    neg = msb_bits(ctx, [x])[0]
    minus_abs = proto.neg(sign_select(ctx, neg, x))
    denom = proto.add_sp(nonlinear.exp(ctx, minus_abs, "bits"), ctx.encode(1.0))
    start = proto.add_sp(mul_sp(ctx, denom, -0.5), ctx.encode(nonlinear.NEWTON_START / 2))
    s = nonlinear.newton_reciprocal(ctx, denom, start, nonlinear.RECIPROCAL_ITERATIONS)
    flipped = proto.add_sp(proto.neg(s), ctx.encode(1.0))
    return proto.add_ss(s, proto.mul_ss(neg, proto.sub_ss(flipped, s)))


def _sigmoid_seg3(ctx: MPCContext, x: AShare) -> AShare:
    proto = ctx.proto
    line = _linear(ctx, x)
    four_minus_x = proto.add_sp(proto.neg(x), ctx.encode(4.0))
    # [x > 4] = [4 - x < 0] and [x < -4] = [x + 4 < 0], in one comparison circuit.
    high, low = msb_bits(ctx, [four_minus_x, proto.add_sp(x, ctx.encode(4.0))])
    one_minus = proto.add_sp(proto.neg(line), ctx.encode(1.0))
    up, down = mul_many(ctx, [(high, one_minus), (low, line)], scale=False)
    return proto.sub_ss(proto.add_ss(line, up), down)


def tanh(ctx: MPCContext, x: AShare) -> AShare:
    s = _sigmoid_real(ctx, ctx.proto.mul_sp(x, 2))
    return ctx.proto.add_sp(ctx.proto.mul_sp(s, 2), ctx.encode(-1.0))
