"""Runs through the Tasks API's embedded back-end (a thread pool), and cancelling a running node.

These tests use real threads, so they use transactional database tests (`transaction=True`);
the test thread only touches the database while the run thread is parked at a known point.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest
from django_tasks import task, task_backends
from django_tasks.exceptions import TaskResultDoesNotExist

from core.comm import LocalLinkHub, run_spmd
from tests.workflows import gates
from tests.workflows.conftest import edge, node
from tests.workflows.runs import new_run, statuses
from workflows import services
from workflows.backends import ThreadPoolBackend
from workflows.components import discover
from workflows.components.spec import Registry
from workflows.executor import execute_run
from workflows.models import Artifact, Run, Status
from workflows.state import signal_cancel

pytestmark = pytest.mark.django_db(transaction=True)
hold_release = threading.Event()


@task()
def hold() -> str:
    """Occupies the single pool thread until released."""
    hold_release.wait(30)
    return "released"


@pytest.fixture
def pool(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "workflows.backends.ThreadPoolBackend",
            "OPTIONS": {"max_workers": 1},
        }
    }
    backend = task_backends["default"]
    assert isinstance(backend, ThreadPoolBackend)
    yield backend
    gates.release.set()
    hold_release.set()
    backend.shutdown()


def _wait_all(backend: ThreadPoolBackend) -> None:
    for future in list(backend.futures.values()):
        future.result(timeout=60)


def test_the_thread_pool_back_end_runs_a_task_and_keeps_its_result(pool):
    hold_release.set()
    result = hold.enqueue()
    pool.wait(result.id, timeout=30)
    assert hold.get_result(result.id).return_value == "released"
    assert result.status == "SUCCESSFUL"


def test_the_api_runs_a_pipeline_in_the_background(pool, credit_pipeline, api_alice):
    hold_release.clear()
    hold.enqueue()  # keeps the single worker busy until the API call has answered
    response = api_alice.post(f"/api/v1/pipelines/{credit_pipeline.pk}/runs/", {}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    hold_release.set()
    _wait_all(pool)
    run = Run.objects.get()
    assert run.status == Status.SUCCEEDED, run.message
    assert run.executor  # an embedded run records its process for restart recovery


def test_cancel_stops_a_running_node_at_its_next_progress_point(
    pool, monkeypatch, pipeline_factory, credit, api_alice
):
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
    run = new_run(pipeline_factory(graph))
    services.enqueue(run)
    assert gates.started.wait(30), "the gate node never started"
    response = api_alice.post(f"/api/v1/runs/{run.pk}/cancel/")
    assert response.json()["cancel_requested"] is True
    gates.release.set()
    _wait_all(pool)
    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert statuses(run) == {
        "read": Status.SUCCEEDED,
        "gate": Status.CANCELLED,
        "stats": Status.CANCELLED,
    }
    gate = run.nodes.get(node_id="gate")
    assert gate.progress == 1
    assert not Artifact.objects.filter(node_run=gate).exists()
    assert Artifact.objects.filter(node_run__node_id="read").exists()


@task()
def explode() -> None:
    raise ValueError("boom")


def test_a_failing_task_is_recorded_and_the_pool_keeps_working(pool):
    failed = explode.enqueue()
    pool.wait(failed.id, timeout=30)
    assert failed.status == "FAILED"
    assert failed.errors[0].exception_class_path == "builtins.ValueError"
    hold_release.set()
    ok = hold.enqueue()
    pool.wait(ok.id, timeout=30)
    assert ok.status == "SUCCESSFUL"


def test_a_cancel_raised_inside_a_party_thread_cancels_the_node(monkeypatch, credit_pipeline):
    def run_as_parties(ctx) -> None:
        hub = LocalLinkHub(list(ctx.parties), stats=ctx.comm)

        def program(link):
            link.send_all(b"x" * 100)
            for peer in range(link.world_size):
                if peer != link.rank:
                    link.recv(peer)
            signal_cancel(run.pk)
            ctx.progress(50)

        run_spmd(hub, [program] * len(ctx.parties))

    library = {c.key: c for c in discover()}
    split = library["data_prep/train_test_split"]
    library[split.key] = dataclasses.replace(split, run=run_as_parties)
    registry = Registry(list(library.values()))
    monkeypatch.setattr("workflows.executor.registry", lambda: registry)
    run = new_run(credit_pipeline)
    execute_run(run.pk)
    run.refresh_from_db()
    split_run = run.nodes.get(node_id="split")
    assert (run.status, split_run.status) == (Status.CANCELLED, Status.CANCELLED)
    assert split_run.comm_bytes["alice"] > 0


def test_the_pool_forgets_old_finished_results(pool, monkeypatch):
    monkeypatch.setattr("workflows.backends.MAX_KEPT_RESULTS", 2)
    hold_release.set()
    first = hold.enqueue()
    pool.wait(first.id, timeout=30)
    for _ in range(2):
        pool.wait(hold.enqueue().id, timeout=30)
    assert len(pool.futures) == 2
    with pytest.raises(TaskResultDoesNotExist):
        pool.get_result(first.id)
