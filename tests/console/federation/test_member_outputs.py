"""A member node keeps its own outputs and its own report copy, and nothing of anyone else's.

This installation is bob's node. Alice's node started the credit-scoring pipeline (PSI, split,
fill, scale, SS-LR, prediction for alice, evaluation) and bob accepted it (`RunStart`); the run
then really executes across the two parties over the engine's mutual-TLS links on loopback:
alice's part with `run_party` in a thread, with her data and storage outside bob's
installation, bob's with his worker (`member_runs.run_member_part`), which records his outputs
in his database as the embedded executor would.

As an adversarial member would, bob's whole database (every row, as `dumpdata` writes it) and
every file under his storage are then scanned for alice's rows: ids only she holds, her feature
values and her predictions (as float64 words and as decimal text), and tables with her label
or the prediction column.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.utils.html import escape

from console.federation import member_runs
from console.federation.models import PipelineReplica, RemoteDataset, RunReplica, SharedProject
from console.federation.sources import remote_source
from console.nodes import identity
from console.nodes.identity import make_key_and_certificate
from console.projects.models import Project, ProjectMember
from tests.console.conftest import make_user
from tests.console.federation.conftest import deliver
from tests.console.federation.test_run_start import approve, start_body
from tests.console.pages.conftest import authorize, make_dataset
from tests.workflows.network.test_party_network import floats_in, leaks, tables_with
from workflows.components.context import ArtifactData
from workflows.components.schema import ArtifactInfo, Column
from workflows.disclosure.policy import Policy
from workflows.messages import render
from workflows.models import Artifact, LedgerEntry, NodeRun, Pipeline, Run, Status
from workflows.party import run_party
from workflows.party_jobs import Network, job_from_dict
from workflows.ports import SourceTable
from workflows.starters import build
from workflows.state import logs_for

pytestmark = pytest.mark.timeout(300)
ALICE_KEY, BOB_KEY, SHARED, ALICE_ONLY = 1, -3, 32, 12


@pytest.fixture(autouse=True)
def bobs_installation(settings, tmp_path):
    """Bob's storage and identity in a directory of their own (alice's are elsewhere)."""
    settings.NODE_STORAGE_DIR = tmp_path / "bob" / "nodes"
    settings.NODE_IDENTITY_DIR = tmp_path / "bob" / "identity"
    settings.PRIVPAD_ENGINE_ADDRESS = "127.0.0.1:1"  # replaced by the launch below


def alices_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ids = [f"u{i}" for i in range(SHARED)] + [f"alice-only-{i}" for i in range(ALICE_ONLY)]
    score = rng.normal(size=len(ids)) * 3.1 + 0.123457
    label = (score + rng.normal(size=len(ids)) > 0.2).astype(int)
    return pd.DataFrame({"uid": ids, "default": label, "score": score.round(7)})


def bobs_rows() -> list[list[str]]:
    rng = np.random.default_rng(8)
    return [
        [f"u{i}", f"{1000 + 371.13 * rng.random():.4f}", f"{55.5 * rng.random():.4f}"]
        for i in range(SHARED)
    ]


def alices_source(path: Path) -> SourceTable:
    columns = (
        Column("uid", "str", "alice", "id"),
        Column("default", "int", "alice", "label"),
        Column("score", "float", "alice", "feature"),
    )
    return SourceTable(
        ALICE_KEY, "customers", "alice", path, "f" * 64, columns,
        rows=SHARED + ALICE_ONLY, authorization_id=5, policy=Policy.from_dict({}).to_dict(),
    )  # fmt: skip


@pytest.fixture
def alice_storage(tmp_path) -> Path:
    root = tmp_path / "alice" / "nodes" / "alice"
    (root / "datasets").mkdir(parents=True)
    alices_frame().to_csv(root / "datasets" / "customers.csv", index=False)
    return root


@pytest.fixture
def copy_at_bob(at_bob, alice, bob, alice_storage):
    """Bob's copy of alice's project, his dataset authorised, her pipeline replicated."""
    project = Project.objects.create(name="Credit", owner_node=alice)
    SharedProject.objects.create(project=project, version=1, member_names=["alice", "bob"])
    for node in (alice, bob):
        ProjectMember.objects.create(project=project, node=node)
    columns = [("uid", "str"), ("income", "float"), ("debt", "float")]
    dataset = make_dataset(bob, "bank", [name for name, _ in columns], bobs_rows())
    dataset.columns = [{"name": n, "type": t, "nulls": 0} for n, t in columns]
    dataset.save(update_fields=["columns"])
    roles = {"uid": "id", "income": "feature", "debt": "feature"}
    authorization = authorize(dataset, project, roles)
    seen_at_alice = RemoteDataset(
        pk=-BOB_KEY, node=bob, name="bank", column_roles=roles, remote_id=dataset.pk,
        columns=[{"name": n, "type": t, "missing": False} for n, t in columns],
        authorization_id=authorization.pk,
    )  # fmt: skip
    path = alice_storage / "datasets" / "customers.csv"
    sources = {ALICE_KEY: alices_source(path), BOB_KEY: remote_source(seen_at_alice)}
    graph = build("credit_risk", ["alice", "bob"], sources)
    pipeline = Pipeline.objects.create(project=project, name="LR", graph=graph.to_dict())
    PipelineReplica.objects.create(pipeline=pipeline, origin=alice, remote_id=9, version=2)
    return {"project": project, "authorization": authorization, "sources": sources}


def engine_links(at_bob, ports: list[int]) -> tuple[dict, Network]:
    """Every party's engine address, and alice's links: her own key pair, bob's certificate
    pinned (bob's node pins hers: his route to alice carries her certificate)."""
    bobs = identity.write_identity("bob")
    alice_key, alice_cert = make_key_and_certificate("alice")
    at_bob["alice"].certificate = alice_cert.decode()
    at_bob["alice"].save(update_fields=["certificate"])
    engines = {"alice": f"127.0.0.1:{ports[0]}", "bob": f"127.0.0.1:{ports[1]}"}
    cluster = {"parties": {p: {"address": a} for p, a in engines.items()}, "self_party": "alice"}
    tls = {"key": alice_key, "cert": alice_cert, "peers": {"bob": bobs.cert_pem}}
    return engines, Network(cluster_config=cluster, tls=tls, timeout=120, connect_timeout=30)


@pytest.fixture
def ran(copy_at_bob, at_bob, alice_storage):
    """The run executed at both parties; bob's worker recorded his part."""
    return run_at_both(copy_at_bob, at_bob, alice_storage)


def run_at_both(copy_at_bob, at_bob, alice_storage) -> dict:
    from tests.core.network.net_harness import free_ports

    body = start_body(copy_at_bob)
    approve(copy_at_bob, body)
    deliver(at_bob["alice"], "RunStart", body)
    replica = RunReplica.objects.get()
    engines, alices_links = engine_links(at_bob, free_ports(2))
    replica.cluster = engines
    replica.save(update_fields=["cluster"])
    bobs_job = job_from_dict(json.loads(body["job"]))
    alices_job = replace(
        bobs_job,
        party="alice",
        sources=copy_at_bob["sources"],
        storage={"alice": alice_storage},
    )
    alice_result = {}

    def alices_part():
        alice_result["result"] = run_party(alices_job, alices_links)

    thread = threading.Thread(target=alices_part)
    thread.start()
    bob_status = member_runs.run_member_part(replica.pk)
    thread.join(timeout=120)
    run = Run.objects.get(pk=replica.run_id)
    return {"bob": bob_status, "alice": alice_result["result"], "run": run}


def test_bob_records_his_own_outputs_and_report_copy_and_nothing_else(ran, bob, settings):
    assert ran["alice"].status == "succeeded", ran["alice"].message
    run = ran["run"]
    assert ran["bob"] == Status.SUCCEEDED, run.message
    assert set(run.nodes.values_list("status", flat=True)) == {Status.SUCCEEDED}
    artifacts = Artifact.objects.filter(node_run__run=run)
    assert {(a.party, a.owner_node_id) for a in artifacts} == {("bob", bob.pk)}
    part_root = Path(run.replica.job["storage_root"])
    written = {path for path in (part_root / "runs" / "41").rglob("*") if path.is_file()}
    assert {a.path for a in artifacts} == written  # everything bob wrote, nothing more
    assert all(
        a.relative_path.startswith(f"peer-runs/alice/run-{run.pk}/runs/41/") and a.path.is_file()
        for a in artifacts
    )
    kinds = {(a.node_run.node_id, a.port): a.kind for a in artifacts}
    assert kinds[("evaluate", "report")] == "report"  # bob's own copy of the report
    assert kinds[("psi", "output_ds")] == "table.vertical"  # bob's columns of the join
    assert ("predict", "output_ds") not in kinds  # alice alone receives the predictions
    # bob's privacy ledger: what he received derived from alice's data, and only that.
    received = LedgerEntry.objects.filter(run=run)
    assert set(received.values_list("recipient", flat=True)) == {"bob"}
    assert {"alice"} == {p for entry in received for p in entry.source_parties}
    assert ("evaluate", "report") in set(received.values_list("node_id", "port"))
    # No prediction reaches bob, but the scoring opened alice's input bounds to him.
    assert "predict" in set(received.values_list("node_id", flat=True))
    assert all(n.comm_bytes and set(n.comm_bytes) == {"bob"} for n in run.nodes.all())


def test_bobs_run_page_shows_his_results(ran, bob, client):
    user = make_user("bob_analyst", bob)
    client.force_login(user)
    run = ran["run"]
    body = client.get(f"/api/v1/runs/{run.pk}/").json()
    assert body["status"] == "succeeded"
    assert {a["owner"] for a in body["artifacts"]} == {"bob"}
    evaluation = client.get(f"/api/v1/runs/{run.pk}/nodes/evaluate/").json()
    (report,) = evaluation["outputs"]
    assert report["kind"] == "report"
    assert not report.get("missing"), report
    assert report["title"]
    joined = client.get(f"/api/v1/runs/{run.pk}/nodes/psi/").json()["outputs"][0]
    (part,) = joined["own"]
    assert part["party"] == "bob"
    assert part["rows"] == SHARED  # bob's columns of the intersection, previewed for bob
    assert {"income", "debt"} <= set(part["preview"]["columns"])
    assert "score" not in part["preview"]["columns"]
    download = client.get(f"/api/v1/artifacts/{part['id']}/download/")
    assert download.status_code == 200
    page = client.get(f"/pipelines/runs/{run.pk}/")
    assert page.status_code == 200
    download = client.get(f"/api/v1/runs/{run.pk}/report/")
    assert download.status_code == 200
    assert b"alice-only" not in download.content
    # bob's report copy holds his own log lines, as his run page shows them.
    lines = [line["message"] for node in run.nodes.all() for line in logs_for(node, "bob")]
    assert lines
    assert all(escape(line) in download.content.decode() for line in lines)


def test_bob_holds_none_of_alices_rows_ids_or_labels(ran, settings, alice_storage):
    assert ran["bob"] == Status.SUCCEEDED, ran["run"].message
    frame = alices_frame()
    alice_only = {uid for uid in frame["uid"] if uid.startswith("alice-only")}
    alices_values = set(frame["score"].tolist()) | prediction_values(alice_storage)
    bob_root = Path(settings.NODE_STORAGE_DIR)
    assert leaks(bob_root, alice_only, alices_values) == []
    assert tables_with(bob_root, {"default", "pred", "score"}) == []
    dump = bob_root.parent / "database.json"
    out = io.StringIO()
    call_command("dumpdata", "--natural-foreign", stdout=out)
    dump.write_text(out.getvalue())
    assert leaks(dump.parent, alice_only, alices_values) == []
    assert not alices_values & floats_in(dump)
    assert "alice-only" not in out.getvalue()
    # Alice's part did write what the scan looks for: the scan can find it.
    assert leaks(alice_storage, alice_only, alices_values)


def prediction_values(alice_storage: Path) -> set[float]:
    from tests.workflows.network.test_party_network import row_values

    return row_values(alice_storage / "runs" / "41" / "predict")


def test_a_part_of_another_party_or_outside_bobs_storage_is_refused(
    copy_at_bob, at_bob, tmp_path, settings
):
    body = start_body(copy_at_bob)
    approve(copy_at_bob, body)
    deliver(at_bob["alice"], "RunStart", body)
    run = Run.objects.get()
    nodes = {node.node_id: node for node in run.nodes.all()}
    kept = member_runs.KeptHere(run, "bob", nodes)
    info = build_info()
    inside = Path(settings.NODE_STORAGE_DIR) / "bob" / "x.arrow"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_bytes(b"x")
    elsewhere = tmp_path / "elsewhere.arrow"
    elsewhere.write_bytes(b"x")
    for files, problem in [
        ({"alice": inside}, "parts of alice"),
        ({"bob": inside, "alice": inside}, "parts of alice"),
        ({"bob": elsewhere}, "outside bob's storage"),
    ]:
        with pytest.raises(ValueError, match=problem):
            kept("psi", {"output_ds": ArtifactData(info, files)}, {"bob": 1})
    with pytest.raises(ValueError, match="no part at bob"):
        kept("psi", {"output_ds": ArtifactData(build_info(("alice",)), {"bob": inside})}, {})
    assert not Artifact.objects.exists()
    assert NodeRun.objects.filter(run=run, comm_bytes={}).count() == len(nodes)


def build_info(parties=("alice", "bob")) -> ArtifactInfo:
    return ArtifactInfo.table([Column(f"c_{p}", "float", p, "feature") for p in parties])


@pytest.fixture
def older_run(copy_at_bob, bob) -> dict[str, Artifact]:
    """A finished earlier run of the pipeline at bob, with a table and a report of his."""
    pipeline = Pipeline.objects.get(project=copy_at_bob["project"])
    run = Run.objects.create(pipeline=pipeline, snapshot={}, status=Status.SUCCEEDED)
    node = NodeRun.objects.create(run=run, node_id="psi", component="data_prep/psi", version="1")
    held = {}
    for port, kind, name in [("output_ds", "table.vertical", "t.arrow"), ("report", "report", "r")]:
        path = Path(bob.storage_root) / "peer-runs" / "alice" / "runs" / "7" / "psi" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"bob's older output")
        held[kind] = Artifact.objects.create(
            node_run=node, port=port, kind=kind, owner_node=bob, party="bob", info={},
            relative_path=str(path.relative_to(bob.storage_root)), size_bytes=18,
        )  # fmt: skip
    return held


@pytest.fixture
def keep_one_run(settings):
    settings.PRIVPAD_KEEP_RUNS = 1


def test_bobs_retention_policy_applies_after_his_part_as_after_an_embedded_run(
    keep_one_run, older_run, ran
):
    assert ran["bob"] == Status.SUCCEEDED, ran["run"].message
    table, report = older_run["table.vertical"], older_run["report"]
    assert not Artifact.objects.filter(pk=table.pk).exists()
    assert not table.path.exists()
    assert report.path.exists()  # reports are kept whatever the age
    assert Artifact.objects.filter(node_run__run=ran["run"], kind="table.vertical").exists()


def test_outputs_bob_cannot_record_fail_his_node_and_stop_the_run_at_both_parties(
    copy_at_bob, at_bob, alice_storage, monkeypatch
):
    record = member_runs.record_outputs

    def failing(run, node, outputs, parties, here=None):
        if node.node_id == "train":
            raise DatabaseError("database or disk is full")
        record(run, node, outputs, parties, here)

    monkeypatch.setattr(member_runs, "record_outputs", failing)
    ran = run_at_both(copy_at_bob, at_bob, alice_storage)
    run = ran["run"]
    assert ran["bob"] == Status.FAILED
    assert ran["alice"].status == "failed"
    # alice had confirmed train with bob before he failed to keep it: she stops at the next
    # node, with bob's reason.
    assert "bob stopped at node train: DatabaseError" in render(ran["alice"].message)
    assert ran["alice"].nodes["evaluate"].status == "skipped"
    statuses = dict(run.nodes.values_list("node_id", "status"))
    assert statuses["train"] == Status.FAILED
    assert statuses["psi"] == Status.SUCCEEDED
    assert {statuses["predict"], statuses["evaluate"]} == {Status.SKIPPED}
    assert "disk is full" in render(run.nodes.get(node_id="train").message)
    assert not (Path(run.replica.job["storage_root"]) / "runs" / "41" / "train").exists()
    kept = set(
        Artifact.objects.filter(node_run__run=run).values_list("node_run__node_id", flat=True)
    )
    assert "psi" in kept
    assert "train" not in kept


def test_bob_rejecting_the_plan_mid_run_revokes_his_part_and_stops_alices(
    copy_at_bob, at_bob, alice_storage, bob, monkeypatch
):
    """Bob's approver rejects the plan he approved while his part runs: his part stops at its
    next progress point as "revoked" (the part's cancel token reads `revoked_at`), alice's part
    stops with it, and nothing after the rejection is kept at bob."""
    from workflows.actors import Actor
    from workflows.disclosure.consent import decide
    from workflows.models import Approval
    from workflows.state import cancellation

    approver = make_user("bob_approver", bob)
    record = member_runs.record_outputs

    def rejecting_after_psi(run, node, outputs, parties, here=None):
        record(run, node, outputs, parties, here)
        if node.node_id == "psi":
            approval = Approval.objects.get(party="bob")
            decide(Actor.for_user(approver), approval, False, "not this plan")

    monkeypatch.setattr(member_runs, "record_outputs", rejecting_after_psi)
    # The token asks the database at every progress point (once a second in production), as
    # the test's transaction never commits to wake it through `on_commit`.
    monkeypatch.setattr(cancellation, "CANCEL_POLL_SECONDS", 0)
    ran = run_at_both(copy_at_bob, at_bob, alice_storage)
    run = ran["run"]
    assert ran["bob"] == Status.REVOKED, render(run.message)
    assert ran["alice"].status == "failed"
    assert run.revoked_at is not None
    assert "rejected by bob" in render(run.revoke_reason)
    statuses = dict(run.nodes.values_list("node_id", "status"))
    assert statuses["psi"] == Status.SUCCEEDED
    assert statuses["evaluate"] != Status.SUCCEEDED
    kept = set(
        Artifact.objects.filter(node_run__run=run).values_list("node_run__node_id", flat=True)
    )
    # Kept: what bob held before the rejection, and at most the node then running.
    position = dict(run.nodes.values_list("node_id", "position"))
    assert "psi" in kept
    assert max(position[node_id] for node_id in kept) <= position["psi"] + 1
    assert not kept & {"train", "predict", "evaluate"}
    assert statuses["train"] in (Status.REVOKED, Status.SKIPPED)
