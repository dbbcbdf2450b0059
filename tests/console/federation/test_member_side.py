"""A member node: ballots in the message center, the project copy, replicas, approvals.

This installation is bob's node; alice owns the project and carol is another paired peer who
tries what a member must refuse: claiming alice's project, pushing its pipeline or its state,
asking for an approval that is not hers to ask.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from console.federation import projects
from console.federation.models import Ballot, PipelineReplica, SharedProject
from console.nodes.link.service import Refused
from console.projects.models import Project
from tests.console.conftest import make_user
from tests.console.federation.conftest import deliver, sent
from workflows import ownership
from workflows.actors import Actor
from workflows.api.approvals import to_decide
from workflows.disclosure import consent
from workflows.messages import Message, render, stored_text
from workflows.models import Approval
from workflows.services import export_document

PROJECT = uuid.UUID("0f6c1c3e-6a53-4b8e-9d39-64f5c8a5a001")


def state(version=1, members=("alice",), name="Credit") -> dict:
    return {
        "project": {
            "uid": str(PROJECT),
            "name": name,
            "description": "Alice x Bob",
            "status": "active",
            "version": version,
            "members": list(members),
        }
    }


def proposal(kind="add", subject="bob", proposal_uid=None) -> dict:
    return {
        **state(),
        "proposal": str(proposal_uid or uuid.uuid4()),
        "kind": kind,
        "subject": subject,
    }


def as_user(user) -> Actor:
    return Actor.for_user(user)


@pytest.fixture
def ballot(at_bob) -> Ballot:
    deliver(at_bob["alice"], "ProjectPropose", proposal())
    return Ballot.objects.get()


@pytest.fixture
def joined(ballot, at_bob, bob_user) -> Project:
    """bob's admin accepted and alice sent the state with bob as a member."""
    Ballot.objects.filter(pk=ballot.pk).update(status="accepted")
    deliver(at_bob["alice"], "ProjectState", state(version=2, members=("alice", "bob")))
    return SharedProject.objects.get(uid=PROJECT).project


def test_an_invitation_waits_in_the_message_center(ballot, alice):
    assert ballot.owner == alice
    assert (ballot.kind, ballot.subject_name, ballot.status) == ("add", "bob", "pending")
    assert ballot.project_name == "Credit"
    assert ballot.member_names == ["alice"]
    assert not SharedProject.objects.exists()  # no copy before the admin accepts


def test_a_node_that_is_neither_invited_nor_member_gets_no_ballot(at_bob):
    with pytest.raises(Refused, match="does not vote on that change"):
        deliver(at_bob["alice"], "ProjectPropose", proposal(subject="dave"))


def test_the_node_admin_accepts_and_the_vote_goes_to_the_owner(ballot, bob_user):
    ballot, message = projects.decide_ballot(as_user(bob_user), ballot, True)
    assert ballot.status == "accepted"
    assert message.method == "ProjectVote"
    assert message.peer.name == "alice"
    assert message.body == {"proposal": str(ballot.proposal_uid), "decision": "accepted"}


def test_only_node_admins_vote(ballot, bob):
    analyst = make_user("bob_analyst", bob, role="analyst")
    with pytest.raises(PermissionDenied):
        projects.decide_ballot(as_user(analyst), ballot, True)
    assert sent("ProjectVote") == []


def test_the_state_after_acceptance_creates_the_copy_owned_by_the_initiator(joined, alice, bob):
    assert joined.owner_node == alice
    assert joined.name == "Credit"
    assert {m.node.name for m in joined.memberships.all()} == {"alice", "bob"}
    assert joined.shared.version == 2


def test_no_copy_without_having_accepted(ballot, at_bob):
    with pytest.raises(Refused, match="did not accept to join"):
        deliver(at_bob["alice"], "ProjectState", state(version=2, members=("alice", "bob")))


def test_another_node_cannot_send_the_owners_state(joined, at_bob):
    with pytest.raises(Refused, match="carol does not own that project"):
        deliver(at_bob["carol"], "ProjectState", state(version=9, members=("carol", "bob")))
    joined.refresh_from_db()
    assert joined.owner_node.name == "alice"


def test_an_old_state_is_ignored_and_a_new_one_applied(joined, at_bob):
    old = deliver(at_bob["alice"], "ProjectState", state(version=2, name="Old"))
    assert old["applied"] is False
    deliver(at_bob["alice"], "ProjectState", state(version=3, members=("alice", "bob", "carol")))
    joined.refresh_from_db()
    assert joined.memberships.count() == 3


def test_removed_from_the_project_the_copy_is_archived(joined, at_bob):
    deliver(at_bob["alice"], "ProjectState", state(version=3, members=("alice",)))
    joined.refresh_from_db()
    assert joined.is_archived
    assert not joined.has_member(joined.owner_node.__class__.objects.get(name="bob"))


def pipeline_body(version=1, name="LR demo", graph=None) -> dict:
    from workflows.models import Pipeline

    document = export_document(Pipeline(name=name, description="", graph=graph or {}))
    return {
        "project": str(PROJECT),
        "pipeline": {"id": 41, "version": version, "document": json.dumps(document)},
    }


def test_the_owner_replicates_a_pipeline_read_only(joined, at_bob, bob_user, platform_admin):
    deliver(at_bob["alice"], "PipelineReplicate", pipeline_body())
    replica = PipelineReplica.objects.get()
    assert (replica.remote_id, replica.version, replica.origin.name) == (41, 1, "alice")
    assert replica.pipeline.project == joined
    for user in (bob_user, platform_admin):
        assert not ownership.may_edit(user, replica.pipeline)
    with pytest.raises(ownership.NotEditor, match="replicated read-only from node alice"):
        ownership.ensure_editor(bob_user, replica.pipeline)
    deliver(at_bob["alice"], "PipelineReplicate", pipeline_body(version=2, name="LR v2"))
    assert PipelineReplica.objects.get().pipeline.name == "LR v2"
    stale = deliver(at_bob["alice"], "PipelineReplicate", pipeline_body(version=1, name="old"))
    assert stale["applied"] is False


def test_a_member_cannot_push_a_pipeline(joined, at_bob):
    with pytest.raises(Refused, match="carol does not own project 'Credit'"):
        deliver(at_bob["carol"], "PipelineReplicate", pipeline_body())
    assert not PipelineReplica.objects.exists()


def test_an_oversized_or_malformed_document_is_rejected(joined, at_bob):
    body = pipeline_body()
    body["pipeline"]["document"] = "[1, 2]"
    with pytest.raises(Refused, match="not a JSON object"):
        deliver(at_bob["alice"], "PipelineReplicate", body)
    body["pipeline"]["document"] = "{" * (60 * 1024)
    with pytest.raises(Refused, match="longer than"):
        deliver(at_bob["alice"], "PipelineReplicate", body)


def test_a_bad_pipeline_document_is_refused_in_the_senders_readers_language(joined, at_bob):
    """bob's node refuses a document whose graph is malformed, or of another version, with a
    message (msgid + params), not words in the language active at bob's node."""
    body = pipeline_body(graph={"nodes": [{"id": "a b", "component": "psi"}], "edges": []})
    with translation.override("zh-hans"), pytest.raises(Refused) as refused:
        deliver(at_bob["alice"], "PipelineReplicate", body)
    said = refused.value.message
    assert isinstance(said, Message)
    assert render(said.stored(), "en") == "nodes[0].id 'a b' is not a valid id"
    assert render(stored_text(said), "zh-hans") == "nodes[0].id 'a b' 不是有效的 ID"
    document = json.loads(pipeline_body()["pipeline"]["document"]) | {"version": 99}
    body = pipeline_body()
    body["pipeline"]["document"] = json.dumps(document)
    with pytest.raises(Refused) as refused:
        deliver(at_bob["alice"], "PipelineReplicate", body)
    said = refused.value.message
    assert render(said.stored(), "en") == "unsupported document version 99"
    assert render(said.stored(), "zh-hans") == "不支持的文档版本 99"
    assert not PipelineReplica.objects.exists()


def approval_request(party="bob", approval=5) -> dict:
    plan = {
        "entries": [{"source": "bob", "recipient": "alice", "form": "model"}],
        "sentences": ["alice receives a model trained on your columns amount."],
    }
    return {
        "project": str(PROJECT),
        "pipeline": 41,
        "approval": approval,
        "party": party,
        "fingerprint": "e" * 64,
        "plan": json.dumps(plan),
    }


@pytest.fixture
def requested(joined, at_bob) -> Approval:
    deliver(at_bob["alice"], "PipelineReplicate", pipeline_body())
    deliver(at_bob["alice"], "ApprovalRequest", approval_request())
    return Approval.objects.get()


def test_an_approval_request_is_decided_at_the_source_partys_node(
    requested, bob_user, django_capture_on_commit_callbacks
):
    assert list(to_decide(bob_user)) == [requested]
    assert requested.plan["sentences"] == ["alice receives a model trained on your columns amount."]
    with django_capture_on_commit_callbacks(execute=True):
        consent.decide(as_user(bob_user), requested, True, "ok for this model")
    [decision] = sent("ApprovalDecision", to="alice")
    assert decision.body == {
        "approval": 5,
        "fingerprint": "e" * 64,
        "status": "approved",
        "comment": "ok for this model",
        "decided_by": "bob_admin",
    }


def test_a_redelivered_request_does_not_duplicate_the_approval(requested, at_bob):
    again = deliver(at_bob["alice"], "ApprovalRequest", approval_request())
    assert again == {"approval": "known"}
    assert Approval.objects.count() == 1


def test_a_request_for_another_partys_approval_is_refused(joined, at_bob):
    deliver(at_bob["alice"], "PipelineReplicate", pipeline_body())
    with pytest.raises(Refused, match="for carol's approval, not bob's"):
        deliver(at_bob["alice"], "ApprovalRequest", approval_request(party="carol"))


def test_only_the_owner_requests_approvals(joined, at_bob):
    deliver(at_bob["alice"], "PipelineReplicate", pipeline_body())
    with pytest.raises(Refused, match="carol does not own project"):
        deliver(at_bob["carol"], "ApprovalRequest", approval_request())
    assert not Approval.objects.exists()


@pytest.fixture
def bobs_dataset(bob, bob_user):
    from console.datasets.models import Dataset

    return Dataset.objects.create(
        node=bob,
        name="orders",
        original_filename="orders.csv",
        relative_path="datasets/x.csv",
        size_bytes=10,
        sha256="a" * 64,
        encoding="utf-8",
        row_count=1234,
        columns=[
            {"name": "uid", "type": "str", "nulls": 0, "min": "u1"},
            {"name": "amount", "type": "float", "nulls": 3, "min": 0.5, "max": 99.0},
        ],
        uploaded_by=bob_user,
    )


def test_authorising_publishes_schema_and_roles_never_counts_or_values(
    joined, bobs_dataset, bob_user, django_capture_on_commit_callbacks
):
    from console.datasets import services

    roles = {"uid": "id", "amount": "feature"}
    with django_capture_on_commit_callbacks(execute=True):
        authorization = services.authorize_dataset(as_user(bob_user), bobs_dataset, joined, roles)
    [published] = sent("DatasetPublish", to="alice")
    assert published.body == {
        "project": str(PROJECT),
        "dataset": {
            "id": bobs_dataset.pk,
            "name": "orders",
            "description": "",
            "columns": [["uid", "str"], ["amount", "float"]],
            "authorization": authorization.pk,
            "version": 1,
            "roles": roles,
            "missing": ["amount"],  # whether a column has gaps, never how many
            "policy": authorization.policy(),  # what the initiator's plan may take as given
        },
    }
    text = json.dumps(published.body)
    for secret in ("1234", "99.0", "0.5", "nulls", "a" * 64, "x.csv"):
        assert secret not in text
    with django_capture_on_commit_callbacks(execute=True):
        new = services.update_column_roles(
            as_user(bob_user), authorization, {"uid": "id", "amount": "label"}
        )
    assert sent("DatasetPublish", to="alice")[-1].body["dataset"]["version"] == 2
    assert sent("DatasetRevoke") == []  # the new version replaces the old one at alice
    with django_capture_on_commit_callbacks(execute=True):
        services.revoke_authorization(as_user(bob_user), new)
    [revoked] = sent("DatasetRevoke", to="alice")
    assert revoked.body == {
        "project": str(PROJECT),
        "dataset": bobs_dataset.pk,
        "authorization": new.pk,
    }


def test_only_the_owner_closes_a_ballot(ballot, at_bob):
    body = {"proposal": str(ballot.proposal_uid), "outcome": "declined"}
    with pytest.raises(Refused, match="carol asked this node no such vote"):
        deliver(at_bob["carol"], "ProposalOutcome", body)
    deliver(at_bob["alice"], "ProposalOutcome", body)
    ballot.refresh_from_db()
    assert ballot.outcome == "declined"


def test_a_decided_ballot_cannot_be_decided_again(ballot, bob_user):
    from django.core.exceptions import ValidationError

    projects.decide_ballot(as_user(bob_user), ballot, False)
    with pytest.raises(ValidationError, match="already decided"):
        projects.decide_ballot(as_user(bob_user), ballot, True)


def test_another_node_cannot_claim_the_owners_project_to_propose(joined, at_bob):
    with pytest.raises(Refused, match="carol does not own that project"):
        deliver(at_bob["carol"], "ProjectPropose", proposal(subject="bob"))


def test_the_replicated_request_opens_in_the_message_center(requested, bob_client):
    page = bob_client.get(f"/approvals/{requested.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "alice receives a model trained on your columns amount." in text
    assert 'value="approve"' in text
