"""The demo pipeline across three party processes (`manage.py runpart`, mutual TLS on loopback).

Each party writes only its own storage directory. Checked against the same pipeline run with
every party in this process (`run_party` embedded): the same AUC; then, as an adversarial
member would, every file of a party's storage is scanned for the other parties' rows: ids it
does not hold itself, feature values, scaled values and predictions (as raw float64 words and
as decimal text); no table outside alice holds her label or the predictions. Faults: a party
absent at start is named and the run refuses; a party killed mid-run fails the others naming
it, nothing hangs, finished outputs stay, and a re-run succeeds.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from console.demo.data import demo_tables
from console.demo.pipeline import bob_graph
from tests.workflows.network.demo_job import PARTIES, demo_job, demo_sources
from tests.workflows.network.party_cluster import PartyCluster
from workflows.messages import render
from workflows.party import run_party
from workflows.tabular.files import is_arrow, open_table, to_pandas

pytestmark = pytest.mark.timeout(420)
WALL = 240.0
NUMBER = re.compile(rb"-?\d+\.\d+(?:e-?\d+)?")


def auc_at(storage: Path, run_id: str) -> float:
    report = json.loads((storage / "runs" / run_id / "evaluate" / "report.json").read_text())
    return report["summary"]["auc"]


@pytest.fixture(scope="module")
def embedded_auc(tmp_path_factory) -> float:
    root = tmp_path_factory.mktemp("embedded")
    storage = {party: root / party for party in PARTIES}
    result = run_party(demo_job("1", storage))
    assert result.status == "succeeded", result.message
    return auc_at(storage["alice"], "1")


def party_storage(root: Path) -> dict[str, Path]:
    storage = {party: root / party for party in PARTIES}
    demo_sources(storage)  # each party's dataset in its own storage
    return storage


def assert_all_succeeded(runs) -> None:
    for party, run in runs.items():
        assert run.result is not None, f"{party} gave no result:\n{run.stderr[-3000:]}"
        assert run.process.returncode == 0, (party, run.result["message"], run.stderr[-3000:])
        assert set(run.statuses().values()) == {"succeeded"}, (party, run.statuses())


# ----- what an adversarial member scans for --------------------------------------------------
def ids_of(party: str) -> set[str]:
    return set(next(t.frame for t in demo_tables() if t.party == party)["customer_id"])


def distinctive(value: float) -> bool:
    """At least 5 significant digits: a short decimal (0.229) may be anyone's number, e.g. a
    rounded threshold of an aggregated curve, without coming from this party's rows."""
    digits = f"{abs(value):.15g}".split("e")[0].replace(".", "").strip("0")
    return len(digits) >= 5


def row_values(storage: Path) -> set[float]:
    """Every distinctive float a party holds row by row: its dataset's columns and every
    table its runs wrote (features, filled and scaled values, predictions)."""
    values: set[float] = set()
    for path in storage.rglob("*.arrow"):
        table = open_table(path)
        for name in table.column_names:
            column = table.column(name)
            if str(column.type) != "double":
                continue
            array = column.to_numpy(zero_copy_only=False).astype(np.float64)
            array = array[np.isfinite(array) & (array != np.round(array))]
            values.update(v for v in array.tolist() if distinctive(v))
    return values


def floats_in(path: Path) -> set[float]:
    """Every float64 word (8-byte aligned) and every decimal number written in the file."""
    data = path.read_bytes()
    words = np.frombuffer(data[: len(data) // 8 * 8], dtype="<f8")
    found = set(words[np.isfinite(words)].tolist())
    found.update(float(match) for match in NUMBER.findall(data))
    return found


def leaks(storage: Path, ids: set[str], values: set[float]) -> list[str]:
    problems = []
    for path in (p for p in storage.rglob("*") if p.is_file()):
        data = path.read_bytes()
        leaked_ids = [i for i in ids if i.encode() in data]
        if leaked_ids:
            problems.append(f"{path}: {len(leaked_ids)} ids, e.g. {leaked_ids[:3]}")
        leaked = values & floats_in(path)
        if leaked:
            problems.append(f"{path}: {len(leaked)} values, e.g. {sorted(leaked)[:3]}")
    return problems


def tables_with(storage: Path, names: set[str]) -> list[str]:
    return [
        str(path)
        for path in storage.rglob("*.arrow")
        if is_arrow(path) and names & set(open_table(path).column_names)
    ]


# ----- the tests -----------------------------------------------------------------------------
def test_the_demo_pipeline_runs_across_three_processes_as_embedded_and_keeps_data_home(
    tmp_path, embedded_auc
):
    storage = party_storage(tmp_path / "nodes")
    cluster = PartyCluster(tmp_path, storage)
    cluster.start("41")
    runs = cluster.wait(WALL)
    assert_all_succeeded(runs)
    assert auc_at(storage["alice"], "41") == pytest.approx(embedded_auc, abs=1e-3)
    assert 0.8 < embedded_auc < 0.95  # the demo's joint model, not a chance result

    # Bob and carol received an aggregated copy of the evaluation; only alice the full one.
    for party in ("bob", "carol"):
        report = json.loads((storage[party] / "runs/41/evaluate/report.json").read_text())
        assert report["disclosure"]["view"] == "aggregated"
    assert "disclosure" not in json.loads(
        (storage["alice"] / "runs/41/evaluate/report.json").read_text()
    )

    # Each party streams its own status, progress and log lines (for the initiator's canvas),
    # and they carry no other party's ids.
    for party, run in runs.items():
        seen = {(event["event"], event.get("node")) for event in run.events}
        assert {("node.progress", "train"), ("node.log", "psi")} <= seen, seen
        # Training's threat model: its first party deals SEMI2K's triples and must be trusted.
        logged = [render(e["line"]) for e in run.events if e["event"] == "node.log"]
        threat = [line for line in logged if line.startswith("threat model of SS-LR training")]
        assert len(threat) == 1, logged
        assert "alice is the trusted first party" in threat[0], threat
        assert {event["party"] for event in run.events} == {party}
        streamed = json.dumps(run.events)
        for owner in (p for p in PARTIES if p != party):
            assert not [i for i in ids_of(owner) - ids_of(party) if i in streamed]

    held = {party: row_values(storage[party]) for party in PARTIES}
    for owner in PARTIES:
        for other in (p for p in PARTIES if p != owner):
            foreign_ids = ids_of(owner) - ids_of(other)
            assert len(foreign_ids) > 500  # what PSI keeps from the other party
            assert leaks(storage[other], foreign_ids, held[owner] - held[other]) == []
    # Alice's label and the predictions (revealed to alice alone) are in no table elsewhere.
    for other in ("bob", "carol"):
        assert tables_with(storage[other], {"default_flag", "pred"}) == []
    assert tables_with(storage["alice"], {"pred"})  # the scan would have found them
    assert len(held["alice"]) > 10_000  # incomes, scaled features, predictions
    # The scan finds alice's rows where they do not belong: a planted copy of her predictions.
    planted = tmp_path / "planted"
    planted.mkdir()
    shutil.copy(storage["alice"] / "runs/41/predict/output_ds.arrow", planted / "copy.arrow")
    assert leaks(planted, set(), held["alice"] - held["bob"])


def test_a_party_absent_at_start_is_named_and_the_run_refuses(tmp_path):
    storage = party_storage(tmp_path / "nodes")
    cluster = PartyCluster(tmp_path, storage)
    started = time.monotonic()
    cluster.start("42", absent=("bob",))
    runs = cluster.wait(60)
    assert time.monotonic() - started < 45
    for party in ("alice", "carol"):
        result = runs[party].result
        assert runs[party].process.returncode == 2, runs[party].stderr[-2000:]
        assert result["status"] == "refused"
        assert "cannot reach bob" in render(result["message"])
        assert set(runs[party].statuses().values()) == {"skipped"}
        assert not (storage[party] / "runs" / "42").exists()


def test_killing_a_party_mid_run_fails_the_others_naming_it_and_a_rerun_succeeds(
    tmp_path, embedded_auc
):
    storage = party_storage(tmp_path / "nodes")
    cluster = PartyCluster(tmp_path, storage, reconnect_grace=2.0)
    killed: dict[str, float] = {}
    ended: dict[str, float] = {}

    training: set[str] = set()
    lock = threading.Lock()  # events arrive on one reader thread per party

    def kill_bob_when_training_starts(party, event, cluster):
        # Once every party is training: a party still finishing the node before would
        # otherwise fail that node (its confirmation with bob) instead of training.
        with lock:
            if event.get("node") == "train" and event.get("status") == "running":
                training.add(party)
            if training == {"alice", "bob", "carol"} and not killed:
                killed["at"] = time.monotonic()
                cluster.kill("bob")
        if event.get("event") == "result":
            ended[party] = time.monotonic()

    cluster.start("43", on_event=kill_bob_when_training_starts)
    runs = cluster.wait(WALL)
    assert killed, "bob never started training: " + "; ".join(
        f"{party}: {run.result and run.result.get('message')!r} {run.stderr[-500:]}"
        for party, run in runs.items()
    )
    for party in ("alice", "carol"):
        run = runs[party]
        assert run.process.returncode == 1, run.stderr[-2000:]
        train = run.result["nodes"]["train"]
        assert train["status"] == "failed", train
        assert train["party"] == "bob", train
        assert "bob" in render(train["message"])
        # The link's cause is worded for each reader (`workflows.link_causes`), not English.
        chinese = render(train["message"], "zh-hans")
        assert "与 bob 失去联系" in chinese, chinese
        assert "lost connection" not in chinese, chinese
        assert "aborted" not in chinese, chinese
        assert run.result["nodes"]["predict"]["status"] == "skipped"
        assert run.result["nodes"]["psi"]["status"] == "succeeded"
        assert (storage[party] / "runs/43/psi/output_ds.arrow").exists()  # kept
        assert not (storage[party] / "runs/43/train").exists()  # partial outputs removed
        assert "failed at train at bob" in render(run.result["message"])
    # Both stopped soon after bob went: the reconnect grace (2 s), then the abort.
    assert max(ended.values()) - killed["at"] < 20, ended

    cluster.start("44")
    runs = cluster.wait(WALL)
    assert_all_succeeded(runs)
    assert auc_at(storage["alice"], "44") == pytest.approx(embedded_auc, abs=1e-3)


def test_a_failure_at_one_party_fails_the_node_everywhere_naming_it_without_its_data(tmp_path):
    storage = party_storage(tmp_path / "nodes")
    dataset = storage["bob"] / "datasets" / "shopping_behaviour.csv"
    frame = pd.read_csv(dataset)
    pd.concat([frame, frame.iloc[[7]]]).to_csv(dataset, index=False)  # a duplicate key
    key = frame["customer_id"][7]
    cluster = PartyCluster(tmp_path, storage)
    cluster.start("45")
    runs = cluster.wait(WALL)
    for run in runs.values():
        assert run.process.returncode == 1, run.stderr[-2000:]
        psi = run.result["nodes"]["psi"]
        assert psi["status"] == "failed", psi
        assert psi["party"] == "bob", psi
        assert run.result["nodes"]["read_bob"]["status"] == "succeeded"
        assert run.result["nodes"]["split"]["status"] == "skipped"
    own = runs["bob"].result["nodes"]["psi"]
    assert key in render(own["message"])  # bob's users see the detail
    assert key not in json.dumps(own["public"])
    for party in ("alice", "carol"):
        psi = runs[party].result["nodes"]["psi"]
        assert key not in json.dumps(runs[party].events)
        assert "bob" in render(psi["message"])


def bob_job(run_id: str, storage: dict[str, Path], party: str | None = None):
    return demo_job(run_id, storage, party, graph=bob_graph)


def test_bobs_two_party_pipeline_runs_between_alice_and_bob_alone(tmp_path):
    embedded = {party: tmp_path / "embedded" / party for party in PARTIES}
    assert run_party(bob_job("1", embedded)).status == "succeeded"
    expected = to_pandas(open_table(embedded["bob"] / "runs/1/predict/output_ds.arrow"))

    storage = party_storage(tmp_path / "nodes")
    pair = {party: storage[party] for party in ("alice", "bob")}
    cluster = PartyCluster(tmp_path, pair, parties=("alice", "bob"), make_job=bob_job)
    cluster.start("46")
    runs = cluster.wait(WALL)
    assert_all_succeeded(runs)
    psi = json.loads((storage["alice"] / "runs/46/psi/report.json").read_text())
    assert psi["protocol"] == "KKRT_PSI_2PC"  # AUTO between two parties
    scores = to_pandas(open_table(storage["bob"] / "runs/46/predict/output_ds.arrow"))
    assert list(scores["customer_id"]) == list(expected["customer_id"])
    assert np.allclose(scores["pred"], expected["pred"], atol=1e-3)
    # The scores, derived from alice's label, went to bob alone.
    assert not (storage["alice"] / "runs/46/predict").exists()
    predicted = {v for v in scores["pred"].tolist() if distinctive(v)}
    assert len(predicted) > 500
    assert leaks(storage["alice"], set(), predicted) == []
    assert not (storage["carol"] / "runs").exists()  # carol takes no part


def test_cancelling_a_party_stops_the_run_at_every_party_naming_it(tmp_path):
    storage = party_storage(tmp_path / "nodes")
    cluster = PartyCluster(tmp_path, storage)

    def cancel_alice_when_training_starts(party, event, cluster):
        starting = event.get("node") == "train" and event.get("status") == "running"
        if party == "alice" and starting:
            cluster.runs["alice"].process.send_signal(signal.SIGTERM)

    cluster.start("47", on_event=cancel_alice_when_training_starts)
    runs = cluster.wait(WALL)
    for party, run in runs.items():
        assert run.process.returncode == 1, (party, run.stderr[-2000:])
        train = run.result["nodes"]["train"]
        assert train["status"] == "failed", train
        assert train["party"] == "alice", train
        assert "cancelled at alice" in render(train["public"]), train
        assert run.result["nodes"]["evaluate"]["status"] == "skipped"
