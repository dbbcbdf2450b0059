"""A member node takes its part of a run started at the owner node (`RunStart`).

This installation is bob's node, holding a copy of alice's project with alice's pipeline
replicated and bob's dataset authorised. The initiator is a paired peer, not trusted: each
refusal is what a run gets when the initiator (or another node) sends something bob's own copy
does not back: another graph, an older version, a plan bob's owners did not approve, a party
that is no member, a dataset no longer authorised. A refused run leaves no trace but the audit.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest

from console.federation.models import PipelineReplica, RemoteDataset, RunReplica, SharedProject
from console.federation.sources import remote_source
from console.nodes.link.service import Refused
from console.projects.models import Project, ProjectMember
from tests.console.federation.conftest import deliver
from tests.console.pages.conftest import authorize, make_dataset
from workflows.components import registry
from workflows.components.schema import Column
from workflows.disclosure.policy import Policy
from workflows.models import Approval, Pipeline, Run
from workflows.party_jobs import PartyJob, job_to_dict
from workflows.ports import SourceTable
from workflows.starters import build
from workflows.validation import validate

BOB_COLUMNS = [("uid", "str"), ("income", "float"), ("debt", "float")]
BOB_ROLES = {"uid": "id", "income": "feature", "debt": "feature"}
BOB_KEY, ALICE_KEY, REMOTE_PIPELINE, REMOTE_RUN = -3, 1, 9, 41


def alices_source() -> SourceTable:
    columns = (
        Column("uid", "str", "alice", "id"),
        Column("default", "int", "alice", "label"),
        Column("age", "int", "alice", "feature"),
    )
    return SourceTable(
        ALICE_KEY,
        "customers",
        "alice",
        Path("/var/alice/customers.csv"),
        "f" * 64,
        columns,
        rows=30,
        authorization_id=5,
        policy=Policy.from_dict({}).to_dict(),
    )


@pytest.fixture
def bobs_copy(at_bob, settings, alice, bob):
    """Bob's copy of alice's project: bob's dataset authorised, alice's pipeline replicated."""
    settings.PRIVPAD_ENGINE_ADDRESS = "127.0.0.1:7102"
    project = Project.objects.create(name="Credit", owner_node=alice)
    SharedProject.objects.create(project=project, version=1, member_names=["alice", "bob"])
    for node in (alice, bob):
        ProjectMember.objects.create(project=project, node=node)
    rows = [[f"u{i}", str(1000 + i), str(i)] for i in range(30)]
    dataset = make_dataset(bob, "bank", [name for name, _ in BOB_COLUMNS], rows)
    dataset.columns = [{"name": n, "type": t, "nulls": 0} for n, t in BOB_COLUMNS]
    dataset.save(update_fields=["columns"])
    authorization = authorize(dataset, project, BOB_ROLES)
    seen_at_alice = RemoteDataset(
        pk=-BOB_KEY,
        node=bob,
        name="bank",
        columns=[{"name": n, "type": t, "missing": False} for n, t in BOB_COLUMNS],
        column_roles=BOB_ROLES,
        remote_id=dataset.pk,
        authorization_id=authorization.pk,
    )
    sources = {ALICE_KEY: alices_source(), BOB_KEY: remote_source(seen_at_alice)}
    graph = build("credit_risk", ["alice", "bob"], sources)
    pipeline = Pipeline.objects.create(project=project, name="LR", graph=graph.to_dict())
    PipelineReplica.objects.create(
        pipeline=pipeline, origin=alice, remote_id=REMOTE_PIPELINE, version=2
    )
    return {"project": project, "authorization": authorization, "sources": sources}


def start_body(bobs_copy, *, sources=None, graph=None, parties=("alice", "bob"), version=2):
    """The RunStart alice's node sends bob for `sources` and the replicated graph."""
    sources = sources or bobs_copy["sources"]
    pipeline = Pipeline.objects.get(project=bobs_copy["project"])
    graph_data = graph or pipeline.graph
    from workflows.graph import parse_graph

    checked = validate(parse_graph(graph_data), registry(), parties, sources)
    snapshot = copy.deepcopy(graph_data)
    for node in snapshot["nodes"]:
        node["version"] = checked.components[node["id"]].version
    job = PartyJob(
        run_id=str(REMOTE_RUN),
        snapshot=snapshot,
        parties=parties,
        sources=sources,
        storage={"bob": Path("/nonexistent/elsewhere")},
        party="bob",
    )
    import json

    authorization = bobs_copy["authorization"]
    return {
        "project": str(bobs_copy["project"].shared.uid),
        "run": REMOTE_RUN,
        "pipeline": {"id": REMOTE_PIPELINE, "version": version},
        "fingerprint": checked.plan.fingerprint,
        "job": json.dumps(job_to_dict(job)),
        "sources": [
            {"key": BOB_KEY, "dataset": authorization.dataset_id, "authorization": authorization.pk}
        ],
    }


def approve(bobs_copy, body, status=Approval.Decision.APPROVED) -> Approval:
    pipeline = Pipeline.objects.get(project=bobs_copy["project"])
    return Approval.objects.create(
        pipeline=pipeline,
        project=bobs_copy["project"],
        party="bob",
        party_node=bobs_copy["authorization"].dataset.node,
        fingerprint=body["fingerprint"],
        plan={},
        status=status,
    )


def refused(route, body, match: str) -> None:
    with pytest.raises(Refused, match=match):
        deliver(route, "RunStart", body)
    assert not Run.objects.exists()
    assert not RunReplica.objects.exists()


def test_bob_accepts_a_run_of_the_replica_his_owners_approved(bobs_copy, at_bob, bob):
    body = start_body(bobs_copy)
    approve(bobs_copy, body)
    reply = deliver(at_bob["alice"], "RunStart", body)
    run = Run.objects.get()
    assert reply == {"accepted": True, "run": run.pk, "engine": "127.0.0.1:7102"}
    assert run.pipeline.replica.remote_id == REMOTE_PIPELINE
    assert run.nodes.count() == len(run.snapshot["nodes"])
    assert run.disclosure_fingerprint == body["fingerprint"]
    job = run.replica.job
    assert job["storage_root"] == str(bob.storage_root / "peer-runs" / "alice" / f"run-{run.pk}")
    paths = {source["party"]: source["path"] for source in job["sources"]}
    assert paths == {"alice": None, "bob": str(bobs_copy["authorization"].dataset.path)}


def test_a_second_start_of_the_same_run_gets_the_same_answer(bobs_copy, at_bob):
    body = start_body(bobs_copy)
    approve(bobs_copy, body)
    first = deliver(at_bob["alice"], "RunStart", body)
    again = deliver(at_bob["alice"], "RunStart", body)  # a new message id
    assert again == first
    assert Run.objects.count() == 1


def test_only_the_projects_owner_node_starts_its_runs(bobs_copy, at_bob):
    body = start_body(bobs_copy)
    approve(bobs_copy, body)
    refused(at_bob["carol"], body, "carol does not own project 'Credit'")


def test_a_run_of_another_version_than_replicated_is_refused(bobs_copy, at_bob):
    body = start_body(bobs_copy, version=3)
    approve(bobs_copy, body)
    refused(at_bob["alice"], body, "holds version 2 .* the run is of version 3")


def test_a_graph_other_than_the_replica_is_refused(bobs_copy, at_bob):
    graph = copy.deepcopy(Pipeline.objects.get().graph)
    train = next(node for node in graph["nodes"] if node["id"] == "train")
    train["params"]["features"] = ["income"]  # bob's features only: not what bob saw
    body = start_body(bobs_copy, graph=graph)
    approve(bobs_copy, body)
    refused(at_bob["alice"], body, "not the pipeline replicated to this node")


def test_without_bobs_approval_the_run_is_refused(bobs_copy, at_bob):
    body = start_body(bobs_copy)
    refused(at_bob["alice"], body, "bob's owners have not approved")
    approve(bobs_copy, body, status=Approval.Decision.REJECTED)
    refused(at_bob["alice"], body, "bob's owners have not approved")


def test_an_approval_of_another_plan_does_not_count(bobs_copy, at_bob):
    body = start_body(bobs_copy)
    approve(bobs_copy, {"fingerprint": "0" * 64})
    refused(at_bob["alice"], body, "have not approved")


def test_a_plan_fingerprint_other_than_computed_here_is_refused(bobs_copy, at_bob):
    body = start_body(bobs_copy)
    approve(bobs_copy, body)
    refused(at_bob["alice"], {**body, "fingerprint": "0" * 64}, "plan computed here differs")


def test_a_dataset_no_longer_authorised_is_refused(bobs_copy, at_bob):
    body = start_body(bobs_copy)
    approve(bobs_copy, body)
    authorization = bobs_copy["authorization"]
    authorization.revoked_at = authorization.created_at
    authorization.save(update_fields=["revoked_at"])
    refused(at_bob["alice"], body, "no longer authorised")


def test_a_party_that_is_no_member_here_is_refused(bobs_copy, at_bob):
    sources = dict(bobs_copy["sources"])
    carol = replace(alices_source(), dataset_id=2, party="carol", name="carol's")
    carol = replace(carol, columns=tuple(replace(c, party="carol") for c in carol.columns))
    body = start_body(bobs_copy, sources={**sources, 2: carol}, parties=("alice", "bob", "carol"))
    refused(at_bob["alice"], body, "not members of 'Credit' here: carol")


def test_a_node_without_an_engine_address_takes_no_part(bobs_copy, at_bob, settings):
    body = start_body(bobs_copy)
    approve(bobs_copy, body)
    settings.PRIVPAD_ENGINE_ADDRESS = ""
    refused(at_bob["alice"], body, "no engine address")


def test_a_malformed_job_is_rejected_naming_the_problem(bobs_copy, at_bob):
    body = start_body(bobs_copy)
    approve(bobs_copy, body)
    refused(at_bob["alice"], {**body, "job": "{}"}, "the run's job is malformed")
