"""The demo pipeline: bootstrap_demo adds it once, it validates, and a run through the API
(embedded thread-pool back-end) succeeds with an AUC within 0.01 of scikit-learn on the same
joined, split, filled and scaled data."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks import task_backends
from rest_framework.test import APIClient
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from console.accounts.models import User
from console.demo.data import demo_tables
from console.demo.pipeline import (
    ALL_FEATURES,
    BOB_PIPELINE_NAME,
    GAPS,
    KEY,
    LABEL,
    PIPELINE_NAME,
    SEED,
    TEST_SIZE,
)
from tests.workflows.helpers import read_table
from workflows import services
from workflows.models import Artifact, LedgerEntry, Pipeline, Run, Status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, tmp_path):
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {
        "default": {
            "BACKEND": "workflows.backends.ThreadPoolBackend",
            "OPTIONS": {"max_workers": 1},
        }
    }
    call_command("bootstrap_demo", stdout=StringIO())
    yield Pipeline.objects.get(name=PIPELINE_NAME)
    task_backends["default"].shutdown()


def reference_auc() -> float:
    """scikit-learn on the plaintext join, split, filled and scaled as the pipeline does."""
    frames = [table.frame for table in demo_tables()]
    joined = frames[0].merge(frames[1], on=KEY).merge(frames[2], on=KEY).sort_values(KEY)
    joined = joined.reset_index(drop=True)
    train, test = train_test_split(joined, test_size=TEST_SIZE, train_size=0.75, random_state=SEED)
    train, test = train.copy(), test.copy()
    for part in (train, test):  # each half fills its gaps with its own means
        part[GAPS] = part[GAPS].fillna(part[GAPS].mean())
    scaler = StandardScaler().fit(train[ALL_FEATURES])
    model = LogisticRegression().fit(scaler.transform(train[ALL_FEATURES]), train[LABEL])
    return roc_auc_score(test[LABEL], model.decision_function(scaler.transform(test[ALL_FEATURES])))


def test_bootstrap_adds_the_pipeline_once_and_it_validates(demo):
    call_command("bootstrap_demo", stdout=StringIO())
    assert Pipeline.objects.filter(name=PIPELINE_NAME).count() == 1
    assert services.validate_pipeline(demo).ok


def test_the_demo_runs_end_to_end_through_the_api_close_to_scikit_learn(demo):
    client = APIClient()
    client.force_authenticate(User.objects.get(username="bob"))
    response = client.post(f"/api/v1/pipelines/{demo.pk}/runs/", {}, format="json")
    assert response.status_code == 201, response.json()
    for future in list(task_backends["default"].futures.values()):
        future.result(timeout=300)
    run = Run.objects.get(pk=response.json()["id"])
    failed = {n.node_id: n.message for n in run.nodes.all() if n.status != Status.SUCCEEDED}
    assert run.status == Status.SUCCEEDED, (run.message, failed)
    report = Artifact.objects.get(node_run__run=run, node_run__node_id="evaluate", party="bob")
    bobs_copy = json.loads(report.path.read_text(encoding="utf-8"))
    auc = bobs_copy["summary"]["auc"]
    expected = reference_auc()
    assert abs(auc - expected) < 0.01, (auc, expected)
    # Only alice, the receiver, holds predictions.
    predictions = Artifact.objects.filter(node_run__run=run, node_run__node_id="predict")
    assert {a.party for a in predictions} == {"alice"}
    # bob's copy of the evaluation: grouped curve points, no threshold equal to a score.
    scores = set(read_table(predictions.get().path).iloc[:, -1])
    thresholds = [p["threshold"] for p in bobs_copy["curves"] if p["threshold"] is not None]
    samples, k = bobs_copy["summary"]["samples"], bobs_copy["disclosure"]["min_rows"]
    assert 0 < len(thresholds) <= samples // k
    assert not scores & set(thresholds)
    # Every party of the model learnt the others' bounds of the features to score: in each
    # one's ledger, though only alice received a file of the prediction.
    bounds = LedgerEntry.objects.filter(run=run, node_id="predict", what__contains="magnitude")
    assert sorted((e.recipient, tuple(e.source_parties), e.kind) for e in bounds) == [
        ("alice", ("bob", "carol"), "aggregate"),
        ("bob", ("alice", "carol"), "aggregate"),
        ("carol", ("alice", "bob"), "aggregate"),
    ]


def test_the_demo_plan_is_allowed_by_the_standing_policies_and_bobs_scoring_waits(demo):
    alice = APIClient()
    alice.force_authenticate(User.objects.get(username="alice"))
    plan = alice.get(f"/api/v1/pipelines/{demo.pk}/").json()["disclosure"]
    assert {entry["decision"] for entry in plan["entries"]} == {"allow"}
    assert {state["state"] for state in plan["consent"].values()} == {"policy"}
    scoring = Pipeline.objects.get(name=BOB_PIPELINE_NAME)
    assert scoring.created_by.username == "bob"
    bob = APIClient()
    bob.force_authenticate(User.objects.get(username="bob"))
    response = bob.post(f"/api/v1/pipelines/{scoring.pk}/runs/", {}, format="json")
    assert response.status_code == 409
    [approval] = response.json()["approvals"]
    assert approval["party"] == "alice"
    assert any(
        "bob receives: id-linked prediction scores" in s for s in approval["plan"]["sentences"]
    )
