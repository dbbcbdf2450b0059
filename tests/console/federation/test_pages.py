"""The pages of shared projects: the owner's members' nodes and invitation form, the message
center's invitations with accept/decline, remote datasets' schemas, a read-only replica."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from console.federation.models import Ballot, Proposal, RemoteDataset
from console.projects.models import Project, ProjectMember
from tests.console.federation.conftest import deliver
from tests.console.federation.test_member_side import pipeline_body, proposal, state


@pytest.fixture
def alices_project(at_alice, alice, alice_user) -> Project:
    project = Project.objects.create(name="Credit", owner_node=alice, created_by=alice_user)
    ProjectMember.objects.create(project=project, node=alice)
    return project


def test_the_owner_invites_a_paired_node_from_the_project_page(alices_project, alice_client, bob):
    page = alice_client.get(f"/projects/{alices_project.pk}/").content.decode()
    assert "Members' nodes" in page
    assert f'<option value="{bob.pk}">Bob (bob)</option>' in page
    assert "Add a member node" not in page  # the direct form is for embedded mode
    response = alice_client.post(
        f"/federation/projects/{alices_project.pk}/invite/", {"node": bob.pk}, follow=True
    )
    assert "bob is invited" in response.content.decode().lower()
    assert Proposal.objects.get().subject == bob
    page = alice_client.get(f"/projects/{alices_project.pk}/").content.decode()
    assert "bob: pending" in page


def test_a_member_cannot_invite_into_the_owners_project(alices_project, bob_client, carol):
    ProjectMember.objects.create(project=alices_project, node=carol)
    response = bob_client.post(
        f"/federation/projects/{alices_project.pk}/invite/", {"node": carol.pk}
    )
    assert response.status_code == 404
    assert not Proposal.objects.exists()


def test_the_direct_member_form_is_refused_in_network_mode(alices_project, api_alice, bob):
    response = api_alice.post(
        f"/api/v1/projects/{alices_project.pk}/members/", {"node": "bob"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "invitation and vote" in json.dumps(response.json())
    assert not alices_project.has_member(bob)


def test_the_message_center_shows_the_invitation_with_accept_and_decline(at_bob, bob_client):
    deliver(at_bob["alice"], "ProjectPropose", proposal())
    page = bob_client.get("/approvals/").content.decode()
    assert "Project invitations and membership votes" in page
    assert "This node joins the project" in page
    assert 'value="accept"' in page
    assert 'value="decline"' in page
    ballot = Ballot.objects.get()
    response = bob_client.post(f"/federation/ballots/{ballot.pk}/", {"decision": "decline"})
    assert response.status_code == 302
    ballot.refresh_from_db()
    assert ballot.status == "declined"
    page = bob_client.get("/approvals/", follow=True).content.decode()
    assert "could not be reached" in page  # no node service here: the vote waits, re-sent


def test_an_analyst_sees_the_invitation_but_does_not_vote(at_bob, bob):
    from tests.console.conftest import make_user

    analyst = make_user("bob_analyst", bob, role="analyst")
    client = Client()
    client.force_login(analyst)
    deliver(at_bob["alice"], "ProjectPropose", proposal())
    page = client.get("/approvals/").content.decode()
    assert "Waiting for this node's admin" in page
    assert 'value="accept"' not in page
    ballot = Ballot.objects.get()
    client.post(f"/federation/ballots/{ballot.pk}/", {"decision": "accept"})
    ballot.refresh_from_db()
    assert ballot.status == "pending"


@pytest.fixture
def bobs_copy(at_bob) -> Project:
    from console.federation.models import SharedProject

    deliver(at_bob["alice"], "ProjectPropose", proposal())
    Ballot.objects.update(status="accepted")
    deliver(at_bob["alice"], "ProjectState", state(version=2, members=("alice", "bob", "carol")))
    return SharedProject.objects.get().project


def test_a_members_copy_shows_the_owner_and_remote_datasets_schemas(bobs_copy, at_bob, bob_client):
    deliver(
        at_bob["carol"],
        "DatasetPublish",
        {
            "project": str(bobs_copy.shared.uid),
            "dataset": {
                "id": 3,
                "name": "claims",
                "description": "Claims per customer",
                "columns": [["uid", "str"], ["claims", "int"]],
                "authorization": 8,
                "version": 1,
                "roles": {"uid": "id", "claims": "label"},
            },
        },
    )
    page = bob_client.get(f"/projects/{bobs_copy.pk}/").content.decode()
    assert "copy of a project owned by Alice" in page
    assert "Datasets of other nodes" in page
    assert "claims" in page
    assert "<code>int</code>" in page
    assert "role-label" in page
    assert RemoteDataset.objects.get().node.name == "carol"


def test_a_replicated_pipeline_opens_read_only(bobs_copy, at_bob, bob_client):
    deliver(at_bob["alice"], "PipelineReplicate", pipeline_body())
    pipeline = bobs_copy.pipelines.get()
    page = bob_client.get(f"/pipelines/{pipeline.pk}/").content.decode()
    assert "Replicated read-only from node alice" in page
    response = bob_client.patch(
        f"/api/v1/pipelines/{pipeline.pk}/", {"name": "mine"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "owned by node alice" in response.json()["detail"]


def test_a_member_adds_no_pipeline_to_its_copy(bobs_copy, bob_client, api_bob):
    page = bob_client.get(f"/projects/{bobs_copy.pk}/").content.decode()
    assert "New pipeline" not in page
    response = bob_client.get(f"/pipelines/new/{bobs_copy.pk}/", follow=True)
    assert "edited on its owner node, alice" in response.content.decode()
    created = api_bob.post(
        "/api/v1/pipelines/", {"project": bobs_copy.pk, "name": "mine"}, format="json"
    )
    assert created.status_code == 403
    assert "owned by node alice" in created.json()["detail"]
    assert not bobs_copy.pipelines.exists()


def test_the_api_invites_and_the_invited_node_votes(alices_project, api_alice, api_bob, bob):
    created = api_alice.post(
        f"/api/v1/projects/{alices_project.pk}/invitations/", {"node": "bob"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["votes"] == {"bob": "pending"}
    assert (
        api_bob.post(
            f"/api/v1/projects/{alices_project.pk}/invitations/", {"node": "bob"}, format="json"
        ).status_code
        == 404
    )  # bob is not a member yet: the project is hidden from him
    listed = api_alice.get(f"/api/v1/projects/{alices_project.pk}/invitations/").json()
    assert [p["subject"] for p in listed] == ["bob"]


def test_the_api_lists_and_decides_ballots(at_bob, api_bob, api_carol):
    deliver(at_bob["alice"], "ProjectPropose", proposal())
    [ballot] = api_bob.get("/api/v1/ballots/").json()
    assert (ballot["owner"], ballot["project_name"], ballot["status"]) == (
        "alice",
        "Credit",
        "pending",
    )
    assert api_carol.get("/api/v1/ballots/").json() == []  # carol's users are not this node's
    bad = api_bob.post(
        f"/api/v1/ballots/{ballot['id']}/decision/", {"decision": "maybe"}, format="json"
    )
    assert bad.status_code == 400
    done = api_bob.post(
        f"/api/v1/ballots/{ballot['id']}/decision/", {"decision": "accept"}, format="json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "accepted"
    again = api_bob.post(
        f"/api/v1/ballots/{ballot['id']}/decision/", {"decision": "decline"}, format="json"
    )
    assert again.status_code == 400
    assert "already decided" in json.dumps(again.json())


def test_the_api_shows_remote_datasets_to_members(bobs_copy, at_bob, api_bob):
    body = {
        "project": str(bobs_copy.shared.uid),
        "dataset": {"id": 3, "name": "claims", "description": "", "columns": [["uid", "str"]],
                    "authorization": 8, "version": 1, "roles": {"uid": "id"}},
    }  # fmt: skip
    deliver(at_bob["carol"], "DatasetPublish", body)
    [remote] = api_bob.get(f"/api/v1/projects/{bobs_copy.pk}/remote-datasets/").json()
    assert remote["node"] == "carol"
    assert remote["columns"] == [{"name": "uid", "type": "str"}]
    assert remote["column_roles"] == {"uid": "id"}
