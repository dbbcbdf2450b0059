"""PSI, Paillier HEU and SS-LR with every party in its own process over TLS links.

Each program runs unchanged in a simulation (in this process) and as processes; both must end
with the same results (the intersection exactly, fixed-point values within their precision).
"""

from __future__ import annotations

import numpy as np
import pytest
from net_harness import results, run_cluster
from test_network_cluster import simulate

pytestmark = pytest.mark.timeout(120)

PSI = """
rng = np.random.default_rng(11)
universe = [f"id{{i:05d}}" for i in range(1000)]
sets = {{p: sorted(rng.choice(universe, 400, replace=False)) for p in PARTIES}}
from core.psi import run_psi
from concurrent.futures import ThreadPoolExecutor
# ECDH's scalar multiplications in a thread: a process pool would only add start-up time here.
options = {{"pool": ThreadPoolExecutor(1)}} if {protocol!r} == "ecdh" else {{}}
here = run_psi(PARTIES, sets, {{p: None for p in PARTIES}}, protocol={protocol!r}, **options)
emit({{p: sorted(sets[p][i] for i in r.rows) for p, r in here.items()}})
"""


@pytest.mark.parametrize(
    ("protocol", "parties"),
    [("ecdh", ["alice", "bob", "carol"]), ("ecdh", ["alice", "bob"]), ("kkrt", ["alice", "bob"])],
    ids=["ecdh-3", "ecdh-2", "kkrt-2"],
)
def test_psi_in_separate_processes_finds_the_intersection(tmp_path, protocol, parties):
    program = f"PARTIES = {parties!r}\n" + PSI.format(protocol=protocol)
    expected = simulate(program, parties)
    rng = np.random.default_rng(11)
    universe = [f"id{i:05d}" for i in range(1000)]
    sets = [set(rng.choice(universe, 400, replace=False)) for _ in parties]
    truth = sorted(set.intersection(*sets))
    assert all(rows == truth for rows in expected.values())
    got = results(run_cluster("init()\n" + program, parties, tmp_path))
    for party in parties:
        assert got[party] == {party: truth}, party


HEU = """
heu = sf.HEU({
    "sk_keeper": {"party": "alice"},
    "evaluators": [{"party": p} for p in PARTIES[1:]],
    "he_parameters": {"schema": "paillier", "key_pair": {"generate": {"bit_size": 512}}},
})
x = sf.PYU("bob")(lambda: np.array([1.5, -2.0, 3.25]))()
w = sf.PYU("bob")(lambda: np.array([2.0, 4.0, -1.0]))()
ct = x.to(heu)
total = (ct * w + ct).sum()
# with a third party: bob's ciphertexts move to carol, who scales them by her own values
if len(PARTIES) == 3:
    v = sf.PYU("carol")(lambda: np.array([0.5, -3.0, 2.0]))()
    total = (ct * w + ct).to(heu, party="carol") * v + total.to(heu, party="carol")
emit([np.asarray(sf.reveal(ct * w + ct)).tolist(), np.asarray(sf.reveal(total)).tolist()])
"""


@pytest.mark.parametrize("parties", [["alice", "bob"], ["alice", "bob", "carol"]])
def test_paillier_heu_in_separate_processes_equals_the_simulation(tmp_path, parties):
    """Paillier decrypts exactly what was encoded: every process ends with the simulation's
    numbers bit for bit, and with numpy's within the encoding's precision."""
    program = f"PARTIES = {parties!r}\n" + HEU
    simulated = simulate(program, parties)
    got = results(run_cluster("init()\n" + program, parties, tmp_path))
    x, w = np.array([1.5, -2.0, 3.25]), np.array([2.0, 4.0, -1.0])
    products = x * w + x
    total = products.sum()
    if len(parties) == 3:
        total = products * np.array([0.5, -3.0, 2.0]) + total
    np.testing.assert_allclose(simulated[0], products, atol=1e-6)
    np.testing.assert_allclose(simulated[1], total, atol=1e-6)
    for party in parties:
        assert got[party] == simulated, party


SS_LR = """
from core.ml.ss_lr import SSRegression
rng = np.random.default_rng(7)
x = rng.normal(size=(200, 4))
y = (x @ np.array([1.2, -0.8, 0.5, -1.5]) + 0.3 > rng.normal(size=200)).astype(float)
spu = sf.SPU({"nodes": PARTIES, "runtime_config": RUNTIME})
columns = np.array_split(np.arange(4), len(PARTIES))
parts = [sf.PYU(p)(lambda c=c: x[:, c])() for p, c in zip(PARTIES, columns)]
label = sf.PYU("bob")(lambda: y)()
model = SSRegression(spu).fit(parts, label, epochs=3, learning_rate=1.0, batch_size=100)
emit({"weights": np.asarray(sf.reveal(model.weights)).ravel().tolist(), "losses": model.losses})
"""


@pytest.mark.parametrize(
    ("parties", "runtime"),
    [
        (["alice", "bob"], {"protocol": "SEMI2K", "beaver_type": "TrustedFirstParty"}),
        (["alice", "bob", "carol"], {"protocol": "ABY3"}),
    ],
    ids=["semi2k-2", "aby3-3"],
)
def test_ss_lr_trained_in_separate_processes_equals_the_simulation(tmp_path, parties, runtime):
    """The same weights and losses as the simulation within the fixed-point error (the
    truncations' random last bits differ between runs), and a model that fits: the first
    epoch's loss is below log 2, the loss of weights zero."""
    program = f"PARTIES = {parties!r}\nRUNTIME = {runtime!r}\n" + SS_LR
    expected = simulate(program, parties)
    assert expected["losses"][-1] < expected["losses"][0] < np.log(2)
    got = results(run_cluster("init()\n" + program, parties, tmp_path))
    for party, value in got.items():
        np.testing.assert_allclose(value["weights"], expected["weights"], atol=2e-3, err_msg=party)
        np.testing.assert_allclose(value["losses"], expected["losses"], atol=2e-3, err_msg=party)


DEALT = """
init()
if SELF == "dealer":
    endings = sf.serve_dealer()
    sf.shutdown()
    emit(endings)
else:
    runtime = {"protocol": "SEMI2K", "beaver_type": "TrustedThirdParty", "ttp_party": "dealer"}
    spu = sf.SPU({"nodes": ["alice", "bob"], "runtime_config": runtime})
    x = sf.PYU("alice")(lambda: np.linspace(-2, 2, 50).reshape(5, 10))()
    assert sf.reveal(sf.PYU("bob")(lambda: "bob's plaintext")()) == "bob's plaintext"
    y = sf.PYU("bob")(lambda: np.linspace(1, 3, 50).reshape(10, 5))()
    out = [
        spu(lambda u, v: u @ v)(x, y),
        spu(lambda u: (u * u).sigmoid())(x),
        spu(lambda u: u < 0)(x),
    ]
    values = [np.asarray(sf.reveal(v)).tolist() for v in out]
    stats = sf.link_stats()["pairs"]
    sf.shutdown()
    dealt = sum(t["bytes"] for k, t in stats.items() if "dealer" in k)
    emit({"values": values, "dealer_bytes": dealt})
"""


def test_a_dealer_process_serves_semi2k(tmp_path):
    roles = {"dealer": "dealer"}
    got = results(run_cluster(DEALT, ["alice", "bob", "dealer"], tmp_path, roles=roles))
    x = np.linspace(-2, 2, 50).reshape(5, 10)
    y = np.linspace(1, 3, 50).reshape(10, 5)
    for party in ("alice", "bob"):
        product, sigmoid, negative = got[party]["values"]
        np.testing.assert_allclose(product, x @ y, atol=5e-3)
        np.testing.assert_allclose(sigmoid, 1 / (1 + np.exp(-x * x)), atol=2e-3)
        np.testing.assert_array_equal(negative, x < 0)
    assert got["alice"]["dealer_bytes"] > got["bob"]["dealer_bytes"] > 0  # rank 0 asks for fixes
    assert len(got["dealer"]) == 2
    assert all("shut down" in line for line in got["dealer"])


def test_a_dealer_must_be_declared_so_that_it_is_sent_no_revealed_value(tmp_path):
    program = """
init()
if SELF == "dealer":
    sf.serve_dealer()
runtime = {"protocol": "SEMI2K", "beaver_type": "TrustedThirdParty", "ttp_party": "dealer"}
sf.SPU({"nodes": ["alice", "bob"], "runtime_config": runtime})
"""
    outcomes = run_cluster(program, ["alice", "bob", "dealer"], tmp_path)
    assert "is not a dealer node" in outcomes["dealer"].stderr
    for party in ("alice", "bob"):
        assert "must be a cluster node with 'role': 'dealer'" in outcomes[party].stderr
