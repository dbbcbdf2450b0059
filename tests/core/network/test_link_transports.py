"""Both link transports end to end: the socket transport (the default, every other network
test) and gRPC (`init(link_transport="grpc")`), one OS process per party with mutual TLS.
"""

from __future__ import annotations

import pytest
from net_harness import results, run_cluster

import core as sf
from core.errors import ConfigError

pytestmark = pytest.mark.timeout(120)
PROGRAM = """
init(link_transport={transport!r})
spu = sf.SPU({{"nodes": ["alice", "bob"], "runtime_config": {{"protocol": "SEMI2K",
    "beaver_type": "TrustedFirstParty", "trunc_mode": "exact"}}}})
rng = np.random.default_rng(3)
x, y = rng.uniform(-4, 4, 300_000), rng.uniform(-4, 4, 300_000)
a = sf.PYU("alice")(lambda: x)()
b = sf.PYU("bob")(lambda: y)()
got = np.asarray(sf.reveal(spu(lambda u, v: u * v)(a, b)))
from core.device import runtime
emit({{"worst": float(np.max(np.abs(got - x * y))),
       "transport": type(runtime.current().transport).__name__}})
"""


@pytest.mark.parametrize(
    ("transport", "class_name"), [("socket", "SocketTransport"), ("grpc", "Transport")]
)
def test_a_multiplication_of_large_arrays_is_exact_over_either_transport(
    tmp_path, transport, class_name
):
    outcomes = run_cluster(PROGRAM.format(transport=transport), ["alice", "bob"], tmp_path)
    for party, value in results(outcomes).items():
        assert value["transport"] == class_name, party
        assert value["worst"] < 1e-3, party


def test_link_transport_is_refused_in_a_simulation():
    with pytest.raises(ConfigError, match="link_transport apply to production mode"):
        sf.init(parties=["alice", "bob"], link_transport="grpc")
