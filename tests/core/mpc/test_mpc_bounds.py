"""Public bounds through `core` (sf.init, sf.SPU, spu(fn)): inputs, propagation, refusals.

Each test runs under REF2K (2 parties), SEMI2K (2 and 3 parties) and ABY3 (3 parties). Values
are compared with numpy within the fixed-point tolerance; refusals must be RangeErrors naming
the operation, the bound and the input's label, and must leave the session usable.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import core as sf
from core.device import runtime
from core.device.spu import secondhand_refusal
from core.errors import RangeError
from core.ml.ss_lr import SSRegression
from core.mpc.bounds import Bounded, Interval, next_power_of_two, published_input_interval
from core.mpc.precision import plan_precision, product_limit

DEVICES = [("REF2K", 2), ("SEMI2K", 2), ("SEMI2K", 3), ("ABY3", 3)]
NAMES = ["alice", "bob", "carol"]
LIMIT = product_limit(18)  # 2^26


class Device:
    def __init__(self, protocol: str, parties: int, **config):
        self.names = NAMES[:parties]
        sf.init(parties=self.names, address="local", seed=11)
        runtime = {"protocol": protocol, **config}
        self.spu = sf.SPU(sf.utils.testing.cluster_def(self.names, runtime))
        self.alice, self.bob = sf.PYU("alice"), sf.PYU("bob")

    def share(self, value, owner=None):
        return (owner or self.alice)(lambda: value)()

    def run(self, fn, *values):
        return sf.reveal(self.spu(fn)(*(self.share(v) for v in values)))


@pytest.fixture(params=DEVICES, ids=[f"{p}-{n}" for p, n in DEVICES])
def device(request):
    yield Device(*request.param)
    sf.shutdown()


def _refused(device, fn, *values) -> RangeError:
    with pytest.raises(RangeError) as info:
        device.run(fn, *values)
    return info.value


# ----- the issue's three examples ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "fn", "operation", "bound"),
    [
        (15.0, lambda x: x.exp(), "exp", 16 * math.log(2)),
        (1e6, lambda x: np.sqrt(x), "sqrt", 2.0**16),
        (2e4, lambda x: x * x, "multiply", LIMIT),
    ],
    ids=["exp(15)", "sqrt(1e6)", "2e4 x 2e4"],
)
def test_the_issue_examples_fail_with_a_clear_error(device, value, fn, operation, bound):
    error = _refused(device, fn, np.array([value]))
    assert (error.operation, error.label) == (operation, "input from alice")
    assert error.bound == pytest.approx(bound)
    text = str(error)
    assert f"{operation} of 'input from alice'" in text
    assert "safe bound" in text
    assert "scale the input" in text
    assert str(value) not in text, "a secret input's value must not appear in the error"
    # a refusal is deterministic and agreed: the session stays usable
    got = device.run(lambda x: x * 2, np.array([value / 1e3]))[0]
    assert got == pytest.approx(value / 500, abs=2.0**-17)


# ----- inputs -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "bound"),
    [([5.0, -3.0], 8.0), ([-8.0], 8.0), ([0.0], 0.0), ([0.3], 0.5), ([1e5, 2.0], 2.0**17)],
)
def test_shared_inputs_publish_the_next_power_of_two_of_their_magnitude(device, values, bound):
    got = device.run(lambda x: np.float64(x.bound), np.array(values))
    assert float(got) == bound
    assert published_input_interval(np.array(values)) == Interval(-bound, bound)


def test_declared_bounds_replace_the_published_one_and_are_checked_by_the_owner(device):
    declared = Bounded(np.array([3.0, -1.0]), bound=(-2.0, 4.0), label="income")
    interval = device.run(lambda x: np.array([x.interval.lo, x.interval.hi]), declared)
    assert interval.tolist() == [-2.0, 4.0]
    error = _refused(device, lambda x: x, Bounded(np.array([3.0, 9.5]), bound=5.0, label="age"))
    assert (error.operation, error.label) == ("SPU input", "age")
    assert "1 of 2 element(s) lie outside the declared interval [-5, 5]" in str(error)
    assert "9.5" not in str(error)


def test_inputs_beyond_the_safe_magnitude_are_refused_at_sharing(device):
    at_bound = np.array([2.0**43, -(2.0**43)])
    assert device.run(lambda x: x, at_bound).tolist() == at_bound.tolist()
    error = _refused(device, lambda x: x, np.array([1.0, 2.0**43 * 1.001]))
    assert (error.operation, error.bound, error.label) == ("SPU input", 2.0**43, "input from alice")


def test_labels_name_the_input_in_later_refusals(device):
    income = Bounded(np.array([5e4, 7e4]), label="income")
    error = _refused(device, lambda x: x.exp(), income)
    assert error.label == "income"
    assert "exp of 'income'" in str(error)


# ----- products and matmul ----------------------------------------------------------------------
def test_product_at_the_bound_is_computed_and_beyond_it_refused(device):
    just_below = math.sqrt(LIMIT) * (1 - 2.0**-20)
    values = np.array([3.5, -2.25, 7.0])  # the check reads the declared bound, not the values
    got = device.run(lambda x: x * x, Bounded(values, bound=just_below))
    assert np.allclose(got, values * values, atol=2.0**-17)
    error = _refused(device, lambda x: x * x, Bounded(values, bound=math.sqrt(LIMIT)))
    assert (error.operation, error.bound) == ("multiply", LIMIT)
    assert "36-fraction-bit intermediate could overflow" in str(error)


def test_large_products_at_the_bound_match_numpy_under_exact_truncation():
    """Under SEMI2K with 3 parties (exact truncation) a product near 2^26 is exact to 1 ulp."""
    device = Device("SEMI2K", 3)
    try:
        values = np.array([8191.0, -8000.5, 4096.25])
        got = device.run(lambda x: x * x, Bounded(values, bound=8191.0))
        assert np.allclose(got, values * values, rtol=0, atol=2.0**-17)
    finally:
        sf.shutdown()


@pytest.mark.parametrize(("inner", "refused"), [(63, False), (64, True)])
def test_matmul_bound_counts_the_inner_dimension(device, inner, refused):
    rng = np.random.default_rng(inner)
    a, b = rng.uniform(-1, 1, (2, inner)), rng.uniform(-1, 1, (inner, 3))
    args = Bounded(a, bound=2.0**10), Bounded(b, bound=2.0**10)  # 63 * 2^20 < 2^26 <= 64 * 2^20
    if refused:
        error = _refused(device, lambda x, y: x @ y, *args)
        assert error.operation == "matmul"
        assert "64 products of" in str(error)
    else:
        assert np.allclose(device.run(lambda x, y: x @ y, *args), a @ b, atol=2.0**-15)


def test_matmul_with_a_public_matrix_uses_its_column_sums(device):
    weights = np.array([[3000.0, 1.0], [4000.0, -1.0]])  # column |sums| 7000 and 2
    ok = Bounded(np.array([[1.0, 2.0]]), bound=9000.0)  # 9000 * 7000 = 6.3e7 < 2^26
    assert np.allclose(device.run(lambda x: x @ weights, ok), [[11000.0, -1.0]], atol=1e-3)
    error = _refused(device, lambda x: x @ weights, Bounded(np.array([[1.0, 2.0]]), bound=1e4))
    assert error.operation == "matmul"


# ----- sums, means, division by public ---------------------------------------------------------
def test_sum_and_add_beyond_the_safe_magnitude_are_refused(device):
    values = np.full(8, 2.0**39)
    assert device.run(lambda x: x.sum(), values) == pytest.approx(2.0**42)
    error = _refused(device, lambda x: x.sum(), np.full(16, 2.0**40))
    assert (error.operation, error.bound) == ("sum", 2.0**43)
    error = _refused(device, lambda x: x + x, np.array([2.0**43]))
    assert error.operation == "add"


def test_mean_and_public_division_are_checked(device):
    values = np.arange(1.0, 101.0)
    assert device.run(lambda x: x.mean(), values) == pytest.approx(50.5, abs=1e-4)
    assert np.allclose(device.run(lambda x: x / 8.0, values), values / 8, atol=1e-4)
    error = _refused(device, lambda x: x.mean(), np.full(1000, 2e5))  # sum up to 2^28 > 2^26
    assert error.operation == "divide"


# ----- kernels through the tensor API ------------------------------------------------------------
def test_kernel_outputs_carry_bounds_that_keep_products_checked(device):
    x = np.array([-4.0, 0.0, 3.0])
    got = device.run(lambda t: t.sigmoid() * t.exp() + np.log(np.clip(t.sigmoid(), 0.01, 1)), x)
    sig = 1 / (1 + np.exp(-x))
    assert np.allclose(got, sig * np.exp(x) + np.log(np.clip(sig, 0.01, 1)), atol=2e-3)
    bounds = device.run(lambda t: np.array([t.exp().bound, t.sigmoid().bound, (t > 0).bound]), x)
    assert bounds[0] == pytest.approx(math.exp(4.0), rel=1e-3), "e^x up to e^(input bound 4)"
    assert bounds[1] <= 1.001
    assert bounds[2] == 1.0


def test_a_square_is_known_to_be_non_negative(device):
    values = np.array([-3.0, 0.5, 2.0])  # interval [-4, 4]
    got = device.run(lambda x: np.array([(x * x).interval.lo, (x * x).interval.hi]), values)
    assert got[0] == pytest.approx(0.0, abs=1e-5)
    assert got[1] == pytest.approx(16.0, abs=1e-5)
    assert np.allclose(device.run(lambda x: np.square(x), values), values**2, atol=1e-5)


def test_sigmoid_mm1_is_a_public_scaling_checked_like_a_product(device):
    values = np.array([-3.0, 0.0, 2.0])
    below = Bounded(values, bound=LIMIT / 0.125 * (1 - 2.0**-20))
    assert np.allclose(device.run(lambda x: x.sigmoid("mm1"), below), 0.5 + 0.125 * values)
    error = _refused(device, lambda x: x.sigmoid("mm1"), Bounded(values, bound=LIMIT / 0.125))
    assert (error.operation, error.bound) == ("sigmoid", LIMIT)


def test_public_division_at_and_beyond_its_bound(device):
    values = np.array([1e3, -7.5])
    below = Bounded(values, bound=LIMIT * (1 - 2.0**-20))  # |x| 2^(2f) below 2^62
    assert np.allclose(device.run(lambda x: x / 3.0, below), values / 3, atol=1e-4)
    error = _refused(device, lambda x: x / 3.0, Bounded(values, bound=LIMIT))
    assert (error.operation, error.bound) == ("divide", LIMIT)
    error = _refused(device, lambda x: x / 0.25, Bounded(values, bound=LIMIT / 4))  # |x / d|
    assert error.operation == "divide"


def test_division_of_secrets_is_guarded(device):
    x, y = np.array([3.0, -10.0]), np.array([0.5, 4.0])
    assert np.allclose(device.run(lambda a, b: a / b, x, y), x / y, rtol=2e-4, atol=1e-4)
    error = _refused(device, lambda a, b: a / b, x, np.array([0.5, 0.0]))
    assert error.operation == "divide"


def test_ensure_within_checks_once_and_then_bounds(device):
    values = np.array([0.5, -3.0])  # published interval [-4, 4]

    def bound_after(scale: float, bound: float) -> float:
        fn = lambda x: np.float64((x * scale).ensure_within(bound, "w", "too big").bound)  # noqa: E731
        return float(device.run(fn, values))

    assert bound_after(0.5, 4.0) == pytest.approx(2.0, abs=1e-5), "already inside: unchanged"
    assert bound_after(8.0, 30.0) == 30.0, "checked once, then bounded by the new bound"
    error = _refused(device, lambda x: x.ensure_within(1.0, "weights", "a weight left"), values)
    assert (error.operation, error.bound) == ("weights", 1.0)


# ----- the opt-out ------------------------------------------------------------------------------
def test_range_checks_off_publishes_no_bound_and_checks_nothing():
    device = Device("SEMI2K", 2, range_checks=False)
    try:
        unknown = device.run(lambda x: np.float64(-1.0 if x.bound is None else x.bound), [5.0])
        assert float(unknown) == -1.0, "no magnitude may be published with range_checks off"
        wrong = device.run(lambda x: x * x, np.array([2e4]))
        assert wrong[0] != pytest.approx(4e8), "unchecked: the documented silent overflow"
        declared = Bounded(np.array([2e4]), bound=2e4)  # declared bounds are still enforced
        with pytest.raises(RangeError):
            device.run(lambda x: x * x, declared)
    finally:
        sf.shutdown()


# ----- plans and training -------------------------------------------------------------------------
def test_a_precision_plan_lets_large_values_multiply():
    plan = plan_precision(2e5, products=1, protocol="SEMI2K")
    device = Device("SEMI2K", 3, fxp_fraction_bits=plan.fxp_fraction_bits)
    try:
        values = np.array([2e5, -1.5e5, 123.25])
        got = device.run(lambda x: x * x, values)
        assert np.allclose(got, values * values, rtol=1e-6, atol=2.0**-plan.fxp_fraction_bits)
    finally:
        sf.shutdown()


def test_ss_lr_on_an_unscaled_feature_fails_instead_of_succeeding_with_nonsense(device):
    rng = np.random.default_rng(4)
    income = rng.normal(5e4, 2e4, (600, 1))
    other = rng.normal(size=(600, 2))
    y = (rng.random(600) < 0.5).astype(float)
    parts = [device.share(income), device.share(other, device.bob)]
    with pytest.raises(RangeError) as info:
        SSRegression(device.spu).fit(parts, device.share(y, device.bob), epochs=2)
    error = info.value
    assert error.label == "input from alice", "the unscaled party's input is named"
    assert "scale the features" in str(error)
    assert error.bound < 2.0**17, "the bound named is what the features would have to fit"


# ----- interval arithmetic (public, no parties) --------------------------------------------------
def test_interval_arithmetic():
    a, b = Interval(-1.0, 2.0), Interval(3.0, 4.0)
    assert a + b == Interval(2.0, 6.0)
    assert a - b == Interval(-5.0, -1.0)
    assert -a == Interval(-2.0, 1.0)
    assert a * b == Interval(-4.0, 8.0)
    assert a.scaled(3) == Interval(-3.0, 6.0)
    assert a.magnitude == 2.0
    assert a.clipped(0.0, 1.0) == Interval(0.0, 1.0)
    assert b.clipped(0.0, 1.0) == Interval(1.0, 1.0)
    assert a.union(b) == Interval(-1.0, 4.0)
    assert Interval.of_values([3.0, -7.5]) == Interval(-7.5, 3.0)
    assert [next_power_of_two(v) for v in (0.0, 0.3, 1.0, 5.0, 8.0, 9.0)] == [0, 0.5, 1, 8, 8, 16]


# ----- what a peer learns ----------------------------------------------------------------------
def test_a_peer_learns_only_the_power_of_two_of_an_input_not_its_values():
    """The header every party receives with an input: shape, kind, interval, label; inputs in
    the same power-of-two band give identical headers, so nothing finer leaks."""
    device = Device("SEMI2K", 2)
    try:
        headers = [
            device.spu._encode_input(np.array(values), "alice")[0]
            for values in ([5.0, -3.0], [7.9, 0.1], [-4.01, 8.0])
        ]
        expected = ("ok", (2,), "fxp", (-8.0, 8.0), "input from alice")
        assert headers[0] == headers[1] == headers[2] == expected
        refused = device.spu._encode_input(np.array([3.0, 1e20]), "alice")[0]
        assert refused[0] == "range"
        assert "1e+20" not in repr(refused)
        assert "3.0" not in repr(refused)
    finally:
        sf.shutdown()


# ----- a refused input: the owner's error in full, the others only that it failed --------------
def _every_partys_error(monkeypatch, device, fn, *values, owner=None) -> dict:
    """{party: the error it raised} for a run whose input is refused (recorded where the
    simulation picks the one the caller reads)."""
    raised: dict = {}
    pick = runtime.Simulation._raise_failure

    def recording(cluster, parties, futures, pending, links):
        raised.update({p: f.exception() for p, f in zip(parties, futures, strict=True)})
        return pick(cluster, parties, futures, pending, links)

    monkeypatch.setattr(runtime.Simulation, "_raise_failure", recording)
    with pytest.raises(RangeError) as info:
        sf.reveal(device.spu(fn)(*(device.share(v, owner) for v in values)))
    return raised | {"caller": info.value}


def test_a_refused_input_tells_the_other_parties_only_that_it_failed(monkeypatch, device):
    age = Bounded(np.array([3.0, 9.5, 7.0]), bound=5.0, label="bob's age")
    raised = _every_partys_error(monkeypatch, device, lambda x: x, age, owner=device.bob)
    own = raised["bob"]
    assert "2 of 3 element(s) lie outside the declared interval [-5, 5]" in str(own)
    assert not own.secondhand
    others = [party for party in device.names if party != "bob"]
    for party in others:
        copy = raised[party]
        assert copy.secondhand, party
        assert (copy.operation, copy.label, copy.bound) == ("SPU input", "bob's age", 5.0)
        assert copy.problem == "the input failed its owner's range check"
        assert "of 3" not in str(copy), "no count crosses parties"
    # alice comes first in the parties' order, yet the caller reads bob's own error
    assert raised["caller"] is own


def test_an_input_beyond_the_encoding_is_refused_without_a_count_for_others(monkeypatch, device):
    values = np.array([1.0, 2.0**43 * 1.001, -(2.0**44)])
    raised = _every_partys_error(monkeypatch, device, lambda x: x, values, owner=device.bob)
    assert "2 of 3 element(s) too large" in str(raised["bob"])
    assert raised["caller"] is raised["bob"]
    assert all("of 3" not in str(raised[p]) for p in device.names if p != "bob")


def test_the_input_header_carries_no_count():
    sf.init(parties=["alice", "bob"], address="local", seed=3)
    try:
        spu = sf.SPU(sf.utils.testing.cluster_def(["alice", "bob"], {"protocol": "SEMI2K"}))
        declared = Bounded(np.array([1.0, 6.0, 8.0]), bound=5.0, label="income")
        header, refusal = spu._encode_input(declared, "alice")
        assert header == ("range", "SPU input", 5.0, "income", refusal.fix)
        assert "2 of 3" in str(refusal)
        assert not refusal.secondhand
    finally:
        sf.shutdown()


def test_a_secondhand_refusal_keeps_its_mark_when_relabelled_or_pickled():
    copy = secondhand_refusal("SPU input", 5.0, "income", "scale it")
    assert copy.with_label("alice's income").secondhand
    assert pickle.loads(pickle.dumps(copy)).secondhand
