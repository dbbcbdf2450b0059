"""Setting up devices across processes: what every party must agree on, and where links go.

- Parties that build different SPUs (another field, fraction bits, trusted party, range checks or
  party list) or HEUs (another key owner or key size), or start with different cluster parties,
  fail at once, each with an error naming the peer and the item that differs (the user's first
  error, from `init` or the device's constructor).
- An SPU's `cluster_def` node addresses are honoured: its links listen and dial there (traffic
  through relays placed on those addresses), not on the cluster's own ports.
- A party outside an SPU runs the same program: references to its values, the values revealed.
- Share records: each process imports only its own record; records of two exports (same
  shape, kind and interval), a missing or damaged export id, an old-format record or a failed
  read fail every party with an error naming the party (`core.device.share_exchange`).

One OS process per party on loopback, mutual TLS with throwaway certificates (`net_harness`).
"""

from __future__ import annotations

import pytest
from net_harness import free_ports, relay_type, results, run_cluster

pytestmark = pytest.mark.timeout(120)

SPU_PER_PARTY = """
init()
for party in sorted(CLUSTER["cluster_config"]["parties"]):  # every party linked first (under
    sf.reveal(sf.PYU(party)(lambda: 0)())  # load, one still starting reported another's failure)
runtime = {{"protocol": "SEMI2K", "beaver_type": "TrustedFirstParty"}} | {mine!r}[SELF]
spu = sf.SPU({{"nodes": {nodes!r}[SELF], "runtime_config": runtime}})
emit("built")
"""
BOTH = {"alice": ["alice", "bob"], "bob": ["alice", "bob"]}


@pytest.mark.parametrize(
    ("mine", "item", "alices", "bobs"),
    [
        ({"alice": {"field": "FM64"}, "bob": {"field": "FM128"}}, "field", "'FM64'", "'FM128'"),
        ({"alice": {}, "bob": {"fxp_fraction_bits": 20}}, "fxp_fraction_bits", "18", "20"),
        ({"alice": {}, "bob": {"trusted_party": "bob"}}, "beaver_party", "'alice'", "'bob'"),
        ({"alice": {}, "bob": {"range_checks": False}}, "range_checks", "True", "False"),
    ],
    ids=["field", "fraction-bits", "trusted-party", "range-checks"],
)
def test_parties_building_different_spus_both_fail_naming_the_peer_and_the_item(
    tmp_path, mine, item, alices, bobs
):
    program = SPU_PER_PARTY.format(mine=mine, nodes=BOTH)
    outcomes = run_cluster(program, ["alice", "bob"], tmp_path, timeout=10)
    for party, ours, peer, theirs in (
        ("alice", alices, "bob", bobs),
        ("bob", bobs, "alice", alices),
    ):
        assert outcomes[party].returncode != 0, outcomes[party].result
        assert outcomes[party].error == (
            f"core.errors.ConfigError: SPU setup: {item} is {ours} at {party!r} but {theirs} at "
            f"{peer!r}; every party must build the same SPU"
        )


HEU_PER_PARTY = """
init()
keeper, bits = {mine!r}[SELF]
sf.HEU({{"sk_keeper": {{"party": keeper}}, "evaluators": [{{"party": "alice"}}, {{"party": "bob"}}],
    "he_parameters": {{"key_pair": {{"generate": {{"bit_size": bits}}}}}}}})
emit("built")
"""


@pytest.mark.parametrize(
    ("mine", "item", "alices", "bobs"),
    [
        ({"alice": ("alice", 512), "bob": ("bob", 512)}, "keeper", "'alice'", "'bob'"),
        ({"alice": ("alice", 512), "bob": ("alice", 1024)}, "bit_size", "512", "1024"),
    ],
    ids=["keeper", "key-size"],
)
def test_parties_building_different_heus_both_fail_naming_the_peer_and_the_item(
    tmp_path, mine, item, alices, bobs
):
    """Without the check, bob (thinking he owns the key) decrypted alone and alice failed on
    his public key read as a ciphertext."""
    outcomes = run_cluster(HEU_PER_PARTY.format(mine=mine), ["alice", "bob"], tmp_path, timeout=10)
    for party, ours, peer, theirs in (
        ("alice", alices, "bob", bobs),
        ("bob", bobs, "alice", alices),
    ):
        assert outcomes[party].error == (
            f"core.errors.ConfigError: HEU setup: {item} is {ours} at {party!r} but {theirs} at "
            f"{peer!r}; every party must build the same HEU"
        )


def test_an_spu_over_other_parties_is_refused_naming_both_lists(tmp_path):
    """bob and carol build an SPU of three, alice one of two: alice and bob name the two
    lists; carol, whom alice never addresses, learns that alice (or bob) failed setting up."""
    nodes = {"alice": ["alice", "bob"], "bob": ["alice", "bob", "carol"]}
    nodes["carol"] = nodes["bob"]
    program = SPU_PER_PARTY.format(mine=dict.fromkeys(nodes, {}), nodes=nodes)
    outcomes = run_cluster(program, ["alice", "bob", "carol"], tmp_path, timeout=10)
    assert outcomes["alice"].error.endswith(
        "parties is ['alice', 'bob'] at 'alice' but ['alice', 'bob', 'carol'] at 'bob'; every "
        "party must build the same SPU"
    )
    assert "parties is ['alice', 'bob', 'carol'] at 'bob' but ['alice', 'bob'] at 'alice'" in (
        outcomes["bob"].error
    )
    assert outcomes["carol"].returncode != 0
    # carol waits for alice's description; under load bob's abort may stop her send to him first
    assert (
        "'alice' aborted: 'alice' failed with ConfigError" in outcomes["carol"].error
        or "'bob' aborted: 'bob' failed with ConfigError" in outcomes["carol"].error
    ), outcomes["carol"].error


def test_different_cluster_parties_fail_init_naming_the_peer_and_both_lists(tmp_path):
    (unused,) = free_ports(1)
    program = f"""
if SELF == "bob":  # bob's cluster has a party alice's does not know
    CLUSTER["cluster_config"]["parties"]["dave"] = {{"address": "127.0.0.1:{unused}"}}
    CLUSTER["tls"]["peers"]["dave"] = CLUSTER["tls"]["peers"]["alice"]
init()
emit("connected")
"""
    outcomes = run_cluster(program, ["alice", "bob"], tmp_path, connect_timeout=4)
    # Whoever refuses first says so ("'bob' refused the link from 'alice': ..."), or each
    # party refuses the other's hello itself: either way the text names the peer and both lists.
    for party, peer in (("alice", "bob"), ("bob", "alice")):
        error = outcomes[party].error
        assert error.startswith("core.errors.LinkError: "), error
        assert "configuration mismatch: " in error, error
        assert repr(peer) in error, error
        assert (
            "has parties ['alice', 'bob', 'dave']" in error
            or "has ['alice', 'bob', 'dave']" in (error)
        ), error
        assert "has parties ['alice', 'bob']," in error or error.endswith("has ['alice', 'bob']"), (
            error
        )


ADDRESSED_SPU = """
init()
import socket
from core.device import runtime
mine = {addresses!r}[SELF]
own = mine[SELF].rsplit(":", 1)
def listening():
    with socket.socket() as probe:
        return probe.connect_ex((own[0], int(own[1]))) == 0
before = listening()
nodes = [{{"party": p, "address": mine[p]}} for p in ("alice", "bob")]
spu = sf.SPU({{"nodes": nodes, "runtime_config": {{"protocol": "SEMI2K",
    "beaver_type": "TrustedFirstParty"}}}})
x = sf.PYU("alice")(lambda: np.linspace(-3, 3, 5000))()
y = sf.PYU("bob")(lambda: np.linspace(1, 2, 5000))()
product = np.asarray(sf.reveal(spu(lambda u, v: u * v)(x, y)))
emit({{"before": before, "after": listening(), "worst": float(np.max(np.abs(
    product - np.linspace(-3, 3, 5000) * np.linspace(1, 2, 5000)))),
    "state": [sorted(spu._ctx), sorted(spu._stores), sorted(spu._counters)]}})
"""


def test_an_spus_cluster_def_addresses_carry_its_traffic(tmp_path):
    """Each party listens on its own cluster_def address and dials the peer's: peers' addresses
    lead through relays, which carry the SPU's shares (at least both 5000-word inputs' and
    the product's); the cluster's own links do not pass through them. Each process holds only
    its own party's protocol state."""
    ports = dict(zip(["alice", "bob"], free_ports(2), strict=True))
    relay = relay_type()
    with (
        relay(f"127.0.0.1:{ports['alice']}", rate_mbit=10_000, rtt_ms=0.2) as to_alice,
        relay(f"127.0.0.1:{ports['bob']}", rate_mbit=10_000, rtt_ms=0.2) as to_bob,
    ):
        addresses = {
            "alice": {"alice": f"127.0.0.1:{ports['alice']}", "bob": to_bob.address},
            "bob": {"alice": to_alice.address, "bob": f"127.0.0.1:{ports['bob']}"},
        }
        program = ADDRESSED_SPU.format(addresses=addresses)
        got = results(run_cluster(program, ["alice", "bob"], tmp_path))
        relayed = {
            party: sum(d.bytes for d in r.directions)
            for party, r in (("alice", to_alice), ("bob", to_bob))
        }
    for party, value in got.items():
        assert value["before"] is False, party
        assert value["after"] is True, party
        assert value["worst"] < 1e-3, party
        assert value["state"] == [[party]] * 3, party
    for party, carried in relayed.items():
        assert carried > 2 * 5000 * 8, (party, carried)


OUTSIDER = """
init()
spu = sf.SPU({"nodes": ["alice", "bob"], "runtime_config": {"protocol": "SEMI2K",
    "beaver_type": "TrustedFirstParty"}})
x = sf.PYU("alice")(lambda: np.array([1.5, -2.0, 4.0]))()
y = sf.PYU("bob")(lambda: np.array([2.0, 3.0, -1.0]))()
out = spu(lambda u, v: {"both": (u * v, u < v), "none": None})(x, y)
product, less = out["both"]
to_bob = product.to(sf.PYU("bob"))
emit({
    "none": out["none"],
    "shapes": [product.shape, less.shape],
    "kinds": [product.kind, less.kind],
    "product": np.asarray(sf.reveal(product)).round(3).tolist(),
    "less": np.asarray(sf.reveal(less)).tolist(),
    "at_bob": np.asarray(sf.PYU("bob").local(to_bob) if SELF == "bob" else []).round(3).tolist(),
    "state": sorted(spu._ctx),
})
"""


def test_a_party_outside_an_spu_runs_the_same_program_with_references(tmp_path):
    """carol is not an SPU party: her process builds the SPU without links or state, gets
    references (shape and kind, from alice, the SPU's first party) for what a call returns
    and the values every party reveals, like a PYU value of another party; a value revealed
    to bob alone stays with him."""
    got = results(run_cluster(OUTSIDER, ["alice", "bob", "carol"], tmp_path, timeout=10))
    for party, value in got.items():
        assert value["none"] is None
        assert value["shapes"] == [[3], [3]], party
        assert value["kinds"] == ["fxp", "bool"], party
        assert value["product"] == [3.0, -6.0, -4.0], party
        assert value["less"] == [True, True, False], party
        assert value["at_bob"] == ([3.0, -6.0, -4.0] if party == "bob" else []), party
        assert value["state"] == ([] if party == "carol" else [party])


def test_a_shared_test_seed_is_refused_by_a_deployed_spu(tmp_path):
    """A seed would make every party's randomness (masks, triples) predictable to the others:
    a deployment refuses it at `init` (`tests/core/comm/test_network_link.py`) and here."""
    program = """
init()
runtime = {"protocol": "SEMI2K", "beaver_type": "TrustedFirstParty"}
sf.SPU({"nodes": ["alice", "bob"], "runtime_config": runtime}, seed=7)
"""
    outcomes = run_cluster(program, ["alice", "bob"], tmp_path, timeout=10)
    for party in ("alice", "bob"):
        assert outcomes[party].error == (
            "core.errors.ConfigError: a shared test seed is accepted only in a simulation"
        ), party


RECORDS = """
init()
import json
spu = sf.SPU({"nodes": ["alice", "bob"], "runtime_config": {"protocol": "SEMI2K",
    "beaver_type": "TrustedFirstParty"}})
# Same shape, kind and public interval ([-2, 2]): only the export tells the records apart.
x = spu(lambda u: u)(sf.PYU("alice")(lambda: np.array([0.0, 1.0, 2.0]))())
y = spu(lambda u: u)(sf.PYU("bob")(lambda: np.array([-1.5, 0.5, 2.0]))())
here = os.path.dirname(os.environ["PRIVPAD_TEST_CLUSTER"])
for name, value in (("x", x), ("y", y)):
    spu.export_shares(
        value, lambda p, r, name=name: open(f"{here}/{name}-{p}.json", "w").write(json.dumps(r))
    )
ids = {name: json.load(open(f"{here}/{name}-{SELF}.json"))["value_id"] for name in "xy"}
emit({"ids": ids})  # the last line of a party that fails to import


picked, edits = PICKED, EDITS


def read(party):
    record = json.load(open(f"{here}/{picked[party]}-{party}.json"))
    for field, value in edits.get(party, {}).items():
        record.pop(field) if value is None else record.__setitem__(field, value)
    return record


z = spu.import_shares(read)
emit({"ids": ids, "x": sf.reveal(x).tolist(), "imported": sf.reveal(z).tolist()})
"""


def share_records_cluster(tmp_path, picked: dict, edits: dict | None = None):
    """alice and bob export x and y, then each imports its own record `picked` (with `edits`
    to its fields): each party's outcome, and the export ids it printed first."""
    program = RECORDS.replace("PICKED", repr(picked)).replace("EDITS", repr(edits or {}))
    outcomes = run_cluster(program, ["alice", "bob"], tmp_path)
    for party, outcome in outcomes.items():
        assert isinstance(outcome.result, dict), (party, outcome.stderr)
    ids = {party: outcome.result["ids"] for party, outcome in outcomes.items()}
    assert ids["alice"] == ids["bob"], "every record of one export names the same id"
    return outcomes, ids["alice"]


def test_share_records_of_one_export_import_bit_for_bit(tmp_path):
    got = results(share_records_cluster(tmp_path, {"alice": "x", "bob": "x"})[0])
    for party, value in got.items():
        assert value["imported"] == value["x"] == [0.0, 1.0, 2.0], party
        assert value["ids"]["x"] != value["ids"]["y"]


def test_share_records_of_two_exports_are_refused_at_every_party(tmp_path):
    """alice's share of x with bob's share of y (same shape, kind and interval) would reveal
    x_alice + y_bob, a wrong value: the parties compare the export ids they loaded."""
    outcomes, ids = share_records_cluster(tmp_path, {"alice": "x", "bob": "y"})
    for party in ("alice", "bob"):
        assert outcomes[party].returncode != 0, outcomes[party].result
        assert outcomes[party].error == (
            "core.errors.ConfigError: share records are from different exports: alice's record "
            f"(value_id {ids['x']}), bob's record (value_id {ids['y']}). Every party must import "
            "its own record of the same export (a mixed-up or outdated file?)"
        ), party


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"value_id": None}, "share record of 'bob' lacks 'value_id', the id of its export"),
        (
            {"value_id": "not-an-id"},
            "share record of 'bob' has a damaged value_id: the id of its export is 32 "
            "lowercase hex digits",
        ),
        (
            {"value_id": None, "format": "spu-share/1"},
            "share record of 'bob' is in the old format spu-share/1, which does not name its "
            "export (value_id), so records of different values could be mixed without notice: "
            "export the value again with this version (for an SS-LR model, train it again)",
        ),
    ],
    ids=["missing-id", "damaged-id", "old-format"],
)
def test_a_record_without_a_valid_export_id_is_refused_at_every_party(tmp_path, edits, message):
    """bob's record is refused at bob, and alice, told why, fails with the same error."""
    outcomes, _ = share_records_cluster(tmp_path, {"alice": "x", "bob": "x"}, {"bob": edits})
    for party in ("alice", "bob"):
        assert outcomes[party].error == f"core.errors.ConfigError: {message}", party


def test_a_party_whose_storage_fails_does_not_leave_the_other_waiting(tmp_path):
    """bob's record is missing: bob fails with his own error, alice at once with one naming
    bob and the error's type (never its text)."""
    outcomes, _ = share_records_cluster(tmp_path, {"alice": "x", "bob": "no-such-export"})
    assert outcomes["alice"].error == (
        "core.errors.ConfigError: 'bob' could not read its share record (FileNotFoundError)"
    )
    assert outcomes["bob"].error.startswith("core.errors.PartyFailure: ")
    assert "FileNotFoundError" in outcomes["bob"].error
