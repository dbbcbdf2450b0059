"""GET /api/v1/pipelines/<id>/runs/: run summaries for the history list.

Each row carries who started the run and the bytes its parties sent (nodes computed in that
run only: a node reused from an earlier run sent nothing in this one); nodes are left out.
"""

from __future__ import annotations

import pytest

from tests.workflows.conftest import credit_graph
from tests.workflows.runs import run_now
from workflows.models import Artifact, NodeRun

pytestmark = pytest.mark.django_db


def test_rows_name_the_starter_and_total_the_bytes_sent(
    pipeline_factory, credit, alice_user, api_bob
):
    pipeline = pipeline_factory(credit_graph(credit.pk))
    first = run_now(pipeline, user=alice_user)
    NodeRun.objects.filter(run=first, node_id="split").update(comm_bytes={"alice": 300, "bob": 40})
    NodeRun.objects.filter(run=first, node_id="eval").update(comm_bytes={"alice": 2})
    second = run_now(pipeline, reuse=True)
    reused = NodeRun.objects.filter(run=second, reused_from__isnull=False)
    assert reused.filter(node_id="split").exists(), list(reused.values_list("node_id", flat=True))

    response = api_bob.get(f"/api/v1/pipelines/{pipeline.pk}/runs/")

    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [second.pk, first.pk]
    assert rows[1]["comm_bytes"] == 342
    assert rows[1]["started_by"] == "alice_admin"
    assert rows[0]["started_by"] == ""
    assert rows[0]["comm_bytes"] == 0, rows[0]
    # Stored bytes: bob's outputs each run computed itself (the reused split's files are the
    # first run's; alice's files' sizes are hers).
    computed = Artifact.objects.filter(node_run__run=first, party="bob")
    assert rows[1]["output_bytes"] == sum(a.size_bytes for a in computed) > 0
    own = Artifact.objects.filter(
        node_run__run=second, node_run__reused_from__isnull=True, party="bob"
    )
    assert rows[0]["output_bytes"] == sum(a.size_bytes for a in own)
    assert all(row["nodes"] is None for row in rows)
    assert rows[1]["status"] == "succeeded"


def test_a_pipeline_without_runs_lists_nothing(pipeline_factory, credit, api_alice):
    pipeline = pipeline_factory(credit_graph(credit.pk))
    assert api_alice.get(f"/api/v1/pipelines/{pipeline.pk}/runs/").json() == []


def test_outsiders_cannot_list_runs(pipeline_factory, credit, api_carol):
    pipeline = pipeline_factory(credit_graph(credit.pk))
    assert api_carol.get(f"/api/v1/pipelines/{pipeline.pk}/runs/").status_code == 404
