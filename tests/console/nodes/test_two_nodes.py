"""Two (and three) PrivPad installations on loopback: init, invite, accept, pinned-mTLS calls.

Each node is its own `manage.py` process tree with its own data directory and SQLite database
(`node_installs`); the test reads each node's database only as that node's admin could.
"""

from __future__ import annotations

import stat
import time

import pytest

from console.nodes.identity import fingerprint
from console.nodes.link import transport
from console.nodes.link.envelope import seal
from tests.console.nodes.node_installs import NodeInstall, call_node, migrated_template

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def installs(tmp_path_factory):
    template = migrated_template(tmp_path_factory.mktemp("template"))
    root = tmp_path_factory.mktemp("installs")
    made: dict[str, NodeInstall] = {}

    def make(name: str) -> NodeInstall:
        made[name] = NodeInstall(root, name, template)
        return made[name]

    yield make
    for install in made.values():
        install.stop()


@pytest.fixture(scope="module")
def paired(installs):
    """alice invites, bob accepts: both serve and hold a route to the other."""
    alice, bob = installs("alice"), installs("bob")
    for node in (alice, bob):
        node.init()
        node.serve()
    invitation = alice.invite()
    accepted = bob.manage("node", "accept", invitation)
    assert "Paired with alice" in accepted.stdout
    return alice, bob, invitation


def test_init_stores_the_key_pair_privately_and_refuses_to_reinit(installs):
    dave = installs("dave")
    dave.init()
    for name in ("node.key", "node.crt"):
        mode = stat.S_IMODE((dave.data_dir / "node-identity" / name).stat().st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"
    again = dave.manage("node", "init", "--name", "dave", "--address", dave.address, check=False)
    assert again.returncode != 0
    assert "key pair and certificate (fingerprint " + fingerprint(dave.file("node.crt")) in (
        again.stderr
    )
    assert "--force" in again.stderr
    before = dave.file("node.crt")
    dave.manage("node", "init", "--name", "dave", "--address", dave.address, "--force")
    assert dave.file("node.crt") != before


def test_pairing_pins_each_others_certificate_on_both_sides(paired):
    alice, bob, _ = paired
    assert bob.query("SELECT fingerprint, origin FROM nodes_peerroute") == [
        (fingerprint(alice.file("node.crt")), "accepted")
    ]
    assert alice.query("SELECT fingerprint, origin, address FROM nodes_peerroute") == [
        (fingerprint(bob.file("node.crt")), "invited", bob.address)
    ]
    assert alice.query("SELECT used_at IS NOT NULL FROM nodes_invitation") == [(1,)]


def test_health_calls_succeed_both_ways_and_are_audited_on_both_sides(paired):
    alice, bob, _ = paired
    assert "alice: ok" in bob.manage("node", "health").stdout
    assert "bob: ok" in alice.manage("node", "health", "bob").stdout
    latency, seen = bob.query("SELECT latency_ms, last_seen_at FROM nodes_peerroute")[0]
    assert latency > 0
    assert seen
    sent = [c for c in bob.node_calls() if c["direction"] == "sent" and c["method"] == "Health"]
    received = [c for c in alice.node_calls() if c["direction"] == "received"]
    assert sent
    assert sent[-1]["outcome"] == "success"
    assert {"Hello", "Health"} <= {c["method"] for c in received if c["user"] == "node:bob"}
    hello_sent = [c for c in bob.node_calls() if c["method"] == "Hello"]
    assert hello_sent[0]["outcome"] == "success"


def _raw_call(sender: NodeInstall, peer: NodeInstall, payload: bytes) -> bytes:
    return call_node(peer, sender.file("node.key"), sender.file("node.crt"), payload)


def test_a_replayed_nonce_is_refused_and_audited(paired):
    alice, bob, _ = paired
    recorded = seal("bob", {})
    _raw_call(bob, alice, recorded)
    with pytest.raises(transport.NodeCallError, match="replayed call") as refused:
        _raw_call(bob, alice, recorded)
    assert refused.value.peer == "alice"
    denied = [c for c in alice.node_calls() if c["outcome"] == "denied"]
    assert "replayed" in denied[-1]["reason"]


def test_a_stale_or_future_timestamp_is_refused(paired):
    alice, bob, _ = paired
    with pytest.raises(transport.NodeCallError, match="stale timestamp: 600 s behind"):
        _raw_call(bob, alice, seal("bob", {}, timestamp=time.time() - 600))
    with pytest.raises(transport.NodeCallError, match="stale timestamp: 600 s ahead"):
        _raw_call(bob, alice, seal("bob", {}, timestamp=time.time() + 600))


def test_a_call_claiming_another_sender_is_refused(paired):
    alice, bob, _ = paired
    with pytest.raises(transport.NodeCallError, match="certificate is bob's"):
        _raw_call(bob, alice, seal("carol", {}))


def test_garbage_and_oversized_messages_are_rejected(paired):
    alice, bob, _ = paired
    with pytest.raises(transport.NodeCallError, match="malformed message"):
        _raw_call(bob, alice, b"\xc1not msgpack")
    with pytest.raises(transport.NodeCallError, match="alice"):
        _raw_call(bob, alice, b"x" * (128 * 1024))


def test_a_disabled_route_refuses_calls_in_both_directions(paired):
    alice, bob, _ = paired
    alice.manage("node", "disable", "bob")
    try:
        refused = bob.manage("node", "health", "alice", check=False)
        assert refused.returncode != 0
        assert "Node alice at" in refused.stdout
        assert "disabled its route to bob" in refused.stdout
        own = alice.manage("node", "health", "bob", check=False)
        assert "route is disabled on this node" in own.stdout
    finally:
        alice.manage("node", "enable", "bob")
    assert "alice: ok" in bob.manage("node", "health", "alice").stdout


def test_a_used_invitation_is_refused_by_the_inviter(paired, installs):
    _, _, used_invitation = paired
    carol = installs("carol")
    carol.init()
    refused = carol.manage("node", "accept", used_invitation, check=False)
    assert refused.returncode != 0
    assert "Node alice at" in refused.stderr
    assert "the invitation was already used, has expired" in refused.stderr
    assert carol.query("SELECT count(*) FROM nodes_peerroute") == [(0,)]


def test_an_invitation_with_another_fingerprint_is_refused(paired, installs):
    alice, _, _ = paired
    erin = installs("erin")
    erin.init()
    text = alice.invite()
    real = fingerprint(alice.file("node.crt"))
    forged = text.replace(real, "0" * 64)
    refused = erin.manage("node", "accept", forged, check=False)
    assert refused.returncode != 0
    assert f"Node alice at {alice.address}: it presents certificate {real}" in refused.stderr
    assert erin.query("SELECT count(*) FROM nodes_peerroute") == [(0,)]


def test_an_impostor_at_the_peers_address_is_refused_naming_the_peer(paired, installs):
    """Someone else's node answers at alice's address with a certificate also named alice."""
    alice, bob, _ = paired
    mallory = installs("mallory")
    mallory.init(node_name="alice")
    mallory.serve()
    bob.redirect_route("alice", mallory.address)
    try:
        refused = bob.manage("node", "health", "alice", check=False)
        assert refused.returncode != 0
        assert f"Node alice at {mallory.address}: the TLS handshake failed" in refused.stdout
    finally:
        bob.redirect_route("alice", alice.address)
    # ...and mallory's own certificate is refused by alice's service (not paired).
    with pytest.raises(transport.NodeCallError, match="Node alice at .*TLS handshake failed"):
        _raw_call(mallory, alice, seal("alice", {}))


def test_a_revoked_invitation_is_refused_by_the_inviter(paired, installs):
    alice, _, _ = paired
    frank = installs("frank")
    frank.init()
    text = alice.invite()
    invitation_id = text.split(";id=")[1].split(";")[0]
    assert invitation_id in alice.manage("node", "invitations").stdout
    alice.manage("node", "revoke", invitation_id)
    assert invitation_id not in alice.manage("node", "invitations").stdout
    refused = frank.manage("node", "accept", text, check=False)
    assert refused.returncode != 0
    assert "Node alice at" in refused.stderr
    assert "refused the invitation" in refused.stderr
    assert frank.query("SELECT count(*) FROM nodes_peerroute") == [(0,)]


def test_a_second_service_on_the_same_port_is_refused(paired):
    alice, _, _ = paired
    second = alice.manage("node", "serve", "--listen", alice.address, check=False)
    assert second.returncode != 0
    assert f"Cannot listen on {alice.address} (port in use?)" in second.stderr
