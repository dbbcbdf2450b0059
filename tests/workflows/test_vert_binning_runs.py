"""A binning run through the executor and the API, read as each member: alice bins her columns
after PSI and bob his; bob's copy of the run (node results, run report, artifacts) holds
nothing of alice's edges or counts, and alice reads her bins in full."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.workflows.conftest import credit_frame, edge, node
from tests.workflows.runs import run_now
from tests.workflows.test_reports import report_of
from workflows.models import Artifact, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def binning_run(pipeline_factory, credit, shop):
    graph = {
        "nodes": [
            node("alice_in", "read/dataset", dataset=credit.pk),
            node("bob_in", "read/dataset", dataset=shop.pk),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
            node("bin", "preprocessing/vert_binning", features=["age", "income", "spend"]),
        ],
        "edges": [
            edge("alice_in", "output_ds", "psi", "input_ds1"),
            edge("bob_in", "output_ds", "psi", "input_ds2"),
            edge("psi", "output_ds", "bin", "input_ds"),
        ],
    }
    run = run_now(pipeline_factory(graph, "Binning"))
    assert run.status == Status.SUCCEEDED, run.message
    return run


def alice_edges() -> set[str]:
    """alice's edges (every id is in the intersection) as JSON writes them, those precise
    enough not to occur by chance in a page: what bob must not find."""
    frame = credit_frame()
    found = set()
    for name in ("age", "income"):
        values = frame[name].to_numpy(dtype=float)
        for value in np.histogram_bin_edges(values[np.isfinite(values)], bins=10):
            found.add(json.dumps(float(value)))
    return {text for text in found if len(text) >= 6}


def node_outputs(client, run) -> list[dict]:
    response = client.get(f"/api/v1/runs/{run.pk}/nodes/bin/")
    assert response.status_code == 200, response.content
    return response.json()["outputs"]


def test_bob_reads_his_own_bins_and_nothing_of_alices(binning_run, api_bob):
    outputs = node_outputs(api_bob, binning_run)
    (report,) = [e for e in outputs if e["port"] == "report"]
    (bins,) = [t for t in report["tables"] if t["title"] == "Bins"]
    assert {row[0] for row in bins["rows"]} == {"spend"}
    html = report_of(api_bob, binning_run)
    assert "Rows per bin: spend" in html
    assert "Rows per bin: income" not in html
    shown = json.dumps(outputs) + html
    secrets = alice_edges()
    assert len(secrets) >= 5
    assert [text for text in secrets if text in shown] == []
    theirs = Artifact.objects.filter(
        node_run__run=binning_run, node_run__node_id="bin", party="alice"
    )
    assert theirs.count() == 3
    for artifact in theirs:
        response = api_bob.get(f"/api/v1/artifacts/{artifact.pk}/download/")
        assert response.status_code in (403, 404), artifact.port


def test_alice_reads_her_bins_in_full(binning_run, api_alice):
    (report,) = [e for e in node_outputs(api_alice, binning_run) if e["port"] == "report"]
    (bins,) = [t for t in report["tables"] if t["title"] == "Bins"]
    assert {row[0] for row in bins["rows"]} == {"age", "income"}
    income = credit_frame()["income"].to_numpy()
    total = sum(int(row[-1]) for row in bins["rows"] if row[0] == "income")
    assert total == int(np.isfinite(income).sum())
