"""Every protocol on FM128 (`mpc128`: REF2K, SEMI2K 2 and 3 parties, ABY3) against numpy.

Ring operations are compared exactly with Python ints mod 2^128; fixed-point results within a
tolerance derived from the 26 fraction bits (ulp = 2^-26) and the kernels' documented errors.
Values are chosen where FM64 cannot go: products up to 1e20, encodings far beyond 2^64.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.errors import ConfigError, RangeError
from core.mpc.bounds import Interval, check_magnitude, check_product
from core.mpc.config import RuntimeConfig
from core.mpc.fixedpoint import FixedPoint, encoding_limit
from core.mpc.kernels import activations, arith, compare, nonlinear
from core.mpc.ring import RING128
from core.mpc.ring128 import from_ints, to_ints

MOD = 1 << 128
ULP = 2.0**-26


def _ints(arr) -> list[int]:
    return [int(v) for v in to_ints(arr).ravel()]


def test_ring_add_mul_matmul_are_exact(mpc128):
    rng = np.random.default_rng(3)
    xs = [int.from_bytes(rng.bytes(16), "little") for _ in range(12)]
    ys = [int.from_bytes(rng.bytes(16), "little") for _ in range(12)]
    a, b = from_ints(xs), from_ints(ys)

    def program(proto, x, y):
        total, product = proto.add_ss(x, y), proto.mul_ss(x, y)
        square = proto.matmul_ss(x.map(lambda p: p.reshape(3, 4)), y.map(lambda p: p.reshape(4, 3)))
        return [proto.reveal(v) for v in (total, product, square)]

    total, product, square = mpc128.run_ring(program, a, b)[0]
    assert _ints(total) == [(x + y) % MOD for x, y in zip(xs, ys, strict=True)]
    assert _ints(product) == [(x * y) % MOD for x, y in zip(xs, ys, strict=True)]
    want = np.array(xs, dtype=object).reshape(3, 4) @ np.array(ys, dtype=object).reshape(4, 3)
    assert _ints(square) == [int(v) % MOD for v in want.ravel()]


def test_truncation_is_within_one_unit_far_beyond_2_to_the_64(mpc128):
    rng = np.random.default_rng(5)
    values = [int(v) for v in rng.integers(-(2**62), 2**62, 40)]
    xs = [v * 2**40 + 12345 for v in values]  # |x| up to 2^102, well inside 2^126
    got = mpc128.run_ring(lambda p, s: p.reveal(p.trunc(s, 26)), from_ints(xs))[0]
    for x, out in zip(xs, _ints(got), strict=True):
        diff = (out - (x >> 26)) % MOD
        assert diff in (0, 1), f"x={x}: off by {diff}"


def test_fixed_point_arithmetic_matches_numpy_beyond_fm64s_range(mpc128):
    rng = np.random.default_rng(7)
    x = rng.uniform(-1e10, 1e10, 30)  # x * y up to 1e20: FM64 refuses products past 6.7e7
    y = rng.uniform(-1e10, 1e10, 30)
    a, b = rng.uniform(-1e4, 1e4, (4, 6)), rng.uniform(-1e4, 1e4, (6, 3))
    qx, qy = mpc128.quantize(x), mpc128.quantize(y)
    got = mpc128.run(lambda c, u, v: arith.mul_ss(c, u, v), x, y)
    # the exact fixed-point product is within 1 ulp (2^-26); at 1e20 float64 itself rounds
    # at 2^-52 relative, so both sides may differ by a float's last bits
    np.testing.assert_allclose(got, qx * qy, rtol=2.0**-51, atol=2 * ULP)
    got = mpc128.run(lambda c, u, v: arith.matmul_ss(c, u, v), a, b)
    np.testing.assert_allclose(got, mpc128.quantize(a) @ mpc128.quantize(b), atol=2 * ULP)
    got = mpc128.run(lambda c, u: arith.div_sp(c, u, 7.0), x)
    np.testing.assert_allclose(got, qx / 7.0, atol=2 * ULP + np.abs(qx).max() * ULP**2)


def test_comparisons_are_exact(mpc128):
    rng = np.random.default_rng(9)
    x = rng.uniform(-1e15, 1e15, 64)
    y = np.where(rng.random(64) < 0.25, x, rng.uniform(-1e15, 1e15, 64))
    less = mpc128.run(lambda c, u, v: arith.lift_bits(c, compare.less_ss(c, u, v)), x, y)
    assert np.array_equal(less, (x < y).astype(float))
    equal = mpc128.run(lambda c, u, v: arith.lift_bits(c, compare.equal_ss(c, u, v)), x, y)
    assert np.array_equal(equal, (x == y).astype(float))
    top = mpc128.run(lambda c, u: compare.max_last_axis(c, u), x.reshape(8, 8))
    np.testing.assert_array_equal(top, mpc128.quantize(x).reshape(8, 8).max(axis=1))


@pytest.mark.parametrize(
    ("name", "kernel", "inputs", "truth", "tolerance"),
    [
        ("exp", nonlinear.exp, (-8, 11), np.exp, lambda t: 1e-4 * t + 4 * ULP),
        ("log", nonlinear.log, (2**-10, 2**20), np.log, lambda t: 1e-4 + 0 * t),
        ("sqrt", nonlinear.sqrt, (2**-10, 2**20), np.sqrt, lambda t: 2e-4 * t + 2 * ULP),
        (
            "rsqrt",
            nonlinear.rsqrt,
            (2**-10, 2**20),
            lambda v: v**-0.5,
            lambda t: 2e-4 * t + 2 * ULP,
        ),
        (
            "reciprocal",
            nonlinear.reciprocal,
            (2**-6, 2**20),
            lambda v: 1 / v,
            lambda t: 1e-4 * t + 2 * ULP,
        ),
        (
            "sigmoid",
            activations.sigmoid,
            (-40, 40),
            lambda v: 1 / (1 + np.exp(-v)),
            lambda t: 1e-4 + 0 * t,
        ),
    ],
)
def test_kernels_match_numpy_within_their_documented_error(
    mpc128, name, kernel, inputs, truth, tolerance
):
    lo, hi = inputs
    x = np.concatenate([np.linspace(lo, hi, 40), np.geomspace(max(lo, 2**-10), hi, 20)])
    want = truth(mpc128.quantize(x))
    got = mpc128.run(lambda c, u: kernel(c, u), x)
    bad = np.abs(got - want) > tolerance(np.abs(want))
    assert not bad.any(), f"{name} at x={x[bad][:3]}: got {got[bad][:3]}, want {want[bad][:3]}"


def test_division_of_secrets_matches_numpy(mpc128):
    x = np.linspace(-1e6, 1e6, 30)
    y = np.linspace(0.5, 3000, 30)
    got = mpc128.run(lambda c, u, v: nonlinear.div_ss(c, u, v), x, y)
    np.testing.assert_allclose(got, x / y, rtol=2e-4, atol=(8 + 2) * ULP)


# ----- limits of the encoding and of products on FM128 ----------------------------------------
def test_fm128_encoding_limits():
    fxp = FixedPoint(26, RING128)
    assert fxp.max_abs == encoding_limit(26, RING128) == 2.0**99
    assert fxp.product_limit == 2.0**74
    edge = fxp.encode(np.array([2.0**99, -(2.0**99)]))
    np.testing.assert_array_equal(fxp.decode(edge), [2.0**99, -(2.0**99)])
    with pytest.raises(RangeError, match="FM128"):
        fxp.encode(np.array([2.0**99 * (1 + 2**-52)]))
    assert RuntimeConfig(field="FM128").fxp_fraction_bits == 26
    assert RuntimeConfig(field="FM128", fxp_fraction_bits=48).fxp_fraction_bits == 48
    with pytest.raises(ConfigError, match="1..48 for FM128"):
        RuntimeConfig(field="FM128", fxp_fraction_bits=49)


def test_bounds_know_fm128s_product_limit():
    fxp = FixedPoint(26, RING128)
    just_below = Interval.symmetric(2.0**36.99)
    check_product("multiply", just_below, just_below, fxp)  # 2^73.98 < 2^74: accepted
    at_limit = Interval.symmetric(2.0**37)
    with pytest.raises(RangeError, match=r"128-bit ring \(FM128\)") as info:
        check_product("multiply", at_limit, at_limit, fxp)
    assert info.value.bound == 2.0**74
    check_magnitude("add", Interval.symmetric(2.0**99), fxp)
    with pytest.raises(RangeError, match="in FM128"):
        check_magnitude("add", Interval.symmetric(2.0**99 * 1.001), fxp)
    # FM64 with the same fraction bits would have refused long before
    with pytest.raises(RangeError, match="64-bit ring"):
        check_product("multiply", just_below, just_below, 26)


@pytest.fixture
def fm128_spu():
    core.init(parties=["alice", "bob"], address="local", seed=42)
    yield core.SPU(
        {"nodes": ["alice", "bob"], "runtime_config": {"protocol": "SEMI2K", "field": "FM128"}}
    )
    core.shutdown()


def test_spu_on_fm128_computes_what_fm64_refuses(fm128_spu):
    alice, bob = core.PYU("alice"), core.PYU("bob")
    x = alice(lambda: np.array([2e4, -3.5e9, 1e10]))()
    y = bob(lambda: np.array([2e4, 2e6, -1e7]))()  # divisors within 2^(f-2) = 2^24
    product = core.reveal(fm128_spu(lambda u, v: u * v)(x, y))
    np.testing.assert_allclose(product, [4e8, -7e15, -1e17], rtol=1e-12)
    ratio = core.reveal(fm128_spu(lambda u, v: u / v)(x, y))
    np.testing.assert_allclose(ratio, [1.0, -1750.0, -1000.0], rtol=2e-4)
    fm64 = core.SPU({"nodes": ["alice", "bob"], "runtime_config": {"protocol": "SEMI2K"}})
    with pytest.raises(RangeError):
        core.reveal(fm64(lambda u, v: u * v)(x, y))


def test_spu_on_fm128_refuses_products_beyond_its_limit(fm128_spu):
    x = core.PYU("alice")(lambda: np.array([1e12, -3.0]))()  # published bound 2^40
    with pytest.raises(RangeError, match="FM128"):
        core.reveal(fm128_spu(lambda u: u * u)(x))  # 2^80 >= 2^74


def test_fm128_share_records_round_trip(fm128_spu, tmp_path):
    x = core.PYU("alice")(lambda: np.array([1e15, -2.5, 3e-6]))()
    secret = fm128_spu(lambda u: u * 1.0)(x)
    records: dict = {}
    fm128_spu.export_shares(secret, lambda party, record: records.__setitem__(party, record))
    assert max(v for c in records["alice"]["share"] for v in c) >= 2**64  # 128-bit values
    loaded = fm128_spu.import_shares(lambda party: records[party])
    np.testing.assert_allclose(core.reveal(loaded), [1e15, -2.5, 3e-6], rtol=1e-7, atol=ULP)


@pytest.mark.parametrize(
    ("kernel", "inside", "outside", "operation"),
    [
        (lambda u: u.log(), 2.0**24, 2.0**24 * 1.5, "log"),  # domain [2^-10, 2^(f-2)]
        (lambda u: u.sqrt(), 2.0**24, 2.0**25, "sqrt"),
        (lambda u: u.reciprocal(), 2.0**24, 2.0**25, "reciprocal"),
        (lambda u: u.exp(), 11.0, 11.5, "exp"),  # e^x <= 2^16 whatever the ring
    ],
)
def test_fm128_kernels_refuse_at_and_beyond_their_domain(
    fm128_spu, kernel, inside, outside, operation
):
    x = core.PYU("alice")(lambda: np.array([inside, 1.0]))()
    core.reveal(fm128_spu(kernel)(x))  # the edge itself is inside
    y = core.PYU("alice")(lambda: np.array([outside, 1.0]))()
    with pytest.raises(RangeError) as info:
        core.reveal(fm128_spu(kernel)(y))
    assert info.value.operation == operation


def test_a_dealer_process_answers_fm128_requests_and_refuses_unknown_rings():
    from core.mpc.correlated.remote import DealerState

    dealer = DealerState()
    dealer.answer("alice", ("setup", "spu", ["alice", "bob"], 0))
    _, fixed = dealer.answer("alice", ("corr", "spu", "beaver", ("FM128", (4,))))
    assert fixed["value"]["c"].dtype == RING128.dtype
    _, refused = dealer.answer("alice", ("corr", "spu", "beaver", ("FM32", (4,))))
    assert "unknown ring 'FM32'" in refused["error"]
    _, refused = dealer.answer("alice", ("corr", "spu", "trunc", ("FM128", (4,), 129)))
    assert "malformed parameter 129" in refused["error"]


@pytest.mark.parametrize("fraction_bits", [40, 48])
def test_kernels_keep_their_error_with_40_and_more_fraction_bits(make_runner, fraction_bits):
    """2f beyond 64: normalisation needs a seventh position digit, poly and exp plans use the
    128-bit ring's headroom; errors are the kernels' own (relative) plus a few ulp."""
    mpc = make_runner("SEMI2K", 2, fraction_bits=fraction_bits, field="FM128")
    ulp = 2.0**-fraction_bits
    x = np.linspace(-8, 8, 33)
    y = np.geomspace(2**-6, 2**30, 33)
    qx, qy = mpc.quantize(x), mpc.quantize(y)
    checks = [
        (lambda c, u: arith.mul_ss(c, u, u), x, qx * qx, 2 * 8 * ulp),
        (nonlinear.exp, x, np.exp(qx), 1e-4 * np.exp(qx) + 4 * ulp),
        (nonlinear.reciprocal, y, 1 / qy, 1e-4 / qy + 2 * ulp),
        (nonlinear.log, y, np.log(qy), 1e-4),
        (nonlinear.sqrt, y, np.sqrt(qy), 2e-4 * np.sqrt(qy) + 2 * ulp),
        (activations.sigmoid, x, 1 / (1 + np.exp(-qx)), 1e-4),
    ]
    for kernel, inputs, want, tolerance in checks:
        got = mpc.run(lambda c, u, k=kernel: k(c, u), inputs)
        bad = np.abs(got - want) > tolerance
        assert not bad.any(), f"{kernel} at {inputs[bad][:3]}: {got[bad][:3]} != {want[bad][:3]}"
