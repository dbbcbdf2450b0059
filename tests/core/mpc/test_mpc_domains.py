"""Every guarded kernel at and beyond its documented domain, for every protocol x party count.

At the domain's edges the result matches numpy (tolerance from the kernel's documented error
and the fixed-point ulp) and lies in the output interval the kernel declares; beyond them
every party raises the same RangeError naming the operation and the edge, or the documented
clamp applies. Edges involving a product near the truncation limit are compared with numpy
only under exact truncation: under SEMI2K's local truncation and ABY3 such a product fails
with the probability documented by the protocol (|t| / 2^64 per element), so there the test
checks the same inputs scaled far below the limit instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from core.errors import RangeError
from core.mpc.bounds import Interval
from core.mpc.context import MPCContext
from core.mpc.kernels import domains

F = 18
ULP = 2.0**-F
LOG_LO, LOG_HI = 2.0**domains.LOG_MIN_EXPONENT, 2.0 ** (F - 2)
RECIP_LO, RECIP_HI = 2.0**domains.RECIPROCAL_MIN_EXPONENT, 2.0 ** (F - 2)
SIGMOID_LIMIT = 2.0 ** (61 - 2 * F)
DIV_X_MAX = (2.0 ** (62 - 2 * F)) * RECIP_LO * (1 - 2.0**-10)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


@dataclass(frozen=True)
class DomainCase:
    call: Callable  # (ctx, *shares) -> (share, interval), every interval unknown
    at_bound: list[np.ndarray]  # one array per input: the edges and points inside
    beyond: list[list[np.ndarray]] = field(default_factory=list)  # each refused
    reference: Callable = np.exp
    rtol: float = 0.0
    atol: float = 4 * ULP
    clamped: list[np.ndarray] = field(default_factory=list)  # beyond, clamped, to numpy
    near_trunc_limit: bool = False  # the at-bound product reaches ~2^62 (see module doc)
    atol_of: Callable | None = None  # an input-dependent absolute tolerance, added to atol


def _unary(kernel, *args):
    return lambda ctx, x: kernel(ctx, x, None, "x", *args)


CASES = {
    "exp": DomainCase(
        _unary(domains.exp),
        [np.array([-160.0, -20.0, -1.0, 0.0, 5.5, 11.0, domains.EXP_MAX])],
        beyond=[[np.array([0.0, 11.1])], [np.array([15.0])], [np.array([2.0**30, 1.0])]],
        rtol=1e-4,
        atol=2.0**-15,  # the squaring mode's documented value below -11
        clamped=[np.array([-161.0, -1000.0, -(2.0**30)])],
    ),
    "log": DomainCase(
        _unary(domains.log),
        [np.array([LOG_LO, 0.01, 1.0, 1234.5, LOG_HI])],
        beyond=[
            [np.array([1.0, LOG_HI * 1.01])],
            [np.array([LOG_LO * 0.99])],
            [np.array([0.0])],
            [np.array([-3.0, 2.0])],
        ],
        reference=np.log,
        atol=1e-4 + 40 * ULP,
    ),
    "sqrt": DomainCase(
        _unary(domains.sqrt),
        [np.array([LOG_LO, 0.25, 2.0, 1e4, LOG_HI])],
        beyond=[[np.array([1e6])], [np.array([0.0, 4.0])], [np.array([-1.0])]],
        reference=np.sqrt,
        rtol=2e-4,
    ),
    "rsqrt": DomainCase(
        _unary(domains.rsqrt),
        [np.array([LOG_LO, 0.25, 2.0, 1e4, LOG_HI])],
        beyond=[[np.array([LOG_HI * 2])], [np.array([LOG_LO / 2])]],
        reference=lambda x: 1 / np.sqrt(x),
        rtol=2e-4,
    ),
    "reciprocal": DomainCase(
        _unary(domains.reciprocal),
        [np.array([RECIP_LO, -RECIP_LO, 0.3, -7.0, RECIP_HI, -RECIP_HI])],
        beyond=[[np.array([0.0])], [np.array([RECIP_LO * 0.99])], [np.array([-RECIP_HI * 1.01])]],
        reference=np.reciprocal,
        rtol=1e-4,
    ),
    "divide": DomainCase(
        lambda ctx, x, y: domains.div_ss(ctx, x, None, y, None, "x / y"),
        [
            np.array([DIV_X_MAX, -DIV_X_MAX, 3.0, -5.0, 1e4, 0.5]),
            np.array([RECIP_LO, RECIP_LO, -RECIP_HI, RECIP_HI, -RECIP_LO * 3, 0.01 * 2]),
        ],
        beyond=[
            [np.array([1.0, 2.0]), np.array([0.0, 1.0])],
            [np.array([1.0]), np.array([RECIP_HI * 2])],
            [np.array([DIV_X_MAX * 1.01]), np.array([1.0])],
        ],
        reference=np.divide,
        rtol=2e-4,
        atol=8 * ULP,
        near_trunc_limit=True,
        atol_of=lambda x, y: ULP / np.abs(y),  # (x w)'s rounding, times F ~ 1 / |y|
    ),
    "sigmoid_real": DomainCase(
        _unary(domains.sigmoid, "real"),
        [np.array([-SIGMOID_LIMIT, -30.0, -1.0, 0.0, 2.0, 30.0, SIGMOID_LIMIT])],
        reference=_sigmoid,
        atol=1e-4,
        clamped=[np.array([-(2.0**30), 2.0**30, 2.0**40, -(2.0**42)])],
        near_trunc_limit=True,
    ),
    "sigmoid_seg3": DomainCase(
        _unary(domains.sigmoid, "seg3"),
        [np.array([-(2.0**42), -4.0, -1.0, 0.0, 3.0, 4.0, 2.0**42])],
        reference=lambda x: np.clip(0.5 + 0.125 * x, 0, 1),
        atol=2 * ULP,
    ),
    "tanh": DomainCase(
        _unary(domains.tanh),
        [np.array([-SIGMOID_LIMIT / 2, -3.0, 0.0, 0.5, 3.0, SIGMOID_LIMIT / 2])],
        reference=np.tanh,
        atol=2e-4,
        clamped=[np.array([2.0**30, -(2.0**30), 2.0**41])],
        near_trunc_limit=True,
    ),
}


def run_guarded(mpc, call, inputs, range_checks: bool = True):
    """Every party's outcome: (revealed result, output interval) or the RangeError it raised."""
    fxp = mpc.fxp
    encoded = [fxp.encode(v) for v in inputs]

    def body(proto, *shares):
        ctx = MPCContext(proto, fxp, range_checks=range_checks)
        try:
            out, interval = call(ctx, *shares)
        except RangeError as exc:
            return exc
        return fxp.decode(proto.reveal(out)), interval

    return mpc.run_ring(body, *encoded)


def _agreed_error(outcomes) -> RangeError:
    assert all(isinstance(o, RangeError) for o in outcomes), f"not every party refused: {outcomes}"
    assert len({str(o) for o in outcomes}) == 1, "parties disagree on the error"
    return outcomes[0]


def _check_matches(name, case, inputs, got, interval):
    want = case.reference(*inputs)
    allowed = case.rtol * np.abs(want) + case.atol
    if case.atol_of is not None:
        allowed = allowed + case.atol_of(*inputs)
    worst = int(np.argmax(np.abs(got - want) - allowed))
    assert np.all(np.abs(got - want) <= allowed), (
        f"{name}: input(s) {[float(v[worst]) for v in inputs]} gave {got[worst]!r}, "
        f"want {want[worst]!r}"
    )
    outside = (got < interval.lo) | (got > interval.hi)
    assert not outside.any(), f"{name}: results {got} outside the declared interval {interval}"


def _exact(mpc) -> bool:
    """Whether ordinary truncations are exact (REF2K, SEMI2K with exact truncation)."""
    if mpc.protocol == "REF2K":
        return True
    return mpc.protocol == "SEMI2K" and (mpc.parties > 2 or mpc.trunc_mode == "exact")


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_at_its_domain_edges_matches_numpy(mpc, name):
    case = CASES[name]
    inputs = [mpc.quantize(v) for v in case.at_bound]
    if case.near_trunc_limit and not _exact(mpc):
        inputs = [v if i else v * 2.0**-16 for i, v in enumerate(inputs)]
        inputs = [mpc.quantize(v) for v in inputs]
    outcomes = run_guarded(mpc, case.call, inputs)
    assert not isinstance(outcomes[0], RangeError), f"{name} refused its own domain: {outcomes[0]}"
    got, interval = outcomes[0]
    _check_matches(name, case, inputs, got, interval)


@pytest.mark.parametrize(
    ("name", "index"), [(n, i) for n, c in CASES.items() for i in range(len(c.beyond))]
)
def test_kernel_beyond_its_domain_is_refused_by_every_party(mpc, name, index):
    case = CASES[name]
    inputs = [mpc.quantize(v) for v in case.beyond[index]]
    error = _agreed_error(run_guarded(mpc, case.call, inputs))
    operation = name.split("_")[0]
    assert error.operation == operation
    assert error.label == ("x / y" if operation == "divide" else "x")
    assert math.isfinite(error.bound)
    assert error.bound > 0
    assert "domain" in str(error) or "above" in str(error)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.clamped])
def test_kernel_clamps_beyond_its_domain_as_documented(mpc, name):
    case = CASES[name]
    inputs = [mpc.quantize(v) for v in case.clamped]
    got, interval = run_guarded(mpc, case.call, inputs)[0]
    _check_matches(name, case, inputs, got, interval)


def test_a_known_interval_inside_the_domain_costs_no_check(make_runner):
    runner = make_runner("SEMI2K", 2)
    x = np.linspace(-3, 3, 64)

    def with_interval(interval):
        return lambda ctx, s: domains.exp(ctx, s, interval, "x")

    run_guarded(runner, with_interval(Interval(-3.0, 3.0)), [x])
    known = runner.last_stats["total_bytes"]
    run_guarded(runner, with_interval(None), [x])
    unknown = runner.last_stats["total_bytes"]
    assert known < unknown, "an interval inside the domain must skip the comparison"


def test_range_checks_off_skips_detection_and_leaves_results_undefined(make_runner):
    """The opt-out for benchmarks: nothing is opened, exp(15) comes back wrong, silently."""
    runner = make_runner("SEMI2K", 2)
    outcome = run_guarded(runner, _unary(domains.exp), [np.array([15.0])], range_checks=False)[0]
    assert not isinstance(outcome, RangeError)
    got, interval = outcome
    assert abs(got[0] - math.exp(15.0)) > 1.0, "the raw kernel is documented wrong here"
    assert interval is None, "an unchecked result must not claim an interval"


@pytest.mark.parametrize("values", [[1.0, 2.0, 3.0], [1.0, -2.0, 3.0]], ids=["inside", "outside"])
def test_detection_opens_one_public_bit_and_nothing_else(make_runner, values):
    """Besides the kernel's own protocol messages, a check opens one flag per party."""
    runner = make_runner("SEMI2K", 2)
    opened: list[int] = []

    def spied_log(ctx, x):
        reveal, reveal_b = ctx.proto.reveal, ctx.proto.reveal_b

        def spy(share, to=None):
            opened.append(("word", share.size))
            return reveal(share, to)

        def spy_b(share):
            words = reveal_b(share)
            opened.append(("bits", int(np.max(words))))  # every bit but bit 0 is zero
            return words

        ctx.proto.reveal, ctx.proto.reveal_b = spy, spy_b
        try:
            return domains.log(ctx, x, None, "x")
        finally:
            ctx.proto.reveal, ctx.proto.reveal_b = reveal, reveal_b

    outcomes = run_guarded(runner, spied_log, [np.array(values)])
    flag = int(min(values) < 0)
    assert opened == [("bits", flag)] * 2, f"opened {opened}, expected one flag bit per party"
    if min(values) < 0:
        assert "outside the kernel's domain [2^-10" in str(_agreed_error(outcomes))
