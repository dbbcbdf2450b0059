"""Fixed-point encoding and runtime configuration."""

import numpy as np
import pytest

from core.errors import ConfigError, EncodingError
from core.mpc.config import RuntimeConfig
from core.mpc.fixedpoint import FixedPoint


def test_round_trip_is_within_half_an_ulp():
    fxp = FixedPoint(18)
    values = np.random.default_rng(0).uniform(-1e6, 1e6, 1000)
    assert np.max(np.abs(fxp.decode(fxp.encode(values)) - values)) <= fxp.ulp / 2


def test_integers_and_bools_encode_exactly():
    fxp = FixedPoint(12)
    assert fxp.decode(fxp.encode(np.array([-3, 0, 7]))).tolist() == [-3.0, 0.0, 7.0]
    assert fxp.decode(fxp.encode(np.array([True, False]))).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused(bad):
    with pytest.raises(EncodingError, match="non-finite"):
        FixedPoint().encode(np.array([1.0, bad]))


def test_out_of_range_value_is_named():
    fxp = FixedPoint(18)
    with pytest.raises(EncodingError, match="1e\\+20"):
        fxp.encode(np.array([1.0, 1e20]))


@pytest.mark.parametrize("bad", [np.array(["a"]), np.array([1 + 2j]), np.array([object()])])
def test_unsupported_dtypes_are_refused(bad):
    with pytest.raises(EncodingError, match="unsupported dtype"):
        FixedPoint().encode(bad)


def test_runtime_config_defaults():
    cfg = RuntimeConfig()
    assert (cfg.protocol, cfg.field, cfg.fxp_fraction_bits) == ("SEMI2K", "FM64", 18)
    assert cfg.trunc_mode == "auto", "SEMI2K truncates exactly unless asked for local"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocol": "CHEETAH"}, "CHEETAH"),
        ({"field": "FM32"}, "FM32"),
        ({"field": "FM128", "fxp_fraction_bits": 49}, "49"),
        ({"fxp_fraction_bits": 0}, "0"),
        ({"fxp_fraction_bits": 40}, "40"),
        ({"fxp_fraction_bits": 1.5}, "1.5"),
    ],
)
def test_runtime_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        RuntimeConfig(**kwargs)


def test_world_size_checks():
    with pytest.raises(ConfigError, match="ABY3 needs exactly 3"):
        RuntimeConfig(protocol="ABY3").check_world_size(2)
    with pytest.raises(ConfigError, match="SEMI2K needs at least 2"):
        RuntimeConfig(protocol="SEMI2K").check_world_size(1)
    with pytest.raises(ConfigError, match="unknown runtime_config keys"):
        RuntimeConfig.from_dict({"protocol": "SEMI2K", "speed": "fast"})
