"""The seam between protocols and transports: `Link`, per-party runtimes, simulation only seeds."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import core as sf
from core.comm import CommStats, Link, LocalLink, LocalLinkHub, run_spmd
from core.device import runtime
from core.errors import ConfigError, LinkError, PartyError, PartyFailure
from core.mpc.config import RuntimeConfig
from core.mpc.correlated import first_party_triples
from core.mpc.protocols import make_protocol
from core.mpc.ring import RING_DTYPE


class DetachedLink(Link):
    """A link that behaves as if its peers were in other processes (not a simulation)."""

    simulation = False

    def __init__(self, inner: LocalLink):
        super().__init__(inner.parties, inner.rank, CommStats())
        self._inner = inner

    def _deliver(self, to, obj):
        self._inner._deliver(to, obj)

    def _receive(self, frm):
        return self._inner._receive(frm)

    def close(self, reason="link closed"):
        self._inner.close(reason)


def test_it_gives_local_hub_links_the_link_interface():
    hub = LocalLinkHub(["a", "b"])
    link = hub.link(0)
    assert isinstance(link, Link)
    assert link.simulation
    assert (link.party, link.world_size, link.rank_of("b")) == ("a", 2, 1)


def test_it_refuses_a_peer_that_is_not_a_rank():
    link = LocalLinkHub(["a", "b"]).link(0)
    for bad in (0, 2, -1, "b", True):
        with pytest.raises(PartyError):
            link.send(bad, 1)


def test_it_wakes_a_blocked_receiver_when_the_link_closes():
    hub = LocalLinkHub(["a", "b"])
    errors = []

    def wait():
        try:
            hub.link(1).recv(0)
        except LinkError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=wait)
    thread.start()
    hub.link(0).close("a went away")
    thread.join(timeout=5)
    assert errors == ["'b': a went away"]


def _mul_program(config, seed=None, first_party=False):
    def program(local_link):
        link = DetachedLink(local_link)
        triples = first_party_triples(link, 0) if first_party else None
        proto = make_protocol(config, link, seed=seed, triples=triples)
        x = proto.share(np.arange(5, dtype=RING_DTYPE) if link.rank == 0 else None, 0, (5,))
        y = proto.share(np.full(5, 3, dtype=RING_DTYPE) if link.rank == 1 else None, 1, (5,))
        return proto.reveal(proto.mul_ss(x, y))

    return program


@pytest.mark.parametrize("protocol", ["ABY3", "SEMI2K"])
def test_it_runs_a_protocol_over_any_link_implementation(protocol):
    parties = 3 if protocol == "ABY3" else 2
    hub = LocalLinkHub([f"P{i}" for i in range(parties)])
    program = _mul_program(RuntimeConfig(protocol=protocol), first_party=protocol == "SEMI2K")
    results = run_spmd(hub, [program] * parties)
    for out in results:
        np.testing.assert_array_equal(out, np.arange(5, dtype=RING_DTYPE) * 3)


@pytest.mark.parametrize("protocol", ["REF2K", "ABY3", "SEMI2K"])
def test_it_refuses_shared_test_seeds_outside_simulation(protocol):
    parties = 3 if protocol == "ABY3" else 2
    hub = LocalLinkHub([f"P{i}" for i in range(parties)])
    program = _mul_program(RuntimeConfig(protocol=protocol), seed=7, first_party=False)
    with pytest.raises(PartyFailure) as info:
        run_spmd(hub, [program] * parties)
    assert isinstance(info.value.error, ConfigError)
    assert "only in a simulation" in str(info.value.error)


def test_simulated_runtimes_hold_one_party_each():
    sf.init(parties=["bob", "alice"], address="local")
    try:
        cluster = runtime.current()
        assert cluster.simulation
        assert cluster.parties == ["alice", "bob"]
        assert {p: rt.link.party for p, rt in cluster.runtimes.items()} == {
            "alice": "alice",
            "bob": "bob",
        }
        x = sf.PYU("alice")(lambda: 41)()
        assert x.ref in cluster.store("alice")
        assert x.ref not in cluster.store("bob")
    finally:
        sf.shutdown()


def test_two_simulations_run_side_by_side_in_two_threads():
    results, errors = {}, []

    def session(name: str, value: float):
        try:
            with runtime.using(runtime.Simulation(["alice", "bob"])):
                spu = sf.SPU(sf.utils.testing.cluster_def(["alice", "bob"]))
                a = sf.PYU("alice")(lambda: value)()
                b = sf.PYU("bob")(lambda: 2.0)()
                results[name] = sf.reveal(spu(lambda x, y: x * y)(a, b))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(n, v)) for n, v in (("a", 1.5), ("b", 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert results == {"a": pytest.approx(3.0, abs=1e-4), "b": pytest.approx(6.0, abs=1e-4)}
