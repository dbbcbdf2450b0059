"""bob's own pipeline over alice's authorised dataset: evaluate alice's label against one of her
features. Through the node results API, the HTML report and his download, bob's copy only
carries k-row aggregates; alice's copy is complete."""

from __future__ import annotations

import json
from itertools import pairwise

import numpy as np
import pytest

from console.datasets.models import Authorization
from tests.workflows.conftest import CREDIT_ROLES, credit_frame, make_dataset, node
from tests.workflows.conftest import edge as link
from tests.workflows.runs import run_now
from tests.workflows.test_reports import charts, report_of
from workflows.models import Artifact, Pipeline, Status

pytestmark = pytest.mark.django_db
ROWS, K = 400, 20


@pytest.fixture
def frame():
    return credit_frame(rows=ROWS, seed=21)


def bobs_probe(alice, project, bob_user, frame) -> Pipeline:
    dataset = make_dataset(alice, "credit400", frame)
    Authorization.objects.create(dataset=dataset, project=project, column_roles=CREDIT_ROLES)
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=dataset.pk),
            node("eval", "ml.eval/binary_classification", label="y", prediction="age"),
        ],
        "edges": [link("read", "output_ds", "eval", "input_ds")],
    }
    return Pipeline.objects.create(
        project=project, name="bob probes", graph=graph, created_by=bob_user
    )


@pytest.fixture
def bobs_run(alice, project, bob_user, frame):
    run = run_now(bobs_probe(alice, project, bob_user, frame), user=bob_user)
    assert run.status == Status.SUCCEEDED, run.message
    return run


def bobs_download(api_bob, run) -> dict:
    own = Artifact.objects.get(node_run__run=run, node_run__node_id="eval", party="bob")
    response = api_bob.get(f"/api/v1/artifacts/{own.pk}/download/")
    assert response.status_code == 200
    return json.loads(b"".join(response.streaming_content))


def roc_points(figures: dict) -> int:
    return len(figures["ROC curve"]["data"][0]["x"])


def report_output(client, run) -> dict:
    body = client.get(f"/api/v1/runs/{run.pk}/nodes/eval/").json()
    return next(entry for entry in body["outputs"] if entry["port"] == "report")


def test_bobs_download_has_at_most_n_over_k_points_and_no_exact_threshold(bobs_run, api_bob, frame):
    report = bobs_download(api_bob, bobs_run)
    points = [p for p in report["curves"] if p["threshold"] is not None]
    assert 0 < len(points) <= ROWS // K
    assert not set(frame["age"].astype(float)) & {p["threshold"] for p in points}
    assert all("min_score" not in b for b in report["bins"])


def test_bobs_node_results_and_report_draw_only_grouped_curves(bobs_run, api_bob, api_alice):
    bob_view = report_output(api_bob, bobs_run)
    bob_charts = {chart["title"]: chart for chart in bob_view["charts"]}
    assert roc_points(bob_charts) <= ROWS // K + 1  # plus the origin
    tables = {table["title"]: table for table in bob_view["tables"]}
    assert "min_score" not in tables["Equal-frequency bins"]["columns"]
    assert "Your copy" in tables
    html_charts = charts(report_of(api_bob, bobs_run))
    assert roc_points(html_charts) <= ROWS // K + 1
    ks = html_charts["KS curve"]["data"][0]["x"]
    assert len(ks) <= ROWS // K + 1


def test_alice_the_label_owner_reads_her_full_copy(bobs_run, api_alice, frame):
    alice_view = report_output(api_alice, bobs_run)
    full = {chart["title"]: chart for chart in alice_view["charts"]}
    assert roc_points(full) == frame["age"].nunique() + 1
    tables = {table["title"]: table for table in alice_view["tables"]}
    assert "min_score" in tables["Equal-frequency bins"]["columns"]
    assert roc_points(charts(report_of(api_alice, bobs_run))) == frame["age"].nunique() + 1


def test_k_comes_from_the_setting_in_the_plan_and_in_bobs_copy(
    settings, alice, project, bob_user, api_bob, frame
):
    settings.PRIVPAD_DISCLOSURE_MIN_ROWS = 50
    pipeline = bobs_probe(alice, project, bob_user, frame)
    plan = api_bob.post(f"/api/v1/pipelines/{pipeline.pk}/validate/").json()["disclosure"]
    assert {e["k"] for e in plan["entries"] if e["recipient"] == "bob"} == {50}
    run = run_now(pipeline, user=bob_user)
    assert run.status == Status.SUCCEEDED, run.message
    curves = bobs_download(api_bob, run)["curves"]
    cuts = sorted((p["threshold"] for p in curves if p["threshold"] is not None), reverse=True)
    assert cuts, "a curve of 400 rows keeps some points at k=50"
    scores = frame["age"].astype(float).to_numpy()
    edges = [np.inf, *cuts, -np.inf]
    groups = [((scores < high) & (scores >= low)).sum() for high, low in pairwise(edges)]
    assert min(groups) >= 50, groups  # every point covers at least k rows, and so does the rest
