"""Consent that takes effect at once, replayed as the issue found it: a run held mid-way (at
PSI, or at the test gate) while alice revokes, removes bob, or a node is disabled.

Real threads run the pipeline (transactional tests); the test thread acts only while the run
is parked at a known point.
"""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from console.asgi import application
from console.datasets.models import Authorization
from tests.workflows import gates
from tests.workflows.conftest import edge, node
from tests.workflows.runs import new_run, statuses
from tests.workflows.test_execution import _wait_all, pool  # noqa: F401 - fixture
from tests.workflows.test_websocket import _headers
from workflows import revocation, services
from workflows.components.library import psi as psi_module
from workflows.consumers import CLOSE_FORBIDDEN
from workflows.executor import execute_run, storage_root, withdraw_outputs
from workflows.messages import render
from workflows.models import Approval, Artifact, Run, Status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gated_psi(monkeypatch):
    """PSI that waits at the gate before intersecting (while its progress loop keeps polling)."""
    real = psi_module.run_local_psi
    gates.started.clear()
    gates.release.clear()

    def held(*args, **kwargs):
        gates.started.set()
        gates.release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(psi_module, "run_local_psi", held)


@pytest.fixture
def psi_pipeline(pipeline_factory, credit, shop, bob_user):
    graph = {
        "nodes": [
            node("alice_in", "read/dataset", dataset=credit.pk),
            node("bob_in", "read/dataset", dataset=shop.pk),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
            node("split", "data_prep/train_test_split"),
        ],
        "edges": [
            edge("alice_in", "output_ds", "psi", "input_ds1"),
            edge("bob_in", "output_ds", "psi", "input_ds2"),
            edge("psi", "output_ds", "split", "input_ds"),
        ],
    }
    pipeline = pipeline_factory(graph, name="bob's PSI")
    pipeline.created_by = bob_user
    pipeline.save()
    return pipeline


@pytest.fixture
def gate_pipeline(monkeypatch, pipeline_factory, credit):
    gates.use_registry(monkeypatch)
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("gate", "test/gate"),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [
            edge("read", "output_ds", "gate", "input_ds"),
            edge("read", "output_ds", "stats", "input_ds"),
        ],
    }
    return pipeline_factory(graph, name="gated")


def start_held(pool, pipeline, user) -> Run:  # noqa: F811 - the pool fixture
    run = new_run(pipeline, user=user)
    services.enqueue(run)
    assert gates.started.wait(30), "the run never reached the gate"
    return run


def finish(pool, run: Run) -> Run:  # noqa: F811
    gates.release.set()
    _wait_all(pool)
    run.refresh_from_db()
    return run


def test_revoking_a_dataset_during_psi_stops_the_run_and_bob_keeps_nothing(
    fresh_storage,
    pool,  # noqa: F811
    gated_psi,
    psi_pipeline,
    credit,
    bob_user,
    api_alice,
):
    run = start_held(pool, psi_pipeline, bob_user)
    authorization = Authorization.objects.get(dataset=credit)
    response = api_alice.post(f"/api/v1/authorizations/{authorization.pk}/revoke/")
    assert response.status_code == 200, response.content
    run = finish(pool, run)
    assert run.status == Status.REVOKED
    assert "alice revoked the authorisation of dataset 'credit'" in render(run.message)
    nodes = {n.node_id: n for n in run.nodes.all()}
    assert nodes["psi"].status == Status.REVOKED
    assert nodes["split"].status == Status.REVOKED
    # Nothing of the intersection reached anyone: no rows, no files.
    assert not Artifact.objects.filter(node_run__run=run, node_run__node_id="psi").exists()
    for party in ("alice", "bob"):
        assert not list((storage_root(party) / "runs" / str(run.pk) / "psi").glob("*"))
    # What was read before the revocation stays with its owner.
    assert Artifact.objects.filter(node_run__run=run, node_run__node_id="alice_in").exists()


def test_a_disabled_node_stops_the_runs_of_its_projects(
    pool,  # noqa: F811
    gate_pipeline,
    bob_user,
    api_admin,
):
    run = start_held(pool, gate_pipeline, bob_user)
    response = api_admin.patch("/api/v1/nodes/bob/", {"status": "disabled"}, format="json")
    assert response.status_code == 200, response.content
    run = finish(pool, run)
    assert run.status == Status.REVOKED
    assert "node bob is disabled" in render(run.message)
    statuses = {n.node_id: n.status for n in run.nodes.all()}
    assert statuses == {"read": Status.SUCCEEDED, "gate": Status.REVOKED, "stats": Status.REVOKED}
    assert not Artifact.objects.filter(node_run__run=run, node_run__node_id="gate").exists()


def test_a_rejected_approval_revokes_through_revoke_runs(pool, gate_pipeline, alice_user):  # noqa: F811
    run = start_held(pool, gate_pipeline, alice_user)
    assert revocation.revoke_runs([run], "alice rejected the disclosure plan") == [run.pk]
    run = finish(pool, run)
    assert (run.status, render(run.message)) == (
        Status.REVOKED,
        "stopped: alice rejected the disclosure plan",
    )
    assert revocation.revoke_runs([run], "again") == []  # finished runs are left alone


def test_alice_rejecting_the_plan_she_approved_stops_the_run_started_on_it(
    pool,  # noqa: F811
    gate_pipeline,
    credit,
    bob_user,
    api_alice,
):
    Authorization.objects.filter(dataset=credit).update(disclosure_policy={"aggregates": "ask"})
    run = start_held(pool, gate_pipeline, bob_user)
    approval = run.consents["alice"]
    assert isinstance(approval, int), run.consents  # the run started on alice's approval
    body = {"decision": "reject", "comment": "not for bob after all"}
    assert api_alice.post(f"/api/v1/approvals/{approval}/", body, format="json").status_code == 200
    run = finish(pool, run)
    assert (run.status, render(run.message)) == (
        Status.REVOKED,
        "stopped: the disclosure plan was rejected by alice",
    )
    assert statuses(run) == {
        "read": Status.SUCCEEDED,
        "gate": Status.REVOKED,
        "stats": Status.REVOKED,
    }
    assert not Artifact.objects.filter(node_run__run=run, node_run__node_id="stats").exists()


def test_a_rejection_leaves_runs_started_on_other_consents_alone(
    pool,  # noqa: F811
    gate_pipeline,
    credit,
    bob_user,
    api_alice,
):
    Authorization.objects.filter(dataset=credit).update(disclosure_policy={"aggregates": "ask"})
    run = start_held(pool, gate_pipeline, bob_user)
    stray = Approval.objects.create(
        pipeline=gate_pipeline,
        project_id=gate_pipeline.project_id,
        party="alice",
        party_node_id=credit.node_id,
        fingerprint="0" * 64,
        plan={"entries": [], "sentences": []},
        status=Approval.Decision.APPROVED,
    )
    # alice rejects a plan this run did not start on (another fingerprint): the run goes on
    body = {"decision": "reject"}
    assert api_alice.post(f"/api/v1/approvals/{stray.pk}/", body, format="json").status_code == 200
    assert finish(pool, run).status == Status.SUCCEEDED


def test_a_run_revoked_before_it_starts_never_runs(gate_pipeline, credit, api_alice):
    run = new_run(gate_pipeline)
    authorization = Authorization.objects.get(dataset=credit)
    assert api_alice.post(f"/api/v1/authorizations/{authorization.pk}/revoke/").status_code == 200
    run.refresh_from_db()
    assert run.status == Status.REVOKED
    assert {n.status for n in run.nodes.all()} == {Status.REVOKED}
    assert execute_run(run.pk) == Status.REVOKED
    assert not Artifact.objects.filter(node_run__run=run).exists()


def test_a_run_not_reading_the_revoked_dataset_goes_on(
    pool,  # noqa: F811
    monkeypatch,
    pipeline_factory,
    credit,
    shop,
    api_bob,
    alice_user,
):
    gates.use_registry(monkeypatch)
    graph = {
        "nodes": [node("read", "read/dataset", dataset=credit.pk), node("gate", "test/gate")],
        "edges": [edge("read", "output_ds", "gate", "input_ds")],
    }
    run = start_held(pool, pipeline_factory(graph), alice_user)
    authorization = Authorization.objects.get(dataset=shop)
    assert api_bob.post(f"/api/v1/authorizations/{authorization.pk}/revoke/").status_code == 200
    assert finish(pool, run).status == Status.SUCCEEDED


def test_removing_bob_closes_his_open_socket_and_stops_the_run(
    pool,  # noqa: F811
    gate_pipeline,
    project,
    alice_user,
    bob_user,
    api_alice,
):
    run = start_held(pool, gate_pipeline, alice_user)
    headers = _headers(bob_user)
    removed = threading.Event()

    async def watch() -> dict:
        socket = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers)
        assert (await socket.connect())[0]
        assert (await socket.receive_json_from(timeout=10))["type"] == "run.snapshot"
        response = await sync_to_async(api_alice.delete)(
            f"/api/v1/projects/{project.pk}/members/bob/"
        )
        assert response.status_code == 204, response.content
        removed.set()
        while True:
            output = await socket.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                return output

    closed = async_to_sync(watch)()
    assert removed.is_set()
    assert closed["code"] == CLOSE_FORBIDDEN
    run = finish(pool, run)
    assert run.status == Status.REVOKED
    assert "node bob was removed from the project" in render(run.message)


def test_disabling_bobs_node_closes_his_open_socket(
    pool,  # noqa: F811
    gate_pipeline,
    alice_user,
    bob_user,
    api_admin,
):
    run = start_held(pool, gate_pipeline, alice_user)
    headers = _headers(bob_user)

    async def watch() -> dict:
        socket = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers)
        assert (await socket.connect())[0]
        assert (await socket.receive_json_from(timeout=10))["type"] == "run.snapshot"
        response = await sync_to_async(api_admin.patch)(
            "/api/v1/nodes/bob/", {"status": "disabled"}, format="json"
        )
        assert response.status_code == 200, response.content
        while True:
            output = await socket.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                return output

    assert async_to_sync(watch)()["code"] == CLOSE_FORBIDDEN
    assert finish(pool, run).status == Status.REVOKED


def test_outputs_recorded_after_the_revocation_are_withdrawn(pipeline_factory, credit):
    """The race the progress points cannot see: consent goes just as a node records."""
    graph = {"nodes": [node("read", "read/dataset", dataset=credit.pk)], "edges": []}
    run = new_run(pipeline_factory(graph))
    execute_run(run.pk)
    artifact = Artifact.objects.get(node_run__run=run)
    Run.objects.filter(pk=run.pk).update(revoked_at=artifact.created_at - timezone.timedelta(0, 1))
    assert withdraw_outputs(run) == {artifact.node_run_id}
    assert not Artifact.objects.filter(node_run__run=run).exists()
    assert not artifact.path.exists()
