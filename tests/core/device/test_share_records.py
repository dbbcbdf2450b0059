"""Persisting SPU values share by share: export at each party, import into a later session."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import core as sf
from core.errors import ConfigError, PartyError, RangeError

PARTIES = ["alice", "bob", "carol"]
CLUSTERS = {
    "SEMI2K-2": (PARTIES[:2], "SEMI2K"),
    "SEMI2K-3": (PARTIES, "SEMI2K"),
    "ABY3-3": (PARTIES, "ABY3"),
}
VALUE = np.array([[1.5, -2.25, 0.0], [1e3, -7.125, 3.0]])


def make_spu(parties: list[str], protocol: str, fraction_bits: int = 18) -> sf.SPU:
    config = {"protocol": protocol, "field": "FM64", "fxp_fraction_bits": fraction_bits}
    return sf.SPU({"nodes": parties, "runtime_config": config})


def export(parties: list[str], protocol: str, value=VALUE, seed: int = 1) -> dict[str, dict]:
    """Each party's record of `value`, written in a session that is then shut down."""
    sf.init(parties=parties, address="local", seed=seed)
    try:
        spu = make_spu(parties, protocol)
        secret = spu(lambda x: x * 1)(sf.PYU(parties[0])(lambda: value)())
        records: dict[str, dict] = {}
        spu.export_shares(secret, records.__setitem__)
        return {party: json.loads(json.dumps(record)) for party, record in records.items()}
    finally:
        sf.shutdown()


@pytest.fixture
def later_session():
    """A new session into which records are loaded."""
    yield lambda parties: sf.init(parties=parties, address="local", seed=99)
    sf.shutdown()


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_a_value_survives_export_and_import_into_a_new_session(cluster, later_session):
    parties, protocol = CLUSTERS[cluster]
    records = export(parties, protocol)
    assert set(records) == set(parties)
    later_session(parties)
    spu = make_spu(parties, protocol)
    loaded = spu.import_shares(records.__getitem__)
    assert loaded.shape == VALUE.shape
    assert np.allclose(sf.reveal(loaded), VALUE, atol=2**-18)
    # The loaded value computes like any other secret.
    assert np.allclose(sf.reveal(spu(lambda w: w.sum())(loaded)), VALUE.sum(), atol=1e-4)


def test_int_and_bool_kinds_come_back_with_their_type(later_session):
    records = export(PARTIES[:2], "SEMI2K", value=np.array([3, -4, 5]))
    later_session(PARTIES[:2])
    loaded = make_spu(PARTIES[:2], "SEMI2K").import_shares(records.__getitem__)
    assert sf.reveal(loaded).tolist() == [3, -4, 5]
    assert loaded.kind == "int"


@pytest.mark.parametrize("cluster", ["SEMI2K-2", "ABY3-3"])
def test_one_partys_record_does_not_depend_on_the_value(cluster):
    """Privacy: a party's record is a fresh uniform share, whatever the secret is."""
    parties, protocol = CLUSTERS[cluster]
    zero = np.zeros(4000)
    first = export(parties, protocol, value=zero, seed=1)["bob"]["share"]
    other = export(parties, protocol, value=zero + 1e4, seed=2)["bob"]["share"]
    for shares in (first, other):
        top_bits = np.array(shares, dtype=np.uint64) >> np.uint64(63)
        # Uniform shares: the top bit is set for half of them (4000+ samples: 5 sigma band).
        assert abs(top_bits.mean() - 0.5) < 0.04
    # No share equals the encoded value itself.
    assert 10_000 * 2**18 not in set(other[0])


def test_export_refuses_values_of_another_spu_and_non_values(session):
    spu = make_spu(PARTIES[:2], "SEMI2K")
    other = make_spu(PARTIES[:2], "SEMI2K")
    secret = other(lambda: np.ones(2))()
    with pytest.raises(PartyError, match="another SPU"):
        spu.export_shares(secret, lambda party, record: None)
    with pytest.raises(PartyError, match="needs an SPUObject"):
        spu.export_shares(np.ones(2), lambda party, record: None)


def changed(records: dict, at: str, **fields) -> dict:
    """A copy of `records` with some fields of party `at`'s record replaced."""
    out = copy.deepcopy(records)
    out[at].update(fields)
    return out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: changed(r, "bob", protocol="ABY3"), "protocol 'ABY3'"),
        (lambda r: changed(r, "bob", fxp_fraction_bits=20), "fxp_fraction_bits 20"),
        (lambda r: changed(r, "bob", party="alice"), "party 'alice'"),
        (lambda r: changed(r, "bob", parties=["bob", "alice"]), "parties"),
        (lambda r: changed(r, "bob", format="other/9"), "unknown share record format"),
        (lambda r: changed(r, "bob", kind="complex"), "kind must be one of"),
        (lambda r: changed(r, "bob", shape=[4, 2]), "for shape"),
        (lambda r: changed(r, "bob", share=[[-1] * 6]), r"in \[0, 2\^64\)"),
        (lambda r: changed(r, "bob", share=[[0] * 6, [0] * 6]), "1 component"),
        (lambda r: changed(r, "bob", shape=[3, 2], share=[r["bob"]["share"][0]]), "disagree"),
        (lambda r: {**r, "bob": ["not", "a", "dict"]}, "must be a dict"),
        (lambda r: changed(r, "bob", interval=[-1.0, 1.0]), "disagree"),
        (lambda r: changed(r, "bob", interval=[2.0, 1.0]), "lo <= hi"),
        (lambda r: changed(r, "bob", interval="wide"), "interval must be"),
    ],
)
def test_mismatched_or_damaged_records_are_refused(edit, message, later_session):
    records = export(PARTIES[:2], "SEMI2K")
    later_session(PARTIES[:2])
    spu = make_spu(PARTIES[:2], "SEMI2K")
    with pytest.raises(ConfigError, match=message):
        spu.import_shares(edit(records).__getitem__)
    # Nothing was kept: the SPU still works and holds no half-loaded value.
    assert all(not store for store in spu._stores.values())
    assert np.allclose(sf.reveal(spu.import_shares(records.__getitem__)), VALUE, atol=2**-18)


def test_records_load_only_into_an_spu_of_the_same_precision(later_session):
    records = export(PARTIES[:2], "SEMI2K")
    later_session(PARTIES[:2])
    with pytest.raises(ConfigError, match="fxp_fraction_bits 18"):
        make_spu(PARTIES[:2], "SEMI2K", fraction_bits=20).import_shares(records.__getitem__)


def test_a_loaded_value_keeps_its_public_bound_and_its_overflow_checks(later_session):
    """The interval travels with the records: products of the loaded value stay checked."""
    records = export(PARTIES[:2], "SEMI2K")
    assert records["alice"]["interval"] == records["bob"]["interval"] == [-1024.0, 1024.0]
    later_session(PARTIES[:2])
    spu = make_spu(PARTIES[:2], "SEMI2K")
    loaded = spu.import_shares(records.__getitem__)
    assert sf.reveal(spu(lambda w: np.float64(w.bound))(loaded)) == 1024.0
    with pytest.raises(RangeError, match="multiply"):
        spu(lambda w: w * w * w)(loaded)
    bare = {party: {k: v for k, v in r.items() if k != "interval"} for party, r in records.items()}
    unbounded = spu.import_shares(bare.__getitem__)
    assert sf.reveal(spu(lambda w: np.float64(-1 if w.bound is None else w.bound))(unbounded)) == -1
