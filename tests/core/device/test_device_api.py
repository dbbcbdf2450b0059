"""The SecretFlow-style API: init, PYU, SPU, reveal, .to, link statistics, errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import core as sf
from core.errors import ConfigError, EncodingError, PartyError, ShapeError, UnsupportedOperation

REPO = Path(__file__).resolve().parents[3]


def test_the_readmes_seed_example_prints_6000_unchanged():
    """The README's engine example, as written there, in a fresh interpreter (the network
    tests run the same block as three processes, `tests/core/network`)."""
    text = (REPO / "README.md").read_text()
    program = re.search(r"```python\n(import core as sf\n.*?)```", text, re.S).group(1)
    assert 'sf.init(parties={"Alice", "Bob", "Carol"}, address="local")' in program
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "6000.0\n"


def test_cluster_def_picks_protocol_by_party_count():
    assert sf.utils.testing.cluster_def(["a", "b", "c"])["runtime_config"]["protocol"] == "ABY3"
    assert sf.utils.testing.cluster_def(["a", "b"])["runtime_config"]["protocol"] == "SEMI2K"
    assert (
        sf.utils.testing.cluster_def(["a", "b", "c", "d"])["runtime_config"]["protocol"] == "SEMI2K"
    )
    with pytest.raises(ConfigError, match="at least 2"):
        sf.utils.testing.cluster_def(["a"])


def test_pyu_runs_on_its_party_and_moves_values(session):
    alice, bob = sf.PYU("alice"), sf.PYU("bob")
    x = alice(lambda: np.arange(4))()
    doubled = alice(lambda v: v * 2)(x)
    assert sf.reveal(doubled).tolist() == [0, 2, 4, 6]
    at_bob = doubled.to(bob)
    assert at_bob.device == bob
    assert sf.reveal(bob(lambda v: v.sum())(at_bob)) == 12
    assert sf.link_stats()["pairs"]["alice->bob"]["bytes"] >= 32


def test_pyu_refuses_another_partys_value(session):
    x = sf.PYU("alice")(lambda: 1)()
    with pytest.raises(PartyError, match="'alice'"):
        sf.PYU("bob")(lambda v: v + 1)(x)


def test_a_released_value_is_gone_from_its_party_and_only_its_owner_releases(session):
    alice = sf.PYU("alice")
    block, kept = alice(lambda: np.ones(1000))(), alice(lambda: 7)()
    spu = sf.SPU(sf.utils.testing.cluster_def(["alice", "bob"]))
    shared = spu(lambda x: x)(block)
    with pytest.raises(PartyError, match="'alice'"):
        sf.PYU("bob").release(block)
    alice.release(block)
    assert sf.reveal(spu(lambda x: x.sum())(shared)) == 1000  # the shares stay
    assert sf.reveal(kept) == 7
    with pytest.raises(KeyError) as gone:
        alice(lambda v: v)(block)
    assert gone.value.args == (block.ref,)


def test_a_partys_local_value_is_read_without_crossing_a_link(session):
    """`PYU.local`: a party's own value where its code runs (every party in a simulation),
    nothing sent; an object of another party is refused."""
    alice = sf.PYU("alice")
    kept = alice(lambda: ("income", 3))()
    before = sf.link_stats()["total_bytes"]
    assert alice.local(kept) == ("income", 3)
    assert sf.link_stats()["total_bytes"] == before
    with pytest.raises(PartyError, match="'alice'"):
        sf.PYU("bob").local(kept)


@pytest.mark.parametrize("protocol", ["REF2K", "SEMI2K", "ABY3"])
def test_spu_computes_on_secret_inputs(session, protocol):
    parties = ["alice", "bob", "carol"] if protocol == "ABY3" else ["alice", "bob"]
    spu = sf.SPU(sf.utils.testing.cluster_def(parties, {"protocol": protocol}))
    rng = np.random.default_rng(0)
    xv, yv = rng.uniform(-2, 2, (4, 3)), rng.uniform(-2, 2, (3, 2))
    x = sf.PYU("alice")(lambda: xv)()
    y = sf.PYU("bob")(lambda: yv)()
    out = spu(lambda a, b: {"prod": a @ b, "max": np.max(a, axis=1), "pos": a > 0})(x, y)
    got = sf.reveal(out)
    assert np.allclose(got["prod"], xv @ yv, atol=1e-4)
    assert np.allclose(got["max"], xv.max(axis=1), atol=1e-5)
    assert got["pos"].dtype == bool
    assert np.array_equal(got["pos"], xv > 0)


def test_spu_objects_chain_and_reveal_to_one_party(session):
    spu = sf.SPU(sf.utils.testing.cluster_def(["alice", "bob"]))
    x = sf.PYU("alice")(lambda: np.array([1.5, -2.0]))().to(spu)
    y = spu(lambda a: a * a)(x)
    z = spu(lambda a, b: a + b + 1)(x, y)
    at_bob = z.to(sf.PYU("bob"))
    assert np.allclose(sf.reveal(at_bob), [4.75, 3.0], atol=1e-5)
    int_sum = spu(lambda a: a + 2)(sf.PYU("bob")(lambda: np.array([3, 4]))())
    assert sf.reveal(int_sum).tolist() == [5, 6]


def test_link_stats_show_dealer_traffic_and_reset(session):
    spu = sf.SPU(sf.utils.testing.cluster_def(["alice", "bob"]))
    x = sf.PYU("alice")(lambda: np.ones(100))()
    sf.reset_link_stats()
    sf.reveal(spu(lambda a: a * a)(x))
    stats = sf.link_stats()
    assert stats["pairs"]["dealer->alice"]["bytes"] >= 100 * 8
    assert stats["pairs"]["alice->bob"]["bytes"] >= 100 * 8
    assert "dealer" in stats["sent_bytes"]
    assert stats["rounds"]["alice"] >= 1
    sf.reset_link_stats()
    assert sf.link_stats()["total_bytes"] == 0


def test_errors_are_named(session):
    spu = sf.SPU(sf.utils.testing.cluster_def(["alice", "bob"]))
    a = sf.PYU("alice")(lambda: np.ones((2, 3)))()
    b = sf.PYU("bob")(lambda: np.ones(4))()
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4,\)"):
        spu(lambda x, y: x + y)(a, b)
    with pytest.raises(PartyError, match="'mallory'"):
        sf.PYU("mallory")
    with pytest.raises(PartyError, match="int"):
        sf.reveal(42)
    text = sf.PYU("alice")(lambda: np.array(["x"]))()
    with pytest.raises(EncodingError, match="unsupported dtype"):
        spu(lambda x: x)(text)
    huge = sf.PYU("bob")(lambda: np.array([1e30]))()
    # a secret input's error names the input and the bound, never the value (it reaches peers)
    with pytest.raises(EncodingError, match="input from bob.*fixed-point range.*2\\^43") as info:
        spu(lambda x: x)(huge)
    assert "1e+30" not in str(info.value)
    with pytest.raises(UnsupportedOperation, match="numpy.sort"):
        spu(lambda x: np.sort(x))(a)
    carol_value = sf.PYU("carol")(lambda: 1.0)()
    with pytest.raises(PartyError, match="carol"):
        spu(lambda x: x)(carol_value)
    # deterministic refusals leave the session usable
    assert sf.reveal(spu(lambda x: x * 2)(a)).tolist() == [[2.0] * 3] * 2


def test_init_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="ray://x"):
        sf.init(parties=["a", "b"], address="ray://x")
    with pytest.raises(PartyError):
        sf.init(parties="ab", address="local")
    with pytest.raises(ConfigError, match="init"):
        sf.PYU("a")
    sf.init(parties=["a", "b"], address="local")
    try:
        with pytest.raises(ConfigError, match="ABY3 needs exactly 3"):
            sf.SPU(sf.utils.testing.cluster_def(["a", "b"], {"protocol": "ABY3"}))
    finally:
        sf.shutdown()
