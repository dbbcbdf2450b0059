"""The initiating node starts a run across nodes (`console.federation.initiate`).

This installation is alice's node, owning the project; bob is a member whose dataset is a
source under its cross-node key. Bob's job must carry no path of alice's; a node that is down
or refuses is named and the run does not start anywhere.
"""

from __future__ import annotations

import json

import pytest

from console.datasets.pipeline_sources import ConsoleSources
from console.federation import initiate
from console.federation.models import OutgoingMessage, PublishedPipeline, RemoteDataset
from console.federation.sources import remote_key
from console.nodes import identity
from console.nodes.link.transport import NodeCallError
from tests.console.federation.test_remote_sources import publish, with_bob  # noqa: F401
from workflows.components import registry
from workflows.messages import parse, render
from workflows.models import Pipeline, Run, Status
from workflows.services import create_run
from workflows.starters import build
from workflows.validation import validate

ALICE_ENGINE = "127.0.0.1:7101"


@pytest.fixture
def alices_run(with_bob, at_alice, alice, settings, tmp_path):  # noqa: F811
    settings.PRIVPAD_ENGINE_ADDRESS = ALICE_ENGINE
    settings.NODE_IDENTITY_DIR = tmp_path / "identity"
    identity.write_identity("alice", settings.NODE_IDENTITY_DIR)
    publish(with_bob, at_alice["bob"], missing=[])
    sources = ConsoleSources().sources(with_bob.pk)
    graph = build("credit_risk", ["alice", "bob"], sources)
    pipeline = Pipeline.objects.create(project=with_bob, name="LR", graph=graph.to_dict())
    PublishedPipeline.objects.create(pipeline=pipeline, version=2)
    checked = validate(graph, registry(), ("alice", "bob"), sources)
    run = create_run(pipeline, graph, checked, "all", None, False, None)
    return run, sources


def test_each_member_gets_its_own_job_then_the_engine_addresses(alices_run, alice, monkeypatch):
    run, sources = alices_run
    calls = []

    def answer(peer, method, body):
        calls.append((peer.name, method, body))
        return {"accepted": True, "engine": "127.0.0.1:7102"}

    monkeypatch.setattr(initiate, "_prepare", lambda *call: lambda: answer(*call))
    engines = initiate.start_across_nodes(run, sources, ("alice", "bob"), alice)
    assert engines == {"alice": ALICE_ENGINE, "bob": "127.0.0.1:7102"}
    assert [(name, method) for name, method, _ in calls] == [
        ("bob", "RunStart"),
        ("bob", "RunLaunch"),
    ]
    start = calls[0][2]
    job = json.loads(start["job"])
    assert job["party"] == "bob"
    assert job["run_id"] == str(run.pk)
    assert start["pipeline"] == {"id": run.pipeline_id, "version": 2}
    assert start["fingerprint"] == run.disclosure_fingerprint
    alice_paths = [s["path"] for s in job["sources"] if s["party"] == "alice"]
    assert alice_paths == [None]
    assert "alice" not in job["storage_root"]
    remote = RemoteDataset.objects.get()
    assert start["sources"] == [{"key": remote_key(remote), "dataset": 7, "authorization": 11}]
    assert calls[1][2] == {"run": run.pk, "engines": engines}


def test_a_node_that_is_down_is_named_and_the_run_does_not_start(alices_run, alice):
    run, sources = alices_run  # nothing listens at bob's address
    with pytest.raises(initiate.NodesUnavailable, match="bob: unreachable"):
        initiate.start_across_nodes(run, sources, ("alice", "bob"), alice)
    run = Run.objects.get(pk=run.pk)
    assert run.status == Status.CANCELLED
    assert "bob: unreachable" in render(run.message)
    assert set(run.nodes.values_list("status", flat=True)) == {Status.CANCELLED}


def test_a_refusal_cancels_the_run_at_the_nodes_that_accepted(alices_run, alice, monkeypatch):
    run, sources = alices_run

    def answer(peer, method, body):
        if peer.name == "bob":
            raise NodeCallError("bob", "h:1", "bob's owners have not approved", "refused")
        return {"accepted": True, "engine": "127.0.0.1:7103"}

    monkeypatch.setattr(initiate, "_prepare", lambda *call: lambda: answer(*call))
    with pytest.raises(initiate.NodesUnavailable, match="bob: bob's owners have not approved"):
        initiate.start_across_nodes(run, sources, ("alice", "bob", "carol"), alice)
    [abort] = OutgoingMessage.objects.filter(method="RunAbort")
    assert abort.peer.name == "carol"
    assert abort.body["run"] == run.pk
    # The reason travels as msgid + params: carol's node words it for its own readers.
    told = parse(abort.body["reason"])
    assert told["msgid"] == "nodes that could not take part: %(nodes)s"
    assert render(told, "zh-hans").startswith("无法参与的节点：bob")
    assert Run.objects.get(pk=run.pk).status == Status.CANCELLED


def test_this_nodes_part_is_queued_before_the_launch_and_stopped_if_a_launch_fails(
    alices_run, alice, monkeypatch
):
    run, sources = alices_run
    order = []

    def answer(peer, method, body):
        order.append(method)
        if method == "RunLaunch":
            raise NodeCallError("bob", "h:1", "connection refused", "unavailable")
        return {"accepted": True, "engine": "127.0.0.1:7102"}

    def own_part(engines):
        order.append("own part")
        assert engines == {"alice": ALICE_ENGINE, "bob": "127.0.0.1:7102"}
        Run.objects.filter(pk=run.pk).update(status=Status.RUNNING)  # its worker claimed it

    monkeypatch.setattr(initiate, "_prepare", lambda *call: lambda: answer(*call))
    with pytest.raises(initiate.NodesUnavailable, match="bob: unreachable"):
        initiate.start_across_nodes(run, sources, ("alice", "bob"), alice, own_part)
    assert order == ["RunStart", "own part", "RunLaunch"]
    assert Run.objects.get(pk=run.pk).cancel_requested  # the part stops at its next check


def test_without_an_engine_address_this_node_cannot_start(alices_run, alice, settings):
    run, sources = alices_run
    settings.PRIVPAD_ENGINE_ADDRESS = ""
    with pytest.raises(initiate.NodesUnavailable, match="alice: this node has no engine address"):
        initiate.start_across_nodes(run, sources, ("alice",), alice)


@pytest.fixture
def approved_pipeline(with_bob, at_alice, alice, settings, tmp_path):  # noqa: F811
    """Alice's pipeline on her and bob's data, both owners' approvals given."""
    from workflows.models import Approval

    settings.PRIVPAD_ENGINE_ADDRESS = ALICE_ENGINE
    settings.NODE_IDENTITY_DIR = tmp_path / "identity"
    identity.write_identity("alice", settings.NODE_IDENTITY_DIR)
    publish(with_bob, at_alice["bob"], missing=[])
    sources = ConsoleSources().sources(with_bob.pk)
    graph = build("credit_risk", ["alice", "bob"], sources)
    pipeline = Pipeline.objects.create(project=with_bob, name="LR", graph=graph.to_dict())
    plan = validate(graph, registry(), ("alice", "bob"), sources).plan
    for party, node in (("bob", RemoteDataset.objects.get().node), ("alice", alice)):
        Approval.objects.create(
            pipeline=pipeline,
            project=with_bob,
            party=party,
            party_node=node,
            fingerprint=plan.fingerprint,
            plan={},
            status=Approval.Decision.APPROVED,
        )
    return pipeline


def test_starting_a_shared_projects_run_starts_it_across_nodes(
    approved_pipeline, alice, alice_user, monkeypatch
):
    from console.federation import member_runs
    from workflows import services
    from workflows.actors import Actor

    calls = []

    def answer(peer, method, body):
        calls.append((peer.name, method))
        return {"engine": "127.0.0.1:7102"}

    monkeypatch.setattr(initiate, "_prepare", lambda *call: lambda: answer(*call))
    queued = []
    monkeypatch.setattr(member_runs, "start_own_part", lambda *args: queued.append(args))
    actor = Actor.for_user(alice_user)
    run = services.start_run(actor, approved_pipeline, "all", None, False)
    assert run.status == Status.PENDING
    assert calls == [("bob", "RunStart"), ("bob", "RunLaunch")]
    [(queued_run, job, engines)] = queued
    assert queued_run == run
    assert engines == {"alice": ALICE_ENGINE, "bob": "127.0.0.1:7102"}
    assert job["party"] == "alice"
    assert job["requested_by"] == "alice"  # the starter's party (alice_admin's node)
    assert job["storage_root"] == str(alice.storage_root)
    paths = {source["party"]: source["path"] for source in job["sources"]}
    assert paths["bob"] is None
    assert paths["alice"].endswith("customers.csv")


def test_a_partial_run_across_nodes_is_refused(approved_pipeline, alice_user):
    from django.core.exceptions import ValidationError

    from workflows import services
    from workflows.actors import Actor

    with pytest.raises(ValidationError, match="whole pipeline"):
        services.start_run(Actor.for_user(alice_user), approved_pipeline, "all", None, True)
    assert not Run.objects.exists()


def test_the_api_names_the_node_that_is_down(approved_pipeline, api_alice):
    response = api_alice.post(
        f"/api/v1/pipelines/{approved_pipeline.pk}/runs/", {"scope": "all"}, format="json"
    )
    assert response.status_code == 503, response.json()
    body = response.json()
    assert body["code"] == "nodes_unavailable"
    assert body["nodes"]["bob"].startswith("unreachable")
    assert "bob: unreachable" in body["detail"]
    assert Run.objects.get().status == Status.CANCELLED
