"""Output sizes as an adversarial member reads them: only his own files' sizes.

A party's output is at that party; its size on disk says something about its content: alice's
full evaluation report holds one curve point per distinct score (bob's copy holds aggregates
of k rows), so its size tells bob how many distinct values alice's scores take; her statistics
report's size the number of digits of her exact minimum and maximum. The run API, the run and
pipeline run lists and the websocket snapshot (all `workflows.state`) therefore give a viewer
the sizes of its own party's outputs only.
"""

from __future__ import annotations

import pytest

from tests.workflows.conftest import credit_graph
from tests.workflows.runs import run_now
from workflows import state
from workflows.models import Artifact

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(pipeline_factory, credit, alice_user):
    run = run_now(pipeline_factory(credit_graph(credit.pk)), user=alice_user)
    evaluated = Artifact.objects.filter(node_run__run=run, node_run__node_id="eval")
    assert set(evaluated.values_list("party", flat=True)) == {"alice", "bob"}
    return run


def own_bytes(run, party: str) -> int:
    return sum(a.size_bytes for a in Artifact.objects.filter(node_run__run=run, party=party))


def test_bobs_run_api_gives_him_the_size_of_his_own_outputs_only(finished, api_bob):
    body = api_bob.get(f"/api/v1/runs/{finished.pk}/").json()
    nodes = {node["node"]: node for node in body["nodes"]}
    assert set(nodes["eval"]["output_bytes"]) == {"bob"}
    assert all(set(node["output_bytes"]) <= {"bob"} for node in body["nodes"])
    assert nodes["read"]["output_bytes"] == {}  # alice's table, at alice
    assert body["output_bytes"] == own_bytes(finished, "bob") > 0


def test_alice_still_reads_the_size_of_hers(finished, api_alice):
    body = api_alice.get(f"/api/v1/runs/{finished.pk}/").json()
    nodes = {node["node"]: node for node in body["nodes"]}
    read = Artifact.objects.get(node_run__run=finished, node_run__node_id="read")
    assert nodes["read"]["output_bytes"] == {"alice": read.size_bytes}
    assert body["output_bytes"] == own_bytes(finished, "alice")


def test_run_lists_total_only_bobs_own_outputs(finished, api_bob):
    listed = api_bob.get("/api/v1/runs/").json()
    history = api_bob.get(f"/api/v1/pipelines/{finished.pipeline_id}/runs/").json()
    for rows in (listed, history):
        row = next(row for row in rows if row["id"] == finished.pk)
        assert row["output_bytes"] == own_bytes(finished, "bob")


def test_the_public_view_carries_no_party_sizes(finished):
    body = state.run_state(finished)
    assert all(node["output_bytes"] == {} for node in body["nodes"])
    assert body["output_bytes"] is None
    assert state.run_summary(finished)["output_bytes"] is None
