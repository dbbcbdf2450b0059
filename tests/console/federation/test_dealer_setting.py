"""The project's source of Beaver triples, at the owner node (`console.federation.dealers`)
and at the initiator of a run (`console.federation.initiate`).

This installation is alice's node, owning the project with bob as member; dave is a paired
node that is no member (the dealer node), erin a node alice never paired with.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from console.federation import dealers, initiate, projects, wire
from console.federation.models import OutgoingMessage, RunTripleSource, SharedProject
from console.nodes.link.envelope import EnvelopeError
from console.nodes.link.transport import NodeCallError
from console.nodes.models import Node, PeerRoute
from tests.console.conftest import make_node, make_user
from tests.console.federation.conftest import deliver, make_route
from tests.console.federation.test_initiate import ALICE_ENGINE, alices_run  # noqa: F401
from tests.console.federation.test_remote_sources import with_bob  # noqa: F401
from workflows.actors import Actor
from workflows.messages import parse, render
from workflows.models import Run, Status

DAVE_ENGINE, BOB_ENGINE = "127.0.0.1:7104", "127.0.0.1:7102"


@pytest.fixture
def dave(db, at_alice):
    """A node paired with alice's, no member of any project: the dealer to be."""
    node = make_node("dave", "Dave Neutral Services")
    make_route(node)
    return node


@pytest.fixture
def owner(alice_user) -> Actor:
    return Actor.for_user(alice_user)


def agreed(owner: Actor, project, dealer, route) -> SharedProject:
    """The owner proposes `dealer` and bob, the other member, accepts."""
    proposal = dealers.set_dealer(owner, project, dealer)
    deliver(route, "ProjectVote", {"proposal": str(proposal.uid), "decision": "accepted"})
    return SharedProject.objects.get(project=project)


@pytest.fixture
def dealt_run(alices_run, dave, owner):  # noqa: F811
    """Alice's run of a project whose members agreed on dave as its dealer node."""
    run, _ = alices_run
    agreed(owner, run.pipeline.project, dave, PeerRoute.objects.get(node__name="bob"))
    return alices_run


def test_the_owner_proposes_a_paired_third_node_and_the_members_vote(
    with_bob,  # noqa: F811
    at_alice,
    carol,
    dave,
    owner,
):
    before = SharedProject.objects.get(project=with_bob).version
    proposal = dealers.set_dealer(owner, with_bob, dave)
    assert (proposal.kind, proposal.subject, proposal.votes) == ("dealer", dave, {"bob": "pending"})
    [ballot] = OutgoingMessage.objects.filter(method="ProjectPropose", body__kind="dealer")
    assert ballot.peer.name == "bob"
    assert ballot.body["subject"] == "dave"
    assert dealers.dealer_of(with_bob) == ""  # nothing changes before every member accepted
    with pytest.raises(ValidationError, match="already waiting for votes"):
        dealers.set_dealer(owner, with_bob, carol)
    deliver(at_alice["bob"], "ProjectVote", {"proposal": str(proposal.uid), "decision": "accepted"})
    shared = SharedProject.objects.get(project=with_bob)
    assert shared.dealer == "dave"
    assert shared.version == before + 1
    states = OutgoingMessage.objects.filter(method="ProjectState", peer__name="bob")
    state = states.order_by("id").last()
    assert state.body["project"]["dealer"] == "dave"
    assert state.body["project"]["version"] == shared.version
    # Back to the trusted first party: a change of trust too, voted the same way.
    back = dealers.set_dealer(owner, with_bob, None)
    assert back.subject is None
    last = OutgoingMessage.objects.filter(method="ProjectPropose").order_by("id").last()
    assert last.body["subject"] == ""
    deliver(at_alice["bob"], "ProjectVote", {"proposal": str(back.uid), "decision": "accepted"})
    assert dealers.dealer_of(with_bob) == ""


def test_one_decline_keeps_the_current_source(with_bob, at_alice, dave, owner):  # noqa: F811
    proposal = dealers.set_dealer(owner, with_bob, dave)
    deliver(at_alice["bob"], "ProjectVote", {"proposal": str(proposal.uid), "decision": "declined"})
    proposal.refresh_from_db()
    assert proposal.status == "declined"
    assert dealers.dealer_of(with_bob) == ""


def test_a_project_without_other_members_applies_at_once(at_alice, alice, alice_user, dave):
    from console.projects.models import Project, ProjectMember

    project = Project.objects.create(name="Solo", owner_node=alice, created_by=alice_user)
    ProjectMember.objects.create(project=project, node=alice)
    proposal = dealers.set_dealer(Actor.for_user(alice_user), project, dave)
    assert proposal.status == "accepted"
    assert dealers.dealer_of(project) == "dave"


def test_the_same_choice_again_proposes_nothing(with_bob, at_alice, dave, owner):  # noqa: F811
    agreed(owner, with_bob, dave, at_alice["bob"])
    sent = OutgoingMessage.objects.count()
    assert dealers.set_dealer(owner, with_bob, dave) is None
    assert OutgoingMessage.objects.count() == sent


def test_a_node_that_is_not_paired_is_refused(with_bob, owner):  # noqa: F811
    erin = make_node("erin", "Erin")
    with pytest.raises(ValidationError, match="'erin' is not a paired peer of this node"):
        dealers.set_dealer(owner, with_bob, erin)
    assert dealers.dealer_of(with_bob) == ""


def test_a_node_whose_route_is_disabled_is_refused(with_bob, dave, owner):  # noqa: F811
    PeerRoute.objects.filter(node=dave).update(enabled=False)
    with pytest.raises(ValidationError, match="route to node 'dave' is disabled"):
        dealers.set_dealer(owner, with_bob, Node.objects.get(pk=dave.pk))


def test_a_computing_party_cannot_be_the_dealer(with_bob, bob, owner):  # noqa: F811
    with pytest.raises(ValidationError, match="'bob' is a member of this project") as refused:
        dealers.set_dealer(owner, with_bob, bob)
    assert refused.value.code == "dealer_is_party"
    assert dealers.dealer_of(with_bob) == ""


def test_the_dealer_cannot_be_invited_as_a_member(with_bob, at_alice, dave, owner):  # noqa: F811
    agreed(owner, with_bob, dave, at_alice["bob"])
    with pytest.raises(ValidationError, match="'dave' is this project's dealer node"):
        projects.invite_node(owner, with_bob, dave)


def test_only_the_owner_chooses(with_bob, dave, bob):  # noqa: F811
    bobs_user = make_user("bob_admin", bob)
    with pytest.raises(Exception, match="owner"):
        dealers.set_dealer(Actor.for_user(bobs_user), with_bob, dave)
    assert dealers.dealer_of(with_bob) == ""


def test_a_state_naming_a_member_as_dealer_is_malformed():
    body = {
        "project": {
            "uid": "6f1c1a8e-0000-4000-8000-000000000001",
            "name": "Credit",
            "status": "active",
            "version": 3,
            "members": ["alice", "bob"],
            "dealer": "bob",
        }
    }
    with pytest.raises(EnvelopeError, match="dealer"):
        wire.ProjectState.read(body)
    with pytest.raises(EnvelopeError, match="not a node name"):
        wire.ProjectState.read({"project": {**body["project"], "dealer": "no such/node"}})
    older = {"project": {k: v for k, v in body["project"].items() if k != "dealer"}}
    assert wire.ProjectState.read(older).dealer == ""  # an older owner: the first party


# ----- the initiator ---------------------------------------------------------------------------
def answers(calls, refuse_dealer: str = ""):
    def answer(peer, method, body):
        calls.append((peer.name, method, body))
        if method == "DealerStart" and refuse_dealer:
            raise NodeCallError("dave", "h:1", refuse_dealer, "refused")
        engine = DAVE_ENGINE if method == "DealerStart" else BOB_ENGINE
        return {"accepted": True, "engine": engine}

    return lambda *call: lambda: answer(*call)


def test_the_initiator_asks_the_dealer_once_the_members_accepted(dealt_run, alice, monkeypatch):
    run, sources = dealt_run
    calls = []
    monkeypatch.setattr(initiate, "_prepare", answers(calls))
    engines = initiate.start_across_nodes(run, sources, ("alice", "bob"), alice)
    assert engines == {"alice": ALICE_ENGINE, "bob": BOB_ENGINE, "dave": DAVE_ENGINE}
    assert [(name, method) for name, method, _ in calls] == [
        ("bob", "RunStart"),
        ("dave", "DealerStart"),
        ("bob", "RunLaunch"),
    ]
    assert calls[0][2]["dealer"] == "dave"  # bob checks it against his own copy
    dealer_start = calls[1][2]
    assert dealer_start["parties"] == ["alice", "bob"]
    assert dealer_start["engines"] == {"alice": ALICE_ENGINE, "bob": BOB_ENGINE}
    assert dealer_start["run"] == run.pk
    assert set(dealer_start) == {"project", "project_name", "run", "parties", "engines"}
    assert calls[2][2]["engines"] == engines
    assert RunTripleSource.objects.get(run=run).dealer == "dave"


def test_a_dealer_that_refuses_is_named_and_the_members_are_told(dealt_run, alice, monkeypatch):
    run, sources = dealt_run
    refusal = "dave does not serve as a dealer node"
    monkeypatch.setattr(initiate, "_prepare", answers([], refuse_dealer=refusal))
    with pytest.raises(initiate.NodesUnavailable) as unavailable:
        initiate.start_across_nodes(run, sources, ("alice", "bob"), alice)
    said = str(unavailable.value)
    assert "dave: the dealer node cannot serve the run: dave does not serve" in said
    [abort] = OutgoingMessage.objects.filter(method="RunAbort")
    assert abort.peer.name == "bob"
    assert "dave" in render(parse(abort.body["reason"]), "en")
    assert Run.objects.get(pk=run.pk).status == Status.CANCELLED


def test_an_unreachable_dealer_is_named(dealt_run, alice, monkeypatch):
    run, sources = dealt_run
    original = initiate._prepare

    def prepare(peer, method, body):  # bob answers; nothing listens at dave's address
        if method == "DealerStart":
            return original(peer, method, body)
        return lambda: {"accepted": True, "engine": BOB_ENGINE}

    monkeypatch.setattr(initiate, "_prepare", prepare)
    with pytest.raises(initiate.NodesUnavailable, match="dave: the dealer node cannot serve the "
                       "run: unreachable"):  # fmt: skip
        initiate.start_across_nodes(run, sources, ("alice", "bob"), alice)


def test_a_dealer_whose_route_is_gone_here_is_named_before_anyone_is_asked(
    dealt_run, alice, dave, monkeypatch
):
    run, sources = dealt_run
    PeerRoute.objects.filter(node=dave).delete()  # unpaired since
    calls = []
    monkeypatch.setattr(initiate, "_prepare", answers(calls))
    with pytest.raises(initiate.NodesUnavailable, match="pair with dave first"):
        initiate.start_across_nodes(run, sources, ("alice", "bob"), alice)
    assert "DealerStart" not in [method for _, method, _ in calls]


def test_a_launch_that_fails_stops_the_dealer_too(dealt_run, alice, monkeypatch):
    run, sources = dealt_run

    def answer(peer, method, body):
        if method == "RunLaunch":
            raise NodeCallError("bob", "h:1", "connection refused", "unavailable")
        return {"accepted": True, "engine": DAVE_ENGINE if peer.name == "dave" else BOB_ENGINE}

    monkeypatch.setattr(initiate, "_prepare", lambda *call: lambda: answer(*call))
    with pytest.raises(initiate.NodesUnavailable, match="bob: unreachable"):
        initiate.start_across_nodes(run, sources, ("alice", "bob"), alice)
    [stop] = OutgoingMessage.objects.filter(method="DealerStop")
    assert stop.peer.name == "dave"
    assert stop.body["run"] == run.pk
    assert "bob: unreachable" in render(parse(stop.body["reason"]), "en")
