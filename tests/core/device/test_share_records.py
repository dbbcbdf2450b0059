"""Persisting SPU values share by share: export at each party, import into a later session;
every record names its export, and records of different exports are refused at every party."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest

import core as sf
from core.comm import LocalLinkHub, run_spmd
from core.device.share_exchange import check_same_export
from core.errors import ConfigError, PartyError, PartyFailure, RangeError

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


# ----- which export a record belongs to (`core.device.share_exchange`) -------------------------
OTHER = VALUE[::-1] * 3  # same shape, kind and interval as VALUE: only the export tells them apart


def export_both(parties: list[str], protocol: str) -> tuple[dict, dict, dict]:
    """Records of VALUE and OTHER exported in one session, and their reveals in that session."""
    sf.init(parties=parties, address="local", seed=1)
    try:
        spu = make_spu(parties, protocol)
        x, y = spu(lambda u, v: (u * 1, v * 1))(
            sf.PYU(parties[0])(lambda: VALUE)(), sf.PYU(parties[-1])(lambda: OTHER)()
        )
        records_x: dict[str, dict] = {}
        records_y: dict[str, dict] = {}
        spu.export_shares(x, records_x.__setitem__)
        spu.export_shares(y, records_y.__setitem__)
        revealed = {"x": sf.reveal(x), "y": sf.reveal(y)}
        return records_x, records_y, revealed
    finally:
        sf.shutdown()


def test_every_record_of_one_export_names_the_same_fresh_random_id():
    records_x, records_y, _ = export_both(PARTIES[:2], "SEMI2K")
    id_x, id_y = records_x["alice"]["value_id"], records_y["alice"]["value_id"]
    assert records_x["bob"]["value_id"] == id_x
    assert records_y["bob"]["value_id"] == id_y
    assert re.fullmatch("[0-9a-f]{32}", id_x)
    assert id_x != id_y
    assert records_x["alice"]["format"] == "spu-share/2"
    # Not drawn from the session's test seed: a second session with the same seed, the same
    # value and the same program draws another id (else its records would pass for these).
    again, _, _ = export_both(PARTIES[:2], "SEMI2K")
    assert again["alice"]["value_id"] not in (id_x, id_y)


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_matching_records_come_back_bit_for_bit(cluster, later_session):
    parties, protocol = CLUSTERS[cluster]
    records_x, records_y, revealed = export_both(parties, protocol)
    later_session(parties)
    spu = make_spu(parties, protocol)
    for name, records in (("x", records_x), ("y", records_y)):
        loaded = spu.import_shares(json.loads(json.dumps(records)).__getitem__)
        got = sf.reveal(loaded)
        assert got.dtype == revealed[name].dtype
        assert got.tobytes() == revealed[name].tobytes(), (cluster, name)


def mixed(records_x: dict, records_y: dict, from_y: list[str]) -> dict:
    return {party: (records_y if party in from_y else records_x)[party] for party in records_x}


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_records_of_two_exports_are_refused_naming_who_holds_which(cluster, later_session):
    """alice's share of x with bob's share of y would reveal x_alice + y_bob: a wrong value."""
    parties, protocol = CLUSTERS[cluster]
    records_x, records_y, _ = export_both(parties, protocol)
    id_x, id_y = records_x[parties[0]]["value_id"], records_y[parties[0]]["value_id"]
    later_session(parties)
    spu = make_spu(parties, protocol)
    with pytest.raises(ConfigError) as refused:
        spu.import_shares(mixed(records_x, records_y, ["bob"]).__getitem__)
    if len(parties) == 2:
        which = f"alice's record (value_id {id_x}), bob's record (value_id {id_y})"
    else:
        which = (
            f"bob's record (value_id {id_y}) is from another export than alice's and carol's "
            f"records (value_id {id_x})"
        )
    assert str(refused.value) == (
        f"share records are from different exports: {which}. Every party must import its own "
        "record of the same export (a mixed-up or outdated file?)"
    )
    assert all(not store for store in spu._stores.values())
    got = sf.reveal(spu.import_shares(records_y.__getitem__))
    assert np.allclose(got, OTHER, atol=2**-18)


def test_the_refusal_names_no_share_value(later_session):
    records_x, records_y, _ = export_both(PARTIES[:2], "SEMI2K")
    later_session(PARTIES[:2])
    with pytest.raises(ConfigError) as refused:
        make_spu(PARTIES[:2], "SEMI2K").import_shares(
            mixed(records_x, records_y, ["bob"]).__getitem__
        )
    numbers = set(re.findall(r"\d+", str(refused.value)))
    for records in (records_x, records_y):
        for record in records.values():
            assert not numbers & {str(v) for v in record["share"][0] if v > 999}


@pytest.mark.parametrize(
    ("value_id", "message"),
    [
        (None, "lacks 'value_id'"),
        ("0" * 31, "damaged value_id"),
        ("G" * 32, "damaged value_id"),
        (12345, "damaged value_id"),
        ("0" * 32, "share records are from different exports: alice's record"),
    ],
    ids=["missing", "short", "not-hex", "not-text", "another-id"],
)
def test_a_missing_damaged_or_tampered_id_is_refused(value_id, message, later_session):
    records, _, _ = export_both(PARTIES[:2], "SEMI2K")
    edited = copy.deepcopy(records)
    if value_id is None:
        del edited["bob"]["value_id"]
    else:
        edited["bob"]["value_id"] = value_id
    later_session(PARTIES[:2])
    spu = make_spu(PARTIES[:2], "SEMI2K")
    with pytest.raises(ConfigError, match=re.escape(message)) as refused:
        spu.import_shares(edited.__getitem__)
    if value_id is None or "damaged" in message:
        assert str(refused.value).startswith("share record of 'bob'")
    assert all(not store for store in spu._stores.values())


@pytest.mark.parametrize("old_format", ["spu-share/1", None], ids=["format-1", "unnamed"])
def test_a_record_of_the_old_format_asks_for_a_new_export(old_format, later_session):
    records, _, _ = export_both(PARTIES[:2], "SEMI2K")
    for record in records.values():
        del record["value_id"], record["format"]
        if old_format:
            record["format"] = old_format
    later_session(PARTIES[:2])
    with pytest.raises(ConfigError) as refused:
        make_spu(PARTIES[:2], "SEMI2K").import_shares(records.__getitem__)
    assert str(refused.value).startswith(
        f"share record of 'alice' is in the old format {old_format or 'without a name'}, which "
        "does not name its export (value_id)"
    )
    assert "export the value again" in str(refused.value)


def test_a_failing_read_is_raised_at_its_party_and_nothing_is_kept(later_session):
    """bob's storage fails: bob raises its own error; alice, told only its type, does not wait."""
    records, _, _ = export_both(PARTIES[:2], "SEMI2K")
    later_session(PARTIES[:2])
    spu = make_spu(PARTIES[:2], "SEMI2K")

    def read(party: str) -> dict:
        if party == "bob":
            raise FileNotFoundError("bob-weights.json")
        return records[party]

    with pytest.raises(PartyFailure) as failed:
        spu.import_shares(read)
    assert failed.value.party == "bob"
    assert isinstance(failed.value.__cause__, FileNotFoundError)
    assert all(not store for store in spu._stores.values())
    assert np.allclose(sf.reveal(spu.import_shares(records.__getitem__)), VALUE, atol=2**-18)


def reports_at_every_party(reports: list[dict], raw: int | None = None) -> list:
    """What each party of an in-memory hub raises after exchanging `reports` (party `raw`
    only sends its report, as a peer that does not follow the exchange)."""
    hub = LocalLinkHub(PARTIES)

    def program(link):
        if link.rank == raw:
            return link.send_all(reports[raw])
        try:
            check_same_export(link, reports[link.rank])
        except ConfigError as exc:
            return str(exc), exc.secondhand
        return None

    return run_spmd(hub, [program] * len(PARTIES))


def test_every_party_raises_the_same_refusal():
    def report(value_id: str) -> dict:
        return {"value_id": value_id, "shape": [2], "kind": "fxp", "interval": [-1.0, 1.0]}

    a, b = "a" * 32, "b" * 32
    got = reports_at_every_party([report(a), report(a), report(b)])
    message = (
        f"share records are from different exports: carol's record (value_id {b}) is from "
        f"another export than alice's and bob's records (value_id {a}). Every party must "
        "import its own record of the same export (a mixed-up or outdated file?)"
    )
    assert got == [(message, True)] * 3
    refused = {"refused": "share record of 'bob' lacks 'protocol'"}
    got = reports_at_every_party([report(a), refused, report(a)])
    assert got == [(refused["refused"], True), (refused["refused"], False)] + [
        (refused["refused"], True)
    ]
    # A peer's malformed report is a refusal too, named after that peer.
    for malformed in ({"value_id": a}, {**report(a), "value_id": "x"}, ["refused"]):
        got = reports_at_every_party([report(a), malformed, report(a)], raw=1)
        assert got[0] == got[2] == ("'bob' sent no valid report of its share record", True)
    assert reports_at_every_party([report(a)] * 3) == [None] * 3
