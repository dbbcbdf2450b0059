"""Executing runs: outputs, scopes, reuse, failure isolation, revocation, restart recovery."""

from __future__ import annotations

import os
import socket
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from tests.workflows.conftest import credit_frame
from tests.workflows.runs import new_run, run_now, statuses
from workflows import services
from workflows.actors import Actor
from workflows.messages import render
from workflows.models import Artifact, Run, Status
from workflows.recovery import INTERRUPTED_MESSAGE, recover_interrupted_runs

pytestmark = pytest.mark.django_db

ALL_NODES = {"read", "split", "fill", "scale", "stats", "eval", "shop", "shop_stats"}


def test_it_runs_a_pipeline_and_keeps_each_output_at_its_owner(credit_pipeline, alice, bob):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    assert set(statuses(run).values()) == {Status.SUCCEEDED}
    tables = Artifact.objects.filter(node_run__run=run, kind="table.individual")
    assert {a.party for a in tables.filter(node_run__node_id="fill")} == {"alice"}
    assert {a.party for a in tables.filter(node_run__node_id="shop")} == {"bob"}
    for artifact in Artifact.objects.filter(node_run__run=run):
        assert artifact.path.is_file()
        assert artifact.path.is_relative_to(artifact.owner_node.storage_root)
        assert artifact.size_bytes == artifact.path.stat().st_size
    reports = Artifact.objects.filter(node_run__run=run, port="report", node_run__node_id="eval")
    assert {a.party for a in reports} == {"alice", "bob"}


def test_its_evaluation_matches_scikit_learn_on_the_same_split(credit_pipeline):
    run = run_now(credit_pipeline)
    # alice holds the label: her copy is the full report (bob's is k-row aggregated).
    report = Artifact.objects.get(node_run__run=run, node_run__node_id="eval", party="alice")
    auc = pd.read_json(report.path, typ="series")["summary"]["auc"]
    _, test = train_test_split(credit_frame(), train_size=0.75, test_size=0.25, random_state=3)
    assert auc == pytest.approx(roc_auc_score(test["y"], test["score"]))


def test_it_records_progress_logs_and_times(credit_pipeline):
    run = run_now(credit_pipeline)
    node = run.nodes.get(node_id="read")
    assert node.progress == 100
    assert "read 60 rows" in render(node.logs[0]["message"])
    assert node.started_at <= node.finished_at
    assert node.comm_bytes == {"alice": 0, "bob": 0}


def test_a_failure_skips_dependents_and_keeps_other_outputs(credit_pipeline):
    graph = credit_pipeline.graph
    graph["nodes"][1]["params"]["train_size"] = 0.01  # 60 rows -> 0 train rows
    credit_pipeline.save()
    run = run_now(credit_pipeline)
    assert run.status == Status.FAILED
    split = run.nodes.get(node_id="split")
    assert (split.status, split.party) == (Status.FAILED, "alice")
    assert "0 train" in render(split.message)
    assert {statuses(run)[n] for n in ("fill", "scale", "stats", "eval")} == {Status.SKIPPED}
    assert statuses(run)["shop_stats"] == Status.SUCCEEDED
    kept = Artifact.objects.filter(node_run__run=run, node_run__node_id="shop_stats")
    assert kept.exists()
    assert all(artifact.path.exists() for artifact in kept)
    assert not Artifact.objects.filter(node_run__run=run, node_run__node_id="split").exists()


def test_a_single_node_run_reads_the_latest_upstream_outputs(credit_pipeline):
    first = run_now(credit_pipeline)
    run = run_now(credit_pipeline, scope="node", node="scale")
    assert run.status == Status.SUCCEEDED, run.message
    nodes = {node.node_id: node for node in run.nodes.all()}
    assert {n for n, node in nodes.items() if node.in_scope} == {"scale"}
    assert nodes["fill"].reused_from.run_id == first.pk
    assert nodes["scale"].reused_from is None
    assert nodes["stats"].status == Status.SKIPPED
    assert "outside" in nodes["stats"].message


def test_a_single_node_run_without_upstream_outputs_says_what_to_run_first(credit_pipeline):
    run = run_now(credit_pipeline, scope="node", node="scale")
    assert run.status == Status.FAILED
    assert "run this node first" in run.nodes.get(node_id="fill").message
    assert statuses(run)["scale"] == Status.SKIPPED


def test_a_downstream_run_covers_the_node_and_its_descendants(credit_pipeline):
    run_now(credit_pipeline)
    run = run_now(credit_pipeline, scope="downstream", node="split")
    in_scope = set(run.nodes.filter(in_scope=True).values_list("node_id", flat=True))
    assert in_scope == {"split", "fill", "scale", "stats", "eval"}
    assert run.status == Status.SUCCEEDED


def test_an_upstream_run_covers_the_node_and_its_ancestors(credit_pipeline):
    run = run_now(credit_pipeline, scope="upstream", node="fill")
    in_scope = set(run.nodes.filter(in_scope=True).values_list("node_id", flat=True))
    assert in_scope == {"read", "split", "fill"}
    assert run.status == Status.SUCCEEDED
    assert statuses(run)["scale"] == Status.SKIPPED


def test_reuse_skips_unchanged_nodes_and_reruns_changed_ones(credit_pipeline):
    first = run_now(credit_pipeline)
    credit_pipeline.graph["nodes"][2]["params"]["float_strategy"] = "median"
    credit_pipeline.save()
    run = run_now(credit_pipeline, reuse=True)
    assert run.status == Status.SUCCEEDED
    reused = {n.node_id for n in run.nodes.all() if n.reused_from_id}
    assert reused == {"read", "split", "eval", "shop", "shop_stats"}
    assert run.nodes.get(node_id="read").reused_from.run_id == first.pk


def test_without_reuse_every_node_runs_again(credit_pipeline):
    run_now(credit_pipeline)
    run = run_now(credit_pipeline)
    assert not run.nodes.filter(reused_from__isnull=False).exists()


def test_a_revoked_dataset_stops_a_run_that_was_already_asked_for(credit_pipeline, credit):
    run = new_run(credit_pipeline)
    credit.authorizations.update(revoked_at=pd.Timestamp.now(tz="UTC"))
    from workflows.executor import execute_run

    execute_run(run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "not authorised" in run.message


def test_cancelling_a_pending_run_cancels_its_nodes(credit_pipeline, alice_user):
    run = new_run(credit_pipeline)
    services.cancel_run(Actor.for_user(alice_user), run)
    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert set(statuses(run).values()) == {Status.CANCELLED}
    from workflows.executor import execute_run

    assert execute_run(run.pk) == Status.CANCELLED


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_restart_recovery_interrupts_runs_of_dead_processes_only(credit_pipeline):
    host = socket.gethostname()
    dead = new_run(credit_pipeline)
    Run.objects.filter(pk=dead.pk).update(status=Status.RUNNING, executor=f"{host}:{_dead_pid()}")
    dead.nodes.filter(node_id="read").update(status=Status.RUNNING)
    alive = new_run(credit_pipeline)
    Run.objects.filter(pk=alive.pk).update(status=Status.RUNNING, executor=f"{host}:{os.getpid()}")
    remote = new_run(credit_pipeline)
    Run.objects.filter(pk=remote.pk).update(status=Status.RUNNING, executor="elsewhere:1")
    queued = new_run(credit_pipeline)  # waiting for a worker: no executor yet

    assert recover_interrupted_runs() == 1
    dead.refresh_from_db()
    assert (dead.status, render(dead.message)) == (Status.INTERRUPTED, str(INTERRUPTED_MESSAGE))
    assert set(statuses(dead).values()) == {Status.INTERRUPTED}
    for other in (alive, remote, queued):
        other.refresh_from_db()
        assert other.status in (Status.RUNNING, Status.PENDING)


def test_an_interrupted_pipeline_can_run_again(credit_pipeline):
    run = new_run(credit_pipeline)
    Run.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, executor=f"{socket.gethostname()}:{_dead_pid()}"
    )
    recover_interrupted_runs()
    again = run_now(credit_pipeline)
    assert again.status == Status.SUCCEEDED


def test_fingerprints_change_with_the_data_roles(credit_pipeline, credit):
    first = run_now(credit_pipeline)
    roles = credit.authorizations.get().column_roles | {"city": "protected"}
    credit.authorizations.update(column_roles=roles)
    second = run_now(credit_pipeline, reuse=True)
    read_1, read_2 = (r.nodes.get(node_id="read") for r in (first, second))
    assert read_1.fingerprint != read_2.fingerprint
    assert read_2.reused_from is None
    assert np.all([a.info["columns"] for a in read_2.artifacts.all()][0][-1]["name"] != "city")


def test_the_first_request_of_a_process_recovers_runs(credit_pipeline, alice_client, monkeypatch):
    from workflows import recovery

    run = new_run(credit_pipeline)
    Run.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, executor=f"{socket.gethostname()}:{_dead_pid()}"
    )
    monkeypatch.setattr(recovery, "_done", recovery.threading.Event())
    alice_client.get("/api/v1/components/")
    run.refresh_from_db()
    assert run.status == Status.INTERRUPTED


def test_an_internal_error_fails_the_run_and_closes_its_nodes(credit_pipeline, monkeypatch):
    from workflows.executor import execute_run

    def broken():
        raise RuntimeError("console port unavailable")

    run = new_run(credit_pipeline)
    monkeypatch.setattr("workflows.executor.console_port", broken)
    execute_run(run.pk)
    run.refresh_from_db()
    assert (run.status, render(run.message)) == (
        Status.FAILED,
        "internal error: console port unavailable",
    )
    assert set(statuses(run).values()) == {Status.FAILED}
