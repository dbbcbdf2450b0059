"""Polynomial approximation helpers for non-linear kernels.

Coefficients are fitted once, at import, by Chebyshev interpolation on the documented interval
(a variable v in [-1, 1]) and converted to the monomial basis; with moderate degrees the fit
error is far below the fixed-point resolution for the functions used here.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import chebyshev

from core.mpc.context import MPCContext
from core.mpc.kernels.arith import mul_many
from core.mpc.shares import AShare


def fit_monomial(fn, degree: int) -> np.ndarray:
    """Monomial coefficients (c_0..c_degree) of the Chebyshev interpolant of fn on [-1, 1]."""
    cheb = chebyshev.Chebyshev.interpolate(fn, degree, domain=[-1, 1])
    return cheb.convert(kind=np.polynomial.Polynomial).coef


def powers(ctx: MPCContext, v: AShare, degree: int) -> list[AShare]:
    """[v, v^2, ..., v^degree] in ceil(log2(degree)) multiplication rounds."""
    pw = [v]
    while len(pw) < degree:
        top = pw[-1]
        count = min(len(pw), degree - len(pw))
        pw.extend(mul_many(ctx, [(top, pw[i]) for i in range(count)]))
    return pw


def evaluate(ctx: MPCContext, v: AShare, coeffs: np.ndarray) -> AShare:
    """sum_i coeffs[i] v^i for |v| <= 1 with one truncation for the whole combination.

    Coefficients carry extra fraction bits, min(f, k - 8 - 2f) for the ring's k bits (18 more
    for f = 18 on FM64, keeping products below 2^58; 26 more for f = 26 on FM128), so their
    rounding adds almost nothing to the error of the powers; the sum then needs the exact
    `trunc_wide` (one opened word under SEMI2K, even with local truncation; ABY3's exact
    truncation). Under ABY3 with its opt-in local truncation, which fails with probability
    ~|x| / 2^k, no extra bits are used.
    """
    proto, f = ctx.proto, ctx.frac_bits
    extra = max(0, min(f, proto.ring.bits - 8 - 2 * f)) if proto.wide_truncation else 0
    pw = powers(ctx, v, len(coeffs) - 1)
    acc = None
    for c, term in zip(coeffs[1:], pw, strict=True):
        wide = int(round(float(c) * 2.0 ** (f + extra)))
        part = proto.mul_sp(term, wide)
        acc = part if acc is None else proto.add_ss(acc, part)
    acc = proto.trunc_wide(acc, f + extra) if extra else proto.trunc(acc, f)
    return proto.add_sp(acc, ctx.encode(coeffs[0]))


def affine(ctx: MPCContext, x: AShare, scale: int, offset: float) -> AShare:
    """scale * x + offset for a small integer scale (exact, local)."""
    scaled = ctx.proto.mul_sp(x, int(scale))
    return ctx.proto.add_sp(scaled, ctx.encode(offset))
