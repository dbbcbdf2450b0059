"""Certificate rotation between real installations: alice rotates; bob and carol are her peers.

bob and carol are not paired with each other, so carol is a non-peer of bob. Each node is its own
`manage.py` process tree with its own database (`node_installs`). The tests run in order: the
rotation (a long grace period), its retry for a peer that was offline, a second rotation with
a short grace period and what its end refuses, then forgeries.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest

from console.nodes import rotation
from console.nodes.identity import NodeIdentity, fingerprint, make_key_and_certificate
from console.nodes.link import transport
from console.nodes.link.envelope import seal
from tests.console.nodes.node_installs import (
    NodeInstall,
    call_node,
    migrated_template,
    wait_until,
)

pytestmark = pytest.mark.timeout(300)
GRACE_SECONDS = 600  # the first rotation's: long enough to tell carol again
SHORT_GRACE_SECONDS = 10


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return migrated_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def network(template, tmp_path_factory):
    """alice paired with bob and with carol, all three serving."""
    root = tmp_path_factory.mktemp("installs")
    nodes = {name: NodeInstall(root, name, template) for name in ("alice", "bob", "carol")}
    try:
        for node in nodes.values():
            node.init()
            node.serve()
        for peer in ("bob", "carol"):
            nodes[peer].manage("node", "accept", nodes["alice"].invite())
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()


@pytest.fixture(scope="module")
def rotated(network):
    """alice rotates while carol's service is down; returns alice's old (key, certificate)."""
    alice, carol = network["alice"], network["carol"]
    old = (alice.file("node.key"), alice.file("node.crt"))
    carol.stop_service()
    done = alice.manage("node", "rotate-certificate", "--grace-seconds", str(GRACE_SECONDS),
                        check=False)  # fmt: skip
    carol.serve()
    return {"old": old, "done": done, "at": time.monotonic()}


def _health_call(sender_key: bytes, sender_cert: bytes, sender: str, peer: NodeInstall) -> bytes:
    return call_node(peer, sender_key, sender_cert, seal(sender, {}))


def _route(install: NodeInstall, peer: str) -> dict:
    columns = "fingerprint, previous_fingerprint, previous_valid_until"
    row = install.query(
        f"SELECT {columns} FROM nodes_peerroute r JOIN nodes_node n ON n.id = r.node_id "
        "WHERE n.name = ?",
        peer,
    )[0]
    return dict(
        zip(("fingerprint", "previous_fingerprint", "previous_valid_until"), row, strict=True)
    )


def _events(install: NodeInstall, action: str) -> list[dict]:
    rows = install.query("SELECT detail FROM audit_auditevent WHERE action = ?", action)
    return [json.loads(detail) for (detail,) in rows]


def test_the_old_certificate_still_works_during_the_grace_period(network, rotated):
    """bob accepts alice's old certificate until the grace period ends (calls in flight)."""
    old_key, old_cert = rotated["old"]
    assert time.monotonic() < rotated["at"] + GRACE_SECONDS, "too slow to test the grace period"
    _health_call(old_key, old_cert, "alice", network["bob"])


def test_rotation_repins_at_the_online_peer_and_lists_the_offline_one(network, rotated):
    alice, bob = network["alice"], network["bob"]
    done, old_fingerprint = rotated["done"], fingerprint(rotated["old"][1])
    new_fingerprint = fingerprint(alice.file("node.crt"))
    assert new_fingerprint != old_fingerprint
    assert f"New certificate {new_fingerprint} (was {old_fingerprint})" in done.stdout
    assert "bob: pinned the new certificate" in done.stdout
    assert "carol: NOT TOLD: Node carol at" in done.stdout
    assert done.returncode != 0
    assert "must re-pair or be told again" in done.stderr
    assert "`manage.py node notify-rotation --peer carol`" in done.stderr
    pinned = _route(bob, "alice")
    assert (pinned["fingerprint"], pinned["previous_fingerprint"]) == (
        new_fingerprint,
        old_fingerprint,
    )
    assert _events(bob, "route_repin")[-1]["new_fingerprint"] == new_fingerprint
    assert _events(alice, "node_rotate")[-1]["old_fingerprint"] == old_fingerprint
    received = [c for c in bob.node_calls() if c["method"] == "RotateCertificate"]
    assert [c["outcome"] for c in received] == ["success"]
    assert "notify-rotation --peer carol" in alice.manage("node", "show").stdout


def test_calls_work_both_ways_after_the_rotation(network, rotated):
    alice, bob = network["alice"], network["bob"]
    assert "bob: ok" in alice.manage("node", "health", "bob").stdout
    assert "alice: ok" in bob.manage("node", "health", "alice").stdout


def test_the_offline_peer_is_told_again_and_then_calls_work(network, rotated):
    alice, carol = network["alice"], network["carol"]
    refused = carol.manage("node", "health", "alice", check=False)
    assert "the TLS handshake failed" in refused.stdout  # carol still pins the old certificate
    told = alice.manage("node", "notify-rotation", "--peer", "carol", check=False)
    assert "carol: pinned the new certificate" in told.stdout, told.stdout + told.stderr
    assert _route(carol, "alice")["fingerprint"] == fingerprint(alice.file("node.crt"))
    assert "alice: ok" in carol.manage("node", "health", "alice").stdout
    again = alice.manage("node", "notify-rotation")
    assert "Every peer has pinned this node's current certificate." in again.stdout


@pytest.fixture(scope="module")
def rotated_again(network, rotated):
    """alice rotates again with a short grace period, every peer online; her old pair."""
    alice = network["alice"]
    old = (alice.file("node.key"), alice.file("node.crt"))
    started = time.monotonic()
    done = alice.manage("node", "rotate-certificate", "--grace-seconds", str(SHORT_GRACE_SECONDS))
    assert "bob: pinned the new certificate" in done.stdout
    assert "carol: pinned the new certificate" in done.stdout
    return {"old": old, "grace_ends": started + SHORT_GRACE_SECONDS}


def test_after_the_grace_period_the_old_certificate_is_refused(network, rotated, rotated_again):
    alice, bob = network["alice"], network["bob"]
    with pytest.raises(transport.NodeCallError, match="Node bob at .*TLS handshake failed"):
        _health_call(*rotated["old"], "alice", bob)  # replaced twice: no longer accepted at all
    time.sleep(max(0.0, rotated_again["grace_ends"] + 1 - time.monotonic()))
    with pytest.raises(transport.NodeCallError, match="Node bob at .*TLS handshake failed"):
        _health_call(*rotated_again["old"], "alice", bob)
    assert "alice: ok" in bob.manage("node", "health", "alice").stdout
    assert "bob: ok" in alice.manage("node", "health", "bob").stdout
    wait_until(lambda: not (alice.data_dir / "node-identity" / "previous.key").exists())
    assert _route(bob, "alice")["previous_fingerprint"] == ""


def test_an_attacker_serving_the_old_key_after_grace_is_refused(
    network, rotated_again, template, tmp_path
):
    """mallory holds alice's old key pair and answers at an address bob is sent to."""
    alice, bob = network["alice"], network["bob"]
    mallory = NodeInstall(tmp_path, "mallory", template)
    try:
        mallory.init(node_name="alice")
        for name, data in zip(("node.key", "node.crt"), rotated_again["old"], strict=True):
            (mallory.data_dir / "node-identity" / name).write_bytes(data)
        mallory.serve()
        bob.redirect_route("alice", mallory.address)
        refused = bob.manage("node", "health", "alice", check=False)
        assert f"Node alice at {mallory.address}: the TLS handshake failed" in refused.stdout
    finally:
        bob.redirect_route("alice", alice.address)
        mallory.stop()


def _rotation_call(key: bytes, cert: bytes, peer: NodeInstall, forged) -> bytes:
    """Call RotateCertificate at `peer` with a key pair and a forged (sender, body maker)."""
    sender, make_body = forged
    nonce = secrets.token_hex(16)
    payload = seal(sender, make_body(nonce), nonce=nonce)
    return call_node(peer, key, cert, payload, method=rotation.METHOD)


def _forged_body(claimed: str, old_cert: bytes, new_name: str, signer_key: bytes | None = None):
    """A rotation body announcing a fresh certificate for `new_name`, as `claimed` sends it."""
    new_key, new_cert = make_key_and_certificate(new_name)
    old = NodeIdentity(claimed, b"", old_cert)
    new = NodeIdentity(new_name, signer_key or new_key, new_cert)
    grace = time.time() + 3600
    return claimed, lambda nonce: rotation.announcement(claimed, old, new, grace, nonce)


def test_a_rotation_from_a_non_peer_is_refused(network, rotated):
    """carol is not bob's peer: her claim to be alice fails in the TLS handshake."""
    bob, carol = network["bob"], network["carol"]
    body = _forged_body("alice", carol.file("node.crt"), "alice")
    with pytest.raises(transport.NodeCallError, match="Node bob at .*TLS handshake failed"):
        _rotation_call(carol.file("node.key"), carol.file("node.crt"), bob, body)
    assert _route(bob, "alice")["fingerprint"] == fingerprint(network["alice"].file("node.crt"))


def test_a_peer_cannot_rotate_in_another_peers_name(network, rotated):
    alice, bob = network["alice"], network["bob"]
    key, cert = bob.file("node.key"), bob.file("node.crt")
    as_alice = _forged_body("alice", cert, "alice")
    with pytest.raises(transport.NodeCallError, match="certificate is bob's but the call says"):
        _rotation_call(key, cert, alice, as_alice)
    with pytest.raises(transport.NodeCallError, match="not issued for bob"):
        _rotation_call(key, cert, alice, _forged_body("bob", cert, "carol"))
    other_key, _ = make_key_and_certificate("bob")
    with pytest.raises(transport.NodeCallError, match="proof is not signed by the new"):
        _rotation_call(key, cert, alice, _forged_body("bob", cert, "bob", other_key))
    assert _route(alice, "bob")["fingerprint"] == fingerprint(cert)
    received = alice.node_calls()
    received = [
        c for c in received if c["method"] == rotation.METHOD and c["direction"] == "received"
    ]
    assert [c["outcome"] for c in received] == ["denied"] * 3


def test_a_peer_not_told_before_the_grace_period_ends_must_pair_again(network, rotated):
    alice, carol = network["alice"], network["carol"]
    carol.stop_service()
    try:
        done = alice.manage("node", "rotate-certificate", "--grace-seconds", "0", check=False)
    finally:
        carol.serve()
    assert "carol: NOT TOLD" in done.stdout
    assert "bob: pinned the new certificate" in done.stdout
    again = alice.manage("node", "notify-rotation", "--peer", "carol", check=False)
    assert "The old key is gone (its grace period is over): carol must pair again" in again.stdout
    assert "not told of this node's new certificate and the old key is gone: pair again" in (
        alice.manage("node", "show").stdout
    )
    assert "bob: ok" in alice.manage("node", "health", "bob").stdout
