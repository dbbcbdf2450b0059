"""The source of Beaver triples on the pages and the REST API: the owner chooses it on the
project page (or `PUT .../triple-source/`), members read it, outsiders get 404; a run page
names its source; a dealer node's operator sees the runs it served.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from console.federation.models import DealerService, Proposal, RunTripleSource, SharedProject
from console.projects.models import Project, ProjectMember
from tests.console.conftest import make_node
from tests.console.federation.conftest import deliver, make_route, make_self
from workflows.messages import translatable


@pytest.fixture
def shared_project(at_alice, alice, bob, alice_user) -> Project:
    """Alice's project with bob as member; dave is paired with alice's node, no member."""
    project = Project.objects.create(name="Credit", owner_node=alice, created_by=alice_user)
    for node in (alice, bob):
        ProjectMember.objects.create(project=project, node=node)
    SharedProject.objects.create(project=project, version=2, member_names=["alice", "bob"])
    return project


@pytest.fixture
def dave(db, at_alice):
    node = make_node("dave", "Dave Neutral Services")
    make_route(node)
    return node


def test_the_owner_sees_the_choice_with_its_trust_assumption(shared_project, alice_client, dave):
    page = alice_client.get(f"/projects/{shared_project.pk}/").content.decode()
    assert "Beaver triples for SEMI2K" in page
    assert "trusted first party (the default)" in page
    assert "must collude" not in page  # the help states the assumption in its own words
    assert "not to collude with any of them" in page
    assert "it is sent no data" in page
    assert f'<option value="{dave.pk}">Dealer node Dave ({dave.name})</option>' in page
    assert "Dealer node Bob" not in page  # a member computes: never offered


def bob_accepts(at_alice) -> None:
    proposal = Proposal.objects.get(status="pending", kind="dealer")
    deliver(at_alice["bob"], "ProjectVote", {"proposal": str(proposal.uid), "decision": "accepted"})


def test_the_owner_proposes_a_dealer_node_and_it_applies_once_bob_accepted(
    shared_project, alice_client, at_alice, dave
):
    url = f"/federation/projects/{shared_project.pk}/dealer/"
    response = alice_client.post(url, {"dealer": dave.pk}, follow=True).content.decode()
    assert "Proposed: Beaver triples from the dealer node dave" in response
    assert "Waiting for votes" in response
    assert "Proposed: the dealer node dave. Runs keep the current source" in response
    assert "Change the source of Beaver triples: <strong>Dave</strong>" in response
    assert SharedProject.objects.get(project=shared_project).dealer == ""
    bob_accepts(at_alice)
    page = alice_client.get(f"/projects/{shared_project.pk}/").content.decode()
    assert "from the dealer node <strong>dave</strong>" in page
    assert "Waiting for votes" not in page
    again = alice_client.post(url, {"dealer": dave.pk}, follow=True).content.decode()
    assert "Beaver triples already come from the dealer node dave." in again
    back = alice_client.post(url, {"dealer": ""}, follow=True).content.decode()
    assert "Proposed: Beaver triples from the trusted first party" in back
    assert "Change the source of Beaver triples: <strong>Trusted first party</strong>" in back
    bob_accepts(at_alice)
    assert SharedProject.objects.get(project=shared_project).dealer == ""


def test_a_member_as_dealer_is_refused_on_the_page(shared_project, alice_client, bob):
    url = f"/federation/projects/{shared_project.pk}/dealer/"
    response = alice_client.post(url, {"dealer": bob.pk}, follow=True)
    assert "is a member of this project" in response.content.decode()
    response = alice_client.post(url, {"dealer": 99999}, follow=True)
    assert "Choose a paired node, or the trusted first party." in response.content.decode()
    assert SharedProject.objects.get(project=shared_project).dealer == ""


def test_a_member_reads_the_choice_but_cannot_make_it(shared_project, bob_client, dave):
    SharedProject.objects.filter(project=shared_project).update(dealer="dave")
    page = bob_client.get(f"/projects/{shared_project.pk}/").content.decode()
    assert "from the dealer node <strong>dave</strong>" in page
    assert "not to collude with any of them" in page
    assert 'name="dealer"' not in page  # the owner node chooses
    response = bob_client.post(f"/federation/projects/{shared_project.pk}/dealer/", {"dealer": ""})
    assert response.status_code == 404
    assert SharedProject.objects.get(project=shared_project).dealer == "dave"


def test_the_api_reads_and_proposes_the_source(shared_project, api_alice, at_alice, dave):
    url = f"/api/v1/projects/{shared_project.pk}/triple-source/"
    assert api_alice.get(url).json() == {"dealer": None}
    response = api_alice.put(url, {"dealer": "dave"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dealer"] is None  # not before bob accepted
    assert body["proposal"]["kind"] == "dealer"
    assert body["proposal"]["subject"] == "dave"
    assert body["proposal"]["votes"] == {"bob": "pending"}
    bob_accepts(at_alice)
    assert api_alice.get(url).json() == {"dealer": "dave"}
    refused = api_alice.put(url, {"dealer": "bob"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "dealer_is_party"
    unknown = api_alice.put(url, {"dealer": "nobody"}, format="json")
    assert unknown.status_code == 400
    unchanged = api_alice.put(url, {"dealer": "dave"}, format="json").json()
    assert unchanged == {"dealer": "dave", "proposal": None}


def test_the_api_refuses_members_and_outsiders(shared_project, api_bob, carol, dave):
    url = f"/api/v1/projects/{shared_project.pk}/triple-source/"
    assert api_bob.get(url).json() == {"dealer": None}
    assert api_bob.put(url, {"dealer": "dave"}, format="json").status_code == 403
    outsider_project = Project.objects.create(name="Other", owner_node=carol)
    other = f"/api/v1/projects/{outsider_project.pk}/triple-source/"
    assert api_bob.get(other).status_code == 404


def test_a_run_page_names_its_source_of_triples(shared_project, alice_client, dave):
    from workflows.models import Pipeline, Run

    pipeline = Pipeline.objects.create(project=shared_project, name="LR", graph={})
    run = Run.objects.create(pipeline=pipeline, snapshot={"nodes": [], "edges": []})
    RunTripleSource.objects.create(run=run, dealer="dave")
    page = alice_client.get(f"/pipelines/runs/{run.pk}/").content.decode()
    assert "Beaver triples: the dealer node dave" in page
    RunTripleSource.objects.filter(run=run).update(dealer="")
    page = alice_client.get(f"/pipelines/runs/{run.pk}/").content.decode()
    assert "Beaver triples: the trusted first party" in page


def test_a_dealer_nodes_operator_sees_what_it_served(db, alice, bob, settings, client):
    from tests.console.conftest import PASSWORD, make_user

    dave = make_self(make_node("dave", "Dave Neutral Services"))
    make_user("dave_admin", dave)
    client.login(username="dave_admin", password=PASSWORD)
    settings.PRIVPAD_SERVES_DEALER = True
    now = timezone.now()
    DealerService.objects.create(
        origin=alice,
        remote_run=41,
        project_uid="6f1c1a8e-0000-4000-8000-000000000001",
        project_name="Credit",
        parties=["alice", "bob"],
        state=DealerService.State.FAILED,
        endings={"alice": "'alice' has shut down its link", "bob": "lost connection to 'bob'"},
        message=translatable(
            "the service of %(parties)s did not end normally", parties=["bob"]
        ).stored_text(),
        started_at=now,
        ended_at=now,
    )
    page = client.get("/federation/dealer-services/").content.decode()
    assert "run #41 of alice" in page
    assert "the service of bob did not end normally" in page
    assert "lost connection to &#x27;bob&#x27;" in page
    assert "This node serves as a dealer node" in page
    api = client.get("/api/v1/dealer-services/").json()
    assert api[0]["state"] == "failed"
    assert api[0]["message"] == "the service of bob did not end normally"


def test_a_dealer_this_node_is_not_paired_with_is_flagged(shared_project, alice_client):
    SharedProject.objects.filter(project=shared_project).update(dealer="erin")
    page = alice_client.get(f"/projects/{shared_project.pk}/").content.decode()
    assert "This node is not paired with erin: pair with erin first" in page


def test_the_choice_and_its_trust_read_in_chinese(shared_project, alice_client, alice_user, dave):
    alice_user.language = "zh-hans"
    alice_user.save(update_fields=["language"])
    SharedProject.objects.filter(project=shared_project).update(dealer="dave")
    page = alice_client.get(f"/projects/{shared_project.pk}/").content.decode()
    assert "SEMI2K 的 Beaver 三元组" in page
    assert "本项目的运行从发牌节点 <strong>dave</strong> 获取 Beaver 三元组。" in page
    assert "每个参与方都信任它不与任何参与方合谋" in page
    assert "受信任的第一参与方（默认）" in page
