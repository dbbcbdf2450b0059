"""Three PrivPad installations (alice, bob, carol) sharing a project over their node links.

Each is its own process tree, data directory and SQLite database (`node_installs`), in network
mode, paired pairwise by invitations. Users act in their own node's process
(`node_actions`); the assertions read each node's own database. Walks in order: invitation,
a decline, an acceptance, a vote of the members on a later invitation, dataset schema
publication and revocation, pipeline replication, an approval round trip, and the refusals an
adversarial peer meets on the real link (a non-member reading the project, a replay, a
re-delivery).
"""

from __future__ import annotations

import json

import pytest

from console.nodes.link import transport
from console.nodes.link.envelope import seal, unseal
from tests.console.nodes.node_installs import NodeInstall, migrated_template

pytestmark = pytest.mark.timeout(600)
ORDERS = "uid,amount,segment\nbob-secret-u1,1234.5,gold\nbob-secret-u2,99.25,silver\n"


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    template = migrated_template(tmp_path_factory.mktemp("template"))
    root = tmp_path_factory.mktemp("federation")
    nodes = {
        name: NodeInstall(root, name, template, network=True) for name in ("alice", "bob", "carol")
    }
    try:
        for node in nodes.values():
            node.init()
            node.serve()
            node.act("make_admin", f"{node.name}_admin")
        for inviter, acceptor in (("alice", "bob"), ("alice", "carol"), ("bob", "carol")):
            nodes[acceptor].manage("node", "accept", nodes[inviter].invite())
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()


@pytest.fixture(scope="module")
def invited(network):
    alice = network["alice"]
    alice.act("create_project", "alice_admin", "Credit")
    assert alice.act("invite", "alice_admin", "Credit", "bob") == {
        "votes": {"bob": "pending"},
        "status": "pending",
    }
    alice.act("invite", "alice_admin", "Credit", "carol")
    return network


def test_the_invitation_reaches_the_invited_nodes_message_center(invited):
    for name in ("bob", "carol"):
        [ballot] = invited[name].act("ballots")
        assert ballot == {
            "project": "Credit",
            "kind": "add",
            "subject": name,
            "owner": "alice",
            "status": "pending",
            "outcome": "pending",
        }
        assert invited[name].act("project", "Credit") is None  # no copy before accepting


@pytest.fixture(scope="module")
def bob_joined_carol_declined(invited):
    bob, carol = invited["bob"], invited["carol"]
    accepted = bob.act("vote", "bob_admin", "Credit", True)
    assert accepted["delivered"] == "delivered"
    assert accepted["reply"]["status"] == "accepted"
    declined = carol.act("vote", "carol_admin", "Credit", False)
    assert declined["reply"]["status"] == "declined"
    return invited


def test_acceptance_makes_a_copy_at_the_member_owned_by_the_initiator(bob_joined_carol_declined):
    alice, bob = bob_joined_carol_declined["alice"], bob_joined_carol_declined["bob"]
    at_alice, at_bob = alice.act("project", "Credit"), bob.act("project", "Credit")
    assert at_alice["members"] == ["alice", "bob"]
    assert at_bob["owner"] == "alice"
    assert at_bob["members"] == ["alice", "bob"]
    assert at_bob["uid"] == at_alice["uid"]
    assert at_bob["version"] == at_alice["version"] == 2
    assert bob.act("ballots")[0]["outcome"] == "accepted"


def test_a_decline_leaves_the_decliner_without_a_copy_and_the_owner_without_it(
    bob_joined_carol_declined,
):
    carol = bob_joined_carol_declined["carol"]
    assert carol.act("project", "Credit") is None
    assert carol.act("ballots")[0]["outcome"] == "declined"


def _call(sender: NodeInstall, peer: NodeInstall, method: str, body: dict, envelope=None):
    payload = envelope or seal(sender.name, body)
    reply, _ = transport.call(
        peer=peer.name,
        address=peer.address,
        root_cert=peer.file("node.crt"),
        key=sender.file("node.key"),
        cert_chain=sender.file("node.crt"),
        method=method,
        payload=payload,
    )
    return unseal(reply).body


def test_a_node_that_is_not_a_member_cannot_read_the_project(bob_joined_carol_declined):
    alice, bob, carol = (bob_joined_carol_declined[n] for n in ("alice", "bob", "carol"))
    uid = alice.act("project", "Credit")["uid"]
    body = {"project": uid, "message": "1" * 32}
    with pytest.raises(transport.NodeCallError, match="carol is not a member"):
        _call(carol, alice, "ProjectFetch", body)
    denied = [c for c in alice.node_calls() if c["method"] == "ProjectFetch"]
    assert denied[-1]["outcome"] == "denied"
    assert "carol is not a member" in denied[-1]["reason"]
    state = _call(bob, alice, "ProjectFetch", {"project": uid, "message": "2" * 32})
    assert state["project"]["members"] == ["alice", "bob"]


def test_replays_are_refused_and_redeliveries_answered_without_applying_twice(
    bob_joined_carol_declined,
):
    alice, bob = bob_joined_carol_declined["alice"], bob_joined_carol_declined["bob"]
    uid = alice.act("project", "Credit")["uid"]
    recorded = seal("bob", {"project": uid, "message": "3" * 32})
    _call(bob, alice, "ProjectFetch", {}, envelope=recorded)
    with pytest.raises(transport.NodeCallError, match="replayed call"):
        _call(bob, alice, "ProjectFetch", {}, envelope=recorded)
    again = _call(bob, alice, "ProjectFetch", {"project": uid, "message": "3" * 32})
    assert again["redelivered"] is True


@pytest.fixture(scope="module")
def carol_joined(bob_joined_carol_declined):
    alice, bob, carol = (bob_joined_carol_declined[n] for n in ("alice", "bob", "carol"))
    proposal = alice.act("invite", "alice_admin", "Credit", "carol")
    assert proposal["votes"] == {"bob": "pending", "carol": "pending"}
    assert carol.act("vote", "carol_admin", "Credit", True)["reply"]["status"] == "pending"
    assert carol.act("project", "Credit") is None  # bob has not voted yet
    assert bob.act("vote", "bob_admin", "Credit", True)["reply"]["status"] == "accepted"
    return bob_joined_carol_declined


def test_a_later_member_is_voted_in_by_the_members_and_everyone_gets_the_state(carol_joined):
    for name in ("alice", "bob", "carol"):
        state = carol_joined[name].act("project", "Credit")
        assert state["members"] == ["alice", "bob", "carol"], name
        assert state["owner"] == "alice"
        assert state["version"] == 3


@pytest.fixture(scope="module")
def bobs_orders(carol_joined):
    roles = {"uid": "id", "amount": "feature", "segment": "protected"}
    return carol_joined["bob"].act("upload_and_authorise", "bob_admin", "Credit", ORDERS, roles)


def test_an_authorised_dataset_publishes_its_schema_to_the_members_never_its_rows(
    carol_joined, bobs_orders
):
    for name in ("alice", "carol"):
        [remote] = carol_joined[name].act("remote_datasets", "Credit")
        assert remote == {
            "node": "bob",
            "name": "orders",
            "columns": [  # whether a column has gaps, never how many or where
                {"name": "uid", "type": "str", "missing": False},
                {"name": "amount", "type": "float", "missing": False},
                {"name": "segment", "type": "str", "missing": False},
            ],
            "roles": {"uid": "id", "amount": "feature", "segment": "protected"},
            "active": True,
        }
        data = carol_joined[name].data_dir
        for path in [data / "privpad.sqlite3", *data.rglob("*")]:
            if path.is_file():
                content = path.read_bytes()
                for value in (b"bob-secret-u1", b"1234.5", b"99.25", b"silver"):
                    assert value not in content, f"{value} found in {name}'s {path.name}"


def test_revocation_propagates_to_the_members(carol_joined, bobs_orders):
    carol_joined["bob"].act("revoke", "bob_admin", bobs_orders["authorization"])
    for name in ("alice", "carol"):
        [remote] = carol_joined[name].act("remote_datasets", "Credit")
        assert remote["active"] is False


def test_pipelines_are_replicated_read_only_with_their_versions(carol_joined):
    alice = carol_joined["alice"]
    alice.act("save_pipeline", "Credit", "Credit LR")
    for name in ("bob", "carol"):
        assert carol_joined[name].act("pipelines", "Credit") == [
            {"name": "Credit LR", "replica_of": "alice", "version": 1}
        ]
    alice.act("save_pipeline", "Credit", "Credit LR", "Credit LR v2")
    assert carol_joined["bob"].act("pipelines", "Credit") == [
        {"name": "Credit LR v2", "replica_of": "alice", "version": 2}
    ]


def test_an_approval_travels_to_the_owners_node_and_the_decision_back(carol_joined):
    alice, bob = carol_joined["alice"], carol_joined["bob"]
    alice.act("save_pipeline", "Credit", "Scoring")
    alice.act("ask_approval", "Credit", "Scoring", "bob")
    [at_bob] = bob.act("approvals")
    assert at_bob["party"] == "bob"
    assert at_bob["status"] == "pending"
    assert at_bob["sentences"] == ["alice receives a model trained on bob's columns."]
    assert alice.act("consent_state", "Scoring", "bob") == "pending"
    bob.act("decide", "bob_admin", True, "fine for this model")
    assert alice.act("consent_state", "Scoring", "bob") == "approved"
    [at_alice] = alice.act("approvals")
    assert at_alice["comment"] == "fine for this model"
    assert [m for m in bob.act("outbox") if m["state"] != "delivered"] == []
    received = {c["method"] for c in alice.node_calls() if c["direction"] == "received"}
    assert {"ProjectVote", "ApprovalDecision"} <= received
    sent = {c["method"] for c in bob.node_calls() if c["direction"] == "sent"}
    assert {"ProjectVote", "ApprovalDecision", "DatasetPublish", "DatasetRevoke"} <= sent


def test_every_message_is_audited_on_both_sides(carol_joined):
    alice, carol = carol_joined["alice"], carol_joined["carol"]
    sent = [
        c for c in alice.node_calls() if c["direction"] == "sent" and c["method"] == "ProjectState"
    ]
    received = [
        c
        for c in carol.node_calls()
        if c["direction"] == "received" and c["method"] == "ProjectState"
    ]
    assert sent
    assert received
    assert {c["outcome"] for c in received} == {"success"}
    assert json.dumps(received)  # plain JSON facts, no row data


def test_a_lost_reply_redelivered_is_answered_without_applying_twice(carol_joined):
    alice, bob = carol_joined["alice"], carol_joined["bob"]
    again = alice.act("redeliver_last", "PipelineReplicate")
    assert again["state"] == "delivered"
    assert again["reply"]["redelivered"] is True
    assert len(bob.act("pipelines", "Credit")) == 2  # Credit LR v2 and Scoring, once each


def test_a_message_to_a_node_that_is_down_waits_and_is_resent_when_it_is_back(carol_joined):
    alice, carol = carol_joined["alice"], carol_joined["carol"]
    carol.stop_service()
    try:
        alice.act("save_pipeline", "Credit", "While carol was down")
        waiting = [
            m for m in alice.act("outbox") if m["peer"] == "carol" and m["state"] != "delivered"
        ]
        assert [m["method"] for m in waiting] == ["PipelineReplicate"]
        assert "Node carol at" in waiting[0]["error"]
    finally:
        carol.serve()
    assert all(m["state"] == "delivered" for m in alice.act("retry_pending"))
    names = {p["name"] for p in carol.act("pipelines", "Credit")}
    assert "While carol was down" in names
