"""Every kernel against numpy on its documented range, for every protocol x party count.

Tolerances: |got - want| <= rtol * |want| + atol_ulp * 2^-f, with want computed by numpy on
the quantized inputs (what the engine actually receives). Failure messages name the worst input.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from core.mpc.kernels import activations, arith, compare, nonlinear
from core.mpc.shares import AShare

N = 400


@dataclass(frozen=True)
class Case:
    kernel: Callable
    inputs: Callable  # rng -> list of arrays
    reference: Callable  # quantized inputs -> expected
    rtol: float = 0.0
    atol_ulp: float = 1.0


def _uniform(lo, hi, count=1, shape=(N,)):
    return lambda rng: [rng.uniform(lo, hi, shape) for _ in range(count)]


def _log_uniform(lo, hi, signed=False):
    def make(rng):
        mag = np.exp(rng.uniform(np.log(lo), np.log(hi), N))
        return [mag * (rng.choice([-1.0, 1.0], N) if signed else 1.0)]

    return make


def _bits(fn):
    return lambda ctx, *xs: arith.lift_bits(ctx, fn(ctx, *xs))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _with_ties(rng):
    x = rng.uniform(-50, 50, N)
    y = np.where(rng.random(N) < 0.3, x, rng.uniform(-50, 50, N))
    return [x, y]


def _rows(fn):
    """Apply a last-axis kernel to the input viewed as (20, N // 20)."""

    def run(ctx, x):
        return fn(ctx, AShare(x.data.reshape(x.data.shape[0], 20, N // 20)))

    return run


CASES = {
    "add": Case(lambda c, x, y: c.proto.add_ss(x, y), _uniform(-1e4, 1e4, 2), np.add, atol_ulp=0),
    "sub": Case(
        lambda c, x, y: c.proto.sub_ss(x, y), _uniform(-1e4, 1e4, 2), np.subtract, atol_ulp=0
    ),
    "neg": Case(lambda c, x: c.proto.neg(x), _uniform(-1e4, 1e4), np.negative, atol_ulp=0),
    "add_sp": Case(
        lambda c, x: arith.add_sp(c, x, 2.5), _uniform(-1e4, 1e4), lambda x: x + 2.5, atol_ulp=0
    ),
    "mul": Case(arith.mul_ss, _uniform(-100, 100, 2), np.multiply, atol_ulp=1),
    "mul_sp": Case(
        lambda c, x: arith.mul_sp(c, x, 0.3), _uniform(-1e3, 1e3), lambda x: x * 0.3, atol_ulp=300
    ),
    "mul_sp_int": Case(
        lambda c, x: arith.mul_sp(c, x, -7), _uniform(-1e3, 1e3), lambda x: x * -7, atol_ulp=0
    ),
    "square": Case(lambda c, x: arith.mul_ss(c, x, x), _uniform(-100, 100), np.square, atol_ulp=1),
    "div_sp": Case(
        lambda c, x: arith.div_sp(c, x, 7.0), _uniform(-1e4, 1e4), lambda x: x / 7, atol_ulp=2
    ),
    "sum": Case(lambda c, x: arith.sum_(x), _uniform(-100, 100), np.sum, atol_ulp=0),
    "mean": Case(lambda c, x: arith.mean(c, x), _uniform(-100, 100), np.mean, atol_ulp=2),
    "less": Case(_bits(compare.less_ss), _with_ties, lambda x, y: (x < y) * 1.0, atol_ulp=0),
    "less_sp": Case(
        _bits(lambda c, x: compare.less_sp(c, x, 1.5)),
        _uniform(-5, 5),
        lambda x: (x < 1.5) * 1.0,
        atol_ulp=0,
    ),
    "less_ps": Case(
        _bits(lambda c, x: compare.less_ps(c, 1.5, x)),
        _uniform(-5, 5),
        lambda x: (x > 1.5) * 1.0,
        atol_ulp=0,
    ),
    "equal": Case(_bits(compare.equal_ss), _with_ties, lambda x, y: (x == y) * 1.0, atol_ulp=0),
    "maximum": Case(compare.maximum, _with_ties, np.maximum, atol_ulp=0),
    "minimum": Case(compare.minimum, _with_ties, np.minimum, atol_ulp=0),
    "abs": Case(compare.abs_, _uniform(-1e4, 1e4), np.abs, atol_ulp=0),
    "relu": Case(compare.relu, _uniform(-1e4, 1e4), lambda x: np.maximum(x, 0), atol_ulp=0),
    "max_rows": Case(
        _rows(compare.max_last_axis),
        _uniform(-1e3, 1e3),
        lambda x: x.reshape(20, -1).max(-1),
        atol_ulp=0,
    ),
    "argmax_rows": Case(
        _rows(lambda c, x: compare.max_last_axis(c, x, with_index=True)[1]),
        _uniform(-1e3, 1e3),
        lambda x: x.reshape(20, -1).argmax(-1) * 1.0,
        atol_ulp=0,
    ),
    "reciprocal": Case(
        nonlinear.reciprocal, _log_uniform(2**-6, 2**16, signed=True), np.reciprocal, 1e-4, 4
    ),
    "div_ss": Case(
        nonlinear.div_ss,
        lambda r: [r.uniform(-100, 100, N), _log_uniform(0.05, 1e3, True)(r)[0]],
        np.divide,
        2e-4,
        8,
    ),
    "exp": Case(nonlinear.exp, _uniform(-11, 11), np.exp, 1e-4, 4),
    "exp_bits": Case(lambda c, x: nonlinear.exp(c, x, "bits"), _uniform(-11, 11), np.exp, 1e-4, 4),
    "log": Case(nonlinear.log, _log_uniform(2**-10, 2**16), np.log, 0.0, 40),
    "sqrt": Case(nonlinear.sqrt, _log_uniform(2**-10, 2**16), np.sqrt, 2e-4, 4),
    "rsqrt": Case(nonlinear.rsqrt, _log_uniform(2**-10, 2**16), lambda x: 1 / np.sqrt(x), 2e-4, 4),
    "sigmoid_real": Case(
        lambda c, x: activations.sigmoid(c, x, "real"), _uniform(-30, 30), _sigmoid, 0.0, 30
    ),
    "sigmoid_mm1": Case(
        lambda c, x: activations.sigmoid(c, x, "mm1"),
        _uniform(-8, 8),
        lambda x: 0.5 + 0.125 * x,
        0.0,
        2,
    ),
    "sigmoid_seg3": Case(
        lambda c, x: activations.sigmoid(c, x, "seg3"),
        _uniform(-8, 8),
        lambda x: np.clip(0.5 + 0.125 * x, 0, 1),
        0.0,
        2,
    ),
    "tanh": Case(activations.tanh, _uniform(-8, 8), np.tanh, 0.0, 60),
}


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_matches_numpy(mpc, name):
    case = CASES[name]
    # crc32, not hash(): str hashes change per process, and inputs must not (a probabilistic
    # truncation that fails once in ~10^5 elements would make the test flaky)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    inputs = [mpc.quantize(v) for v in case.inputs(rng)]
    got = mpc.run(case.kernel, *inputs)
    want = case.reference(*inputs)
    bound = case.rtol * np.abs(want) + case.atol_ulp * mpc.fxp.ulp
    excess = np.abs(got - want) - bound
    worst = int(np.argmax(excess))
    if np.ndim(want) and np.shape(want) == np.shape(inputs[0]):
        where = f"input(s) {[float(v.flat[worst]) for v in inputs]}"
    else:
        where = f"output index {worst}"
    assert np.all(excess <= 0), (
        f"{name} on {mpc.protocol}-{mpc.parties}: {where}: got {np.ravel(got)[worst]!r}, "
        f"want {np.ravel(want)[worst]!r}, allowed error {np.ravel(bound)[worst]:.3g}"
    )


def test_matmul_matches_numpy(mpc):
    rng = np.random.default_rng(5)
    a, b = mpc.quantize(rng.uniform(-3, 3, (8, 30))), mpc.quantize(rng.uniform(-3, 3, (30, 5)))
    got = mpc.run(arith.matmul_ss, a, b)
    assert np.max(np.abs(got - a @ b)) <= 2 * mpc.fxp.ulp, f"a[0]={a[0, :3]}, b[0]={b[0, :3]}"
    pub = rng.uniform(-1, 1, (5, 2))
    got_sp = mpc.run(lambda c, x, y: arith.matmul_sp(c, arith.matmul_ss(c, x, y), pub), a, b)
    assert np.max(np.abs(got_sp - a @ b @ pub)) <= 30 * mpc.fxp.ulp


def test_rounded_division_of_integers_is_exact(mpc):
    totals = np.array([18000.0, 7.0, -7.0, 1.0, 2.0, 0.0, 123456.0])
    got = mpc.run(lambda c, x: arith.div_sp_rounded(c, x, 3), totals)
    want = np.round(totals / 3 * 2**18) / 2**18
    assert np.array_equal(got, want), f"totals {totals}: got {got}, want {want}"


def test_select_with_ring_bits(mpc):
    rng = np.random.default_rng(9)
    x, y = mpc.quantize(rng.uniform(-9, 9, 50)), mpc.quantize(rng.uniform(-9, 9, 50))
    got = mpc.run(lambda c, a, b: compare.select(c, compare.less_ss(c, a, b), a, b), x, y)
    assert np.array_equal(got, np.where(x < y, x, y))


def test_unknown_sigmoid_mode_is_refused():
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="'cubic'"):
        activations.sigmoid(None, None, "cubic")


def test_exp_squaring_decays_to_zero_below_its_range(mpc):
    """Below -11 the squaring mode is documented to return a value in [0, 2^-15] down to -160."""
    x = np.concatenate([np.linspace(-160, -11, 300), [-11.09, -20.0, -100.0, -159.9]])
    got = mpc.run(nonlinear.exp, x)
    bad = (got < 0) | (got > 2.0**-15)
    assert not bad.any(), f"x={x[bad][:5]} gave {got[bad][:5]}"


def test_exp_bits_gives_zero_for_any_large_negative_input(mpc):
    x = np.array([-11.2, -50.0, -3000.0, -(2.0**20)])
    got = mpc.run(lambda c, a: nonlinear.exp(c, a, "bits"), x)
    assert np.all(got == 0), f"x={x} gave {got}"


def test_unknown_exp_mode_is_refused():
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="'pade'"):
        nonlinear.exp(None, None, "pade")
