"""Public bounds on secret values, so fixed-point overflow is refused instead of computed.

Every `SecretTensor` may carry an `Interval` [lo, hi] that all parties know and agree on: every
element lies in it. Intervals come from
- inputs: the owner publishes, at sharing time, the symmetric interval [-B, B] with B the next
  power of two of its largest |x| (so only the order of magnitude of the input is revealed,
  not its sign, its size within a factor of two, or any element), or an interval the caller
  declares with `Bounded` (checked by the owner against the data before sharing);
- public operands (exact: they are public anyway);
- operations: interval arithmetic over add, sub, neg, mul, matmul (times the inner dimension),
  public scaling and division, sum (times the element count), mean, clip, comparisons (0/1),
  and the output range of every kernel (`core.mpc.kernels.domains`), widened by its error.
Share records keep the interval (`core.device.share_records`). An unknown interval (None)
means "no check": inputs shared with `range_checks` off and no declared bound, values loaded
from records written without an interval, and anything derived from them, until a kernel with
a bounded output (sigmoid, comparisons, clip with both ends) or `SecretTensor.ensure_within`
bounds them again.

Checks are public arithmetic on these intervals, before anything is computed, for the ring of
the SPU (k = 64 bits for FM64, 128 for FM128; the checks take the session's `FixedPoint`, or a
number of fraction bits meaning FM64):
- products: the 2f-bit intermediate of x * y (k' |x| |y| for an inner dimension k') must stay
  below 2^(k-2) (2^62 on FM64, 2^126 on FM128; `FixedPoint.product_limit`), or RangeError is
  raised: a bound that shows an overflow is possible refuses the product, even if the actual
  values would have fitted;
- every result must stay within the safe encoding magnitude 2^(k - 3 - f)
  (`precision.safe_magnitude`).
The product limit is where overflow becomes certain. Below it, SEMI2K's 2-party local
truncation and ABY3's, when asked for (`trunc_mode="local"`), still fail with probability
|t| / 2^k per element for an intermediate t, as their modules document:
`precision.plan_precision` keeps headroom for that, the runtime check does not refuse it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.errors import RangeError, format_bound
from core.mpc.fixedpoint import FixedPoint, as_fixed_point
from core.mpc.kernels.arith import is_small_int
from core.range_problems import RangeProblem

Precision = int | FixedPoint  # the session's FixedPoint, or fraction bits meaning FM64

MAX_LABELS_SHOWN = 4


@dataclass(frozen=True)
class Interval:
    """Every element of a secret lies in [lo, hi] (public, agreed by all parties)."""

    lo: float
    hi: float

    @classmethod
    def symmetric(cls, bound: float) -> Interval:
        return cls(-float(bound), float(bound))

    @classmethod
    def of_values(cls, values) -> Interval:
        """The exact interval of public values (0 for an empty array)."""
        arr = np.asarray(values, dtype=np.float64)
        if not arr.size:
            return cls(0.0, 0.0)
        return cls(float(arr.min()), float(arr.max()))

    @property
    def magnitude(self) -> float:
        """B with |x| <= B for every element."""
        return max(abs(self.lo), abs(self.hi))

    def within(self, lo: float | None, hi: float | None) -> bool:
        return (lo is None or self.lo >= lo) and (hi is None or self.hi <= hi)

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __sub__(self, other: Interval) -> Interval:
        return self + (-other)

    def __mul__(self, other: Interval) -> Interval:
        corners = [a * b for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval(min(corners), max(corners))

    def scaled(self, count: float) -> Interval:
        """A sum of `count` elements of this interval."""
        return Interval(self.lo * count, self.hi * count)

    def widened(self, slack: float) -> Interval:
        return Interval(self.lo - slack, self.hi + slack)

    def union(self, other: Interval) -> Interval:
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    def clipped(self, lo: float | None, hi: float | None) -> Interval:
        new_lo = self.lo if lo is None else min(max(self.lo, lo), hi if hi is not None else lo)
        new_hi = self.hi if hi is None else max(min(self.hi, hi), new_lo)
        return Interval(new_lo, max(new_lo, new_hi))

    def __str__(self) -> str:
        return f"[{self.lo:.6g}, {self.hi:.6g}]"


UNIT = Interval(0.0, 1.0)


def _ulp(precision: Precision) -> float:
    return as_fixed_point(precision).ulp


def next_power_of_two(value: float) -> float:
    """Smallest 2^e >= value (0 for 0): what an owner reveals about its input's magnitude."""
    if value <= 0:
        return 0.0
    return 2.0 ** math.ceil(math.log2(value))


def published_input_interval(values: np.ndarray) -> Interval:
    """[-B, B] with B = next power of two of max |x|: the order of magnitude, nothing more."""
    arr = np.asarray(values, dtype=np.float64)
    top = float(np.max(np.abs(arr))) if arr.size else 0.0
    return Interval.symmetric(next_power_of_two(top))


def join(a: Interval | None, b: Interval | None, op) -> Interval | None:
    """op(a, b) when both are known; unknown otherwise."""
    return None if a is None or b is None else op(a, b)


def join_labels(*labels: frozenset[str]) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for names in labels:
        out |= names
    return out


def label_text(labels: frozenset[str]) -> str | None:
    """Names of the inputs a value derives from, for error messages (None if unnamed)."""
    if not labels:
        return None
    names = sorted(labels)
    shown = ", ".join(names[:MAX_LABELS_SHOWN])
    return shown + (f" and {len(names) - MAX_LABELS_SHOWN} more" if len(names) > 4 else "")


@dataclass(frozen=True)
class Bounded:
    """An input value with a declared interval and/or a name, for `spu(fn)(...)` arguments.

    A PYU function returns `Bounded(array, bound=..., label=...)`; when the SPU shares it, the
    owner checks every element against the declared bound (a magnitude B for [-B, B], or a
    (lo, hi) pair) and publishes that interval instead of the next power of two of max |x|.
    `label` (e.g. a column or dataset name) is named by every RangeError the value causes.
    """

    value: object
    bound: float | tuple[float, float] | None = None
    label: str | None = None

    def declared_interval(self) -> Interval | None:
        if self.bound is None:
            return None
        if isinstance(self.bound, tuple | list):
            lo, hi = (float(v) for v in self.bound)
            return Interval(lo, hi)
        return Interval.symmetric(abs(float(self.bound)))


def check_declared(values: np.ndarray, declared: Interval, label: str | None) -> None:
    """Owner-side: RangeError if a value leaves the interval its owner declared."""
    arr = np.asarray(values, dtype=np.float64)
    if not (math.isfinite(declared.lo) and math.isfinite(declared.hi)) or declared.lo > declared.hi:
        raise RangeError(
            "SPU input",
            declared.magnitude,
            RangeProblem("declared_invalid", interval=str(declared)),
            label=label,
            fix="declare a finite interval with lo <= hi",
        )
    outside = int(np.count_nonzero((arr < declared.lo) | (arr > declared.hi)))
    if outside:
        raise RangeError(
            "SPU input",
            declared.magnitude,
            RangeProblem(
                "outside_declared", outside=outside, size=int(arr.size), interval=str(declared)
            ),
            label=label,
            fix="declare a bound that holds for the data, or scale it",
        )


def check_magnitude(
    operation: str, interval: Interval | None, precision: Precision, label: str | None = None
) -> None:
    """RangeError if a result's interval leaves the safe encoding range 2^(k - 3 - f)."""
    if interval is None:
        return
    fxp = as_fixed_point(precision)
    if interval.magnitude > fxp.max_abs:
        raise RangeError(
            operation,
            fxp.max_abs,
            RangeProblem(
                "result_may_reach",
                reach=format_bound(interval.magnitude),
                interval=str(interval),
                fraction_bits=fxp.fraction_bits,
                ring=fxp.ring.name,
            ),
            label=label,
        )


def check_product(
    operation: str,
    a: Interval | None,
    b: Interval | None,
    precision: Precision,
    label: str | None = None,
    inner: int = 1,
) -> None:
    """RangeError if inner * |a| * |b| may reach 2^(k - 2 - 2f), the truncation limit."""
    if a is None or b is None:
        return
    reach = inner * a.magnitude * b.magnitude
    fxp = as_fixed_point(precision)
    limit = fxp.product_limit
    if reach >= limit:
        figures = {
            "a": format_bound(a.magnitude),
            "b": format_bound(b.magnitude),
            "reach": format_bound(reach),
            "intermediate_bits": 2 * fxp.fraction_bits,
            "ring_bits": fxp.ring.bits,
            "ring": fxp.ring.name,
        }
        if inner > 1:
            problem = RangeProblem("products_may_overflow", terms=inner, **figures)
        else:
            problem = RangeProblem("product_may_overflow", **figures)
        raise RangeError(operation, limit, problem, label=label)


# ----- rules: an operation's result interval from its operands', checked before computing ----
# Each takes (a, b, public, label, precision): the operands' intervals (None if unknown),
# the public operand itself (None if both are secret), the labels' text and the session's
# FixedPoint (or f, meaning FM64).
def sum_rule(operation: str, op):
    """add / subtract: op(a, b), which must stay within the safe magnitude."""

    def rule(a, b, public, label, precision):
        interval = join(a, b, op)
        check_magnitude(operation, interval, precision, label)
        return interval

    return rule


def product_rule(a, b, public, label, precision):
    """multiply: small public integers multiply exactly (no truncation, magnitude checked);
    anything else goes through a 2f-bit intermediate (`check_product`) and one truncation."""
    if public is not None and is_small_int(np.asarray(public)):
        interval = join(a, b, Interval.__mul__)
        check_magnitude("multiply", interval, precision, label)
        return interval
    check_product("multiply", a, b, precision, label)
    return join(a, b, lambda u, v: (u * v).widened(_ulp(precision)))


def square_rule(a, b, public, label, precision):
    """x * x (the same tensor): as `product_rule`, with the tighter interval [0, B^2]."""
    check_product("multiply", a, b, precision, label)
    if a is None:
        return None
    low = 0.0 if a.lo <= 0 <= a.hi else min(abs(a.lo), abs(a.hi)) ** 2
    return Interval(low, a.magnitude**2).widened(_ulp(precision))


def public_division_rule(a, b, public, label, precision):
    """x / public d: the reciprocal's two limbs need |x| and |x / d| below 2^(k - 2 - 2f)."""
    if a is None or b is None or b.lo <= 0 <= b.hi:
        return None
    inverse = Interval(1 / b.hi, 1 / b.lo)
    check_product("divide", a, Interval(1.0, 1.0), precision, label)  # low limb: |x| 2^(2f)
    check_product("divide", a, inverse, precision, label)  # high limb: |x / d| 2^(2f)
    return (a * inverse).widened(2 * _ulp(precision))


def matmul_interval(a, b, inner: int, label, precision) -> Interval | None:
    """x @ y with inner dimension k: k products summed before one truncation."""
    check_product("matmul", a, b, precision, label, inner=inner)
    return join(a, b, lambda u, v: (u * v).scaled(inner).widened(_ulp(precision)))


def public_matmul_weight(public: np.ndarray, axis: int) -> float | None:
    """max_j sum_k |p_kj| (summing over `axis`): |x @ p| <= B times this for |x| <= B."""
    if public.dtype.kind not in "biuf" or not public.size:
        return None
    return float(np.max(np.sum(np.abs(public.astype(np.float64)), axis=axis)))
