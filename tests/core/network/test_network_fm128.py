"""FM128 over real links: every party (and SEMI2K's dealer) in its own process over TLS.

The shares, Beaver triples and truncation pairs of the 128-bit ring cross the network as typed
frames ("<u128" buffers, `core.comm.frames`), and the dealer process checks FM128 requests. The
values multiplied here (|x y| up to 1e12) are refused by FM64 with 18 fraction bits; on FM128
they are computed within the precision of 26 fraction bits.
"""

from __future__ import annotations

import numpy as np
import pytest
from net_harness import results, run_cluster
from test_network_cluster import simulate

pytestmark = pytest.mark.timeout(120)

FM128_DEALT = """
init()
if SELF == "dealer":
    endings = sf.serve_dealer()
    sf.shutdown()
    emit(endings)
else:
    runtime = {
        "protocol": "SEMI2K", "field": "FM128",
        "beaver_type": "TrustedThirdParty", "ttp_party": "dealer",
    }
    spu = sf.SPU({"nodes": ["alice", "bob"], "runtime_config": runtime})
    x = sf.PYU("alice")(lambda: np.linspace(-1e6, 1e6, 50).reshape(5, 10))()
    y = sf.PYU("bob")(lambda: np.linspace(1, 3, 50).reshape(10, 5))()
    out = [
        spu(lambda u, v: u @ v)(x, y),
        spu(lambda u: u * u)(x),
        spu(lambda v: v.sigmoid())(y),
        spu(lambda u: u < 0)(x),
    ]
    emit({"values": [np.asarray(sf.reveal(v)).tolist() for v in out]})
    sf.shutdown()
"""


def test_fm128_kernels_run_with_a_dealer_process_over_tls(tmp_path):
    roles = {"dealer": "dealer"}
    got = results(run_cluster(FM128_DEALT, ["alice", "bob", "dealer"], tmp_path, roles=roles))
    x = np.linspace(-1e6, 1e6, 50).reshape(5, 10)
    y = np.linspace(1, 3, 50).reshape(10, 5)
    ulp = 2.0**-26
    for party in ("alice", "bob"):
        product, square, sigmoid, negative = got[party]["values"]
        # each product term is exact to about |x| 2^-27 + |y| 2^-27, ten terms per entry
        np.testing.assert_allclose(product, x @ y, rtol=0, atol=10 * (1e6 + 3) * ulp)
        np.testing.assert_allclose(square, x * x, rtol=1e-12, atol=2e6 * ulp)
        np.testing.assert_allclose(sigmoid, 1 / (1 + np.exp(-y)), atol=1e-4)
        np.testing.assert_array_equal(negative, x < 0)
    assert all("shut down" in line for line in got["dealer"])


ABY3_FM128 = """
runtime = {"protocol": "ABY3", "field": "FM128", "fxp_fraction_bits": 40}
spu = sf.SPU({"nodes": PARTIES, "runtime_config": runtime})
x = sf.PYU("alice")(lambda: np.linspace(0.5, 4, 12))()
y = sf.PYU("carol")(lambda: np.linspace(-3, 3, 12))()
emit([np.asarray(sf.reveal(spu(lambda u, v: (u * v, u.log(), v.exp()))(x, y)[i])).tolist()
      for i in range(3)])
"""


def test_aby3_on_fm128_in_three_processes_equals_the_simulation(tmp_path):
    parties = ["alice", "bob", "carol"]
    program = f"PARTIES = {parties!r}\n" + ABY3_FM128
    expected = simulate(program, parties)
    got = results(run_cluster("init()\n" + program, parties, tmp_path))
    x, y = np.linspace(0.5, 4, 12), np.linspace(-3, 3, 12)
    for party in parties:
        product, log, exp = got[party]
        np.testing.assert_allclose(product, x * y, atol=1e-10)
        np.testing.assert_allclose(log, np.log(x), atol=1e-4)
        np.testing.assert_allclose(exp, np.exp(y), rtol=1e-4)
        # truncations round their last bit at random: runs differ within the error
        np.testing.assert_allclose(got[party], expected, rtol=1e-5, atol=1e-9)
