"""The initiating node: invitations and votes, members' datasets, decisions of source parties.

This installation is alice's node and owns the project; bob and carol are paired peers. Every
refusal is what an adversarial peer gets: a non-member reading the project, a non-voter voting,
a node publishing a dataset into a project it is not in, a node deciding for another party.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from console.federation import projects
from console.federation.models import Decision, Proposal, ReceivedMessage, RemoteDataset
from console.nodes.link.service import Refused
from console.projects.models import Project, ProjectMember
from tests.console.federation.conftest import deliver, sent
from workflows.actors import Actor
from workflows.models import Approval, Pipeline


def as_user(user) -> Actor:
    return Actor.for_user(user)


@pytest.fixture
def own_project(at_alice, alice, alice_user) -> Project:
    project = Project.objects.create(name="Credit", owner_node=alice, created_by=alice_user)
    ProjectMember.objects.create(project=project, node=alice)
    return project


@pytest.fixture
def bob_invited(own_project, bob, alice_user) -> Proposal:
    return projects.invite_node(as_user(alice_user), own_project, bob)


@pytest.fixture
def bob_member(bob_invited, at_alice) -> Project:
    deliver(at_alice["bob"], "ProjectVote", vote(bob_invited, "accepted"))
    return bob_invited.project


def vote(proposal: Proposal, decision: str) -> dict:
    return {"proposal": str(proposal.uid), "decision": decision}


def test_it_invites_a_paired_node_with_a_proposal_sent_to_it(bob_invited, own_project):
    assert bob_invited.votes == {"bob": "pending"}
    assert not own_project.has_member(bob_invited.subject)
    [message] = sent("ProjectPropose", to="bob")
    assert message.body["subject"] == "bob"
    assert message.body["kind"] == "add"
    assert message.body["project"]["members"] == ["alice"]
    assert message.body["project"]["uid"] == str(own_project.shared.uid)


def test_it_refuses_to_invite_an_unpaired_node_or_outside_network_mode(
    own_project, alice_user, settings
):
    from tests.console.conftest import make_node

    dave = make_node("dave", "Dave Ltd")
    with pytest.raises(ValidationError, match="not a paired peer"):
        projects.invite_node(as_user(alice_user), own_project, dave)
    settings.PRIVPAD_DEPLOYMENT = "embedded"
    with pytest.raises(ValidationError, match="only in network mode"):
        projects.invite_node(as_user(alice_user), own_project, dave)


def test_it_refuses_a_second_invitation_while_one_waits(bob_invited, alice_user, bob):
    with pytest.raises(ValidationError, match="already waiting"):
        projects.invite_node(as_user(alice_user), bob_invited.project, bob)


def test_an_accepted_invitation_adds_the_member_and_sends_it_the_state(bob_member, bob):
    assert bob_member.has_member(bob)
    assert Proposal.objects.get().status == Decision.ACCEPTED
    [state] = sent("ProjectState", to="bob")
    assert state.body["project"]["members"] == ["alice", "bob"]
    assert state.body["project"]["version"] == 2
    assert sent("ProposalOutcome", to="bob")[0].body["outcome"] == "accepted"


def test_a_declined_invitation_changes_nothing(bob_invited, at_alice, bob):
    reply = deliver(at_alice["bob"], "ProjectVote", vote(bob_invited, "declined"))
    assert reply == {"status": "declined"}
    assert not bob_invited.project.has_member(bob)
    assert sent("ProjectState") == []


def test_a_node_that_is_not_a_voter_cannot_vote(bob_invited, at_alice, carol):
    with pytest.raises(Refused, match="carol does not vote on this proposal"):
        deliver(at_alice["carol"], "ProjectVote", vote(bob_invited, "accepted"))
    assert not bob_invited.project.has_member(carol)


def test_adding_a_third_node_is_voted_by_the_members_too(bob_member, at_alice, alice_user, carol):
    proposal = projects.invite_node(as_user(alice_user), bob_member, carol)
    assert proposal.votes == {"bob": "pending", "carol": "pending"}
    deliver(at_alice["carol"], "ProjectVote", vote(proposal, "accepted"))
    assert not bob_member.has_member(carol)  # bob has not voted yet
    deliver(at_alice["bob"], "ProjectVote", vote(proposal, "accepted"))
    assert bob_member.has_member(carol)


def test_removing_a_member_is_voted_by_the_others_and_tells_the_removed_node(
    bob_member, at_alice, alice_user, bob
):
    proposal = projects.propose_removal(as_user(alice_user), bob_member, bob)
    assert proposal.votes == {}  # no other member votes: applied at once
    assert not bob_member.has_member(bob)
    last_state = sent("ProjectState", to="bob")[-1]
    assert last_state.body["project"]["members"] == ["alice"]


def test_a_redelivered_vote_is_applied_once(bob_invited, at_alice):
    body = vote(bob_invited, "accepted")
    first = deliver(at_alice["bob"], "ProjectVote", body, message="a" * 32)
    again = deliver(at_alice["bob"], "ProjectVote", body, message="a" * 32)
    assert again == {**first, "redelivered": True}
    assert ReceivedMessage.objects.filter(message_id="a" * 32).count() == 1
    assert ProjectMember.objects.filter(project=bob_invited.project).count() == 2


def test_a_non_member_cannot_read_the_project(bob_member, at_alice):
    body = {"project": str(bob_member.shared.uid)}
    with pytest.raises(Refused, match="carol is not a member"):
        deliver(at_alice["carol"], "ProjectFetch", body)
    state = deliver(at_alice["bob"], "ProjectFetch", body)["project"]
    assert state["members"] == ["alice", "bob"]
    assert state["name"] == "Credit"


def dataset(remote_id=7, authorization=11, version=1, roles=None) -> dict:
    return {
        "id": remote_id,
        "name": "orders",
        "description": "",
        "columns": [["uid", "str"], ["amount", "float"]],
        "authorization": authorization,
        "version": version,
        "roles": roles or {"uid": "id", "amount": "feature"},
    }


def test_a_member_publishes_its_dataset_schema_and_roles_only(bob_member, at_alice):
    body = {"project": str(bob_member.shared.uid), "dataset": dataset()}
    assert deliver(at_alice["bob"], "DatasetPublish", body) == {"applied": True}
    remote = RemoteDataset.objects.get()
    assert remote.node.name == "bob"
    assert remote.columns == [{"name": "uid", "type": "str"}, {"name": "amount", "type": "float"}]
    assert remote.column_roles == {"uid": "id", "amount": "feature"}


def test_a_new_version_replaces_and_a_late_old_one_is_ignored(bob_member, at_alice):
    uid = str(bob_member.shared.uid)
    new = dataset(authorization=12, version=2, roles={"uid": "id", "amount": "label"})
    deliver(at_alice["bob"], "DatasetPublish", {"project": uid, "dataset": new})
    late = deliver(at_alice["bob"], "DatasetPublish", {"project": uid, "dataset": dataset()})
    assert late == {"applied": False}
    assert RemoteDataset.objects.get().column_roles["amount"] == "label"


def test_revocation_reaches_the_members(bob_member, at_alice):
    uid = str(bob_member.shared.uid)
    deliver(at_alice["bob"], "DatasetPublish", {"project": uid, "dataset": dataset()})
    body = {"project": uid, "dataset": 7, "authorization": 11}
    assert deliver(at_alice["bob"], "DatasetRevoke", body) == {"revoked": 1}
    assert RemoteDataset.objects.get().revoked_at is not None


def test_a_non_member_cannot_authorise_a_dataset_into_the_project(bob_member, at_alice):
    body = {"project": str(bob_member.shared.uid), "dataset": dataset()}
    with pytest.raises(Refused, match="carol is not a member of that project"):
        deliver(at_alice["carol"], "DatasetPublish", body)
    assert not RemoteDataset.objects.exists()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"roles": {"uid": "id"}}, "one known role to every column"),
        ({"roles": {"uid": "id", "amount": "boss"}}, "one known role to every column"),
        ({"columns": [["uid", "str"], ["uid", "int"]]}, "names a column twice"),
        ({"columns": [["uid", "blob"], ["amount", "float"]]}, "unknown type"),
        ({"columns": []}, "1 to 512 columns"),
        ({"id": -1}, "'id' is not a whole number"),
    ],
)
def test_a_malformed_dataset_is_rejected_naming_the_problem(bob_member, at_alice, change, problem):
    body = {"project": str(bob_member.shared.uid), "dataset": {**dataset(), **change}}
    with pytest.raises(Refused, match=problem):
        deliver(at_alice["bob"], "DatasetPublish", body)


def test_a_member_cannot_push_a_pipeline_into_the_owners_project(bob_member, at_alice):
    body = {"project": str(bob_member.shared.uid), "pipeline": {"id": 1, "version": 9}}
    with pytest.raises(Refused, match="bob does not own project 'Credit'"):
        deliver(at_alice["bob"], "PipelineReplicate", body)


@pytest.fixture
def bobs_approval(bob_member, bob, carol, alice_user) -> Approval:
    ProjectMember.objects.create(project=bob_member, node=carol)
    pipeline = Pipeline.objects.create(project=bob_member, name="LR", graph={})
    return Approval.objects.create(
        pipeline=pipeline,
        project=bob_member,
        party="bob",
        party_node=bob,
        fingerprint="f" * 64,
        plan={"entries": [], "sentences": []},
        requested_by=alice_user,
    )


def decision(approval: Approval, status="approved", fingerprint=None) -> dict:
    return {
        "approval": approval.pk,
        "fingerprint": fingerprint or approval.fingerprint,
        "status": status,
        "comment": "fine",
        "decided_by": "bob_admin",
    }


def test_the_source_partys_decision_updates_the_initiators_consent(bobs_approval, at_alice):
    assert deliver(at_alice["bob"], "ApprovalDecision", decision(bobs_approval)) == {
        "status": "approved"
    }
    bobs_approval.refresh_from_db()
    assert bobs_approval.status == "approved"
    assert bobs_approval.comment == "fine"


def test_a_node_cannot_approve_for_another_party(bobs_approval, at_alice):
    with pytest.raises(Refused, match="carol may not decide for bob"):
        deliver(at_alice["carol"], "ApprovalDecision", decision(bobs_approval))
    bobs_approval.refresh_from_db()
    assert bobs_approval.status == "pending"


def test_a_decision_on_another_plan_is_refused(bobs_approval, at_alice):
    with pytest.raises(Refused, match="another plan"):
        deliver(at_alice["bob"], "ApprovalDecision", decision(bobs_approval, fingerprint="0" * 64))


def test_an_approval_requested_of_a_remote_party_is_sent_to_its_node(
    bobs_approval, django_capture_on_commit_callbacks
):
    from console.federation import publish

    publish.request_approval(bobs_approval)
    [request] = sent("ApprovalRequest", to="bob")
    assert request.body["approval"] == bobs_approval.pk
    assert request.body["party"] == "bob"


def test_a_message_without_an_id_is_rejected(bob_invited, at_alice):
    from console.federation import handlers
    from console.nodes.link.envelope import Envelope

    envelope = Envelope("bob", "0" * 32, 0.0, vote(bob_invited, "accepted"))
    with pytest.raises(Refused, match="'message' id is not 32 hex digits"):
        handlers.receive("ProjectVote", at_alice["bob"], envelope)


def test_removing_a_member_waits_for_the_other_members_vote(
    bob_member, at_alice, alice_user, carol
):
    ProjectMember.objects.create(project=bob_member, node=carol)
    proposal = projects.propose_removal(as_user(alice_user), bob_member, carol)
    assert proposal.votes == {"bob": "pending"}
    assert bob_member.has_member(carol)
    with pytest.raises(Refused, match="carol does not vote on this proposal"):
        deliver(at_alice["carol"], "ProjectVote", vote(proposal, "declined"))
    deliver(at_alice["bob"], "ProjectVote", vote(proposal, "accepted"))
    assert not bob_member.has_member(carol)
    assert sent("ProjectState", to="carol")[-1].body["project"]["members"] == ["alice", "bob"]


def test_the_owner_cannot_be_removed(bob_member, alice_user, alice):
    with pytest.raises(ValidationError, match="owns the project"):
        projects.propose_removal(as_user(alice_user), bob_member, alice)


def test_a_member_user_cannot_invite_into_the_owners_project(own_project, bob_user, carol):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        projects.invite_node(as_user(bob_user), own_project, carol)
