"""Owners' standing policies across nodes: published with the schema, decided at the owner.

At alice's node (the initiator), bob's dataset is the schema, roles and standing policy bob's
node published: her plan decides bob's entries from that policy as embedded mode does (allow:
no approval; refuse: validation fails with bob's reason; ask, or no policy published: bob's
approval). At bob's node, a change of the policy is published again; and a run is checked
against bob's own policy, never against the copy alice's node sends in the job: an initiator
claiming "bob allows everything" gets nothing bob's policy does not allow.
"""

from __future__ import annotations

import pytest

from console.datasets.pipeline_sources import ConsoleSources
from console.datasets.policies import set_policy
from console.federation.models import RemoteDataset
from console.federation.sources import remote_key, remote_source, resolve_at_owner
from console.nodes.link.service import Refused
from tests.console.federation.conftest import deliver, sent
from tests.console.federation.test_remote_sources import as_sent_by_alice, published, with_bob
from tests.console.federation.test_remote_sources import bobs_copy as bobs_authorised_copy
from tests.console.federation.test_run_start import approve, bobs_copy, refused, start_body
from workflows.actors import Actor
from workflows.components import registry
from workflows.disclosure import consent
from workflows.models import Pipeline, Run
from workflows.starters import build
from workflows.validation import validate

__all__ = ["with_bob", "bobs_authorised_copy", "bobs_copy"]  # fixtures used here

ALLOW_ALL = {
    "ids": "allow",
    "aggregates": "allow",
    "models": "allow",
    "row_level": "allow",
    "label_results": "allow",
}


def publish(project, route, policy=None, authorization=11) -> RemoteDataset:
    dataset = published(authorization=authorization, missing=[])
    if policy is not None:
        dataset["policy"] = policy
    deliver(route, "DatasetPublish", {"project": str(project.shared.uid), "dataset": dataset})
    return RemoteDataset.objects.get(project=project, remote_id=7)


def alices_plan(project):
    sources = ConsoleSources().sources(project.pk)
    graph = build("credit_risk", ["alice", "bob"], sources)
    return graph, validate(graph, registry(), ("alice", "bob"), sources)


# --- At alice's node: the published policy decides her plan ------------------------------


def test_a_published_policy_is_kept_with_the_schema_filled_in(with_bob, at_alice):
    remote = publish(with_bob, at_alice["bob"], {"ids": "allow", "row_level_to": ["alice"]})
    assert remote.policy["ids"] == "allow"
    assert remote.policy["models"] == "ask"  # a setting left out asks, as at bob's node
    assert remote.policy["row_level_to"] == ["alice"]
    assert remote_source(remote).policy == remote.policy


def test_what_bobs_policy_allows_needs_no_approval_at_alice(with_bob, at_alice):
    publish(with_bob, at_alice["bob"], ALLOW_ALL)
    graph, checked = alices_plan(with_bob)
    assert checked.ok, [problem.to_dict() for problem in checked.problems]
    bobs = checked.plan.from_source("bob")
    assert bobs
    assert {entry.decision for entry in bobs} == {"allow"}
    assert all("bob's standing policy" in entry.reason for entry in bobs)
    pipeline = Pipeline.objects.create(project=with_bob, name="LR", graph=graph.to_dict())
    states = consent.consent_states(pipeline, checked.plan)
    assert states["bob"] == {"state": "policy", "approval": None}


def test_what_bobs_policy_refuses_fails_validation_with_his_reason(with_bob, at_alice):
    publish(with_bob, at_alice["bob"], ALLOW_ALL | {"row_level": "refuse"})
    _, checked = alices_plan(with_bob)
    refusals = [p for p in checked.problems if p.code == "disclosure_refused"]
    assert refusals
    assert all("bob's standing policy" in problem.message for problem in refusals)
    assert {problem.node for problem in refusals} <= {"predict", "evaluate", "train", "split"}


def test_without_a_published_policy_every_disclosure_of_bobs_asks(with_bob, at_alice):
    publish(with_bob, at_alice["bob"])  # an older node: no policy in its message
    _, checked = alices_plan(with_bob)
    assert {entry.decision for entry in checked.plan.from_source("bob")} == {"ask"}


def test_a_policy_change_replaces_the_copy_and_a_revocation_removes_it(with_bob, at_alice):
    publish(with_bob, at_alice["bob"], ALLOW_ALL)
    remote = publish(with_bob, at_alice["bob"], ALLOW_ALL | {"models": "refuse"})
    assert remote.policy["models"] == "refuse"
    _, checked = alices_plan(with_bob)
    assert any(p.code == "disclosure_refused" for p in checked.problems)
    body = {"project": str(with_bob.shared.uid), "dataset": 7, "authorization": 11}
    deliver(at_alice["bob"], "DatasetRevoke", body)
    assert remote_key(remote) not in ConsoleSources().sources(with_bob.pk)


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ({"ids": "maybe"}, "'maybe' is not one of allow, ask, refuse"),
        ({"aggregates_min_k": 1}, "1 is not a whole number from 2"),
        ({"aggregates_min_k": True}, "True is not a whole number"),
        ({"row_level_to": ["no such node!"]}, "is not a list of node names"),
        ({"row_level_to": "alice"}, "is not a list of node names"),
        ({"secret": "allow"}, "unknown setting"),
        ("allow everything", "the policy must be an object"),
    ],
)
def test_a_malformed_policy_is_refused_naming_the_setting(with_bob, at_alice, policy, problem):
    with pytest.raises(Refused, match=problem):
        publish(with_bob, at_alice["bob"], policy)
    assert not RemoteDataset.objects.exists()


def test_the_project_page_shows_the_owners_policy_as_published(with_bob, at_alice, alice_client):
    publish(with_bob, at_alice["bob"], ALLOW_ALL | {"row_level_to": ["alice"], "ids": "refuse"})
    page = alice_client.get(f"/projects/{with_bob.pk}/").content.decode()
    assert "Owner's standing policy" in page
    assert "row-level data derived from its columns, only to alice" in page
    assert '<span class="badge policy-refuse">refuse</span> intersection membership' in page
    assert "checks every run against its own policy" in page


def test_the_api_gives_the_owners_policy_as_published(with_bob, at_alice, api_alice):
    publish(with_bob, at_alice["bob"], ALLOW_ALL | {"models": "refuse"})
    [remote] = api_alice.get(f"/api/v1/projects/{with_bob.pk}/remote-datasets/").json()
    assert remote["node"] == "bob"
    assert remote["policy"]["models"] == "refuse"
    assert remote["policy"]["aggregates_min_k"] == 20


# --- At bob's node: changes are published, runs are checked against his own policy --------


def test_a_changed_policy_is_published_to_the_members(
    bobs_authorised_copy, at_bob, bob_user, django_capture_on_commit_callbacks
):
    from console.federation.models import SharedProject

    project, authorization = bobs_authorised_copy
    SharedProject.objects.create(project=project, version=1, member_names=["alice", "bob"])
    with django_capture_on_commit_callbacks(execute=True):
        set_policy(Actor.for_user(bob_user), authorization, {"ids": "allow", "models": "refuse"})
    [message] = sent("DatasetPublish", to="alice")
    assert message.body["dataset"]["authorization"] == authorization.pk
    assert message.body["dataset"]["policy"] == authorization.policy()
    assert message.body["dataset"]["policy"]["models"] == "refuse"


def test_the_owner_resolves_a_source_with_its_own_policy(bobs_authorised_copy):
    project, authorization = bobs_authorised_copy
    source, identity = as_sent_by_alice(authorization)
    claimed = source.__class__(**{**source.__dict__, "policy": ALLOW_ALL})
    resolved = resolve_at_owner(project, claimed, identity)
    assert resolved.policy == authorization.policy()
    assert resolved.policy["row_level"] == "ask"


def claiming_bob_allows_everything(bobs_copy) -> dict:
    """The RunStart of an initiator whose copy says bob's policy allows every disclosure."""
    sources = dict(bobs_copy["sources"])
    key = next(key for key, source in sources.items() if source.party == "bob")
    sources[key] = sources[key].__class__(**{**sources[key].__dict__, "policy": ALLOW_ALL})
    return start_body(bobs_copy, sources=sources)


def test_an_initiators_claim_that_bob_allows_everything_does_not_replace_his_approval(
    bobs_copy, at_bob
):
    body = claiming_bob_allows_everything(bobs_copy)
    refused(at_bob["alice"], body, "bob's owners have not approved")


def test_a_run_bobs_own_policy_refuses_is_refused_with_his_reason(bobs_copy, at_bob, bob_user):
    authorization = bobs_copy["authorization"]
    set_policy(Actor.for_user(bob_user), authorization, ALLOW_ALL | {"row_level": "refuse"})
    body = claiming_bob_allows_everything(bobs_copy)
    approve(bobs_copy, body)  # even an approval does not override a refusal
    refused(at_bob["alice"], body, "does not validate here: .*bob's standing policy")


def test_a_run_bobs_own_policy_allows_needs_no_approval_at_his_node(bobs_copy, at_bob, bob_user):
    set_policy(Actor.for_user(bob_user), bobs_copy["authorization"], ALLOW_ALL)
    reply = deliver(at_bob["alice"], "RunStart", start_body(bobs_copy))  # alice's copy: ask
    assert reply["accepted"] is True
    run = Run.objects.get()
    policies = {source["party"]: source["policy"] for source in run.replica.job["sources"]}
    assert policies["bob"] == bobs_copy["authorization"].policy()
