"""Where SEMI2K's correlations come from: the simulation's dealer, a trusted first party."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ConfigError


def _cluster_def(parties, **runtime):
    return {"nodes": parties, "runtime_config": {"protocol": "SEMI2K", **runtime}}


@pytest.mark.parametrize("trusted", ["alice", "bob", "carol"])
def test_a_trusted_first_party_gives_the_same_results(session, trusted):
    sf = session
    spu = sf.SPU(
        _cluster_def(
            ["alice", "bob", "carol"], beaver_type="TrustedFirstParty", trusted_party=trusted
        )
    )
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    y = np.linspace(1, 2, 20).reshape(4, 5)
    a, b = sf.PYU("alice")(lambda: x)(), sf.PYU("bob")(lambda: y)()
    product = sf.reveal(spu(lambda u, v: u @ v)(a, b))
    less = sf.reveal(spu(lambda u: u < 0.5)(a))
    np.testing.assert_allclose(product, x @ y, atol=1e-3)
    np.testing.assert_array_equal(less, x < 0.5)


def test_a_trusted_first_party_sends_no_correlation_during_the_computation(session):
    sf = session
    spu = sf.SPU(_cluster_def(["alice", "bob"], beaver_type="TrustedFirstParty"))
    a, b = sf.PYU("alice")(lambda: np.ones(100))(), sf.PYU("bob")(lambda: np.ones(100))()
    sf.reset_link_stats()
    sf.reveal(spu(lambda u, v: u * v)(a, b))
    pairs = sf.link_stats()["pairs"]
    assert not any("dealer" in pair for pair in pairs)
    # A product opens 2 words per element per party, its exact truncation 1, reveal sends 1;
    # sharing sends a header (shape, kind, the input's published interval and its label).
    for pair in ("alice->bob", "bob->alice"):
        assert 100 * 8 * 4 <= pairs[pair]["bytes"] < 100 * 8 * 4 + 128


@pytest.mark.parametrize(
    ("runtime", "message"),
    [
        ({"protocol": "ABY3", "beaver_type": "TrustedFirstParty"}, "SEMI2K only"),
        ({"beaver_type": "Oracle"}, "unknown beaver_type"),
        ({"beaver_type": "TrustedFirstParty", "trusted_party": "mallory"}, "not one of"),
        ({"beaver_type": "TrustedThirdParty"}, "needs 'ttp_party'"),
        ({"beaver_type": "TrustedThirdParty", "ttp_party": "bob"}, "must not be an SPU party"),
        ({"trusted_party": "alice"}, "without a beaver_type"),
    ],
)
def test_it_refuses_a_bad_correlation_source(session, runtime, message):
    parties = ["alice", "bob", "carol"] if runtime.get("protocol") == "ABY3" else ["alice", "bob"]
    with pytest.raises(ConfigError, match=message):
        session.SPU({"nodes": parties, "runtime_config": {"protocol": "SEMI2K", **runtime}})
