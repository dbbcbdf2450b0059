"""`manage.py network_demo STEP... --user USER`: the demo's steps at one node, and their refusals.

This installation is alice's node (network mode) with bob and carol as paired peers whose
services do not answer here; the whole walk across three real nodes is
`tests/console/federation/test_demo_across_nodes.py`. Each step done out of order, for an
unknown user, or in embedded mode says what is missing. The `--dealer` steps are checked at
alice (proposing dave) and at bob (accepting), messages queued rather than sent; the walk with
four real nodes is `make network --dealer` (`console.nodes.devnet`), and the dealer's part of a
run `tests/console/federation/test_dealer_across_nodes.py`.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from console.datasets.models import Dataset
from console.demo.network import DEALER, PROJECT_NAME, accept_dealer, propose_dealer
from console.projects.models import Project, ProjectMember
from tests.console.federation.conftest import make_route, make_self


def network_demo(*steps: str, user: str = "alice_admin") -> str:
    out = StringIO()
    call_command("network_demo", *steps, "--user", user, stdout=out)
    return out.getvalue()


@pytest.fixture
def at_alice(settings, tmp_path, alice, bob, carol, alice_user):
    settings.PRIVPAD_DEPLOYMENT = "network"
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    make_self(alice)
    return {node.name: make_route(node) for node in (bob, carol)}


def test_it_refuses_an_embedded_console(db, alice_user):
    with pytest.raises(CommandError, match="PRIVPAD_DEPLOYMENT=network.*bootstrap_demo"):
        network_demo("dataset")


def test_it_acts_only_as_a_user_of_this_node(at_alice, bob_user):
    with pytest.raises(CommandError, match="no user 'bob_admin' of this node"):
        network_demo("dataset", user="bob_admin")
    with pytest.raises(CommandError, match="no user 'nobody' of this node"):
        network_demo("dataset", user="nobody")


def test_an_unknown_step_is_refused(at_alice):
    with pytest.raises(CommandError, match="invalid choice: 'everything'"):
        network_demo("everything")


def test_the_dataset_step_uploads_this_nodes_table_once(at_alice, alice):
    assert "alice: dataset credit_customers uploaded" in network_demo("dataset")
    assert "alice: dataset credit_customers kept" in network_demo("dataset")
    [dataset] = Dataset.objects.all()
    assert dataset.node == alice
    assert dataset.row_count == 6000


def test_steps_before_the_project_say_what_is_missing(at_alice):
    network_demo("dataset")
    with pytest.raises(CommandError, match=f"not a member of '{PROJECT_NAME}' yet"):
        network_demo("authorise")
    with pytest.raises(CommandError, match=f"not a member of '{PROJECT_NAME}' yet"):
        network_demo("pipeline")
    with pytest.raises(CommandError, match=f"no invitation to '{PROJECT_NAME}' has reached"):
        network_demo("accept")
    with pytest.raises(CommandError, match=f"not a member of '{PROJECT_NAME}'"):
        network_demo("approve")


def test_invitations_that_cannot_reach_a_peer_fail_the_step_naming_it(at_alice):
    with pytest.raises(CommandError, match="messages not delivered: ProjectPropose to bob"):
        network_demo("project")
    assert Project.objects.filter(name=PROJECT_NAME).exists()  # kept: a re-run resends


def test_the_pipeline_waits_for_every_members_dataset(at_alice, alice, alice_user, bob, carol):
    from console.projects import services
    from workflows.actors import Actor

    project = services.create_project(Actor.for_user(alice_user), PROJECT_NAME, "")
    for member in (bob, carol):
        ProjectMember.objects.create(project=project, node=member)
    network_demo("dataset", "authorise")
    with pytest.raises(CommandError, match="bob's dataset is not authorised to"):
        network_demo("pipeline")


def test_approving_waits_for_the_replica_and_has_nothing_to_do_when_policies_allow(
    at_alice, alice, bob
):
    """At a member, the `approve` step: the demo pipeline must have been replicated; with the
    demo's standing policies published, the plan asks the member nothing (no request)."""
    from console.demo.pipeline import PIPELINE_NAME
    from console.federation.models import PipelineReplica
    from workflows.models import Pipeline

    project = Project.objects.create(name=PROJECT_NAME, owner_node=bob)
    with pytest.raises(CommandError, match="has not been replicated to this node yet"):
        network_demo("approve")
    pipeline = Pipeline.objects.create(project=project, name=PIPELINE_NAME, graph={})
    PipelineReplica.objects.create(pipeline=pipeline, origin=bob, remote_id=1, version=1)
    assert "no request of" in network_demo("approve")


# ----- `make network --dealer`: dave as the demo project's dealer node ------------------------
@pytest.fixture
def demo_project(at_alice, alice, alice_user, bob, carol) -> Project:
    """Alice's demo project with bob and carol as members, as after the demo's phases."""
    from console.federation import projects

    project = Project.objects.create(name=PROJECT_NAME, owner_node=alice, created_by=alice_user)
    for member in (alice, bob, carol):
        ProjectMember.objects.create(project=project, node=member)
    projects.share(project)
    return project


@pytest.fixture
def dave(db):
    from tests.console.conftest import make_node

    return make_node(DEALER, "Dave Trust Services")


def test_alice_proposes_dave_once_and_the_members_are_asked(demo_project, dave, alice_user):
    from console.federation.models import OutgoingMessage, Proposal

    make_route(dave)
    said = propose_dealer(alice_user)
    assert said == f"proposed the dealer node dave for '{PROJECT_NAME}'; the members vote"
    [proposal] = Proposal.objects.filter(kind="dealer")
    assert proposal.subject == dave
    assert proposal.votes == {"bob": "pending", "carol": "pending"}
    asked = OutgoingMessage.objects.filter(method="ProjectPropose", body__kind="dealer")
    assert sorted(m.peer.name for m in asked) == ["bob", "carol"]
    assert {m.body["subject"] for m in asked} == {"dave"}
    assert propose_dealer(alice_user) == said  # run again: the same proposal still waits
    assert Proposal.objects.filter(kind="dealer").count() == 1


def test_once_bob_and_carol_accepted_alice_says_dave_is_the_dealer(
    demo_project, dave, alice_user, at_alice
):
    from console.federation.dealers import dealer_of
    from console.federation.models import Proposal
    from tests.console.federation.conftest import deliver

    make_route(dave)
    propose_dealer(alice_user)
    proposal = Proposal.objects.get(kind="dealer")
    for name in ("bob", "carol"):
        vote = {"proposal": str(proposal.uid), "decision": "accepted"}
        deliver(at_alice[name], "ProjectVote", vote)
    assert dealer_of(demo_project) == "dave"
    assert "already takes its Beaver triples from the dealer node dave" in propose_dealer(
        alice_user
    )


def test_proposing_an_unknown_or_unpaired_dave_says_to_pair_first(demo_project, db):
    with pytest.raises(CommandError, match="not paired with dave: pair the nodes first"):
        network_demo("propose_dealer")
    from tests.console.conftest import make_node

    make_node(DEALER, "Dave Trust Services")  # known (e.g. a route removed), not paired now
    with pytest.raises(CommandError, match="Node 'dave' is not a paired peer of this node"):
        network_demo("propose_dealer")


def test_proposing_dave_needs_the_project(at_alice, dave):
    make_route(dave)
    with pytest.raises(CommandError, match=f"not a member of '{PROJECT_NAME}' yet"):
        network_demo("propose_dealer")


@pytest.fixture
def at_bob(settings, tmp_path, alice, bob, carol, bob_user):
    """bob's node: a copy of alice's demo project, bob and carol its other members."""
    settings.PRIVPAD_DEPLOYMENT = "network"
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    make_self(bob)
    make_route(alice)
    return Project.objects.create(name=PROJECT_NAME, owner_node=alice)


def dealer_ballot(alice, subject: str = DEALER):
    import uuid

    from console.federation.models import Ballot

    return Ballot.objects.create(
        proposal_uid=uuid.uuid4(),
        project_uid=uuid.uuid4(),
        owner=alice,
        kind="dealer",
        subject_name=subject,
        project_name=PROJECT_NAME,
        member_names=["alice", "bob", "carol"],
    )


def test_bob_accepts_alices_proposal_of_dave_once(at_bob, alice, bob_user):
    from console.federation.models import OutgoingMessage

    ballot = dealer_ballot(alice)
    assert accept_dealer(bob_user) == f"accepted the dealer node dave for '{PROJECT_NAME}'"
    ballot.refresh_from_db()
    assert (ballot.status, ballot.decided_by) == ("accepted", bob_user)
    [vote] = OutgoingMessage.objects.filter(method="ProjectVote")
    assert (vote.peer, vote.body["decision"]) == (alice, "accepted")
    assert vote.body["proposal"] == str(ballot.proposal_uid)
    again = accept_dealer(bob_user)  # run again before carol voted: nothing more is sent
    assert again == "accepted the dealer node dave; the other members' votes are awaited"
    assert OutgoingMessage.objects.filter(method="ProjectVote").count() == 1


def test_bob_accepts_nothing_but_a_proposal_of_dave(at_bob, alice):
    dealer_ballot(alice, subject="erin")
    with pytest.raises(CommandError, match="no proposal of the dealer node dave for 'Joint"):
        network_demo("accept_dealer", user="bob_admin")


def test_bob_has_nothing_to_accept_once_his_copy_names_dave(at_bob, bob_user):
    from console.federation.models import SharedProject

    SharedProject.objects.create(project=at_bob, version=2, dealer=DEALER)
    assert "already takes its Beaver triples from the dealer node dave" in accept_dealer(bob_user)
