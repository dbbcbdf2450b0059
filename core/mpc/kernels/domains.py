"""Kernels with limited input domains, guarded: refuse, clamp or detect, never a silent error.

The raw kernels (`nonlinear`, `activations`) are exact only on their documented domains; out
of it they return garbage (exp(15) gave -7659, sqrt(1e6) -1.9e8). These wrappers take the
input's public interval (`core.mpc.bounds.Interval`, None if unknown) and return the result
with its own interval. For f fraction bits (values for f = 18 on FM64), with ulp = 2^-f; on
FM128 read 61 as 125 and 62 as 126 (the ring's k - 3 and k - 2):

| kernel          | domain                                   | outside the domain             |
|-----------------|------------------------------------------|--------------------------------|
| exp             | x <= 16 ln 2 = 11.09 (e^x <= 2^16)        | above: RangeError              |
|                 | x >= -160 (mode "squaring"), -2^25       | below: clamped to -160 (-64)   |
|                 | (mode "bits"; always used without a      |                                |
|                 | wide truncation: ABY3, trunc "local")    |                                |
| log             | x in [2^-10, 2^(f-2)] (2^16)              | RangeError                     |
| sqrt, rsqrt     | x in [2^-10, 2^(f-2)]                     | RangeError                     |
| reciprocal      | |x| in [2^-6, 2^(f-2)]                    | RangeError                     |
| div (x / y)     | |y| as reciprocal; |x| < 2^(62-2f) m with  | RangeError                     |
|                 | m = max(2^-6, min |y|), at most 2^(61-2f)|                                |
| sigmoid "real"  | |x| <= 2^(61-2f) (2^25)                   | clamped to +-32                |
| sigmoid "mm1"   | the product 0.125 x (see core.mpc.bounds) | RangeError when bounds show it |
| sigmoid "seg3"  | every encodable x                        | -                              |
| tanh            | |x| <= 2^(60-2f) (2^24)                   | clamped to +-16                |

Clamps move inputs to where the function is flat to far below an ulp (e^-160 <= 2^-15 is what
the squaring mode returns there, e^-64, 1 - sigmoid(32) and 1 - tanh(16) are below 1e-13), not
to the domain's edge: there, a product inside the kernel would reach ~2^62, where the opt-in
local truncations of SEMI2K and ABY3 fail with probability ~1/4 (see core.mpc.precision). So a
clamped result equals the true one within the kernel's documented error.

Rule: when the input's interval lies inside the domain nothing is done (no cost). Otherwise,
with `range_checks` on (the default), one batched secure comparison of every element with the
domain's edges runs. Edges whose crossing would be harmless are clamped with the comparison
bits (one more multiplication round, nothing revealed); for the others, the bits are summed and
compared with 0 (a second comparison, on that one secret count), and that ONE bit ("some
element is out of the domain") is opened to every
party: if set, every party raises the same RangeError naming the operation and the domain
edge. Nothing else about the values is revealed. With `range_checks` off, nothing is checked,
out-of-domain results are undefined, as for the raw kernels, and a result whose input was not
known to be in the domain gets no interval (later operations on it are unchecked).

Results carry the kernel's output interval, widened by its documented error, so later
products are checked: exp's output is at most 2^16, sigmoid's in [0, 1], and so on.
"""

from __future__ import annotations

import math

import numpy as np

from core.errors import RangeError, format_bound
from core.mpc import circuits
from core.mpc.bounds import Interval, check_product
from core.mpc.context import MPCContext
from core.mpc.kernels import activations, nonlinear
from core.mpc.kernels.arith import mul_many, mul_ss, sum_
from core.mpc.kernels.compare import msb_bits, sign_select
from core.mpc.shares import AShare
from core.range_problems import RangeProblem

EXP_MAX = nonlinear.EXP_OFFSET * math.log(2.0)  # t = x log2(e) + 16 must stay below 32
EXP_SQUARING_MIN = -160.0  # the squaring schedule decays to [0, 2^-15] down to here
EXP_BITS_CLAMP = -64.0  # "bits" mode returns 0 below -11.09; e^-64 < 1e-27
SIGMOID_SATURATION = 32.0  # 1 - sigmoid(32) < 1e-13: clamping there changes nothing
TANH_SATURATION = 16.0  # 1 - tanh(16) < 1e-13
LOG_MIN_EXPONENT = -10
RECIPROCAL_MIN_EXPONENT = -6
EXP_FIX = "scale the input into the domain (it does not depend on the fraction bits)"
NORMALISED_FIX = (
    "scale the input into the domain; its upper edge is 2^(f-2), so more fraction bits (up to "
    "26 on FM64, 48 on FM128) widen it, at the cost of a smaller limit for products"
)


Bound = Interval | None  # a public interval, or None when unknown
Label = str | None  # the inputs' names, for error messages
Guarded = tuple[AShare, Interval | None]  # a result and its public interval


def _encode(ctx: MPCContext, value: float) -> np.ndarray:
    return ctx.encode(value)


def _minus_public(ctx: MPCContext, x: AShare, value: float) -> AShare:
    return ctx.proto.add_sp(x, -_encode(ctx, value))


def _edge_bits(ctx: MPCContext, checks) -> list[AShare]:
    """[x < lo] and [x > hi] as ring 0/1 for every (x, lo, hi) edge given, in one circuit."""
    diffs = []
    for x, lo, hi in checks:
        if lo is not None:
            diffs.append(_minus_public(ctx, x, lo))  # x - lo < 0
        if hi is not None:
            diffs.append(ctx.proto.neg(_minus_public(ctx, x, hi)))  # hi - x < 0
    return msb_bits(ctx, diffs)


def any_set(ctx: MPCContext, bits: list[AShare]) -> bool:
    """Open ONE bit to every party: is any of these ring 0/1 secrets set?

    The count c = sum of the bits is secret; [c > 0] = msb(-c), in bit 0 of an XOR-shared word
    with every other bit zeroed, is the only value opened.
    """
    proto = ctx.proto
    count = None
    for b in bits:
        part = sum_(b)
        count = part if count is None else proto.add_ss(count, part)
    flag = circuits.msb(proto, proto.neg(count))  # XOR-shared, in bit 0 of a word
    # only bit 0 is opened: the word's other bits are the circuit's internal carries
    return bool(np.any(proto.reveal_b(proto.and_sp(flag, 1)) != 0))


def refuse_outside(
    ctx: MPCContext,
    operation: str,
    checks,
    label: str | None,
    what: str,
    bound: float,
    fix: str = NORMALISED_FIX,
) -> None:
    """RangeError, agreed by every party, if any element of a check leaves its [lo, hi]."""
    if any_set(ctx, _edge_bits(ctx, checks)):
        raise RangeError(operation, bound, what, label=label, fix=fix)


def clamp(ctx: MPCContext, x: AShare, lo: float | None, hi: float | None) -> AShare:
    """min(max(x, lo), hi) from one comparison circuit and one multiplication round."""
    bits = _edge_bits(ctx, [(x, lo, hi)])
    proto, pairs = ctx.proto, []
    if lo is not None:
        pairs.append((bits.pop(0), proto.neg(_minus_public(ctx, x, lo))))  # below: + (lo - x)
    if hi is not None:
        pairs.append((bits.pop(0), proto.neg(_minus_public(ctx, x, hi))))  # above: + (hi - x)
    for delta in mul_many(ctx, pairs, scale=False):
        x = proto.add_ss(x, delta)
    return x


def _needs_guard(ctx: MPCContext, interval: Bound, lo: float | None, hi: float | None) -> bool:
    return ctx.range_checks and (interval is None or not interval.within(lo, hi))


def _unchecked(ctx: MPCContext, interval: Bound, lo: float | None, hi: float | None) -> bool:
    """A guard was needed but `range_checks` is off: the result's interval is then unknown."""
    return not ctx.range_checks and (interval is None or not interval.within(lo, hi))


def _ulp(ctx: MPCContext) -> float:
    return 2.0**-ctx.frac_bits


# ----- exp, log, sqrt -------------------------------------------------------------------------
def exp_domain(ctx: MPCContext, mode: str = "squaring") -> tuple[float, float, float]:
    """(lowest x before clamping, the value it clamps to, highest x) of exp here."""
    if mode == "squaring" and ctx.proto.wide_truncation:
        return EXP_SQUARING_MIN, EXP_SQUARING_MIN, EXP_MAX
    return -sigmoid_limit(ctx), EXP_BITS_CLAMP, EXP_MAX


def exp(
    ctx: MPCContext, x: AShare, interval: Bound, label: Label, mode: str = "squaring"
) -> Guarded:
    """e^x on x <= 11.09: RangeError above, inputs below the domain clamped (see module)."""
    low, clamp_to, high = exp_domain(ctx, mode)
    unchecked = _unchecked(ctx, interval, low, high)
    if _needs_guard(ctx, interval, low, high):
        low = clamp_to
        below, above = _edge_bits(ctx, [(x, low, high)])
        if any_set(ctx, [above]):
            raise RangeError(
                "exp",
                high,
                RangeProblem("exp_above", high=f"{high:.6g}"),
                label=label,
                fix=EXP_FIX,
            )
        if interval is None or interval.lo < low:
            (delta,) = mul_many(ctx, [(below, ctx.proto.neg(_minus_public(ctx, x, low)))], False)
            x = ctx.proto.add_ss(x, delta)
    out = nonlinear.exp(ctx, x, mode)
    if unchecked:
        return out, None
    top = math.exp(min(high, interval.hi) if interval is not None else high)
    return out, Interval(0.0, top * (1 + 1e-4)).widened(4 * _ulp(ctx))


def log_domain(ctx: MPCContext) -> tuple[float, float]:
    return 2.0**LOG_MIN_EXPONENT, 2.0 ** (ctx.frac_bits - 2)


def _require(
    ctx: MPCContext, operation: str, x: AShare, interval: Bound, lo: float, hi: float, label: Label
) -> Interval | None:
    """Refuse (detect) elements outside [lo, hi]; the interval known afterwards (None when
    `range_checks` is off and nothing guarantees the domain)."""
    if _unchecked(ctx, interval, lo, hi):
        return None
    if _needs_guard(ctx, interval, lo, hi):
        domain = f"[{format_bound(lo)}, {format_bound(hi)}]"
        what = RangeProblem("outside_domain", domain=domain)
        refuse_outside(ctx, operation, [(x, lo, hi)], label, what, hi)
    return Interval(lo, hi) if interval is None else interval.clipped(lo, hi)


def log(ctx: MPCContext, x: AShare, interval: Bound, label: Label) -> Guarded:
    """Natural log on [2^-10, 2^(f-2)]; RangeError outside (zero and negatives included)."""
    lo, hi = log_domain(ctx)
    known = _require(ctx, "log", x, interval, lo, hi, label)
    if known is None:
        return nonlinear.log(ctx, x), None
    err = 1e-4 + 40 * _ulp(ctx)
    return nonlinear.log(ctx, x), Interval(math.log(known.lo), math.log(known.hi)).widened(err)


def sqrt(ctx: MPCContext, x: AShare, interval: Bound, label: Label) -> Guarded:
    """sqrt on [2^-10, 2^(f-2)]; RangeError outside."""
    lo, hi = log_domain(ctx)
    known = _require(ctx, "sqrt", x, interval, lo, hi, label)
    if known is None:
        return nonlinear.sqrt(ctx, x), None
    out = Interval(math.sqrt(known.lo) * (1 - 2e-4), math.sqrt(known.hi) * (1 + 2e-4))
    return nonlinear.sqrt(ctx, x), out.widened(4 * _ulp(ctx))


def rsqrt(ctx: MPCContext, x: AShare, interval: Bound, label: Label) -> Guarded:
    """1 / sqrt on [2^-10, 2^(f-2)]; RangeError outside."""
    lo, hi = log_domain(ctx)
    known = _require(ctx, "rsqrt", x, interval, lo, hi, label)
    if known is None:
        return nonlinear.rsqrt(ctx, x), None
    out = Interval(known.hi**-0.5 * (1 - 2e-4), known.lo**-0.5 * (1 + 2e-4))
    return nonlinear.rsqrt(ctx, x), out.widened(4 * _ulp(ctx))


# ----- reciprocal and division ------------------------------------------------------------------
def reciprocal_domain(ctx: MPCContext) -> tuple[float, float]:
    """(smallest, largest) |x| the reciprocal accepts."""
    return 2.0**RECIPROCAL_MIN_EXPONENT, 2.0 ** (ctx.frac_bits - 2)


def min_abs(interval: Interval | None) -> float:
    if interval is None or interval.lo <= 0 <= interval.hi:
        return 0.0
    return min(abs(interval.lo), abs(interval.hi))


def _magnitude_after(interval: Interval | None, lo: float, hi: float) -> tuple[float, float]:
    """(min |x|, max |x|) once |x| in [lo, hi] is guaranteed."""
    if interval is None:
        return lo, hi
    return max(lo, min_abs(interval)), min(hi, interval.magnitude)


def _abs_checked(
    ctx: MPCContext, operation: str, y: AShare, interval: Bound, label: Label, extra=()
) -> tuple[AShare, AShare]:
    """(sign bit, |y|) with |y| checked against the reciprocal domain (and `extra` checks)."""
    lo, hi = reciprocal_domain(ctx)
    neg = msb_bits(ctx, [y])[0]
    magnitude = sign_select(ctx, neg, y)
    guard_y = interval is None or min_abs(interval) < lo or interval.magnitude > hi
    checks = ([(magnitude, lo, hi)] if guard_y else []) + list(extra)
    if ctx.range_checks and checks:
        code = "divisor_or_dividend_outside" if extra else "divisor_outside"
        what = RangeProblem(code, lo=format_bound(lo), hi=format_bound(hi))
        refuse_outside(ctx, operation, checks, label, what, hi)
    return neg, magnitude


def reciprocal(ctx: MPCContext, x: AShare, interval: Bound, label: Label) -> Guarded:
    """1 / x for |x| in [2^-6, 2^(f-2)] (either sign); RangeError outside (zero included)."""
    neg, magnitude = _abs_checked(ctx, "reciprocal", x, interval, label)
    out = sign_select(ctx, neg, nonlinear.reciprocal_positive(ctx, magnitude))
    small, large = _magnitude_after(interval, *reciprocal_domain(ctx))
    if not ctx.range_checks and (interval is None or min_abs(interval) < small):
        return out, None
    top = (1 / small) * (1 + 1e-4) + 4 * _ulp(ctx)
    if interval is not None and interval.lo > 0:
        return out, Interval(1 / large * (1 - 1e-4) - 4 * _ulp(ctx), top)
    return out, Interval.symmetric(top)


def dividend_limit(ctx: MPCContext, divisor_min: float) -> float:
    """Largest |x| with which x / y cannot overflow when |y| >= divisor_min (see module)."""
    limit = ctx.fxp.product_limit
    return min(limit / 2, limit * divisor_min) * (1 - 2.0**-10)


def div_ss(
    ctx: MPCContext, x: AShare, x_interval: Bound, y: AShare, y_interval: Bound, label: Label
) -> Guarded:
    """x / y for secrets: |y| as for the reciprocal, |x| below `dividend_limit`."""
    small, large = _magnitude_after(y_interval, *reciprocal_domain(ctx))
    x_max = dividend_limit(ctx, small)
    if x_interval is not None and x_interval.magnitude > x_max:
        check_product("divide", x_interval, Interval.symmetric(1 / small), ctx.fxp, label)
    guard_x = x_interval is None or x_interval.magnitude > x_max
    extra = [(x, -x_max, x_max)] if guard_x else []
    neg, magnitude = _abs_checked(ctx, "divide", y, y_interval, label, extra)
    w, factor = nonlinear.reciprocal_parts(ctx, magnitude)
    out = sign_select(ctx, neg, mul_ss(ctx, mul_ss(ctx, x, w), factor))
    if not ctx.range_checks and (guard_x or y_interval is None or min_abs(y_interval) < small):
        return out, None
    x_top = x_max if x_interval is None else min(x_max, x_interval.magnitude)
    top = x_top / small * (1 + 2e-4) + (8 + 1 / small) * _ulp(ctx)
    return out, Interval.symmetric(top)


# ----- activations --------------------------------------------------------------------------------
def sigmoid_limit(ctx: MPCContext) -> float:
    """|x| up to which sigmoid "real" is exact (its exp argument x log2(e) must fit a product);
    inputs not known to lie within are clamped to +-SIGMOID_SATURATION: 2^(k - 3 - 2f)."""
    return 2.0 ** (ctx.fxp.ring.bits - 3 - 2 * ctx.frac_bits)


def sigmoid(
    ctx: MPCContext, x: AShare, interval: Bound, label: Label, mode: str = "real"
) -> Guarded:
    """sigmoid in SPU's modes; see the module table for each mode's domain and rule."""
    f_ulp = _ulp(ctx)
    if mode == "mm1":
        check_product("sigmoid", interval, Interval(0.125, 0.125), ctx.fxp, label)
        out = None if interval is None else (interval * Interval(0.125, 0.125))
        out = None if out is None else (out + Interval(0.5, 0.5)).widened(2 * f_ulp)
        return activations.sigmoid(ctx, x, mode), out
    if mode == "real":
        limit = sigmoid_limit(ctx)
        unchecked = _unchecked(ctx, interval, -limit, limit)
        if _needs_guard(ctx, interval, -limit, limit):
            x = clamp(ctx, x, -SIGMOID_SATURATION, SIGMOID_SATURATION)
        out = None if unchecked else Interval(0.0, 1.0).widened(2e-4)
        return activations.sigmoid(ctx, x, mode), out
    return activations.sigmoid(ctx, x, mode), Interval(0.0, 1.0).widened(2 * f_ulp)


def tanh(ctx: MPCContext, x: AShare, interval: Bound, label: Label) -> Guarded:
    """tanh; inputs not known within 2^(60-2f) are clamped to +-16 (see the module table)."""
    limit = sigmoid_limit(ctx) / 2
    unchecked = _unchecked(ctx, interval, -limit, limit)
    if _needs_guard(ctx, interval, -limit, limit):
        x = clamp(ctx, x, -TANH_SATURATION, TANH_SATURATION)
    out = None if unchecked else Interval(-1.0, 1.0).widened(2e-4)
    return activations.tanh(ctx, x), out
