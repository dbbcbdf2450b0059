"""Failures and warnings that explain themselves, through real runs (database, executor).

- The credit-risk pipeline with alice's income (hundreds of thousands) and age left unscaled
  fails at SS-LR training naming the columns and the fix, never "succeeded" with nonsense;
  the same pipeline with every feature scaled succeeds with scikit-learn's AUC.
- A failed node's reason is an error line of its log (streamed as `node.log`), and the run's
  message names the node by its component and id with that reason.
- Warnings are recorded on the node, logged, published as `node.warning` and shown by the API.
- Validation catches gaps the upload profile counted, and a label lost by *Save label*.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from console.datasets.models import Authorization
from tests.workflows.conftest import edge, make_dataset, node
from tests.workflows.runs import run_now, statuses
from workflows import events, services
from workflows.models import Artifact, Status

pytestmark = pytest.mark.django_db

ROWS = 400
SEED = 11


def bank_frame() -> pd.DataFrame:
    """alice's loans: income in the hundreds of thousands, age, the label."""
    rng = np.random.default_rng(SEED)
    income = rng.lognormal(12.2, 0.4, ROWS).round(2)  # median ~ 200,000
    age = rng.integers(21, 76, ROWS)
    return pd.DataFrame({"id": [f"u{i:04d}" for i in range(ROWS)], "income": income, "age": age})


def shop_frame() -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 1)
    return pd.DataFrame(
        {"id": [f"u{i:04d}" for i in range(ROWS)], "spend": rng.gamma(2.0, 30.0, ROWS).round(2)}
    )


def with_label(bank: pd.DataFrame, shop: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 2)
    standard = lambda v: (v - v.mean()) / v.std()  # noqa: E731
    logit = (
        -0.4
        - 1.1 * standard(np.log(bank["income"]))
        + 0.7 * standard(bank["age"])
        + 0.9 * standard(shop["spend"])
    )
    bank = bank.copy()
    bank["y"] = (rng.random(ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    return bank


@pytest.fixture
def datasets(alice, bob, project):
    shop = shop_frame()
    bank = with_label(bank_frame(), shop)
    loans = make_dataset(alice, "loans", bank)
    roles = {"id": "id", "income": "feature", "age": "feature", "y": "label"}
    Authorization.objects.create(dataset=loans, project=project, column_roles=roles)
    spend = make_dataset(bob, "spend", shop)
    roles = {"id": "id", "spend": "feature"}
    Authorization.objects.create(dataset=spend, project=project, column_roles=roles)
    return loans, spend, bank.merge(shop, on="id")


def credit_risk_graph(loans_id: int, spend_id: int, scaled: list[str], **predict) -> dict:
    """PSI -> split -> scaler (fit on train, rule applied to test) -> SS-LR -> prediction for
    alice -> binary classification evaluation, as the credit-risk template draws it."""
    features = ["income", "age", "spend"]
    nodes = [
        node("read_alice", "read/dataset", dataset=loans_id),
        node("read_bob", "read/dataset", dataset=spend_id),
        node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
        node("split", "data_prep/train_test_split", train_size=0.75, test_size=0.25),
        node("scale_train", "preprocessing/scaler", features=scaled),
        node("scale_test", "preprocessing/scaler", features=scaled),
        node("train", "ml.train/ss_lr", features=features, label="y", learning_rate=0.5),
        node("predict", "ml.predict/ss_lr", receiver="alice", **({"save_label": True} | predict)),
        node("evaluate", "ml.eval/binary_classification", label="y", prediction="pred"),
    ]
    edges = [
        edge("read_alice", "output_ds", "psi", "input_ds1"),
        edge("read_bob", "output_ds", "psi", "input_ds2"),
        edge("psi", "output_ds", "split", "input_ds"),
        edge("split", "train_ds", "scale_train", "input_ds"),
        edge("split", "test_ds", "scale_test", "input_ds"),
        edge("scale_train", "output_rule", "scale_test", "input_rule"),
        edge("scale_train", "output_ds", "train", "input_ds"),
        edge("train", "output_model", "predict", "input_model"),
        edge("scale_test", "output_ds", "predict", "input_ds"),
        edge("predict", "output_ds", "evaluate", "input_ds"),
    ]
    return {"nodes": nodes, "edges": edges}


def reference_auc(joined: pd.DataFrame) -> float:
    features = ["income", "age", "spend"]
    train, test = train_test_split(joined, train_size=0.75, test_size=0.25, random_state=1024)
    scaler = StandardScaler().fit(train[features])
    model = LogisticRegression().fit(scaler.transform(train[features]), train["y"])
    return roc_auc_score(test["y"], model.decision_function(scaler.transform(test[features])))


def test_unscaled_income_fails_at_training_naming_the_columns_never_succeeds(
    pipeline_factory, datasets
):
    loans, spend, _ = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["spend"])  # alice's left as they are
    seen: list[dict] = []
    with events.listening(seen.append):
        run = run_now(pipeline_factory(graph))
    assert run.status == Status.FAILED
    assert statuses(run)["train"] == Status.FAILED
    assert {statuses(run)[n] for n in ("predict", "evaluate")} == {Status.SKIPPED}
    train = run.nodes.get(node_id="train")
    assert "alice's income, age" in train.message, train.message
    assert "Fix: add a scaler (Scaler, before this node) for alice's income, age" in train.message
    assert not train.message.startswith("CheckFailed")
    assert run.message.startswith("failed at SS-LR training (train): the values of alice's income")
    # The reason is the node's last log line, an error, streamed to the log drawer.
    assert train.logs[-1]["level"] == "error"
    assert train.logs[-1]["message"] == f"failed: {train.message}"
    streamed = [e for e in seen if e["type"] == "node.log" and e["node"] == "train"]
    assert streamed[-1]["line"]["level"] == "error"
    # The warning came first: on the node, in the log, as an event; columns, never values.
    assert len(train.warnings) == 1
    warning = train.warnings[0]["message"]
    assert warning.startswith("features not scaled at alice: income, age")
    assert any(line["level"] == "warning" and line["message"] == warning for line in train.logs)
    assert [e["warning"]["message"] for e in seen if e["type"] == "node.warning"] == [warning]
    assert not Artifact.objects.filter(node_run__run=run, node_run__node_id="predict").exists()


def test_the_same_pipeline_scaled_succeeds_with_scikit_learns_auc(pipeline_factory, datasets):
    loans, spend, joined = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["income", "age", "spend"])
    run = run_now(pipeline_factory(graph))
    failed = {n.node_id: n.message for n in run.nodes.all() if n.status != Status.SUCCEEDED}
    assert run.status == Status.SUCCEEDED, (run.message, failed)
    assert run.nodes.get(node_id="train").warnings == []
    train_logs = [line["message"] for line in run.nodes.get(node_id="train").logs]
    assert any("precision for SS-LR training: FM64 with 18 fraction bits" in m for m in train_logs)
    report = Artifact.objects.get(node_run__run=run, node_run__node_id="evaluate", party="bob")
    auc = json.loads(report.path.read_text(encoding="utf-8"))["summary"]["auc"]
    assert abs(auc - reference_auc(joined)) < 0.01


def test_warnings_reach_the_run_state_and_the_node_result_api(pipeline_factory, datasets, api_bob):
    loans, spend, _ = datasets
    run = run_now(pipeline_factory(credit_risk_graph(loans.pk, spend.pk, scaled=["spend"])))
    body = api_bob.get(f"/api/v1/runs/{run.pk}/").json()
    train = next(n for n in body["nodes"] if n["node"] == "train")
    assert train["label"] == "SS-LR training"
    assert train["warnings"][0]["message"].startswith("features not scaled at alice")
    result = api_bob.get(f"/api/v1/runs/{run.pk}/nodes/train/").json()
    assert result["warnings"] == train["warnings"]
    assert result["status"] == "failed"


def test_a_runtime_refusal_is_logged_as_an_error_and_named_in_the_run_message(
    pipeline_factory, datasets, bob_user
):
    loans, spend, _ = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["income", "age", "spend"])
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["report_weights"] = True
    run = run_now(pipeline_factory(graph), user=bob_user)  # bob does not own the model
    train = run.nodes.get(node_id="train")
    assert train.message.startswith("PermissionError: report_weights reveals")
    assert train.logs[-1] == train.logs[-1] | {"level": "error"}
    assert train.logs[-1]["message"] == f"failed: {train.message}"
    assert run.message == f"failed at SS-LR training (train): {train.message}"


# --- validation -----------------------------------------------------------------------------


def problems(pipeline) -> list[dict]:
    return [p.to_dict() for p in services.validate_pipeline(pipeline).problems]


def test_gaps_the_profile_counted_are_refused_before_training(pipeline_factory, credit, shop):
    """alice's credit table has gaps in income (the upload profile counted 6)."""
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("train", "ml.train/ss_lr", features=["age", "income"], label="y"),
        ],
        "edges": [edge("read", "output_ds", "train", "input_ds")],
    }
    found = problems(pipeline_factory(graph))
    assert [(p["node"], p["code"], p["field"]) for p in found] == [
        ("train", "missing_values", "features")
    ]
    message = found[0]["message"]
    assert message.startswith("alice's income may have missing values")
    assert (
        "Fix: add a Fill missing values node (preprocessing/fillna) for alice's income" in message
    )


def test_a_fill_step_clears_the_gaps(pipeline_factory, credit):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("fill", "preprocessing/fillna", features=["income"]),
            node("scale", "preprocessing/scaler", features=["income", "age"]),
            node("train", "ml.train/ss_lr", features=["age", "income"], label="y"),
        ],
        "edges": [
            edge("read", "output_ds", "fill", "input_ds"),
            edge("fill", "output_ds", "scale", "input_ds"),
            edge("scale", "output_ds", "train", "input_ds"),
        ],
    }
    assert problems(pipeline_factory(graph)) == []


def test_a_scaler_keeps_the_gaps_it_does_not_fill(pipeline_factory, credit):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("scale", "preprocessing/scaler", features=["income", "age"]),
            node("eval", "ml.eval/binary_classification", label="y", prediction="income"),
        ],
        "edges": [
            edge("read", "output_ds", "scale", "input_ds"),
            edge("scale", "output_ds", "eval", "input_ds"),
        ],
    }
    found = problems(pipeline_factory(graph))
    assert [(p["node"], p["code"], p["field"]) for p in found] == [
        ("eval", "missing_values", "prediction")
    ]


def test_save_label_off_is_named_with_the_setting_to_turn_on(pipeline_factory, datasets):
    loans, spend, _ = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["spend"], save_label=False)
    found = problems(pipeline_factory(graph))
    assert [(p["node"], p["field"]) for p in found] == [("evaluate", "label")]
    assert found[0]["message"] == (
        "the label 'y' is not in the predictions of predict: its 'Save label' setting is off. "
        "Fix: turn on 'Save label' in predict."
    )


def test_a_receiver_without_the_label_is_named(pipeline_factory, datasets):
    loans, spend, _ = datasets
    graph = credit_risk_graph(loans.pk, spend.pk, scaled=["spend"])
    next(n for n in graph["nodes"] if n["id"] == "predict")["params"]["receiver"] = "bob"
    found = problems(pipeline_factory(graph))
    assert [(p["node"], p["field"]) for p in found] == [("evaluate", "label")]
    assert "held by alice, not by bob, the receiver of predict's predictions" in found[0]["message"]
    assert found[0]["message"].endswith("Fix: choose alice as the receiver in predict.")
