"""Safe magnitudes and precision plans (`core.mpc.precision`), and RangeError's contract."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from core.errors import ConfigError, EncodingError, RangeError
from core.mpc.config import RuntimeConfig
from core.mpc.fixedpoint import FixedPoint
from core.mpc.precision import (
    DEFAULT_FRACTION_BITS,
    MIN_FRACTION_BITS,
    PrecisionPlan,
    plan_precision,
    product_limit,
    safe_magnitude,
    truncation_margin_bits,
)


@pytest.mark.parametrize(("bits", "expected"), [(18, 2.0**43), (10, 2.0**51), (26, 2.0**35)])
def test_safe_magnitude_is_what_encodes(bits, expected):
    config = RuntimeConfig(fxp_fraction_bits=bits)
    assert safe_magnitude(config) == expected
    fxp = FixedPoint(bits)
    assert fxp.decode(fxp.encode(np.array([expected, -expected]))).tolist() == [
        expected,
        -expected,
    ]
    with pytest.raises(RangeError) as info:
        fxp.encode(np.array([expected * (1 + 2.0**-40)]))
    assert info.value.bound == expected


def test_range_error_is_an_encoding_error_naming_operation_bound_label_and_fix():
    error = RangeError("exp", 11.09, "input above the domain", label="income")
    assert isinstance(error, EncodingError)
    assert (error.operation, error.bound, error.label) == ("exp", 11.09, "income")
    text = str(error)
    for part in ("exp of 'income'", "11.09", "scale the input", "integer bits"):
        assert part in text, text
    relabelled = RangeError("multiply", 2.0**26, "may overflow").with_label("age")
    assert relabelled.label == "age"
    assert "multiply of 'age'" in str(relabelled)
    assert "2^26" in str(relabelled)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.operation, copy.bound, copy.label, str(copy)) == (
        "exp",
        11.09,
        "income",
        text,
    )


def _fits(max_abs: float, products: int, bits: int, margin: int) -> bool:
    b = max(max_abs, 1.0)
    encodes = max_abs <= 2.0 ** (61 - bits)
    if not products:
        return encodes
    top = max(b ** (products + 1), max_abs**2)
    return encodes and top * 2.0 ** (2 * bits) < 2.0 ** (62 - margin)


PLAN_CASES = [
    # (max_abs, products, protocol, expected fraction bits)
    (1.0, 1, "SEMI2K", DEFAULT_FRACTION_BITS),
    (8.0, 1, "ABY3", DEFAULT_FRACTION_BITS),
    (2.0**20, 0, "SEMI2K", DEFAULT_FRACTION_BITS),
    (2.0**20, 1, "REF2K", 10),
    (2.0**12, 1, "SEMI2K", 13),
    (2e5, 1, "SEMI2K", 8),
    (1e3, 2, "SEMI2K", 11),
    (0.0, 3, "ABY3", DEFAULT_FRACTION_BITS),
]


@pytest.mark.parametrize(("max_abs", "products", "protocol", "bits"), PLAN_CASES)
def test_plan_picks_the_most_fraction_bits_that_fit(max_abs, products, protocol, bits):
    plan = plan_precision(max_abs, products=products, protocol=protocol)
    assert isinstance(plan, PrecisionPlan)
    assert (plan.field, plan.fxp_fraction_bits) == ("FM64", bits)
    margin = truncation_margin_bits(protocol)
    assert _fits(max_abs, products, bits, margin)
    if bits < DEFAULT_FRACTION_BITS:
        assert not _fits(max_abs, products, bits + 1, margin), "one more bit must not fit"
    assert plan.reason.startswith(f"FM64 with {bits} fraction bits")
    assert "integer bit" in plan.reason


def test_planned_products_run_within_the_runtime_product_limit():
    plan = plan_precision(2.0**12, products=1, protocol="REF2K")
    assert product_limit(plan.fxp_fraction_bits) > (2.0**12) ** 2


def test_plan_refuses_what_fm64_cannot_hold_when_fm64_is_asked_for():
    with pytest.raises(RangeError) as info:
        plan_precision(2.0**20, products=1, protocol="SEMI2K", field="FM64")
    error = info.value
    assert error.operation == "plan_precision"
    assert "FM128 would hold them" in str(error)
    assert f"fewer than {MIN_FRACTION_BITS} fraction bits" in str(error)
    # the bound named is the largest max_abs that still fits
    fits = plan_precision(error.bound * 0.999, products=1, field="FM64")
    assert fits.fxp_fraction_bits == MIN_FRACTION_BITS
    with pytest.raises(RangeError):
        plan_precision(2.0**54, products=0, field="FM64")


def test_plan_picks_fm128_when_fm64_cannot_hold_the_products_and_says_why():
    plan = plan_precision(2.0**20, products=1, protocol="SEMI2K")
    assert (plan.field, plan.fxp_fraction_bits) == ("FM128", 26)
    assert plan.reason.startswith("FM128 with 26 fraction bits: ")
    assert "FM64 cannot hold these products: it would leave only 5 fraction bits" in plan.reason
    # what still fits FM64 stays there (FM128 costs several times more)
    assert plan_precision(2.0**12, products=1).field == "FM64"


def test_plan_on_fm128_obeys_its_limits():
    # FM128 with SEMI2K's 10-bit headroom: B^2 2^(2f) < 2^116
    plan = plan_precision(2.0**40, products=1, protocol="SEMI2K", field="FM128")
    assert plan.fxp_fraction_bits == 17  # 80 + 2 * 17 = 114 < 116, 18 would reach 116
    assert product_limit(plan.fxp_fraction_bits, "FM128") > (2.0**40) ** 2


@pytest.mark.parametrize("field", [None, "FM128"])
def test_plan_refuses_what_even_fm128_cannot_hold(field):
    with pytest.raises(RangeError) as info:
        plan_precision(2.0**60, products=1, protocol="SEMI2K", field=field)
    error = info.value
    assert "FM128's 128-bit ring" in str(error)
    assert error.bound == 2.0**50  # (126 - 10 - 16) / 2
    assert plan_precision(error.bound * 0.999, products=1).field == "FM128"
    with pytest.raises(RangeError):
        plan_precision(2.0**118, products=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_abs": -1.0}, "max_abs"),
        ({"max_abs": float("nan")}, "max_abs"),
        ({"max_abs": float("inf")}, "max_abs"),
        ({"max_abs": "big"}, "max_abs"),
        ({"max_abs": 1.0, "products": -1}, "products"),
        ({"max_abs": 1.0, "protocol": "CHEETAH"}, "CHEETAH"),
        ({"max_abs": 1.0, "field": "FM32"}, "FM32"),
    ],
)
def test_plan_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        plan_precision(**kwargs)


def test_range_checks_flag_is_validated():
    assert RuntimeConfig().range_checks is True
    assert RuntimeConfig.from_dict({"range_checks": False}).range_checks is False
    with pytest.raises(ConfigError, match="range_checks"):
        RuntimeConfig(range_checks="yes")
