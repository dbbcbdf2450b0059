"""A range failure caused by bob's data in a network run (one `manage.py runpart` process per
party, mutual TLS on loopback), against the same run embedded (`run_party` in this process).

alice's SS-LR on her feature and bob's unscaled basket totals (around 10^15) fails at bob in
both modes with the same public text. bob's process alone holds the full one (his column, the
bound, the fix); alice's process never receives which of bob's columns are large: not in its
events, its log lines, its warnings or its result.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from console.demo.pipeline import DEMO_POLICIES
from tests.workflows.network.party_cluster import PartyCluster
from tests.workflows.overflow_pipeline import (
    BOBS_FEATURES,
    BOBS_LARGE,
    KEY,
    LABEL,
    baskets_frame,
    bobs_values,
    loans_frame,
    overflow_graph,
)
from workflows import redaction
from workflows.components.schema import Column
from workflows.messages import render
from workflows.party import run_party
from workflows.party_jobs import PartyJob
from workflows.ports import SourceTable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "core" / "network"))
from net_harness import results, run_cluster  # noqa: E402

pytestmark = pytest.mark.timeout(300)
WALL = 180.0
PARTIES = ("alice", "bob")
DATASETS = {"alice": 1, "bob": 2}
KINDS = {"int64": "int", "float64": "float"}
ROLES = {KEY: "id", LABEL: "label"}


def sources(storage: dict[str, Path]) -> dict[int, SourceTable]:
    """alice's loans and bob's baskets; each file written only in its owner's storage."""
    found = {}
    for party, name, frame in (
        ("alice", "loans", loans_frame()),
        ("bob", "baskets", baskets_frame()),
    ):
        columns = tuple(
            Column(c, KINDS.get(str(frame[c].dtype), "str"), party, ROLES.get(c, "feature"))
            for c in frame.columns
        )
        path = Path("/nonexistent") / party / f"{name}.csv"
        if party in storage:
            path = storage[party] / "datasets" / f"{name}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(path, index=False)
        digest = hashlib.sha256(f"{party}/{name}".encode()).hexdigest()
        source = SourceTable(
            DATASETS[party],
            name,
            party,
            path,
            digest,
            columns,
            rows=len(frame),
            policy=DEMO_POLICIES[party],
        )
        found[source.dataset_id] = source
    return found


def overflow_job(run_id: str, storage: dict[str, Path], party: str | None = None) -> PartyJob:
    return PartyJob(
        run_id=run_id,
        snapshot=overflow_graph(DATASETS["alice"], DATASETS["bob"]),
        parties=PARTIES,
        sources=sources(storage),
        storage=storage,
        party=party,
        requested_by="alice",
    )


def leaked(payload, secrets) -> list[str]:
    text = json.dumps(payload, ensure_ascii=False)
    return [secret for secret in secrets if secret in text]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    root = tmp_path_factory.mktemp("embedded")
    result = run_party(overflow_job("1", {party: root / party for party in PARTIES}))
    assert result.status == "failed", result.message
    return result.nodes["train"]


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    root = tmp_path_factory.mktemp("network")
    storage = {party: root / "nodes" / party for party in PARTIES}
    cluster = PartyCluster(root, storage, parties=PARTIES, make_job=overflow_job)
    cluster.start("61")
    runs = cluster.wait(WALL)
    for party, run in runs.items():
        assert run.result is not None, f"{party} gave no result:\n{run.stderr[-3000:]}"
    return runs, storage


def test_the_overflow_is_bobs_failure_with_the_same_public_text_in_both_modes(embedded, network):
    runs, _ = network
    public = str(redaction.range_public("bob", "SS-LR training"))
    assert (embedded.status, embedded.party, render(embedded.public)) == ("failed", "bob", public)
    for run in runs.values():
        assert run.process.returncode == 1, run.stderr[-2000:]
        train = run.result["nodes"]["train"]
        assert train["public"] == embedded.public  # the same stored message
        assert (train["status"], train["party"], render(train["public"])) == (
            "failed",
            "bob",
            public,
        )
        assert render(run.result["message"]) == f"failed at train at bob: {public}"
    assert runs["bob"].result["nodes"]["train"]["message"] == embedded.message


def test_bobs_process_alone_reads_his_column_the_bound_and_the_fix(network):
    runs, _ = network
    own = render(runs["bob"].result["nodes"]["train"]["message"])
    assert own.startswith(f"the values of bob's {BOBS_LARGE} are out of the range SS-LR")
    assert f"Fix: add a scaler (Scaler, before this node) for bob's {BOBS_LARGE}" in own
    alices = render(runs["alice"].result["nodes"]["train"]["message"])
    assert alices == str(redaction.range_public("bob", "SS-LR training"))
    warnings = [e for e in runs["bob"].events if e.get("event") == "node.warning"]
    assert [(w["about"], render(w["message"]).split(":")[0]) for w in warnings] == [
        ("bob", "features not scaled at bob")
    ]


def test_alices_process_receives_nothing_of_bobs_columns_or_values(network):
    runs, _ = network
    secrets = [*BOBS_FEATURES, *bobs_values(baskets_frame())]
    alices = runs["alice"]
    assert leaked(alices.events, secrets) == []
    warnings = [e for e in alices.events if e.get("event") == "node.warning"]
    assert [(w["about"], w["message"]) for w in warnings] == [
        ("bob", redaction.warning_public("bob").stored())  # events carry the stored form
    ]


MEASURE = """
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django.setup()
from workflows.components import secure

init()
matrix = sf.PYU("alice")(lambda: np.array([[5.0e6, 0.5], [-3.0, 0.25]]))()
measured = secure.column_bounds("alice", ["income", "ratio"], matrix)
emit({"bound": measured.bound, "rows": measured.rows, "has_unscaled": measured.has_unscaled,
      "unscaled": measured.unscaled, "columns": measured.columns})
"""


def test_only_the_bound_the_rows_and_a_verdict_cross_to_the_other_parties(tmp_path):
    """`secure.column_bounds` across two processes: bob's process receives alice's bound, row
    count and whether some column is unscaled; which column (income) stays in alice's."""
    got = results(run_cluster(MEASURE, ["alice", "bob"], tmp_path, wall=90.0))
    shared = {"bound": 2.0**23, "rows": 2, "has_unscaled": True, "columns": ["income", "ratio"]}
    assert got["alice"] == shared | {"unscaled": ["income"]}
    assert got["bob"] == shared | {"unscaled": None}
