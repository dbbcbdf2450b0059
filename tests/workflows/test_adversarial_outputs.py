"""bob, a member of alice's project, crafts pipelines and inputs to read alice's rows out of the
outputs he receives; each attack that worked is replayed here and must now fail.

alice's authorisation carries the demo's standing policy on shared data (PSI membership,
aggregates over groups of at least 20 rows and model shares may go to every member; anything
else is asked about), so whatever her policy allows runs without her, and whatever it does not
must wait for her approval.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from console.datasets.models import Authorization
from tests.workflows.conftest import CREDIT_ROLES, credit_frame, edge, make_dataset, node
from tests.workflows.helpers import read_table, run_component, table
from workflows.components import registry
from workflows.components.checks import CheckFailed
from workflows.components.disclosure import (
    KEPT_BY_HOLDERS,
    DisclosureContext,
    Form,
    UndeclaredDisclosure,
    check_declared,
    disclose,
)
from workflows.executor import execute_run
from workflows.messages import render
from workflows.models import Artifact, Run, Status

ROWS = 60
TARGET = 5  # the row bob singles out (ids sort as c000, c001, ...: row j has id c00j)
SHARED = {"ids": "allow", "aggregates": "allow", "aggregates_min_k": 20, "models": "allow"}


@pytest.fixture
def alices_credit(alice, project):
    dataset = make_dataset(alice, "credit", credit_frame(ROWS))
    Authorization.objects.create(
        dataset=dataset, project=project, column_roles=CREDIT_ROLES, disclosure_policy=SHARED
    )
    return dataset


def indicator_frame(rows: int = ROWS, target: int = TARGET) -> pd.DataFrame:
    """bob's crafted table: the same customer ids as alice's, and a column that is 1 on the
    one customer he wants to learn about and 0 elsewhere."""
    return pd.DataFrame(
        {
            "id": [f"c{i:03d}" for i in range(rows)],
            "probe": (np.arange(rows) == target).astype(float),
            "noise": np.random.default_rng(3).normal(size=rows),
        }
    )


@pytest.fixture
def bobs_probe(bob, project):
    dataset = make_dataset(bob, "probe", indicator_frame())
    roles = {"id": "id", "probe": "feature", "noise": "feature"}
    Authorization.objects.create(
        dataset=dataset, project=project, column_roles=roles, disclosure_policy=SHARED
    )
    return dataset


def pearson_graph(credit_id: int, probe_id: int) -> dict:
    return {
        "nodes": [
            node("read_a", "read/dataset", dataset=credit_id),
            node("read_b", "read/dataset", dataset=probe_id),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
            node("corr", "stats/pearson", features=["y", "age", "probe", "noise"]),
        ],
        "edges": [
            edge("read_a", "output_ds", "psi", "input_ds1"),
            edge("read_b", "output_ds", "psi", "input_ds2"),
            edge("psi", "output_ds", "corr", "input_ds"),
        ],
    }


def create(client, project, graph: dict) -> dict:
    body = {"project": project.pk, "name": "bob's probe", "graph": graph}
    response = client.post("/api/v1/pipelines/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# Pearson: bob's crafted column against alice's label and feature.


def test_a_crafted_column_reads_alices_labels_out_of_the_correlation_matrix(tmp_path):
    """The attack, on the component: the sign of corr(y, probe_j) is y_j for every row j, and
    the value gives age_j's standardised value. The matrix is row-level data about alice."""
    alice = credit_frame(ROWS)[["y", "age"]]
    probes = pd.DataFrame({f"e{j}": indicator_frame(target=j)["probe"] for j in range(8)})
    data = table(tmp_path, {"alice": alice, "bob": probes}, {"y": "label"})
    params = {"features": ["y", "age", *probes.columns]}
    out = run_component(tmp_path, "stats/pearson", params, {"input_ds": data})
    matrix = np.array(json.loads(out["report"].files["bob"].read_text())["matrix"], dtype=float)
    assert list((matrix[0, 2:] > 0).astype(int)) == list(alice["y"][:8])
    age = alice["age"].to_numpy(dtype=float)
    standardised = (age[:8] - age.mean()) / age.std()
    # corr(x, e_j) = (x_j - mean) / (std * sqrt(n - 1)) for an indicator e_j.
    assert matrix[1, 2:] * np.sqrt(ROWS - 1) == pytest.approx(standardised, abs=0.02)


@pytest.mark.django_db
def test_bobs_crafted_correlation_waits_for_alices_approval(
    alices_credit, bobs_probe, project, api_bob
):
    """Before the fix, her policy on aggregates let this run at once, and bob's report gave
    him her label of customer c005. Now the cross-party correlations are row-level data: the
    run waits for her approval and bob receives nothing."""
    pipeline = create(api_bob, project, pearson_graph(alices_credit.pk, bobs_probe.pk))
    plan = api_bob.post(f"/api/v1/pipelines/{pipeline['id']}/validate/").json()["disclosure"]
    [cross] = [
        e
        for e in plan["entries"]
        if (e["source"], e["recipient"], e["form"]) == ("alice", "bob", "row_level")
    ]
    assert (cross["node"], cross["decision"]) == ("corr", "ask")
    assert {c["name"] for c in cross["columns"]} == {"y", "age"}
    response = api_bob.post(f"/api/v1/pipelines/{pipeline['id']}/runs/", {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "approval_required"
    [approval] = body["approvals"]
    assert approval["party"] == "alice"
    assert (
        "bob receives: correlations between columns of different parties (each party picks its "
        "own columns, and one crafted to single out a row gives that row's standardised value) "
        "over up to 60 rows [row-level, node corr], derived from your column age and label y."
    ) in approval["plan"]["sentences"]
    assert not Run.objects.exists()
    assert not Artifact.objects.filter(party="bob").exists()


def test_correlations_within_one_partys_columns_stay_an_aggregate(tmp_path):
    """Only alice's columns: no party chooses a column against hers, nothing is row-level."""
    alice = credit_frame(ROWS)[["age", "income", "score"]].fillna(0.0)
    data = table(tmp_path, {"alice": alice}, {})
    component = registry().get("stats/pearson")
    declared = component.disclosure.get("report")
    ctx = DisclosureContext(
        {"features": ["age", "score"]},
        {"input_ds": data.info},
        {},
        ("alice", "bob"),
        20,
    )
    forms = {flow.form for flow in declared.flows(ctx)}
    assert forms == {Form.AGGREGATE}


# SS-LR training: the loss per epoch over a table of a handful of rows.


def tiny_training(tmp_path, labels: list[int]):
    alice = pd.DataFrame({"y": labels})
    bob = pd.DataFrame({"x": [1.0] + [0.0] * (len(labels) - 1)})
    data = table(tmp_path, {"alice": alice, "bob": bob}, {"y": "label"})
    params = {"features": ["x"], "label": "y", "reg_type": "linear", "epochs": 2, "batch_size": 1}
    logs: list[str] = []
    with pytest.raises(CheckFailed) as failed:
        run_component(
            tmp_path, "ml.train/ss_lr", params, {"input_ds": data}, requested_by="bob", logs=logs
        )
    return failed.value, logs


@pytest.mark.parametrize("labels", [[0], [1], [1, 0]])
def test_training_on_fewer_than_k_rows_is_refused_before_any_loss_is_revealed(tmp_path, labels):
    """Before the fix, bob's one-customer PSI then linear SS-LR on his constant feature gave
    him a loss of exactly 0.0 for y = 0 and 0.32, 0.20 for y = 1 (two rows: a loss pattern per
    labelling), in his report, his model's manifest and the log."""
    error, logs = tiny_training(tmp_path, labels)
    assert render(error.public) == (
        f"SS-LR training needs at least 20 rows: the table has {len(labels)}. Over so few "
        "rows, what every party learns of the training (when it stopped, whether its loss "
        "checks failed) would tell the rows' labels apart. Fix: train on a larger table."
    )
    assert error.public == error.message  # a public fact: row counts are known to every party
    assert not list((tmp_path / "out").glob("*/report.json"))
    assert not [line for line in logs if "loss" in line]


# The plan's words against what bob's copy of a report holds.


def declared_to_bob(key: str, info, params: dict) -> str:
    """The 'what' of the aggregate flow of `key`'s report that reaches bob."""
    ctx = DisclosureContext(params, {"input_ds": info}, {}, ("alice", "bob"), 20)
    flows = registry().get(key).disclosure.get("report").flows(ctx)
    [what] = [f.what for f in flows if "bob" in f.recipients and f.form == Form.AGGREGATE]
    return what


def evaluated_table(tmp_path, label: np.ndarray, prediction: np.ndarray):
    alice = pd.DataFrame({"y": label, "pred": prediction})
    bob = pd.DataFrame({"spend": np.arange(len(label), dtype=float)})
    return table(tmp_path, {"alice": alice, "bob": bob}, {"y": "label"})


REGRESSION_WORDS = {
    "r2": "R2",
    "mae": "MAE",
    "mse": "MSE",
    "rmse": "RMSE",
    "mape": "MAPE",
    "sse": "SSE",
    "label_mean": "the label's",
    "prediction_mean": "the predictions' means",
}


def test_the_regression_plan_names_everything_bobs_copy_holds(tmp_path):
    """Before, the plan told alice bob gets 'R2, MAE, MSE and RMSE'; his copy also held MAPE,
    SSE, the means of her label and of the predictions, and a residual histogram."""
    rng = np.random.default_rng(5)
    y = rng.normal(50, 10, 200)
    data = evaluated_table(tmp_path, y, y + rng.normal(0, 3, 200))
    params = {"label": "y", "prediction": "pred"}
    out = run_component(tmp_path, "ml.eval/regression", params, {"input_ds": data})
    bobs = json.loads(out["report"].files["bob"].read_text())
    what = declared_to_bob("ml.eval/regression", data.info, params)
    assert set(bobs["summary"]) - {"samples"} == set(REGRESSION_WORDS)
    assert all(word in what for word in REGRESSION_WORDS.values()), what
    assert bobs["residual_histogram"]
    assert "residual histogram" in what


def test_the_binary_evaluation_plan_names_the_class_counts_and_the_confusion_matrix(tmp_path):
    """Before, the plan said 'AUC, KS, F1 and aggregated curves'; bob's copy also held the
    counts of alice's label classes, the confusion matrix at the threshold and score bins."""
    rng = np.random.default_rng(6)
    y = (rng.random(200) < 0.4).astype(int)
    data = evaluated_table(tmp_path, y, np.clip(0.3 * y + rng.random(200) * 0.7, 0, 1))
    params = {"label": "y", "prediction": "pred"}
    out = run_component(tmp_path, "ml.eval/binary_classification", params, {"input_ds": data})
    bobs = json.loads(out["report"].files["bob"].read_text())
    what = declared_to_bob("ml.eval/binary_classification", data.info, params)
    assert bobs["summary"]["positives"] == int(y.sum())
    assert "class counts" in what
    assert {"tp", "fp", "fn", "tn"} <= set(bobs["confusion"])
    assert "confusion matrix at the threshold" in what
    assert bobs["bins"]
    assert bobs["curves"]
    assert "curves and score bins" in what


def test_the_psi_plan_names_the_duplicates_dropped(tmp_path):
    """With duplicates allowed, bob's copy says how many of alice's rows repeated a key."""
    alice = pd.DataFrame({"id": ["a", "a", "b", "c", "c", "c"]})
    bob = pd.DataFrame({"id": ["a", "b", "z"]})
    inputs = {
        "input_ds1": table(tmp_path, {"alice": alice}, {"id": "id"}),
        "input_ds2": table(tmp_path, {"bob": bob}, {"id": "id"}),
    }
    params = {"keys1": ["id"], "keys2": ["id"], "allow_duplicates": True}
    out = run_component(tmp_path, "data_prep/psi", params, inputs)
    bobs = json.loads(out["report"].files["bob"].read_text())
    assert bobs["duplicates_dropped"]["alice"] == 3
    ctx = DisclosureContext(
        params | {"keys3": []},
        {port: data.info for port, data in inputs.items()},
        {},
        ("alice", "bob"),
        20,
    )
    [flow] = registry().get("data_prep/psi").disclosure.get("report").flows(ctx)
    assert "dropped for a duplicate key" in flow.what


# An approval re-used to sweep a threshold or a split's seed.


def evaluation_graph(credit_id: int, threshold: float = 0.5, seed: int = 1024) -> dict:
    return {
        "nodes": [
            node("read", "read/dataset", dataset=credit_id),
            node("split", "data_prep/train_test_split", random_state=seed),
            node(
                "eval",
                "ml.eval/binary_classification",
                label="y",
                prediction="score",
                threshold=threshold,
            ),
        ],
        "edges": [
            edge("read", "output_ds", "split", "input_ds"),
            edge("split", "test_ds", "eval", "input_ds"),
        ],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["threshold", "seed"])
def test_alices_approval_does_not_cover_a_threshold_or_split_she_did_not_see(
    change, alices_credit, project, api_bob, api_alice
):
    """alice asks about aggregates and approves bob's evaluation. Before the fix, bob could
    then move the threshold (or the split's seed) and run again on her approval as often as he
    liked: two confusion matrices at neighbouring thresholds give the labels of the rows
    between them. Now the new cut needs her approval."""
    authorization = Authorization.objects.get(dataset=alices_credit)
    authorization.disclosure_policy = SHARED | {"aggregates": "ask"}
    authorization.save()
    pipeline = create(api_bob, project, evaluation_graph(alices_credit.pk))
    runs = f"/api/v1/pipelines/{pipeline['id']}/runs/"
    [approval] = api_bob.post(runs, {}, format="json").json()["approvals"]
    decided = api_alice.post(
        f"/api/v1/approvals/{approval['id']}/", {"decision": "approve"}, format="json"
    )
    assert decided.status_code == 200, decided.json()
    assert api_bob.post(runs, {}, format="json").status_code == 201
    moved = {"threshold": 0.37} if change == "threshold" else {"seed": 7}
    graph = evaluation_graph(alices_credit.pk, **moved)
    patched = api_bob.patch(f"/api/v1/pipelines/{pipeline['id']}/", {"graph": graph}, format="json")
    assert patched.status_code == 200, patched.json()
    again = api_bob.post(runs, {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "approval_required"
    assert again.json()["approvals"][0]["fingerprint"] != approval["fingerprint"]
    assert Run.objects.count() == 1  # the approved run only


def test_a_shaping_parameter_must_be_a_parameter_of_the_component():
    split = registry().get("data_prep/train_test_split")
    assert split.disclosure.shaping == ("train_size", "test_size", "random_state", "shuffle")
    wrong = dataclasses.replace(
        split,
        disclosure=disclose(train_ds=KEPT_BY_HOLDERS, test_ds=KEPT_BY_HOLDERS, shaping=("seed",)),
    )
    with pytest.raises(UndeclaredDisclosure, match=r"shaping parameters \['seed'\]"):
        check_declared(wrong)


# Table statistics over a table of a few rows (bob's PSI with the one customer he targets).


def test_the_null_count_of_a_one_row_table_stays_at_alice(tmp_path):
    """Before the fix, bob's copy said nulls 1 (or 0): whether his one targeted customer's
    income is missing at alice. Now he reads the row count, which every party knows."""
    for income in (np.nan, 51.5):
        alice = pd.DataFrame({"income": [income], "age": [40]})
        data = table(tmp_path, {"alice": alice}, {})
        out = run_component(tmp_path, "stats/table_statistics", {}, {"input_ds": data})
        [row, _] = json.loads(out["report"].files["bob"].read_text())["columns"]
        assert (row["column"], row["total_count"]) == ("income", 1)
        assert (row["count"], row["nulls"], row["null_ratio"]) == (None, None, None)
        assert {"count", "nulls", "null_ratio", "mean"} <= set(row["withheld"])
        [own, _] = json.loads(out["report"].files["alice"].read_text())["columns"]
        assert own["nulls"] == int(np.isnan(income))


# Binary evaluation with a class of a few rows: alice's one defaulter.


@pytest.mark.parametrize("threshold", [40.0, 50.0])
def test_a_class_of_one_row_leaves_bob_no_confusion_matrix(tmp_path, threshold):
    """Before the fix, bob's copy withheld the class counts but not the confusion matrix: at
    threshold 40 it read tp 1, fn 0, at 50 tp 0, fn 1, so alice's one defaulter is 40 to 50
    years old (bob chose her age column as the 'prediction')."""
    rng = np.random.default_rng(1)
    age = rng.integers(20, 70, ROWS).astype(float)
    y = np.zeros(ROWS, dtype=int)
    y[17] = 1
    assert 40 <= age[17] < 50
    data = table(tmp_path, {"alice": pd.DataFrame({"y": y, "age": age})}, {"y": "label"})
    params = {"label": "y", "prediction": "age", "threshold": threshold}
    out = run_component(tmp_path, "ml.eval/binary_classification", params, {"input_ds": data})
    bobs = json.loads(out["report"].files["bob"].read_text())
    assert bobs["summary"] == {"samples": ROWS}
    assert bobs["confusion"] == {
        "threshold": threshold,
        "withheld": "fewer than 20 rows in a class",
    }
    assert (bobs["curves"], bobs["bins"]) == ([], [])
    alices = json.loads(out["report"].files["alice"].read_text())
    assert alices["confusion"]["tp"] + alices["confusion"]["fn"] == 1


# SS-LR training: bob's crafted feature reads alice's labels out of the loss.

# One epoch of linear SS-LR over every row at once, on alice's label: the training whose loss
# bob's crafted feature reads.
CRAFTED_TRAINING = {
    "label": "y",
    "reg_type": "linear",
    "epochs": 1,
    "batch_size": ROWS,
    "learning_rate": 1.0,
    "eps": 0,
}


def crafted_training(tmp_path, target: int):
    """60 customers; bob's only feature is 8 on his target customer and 0 elsewhere."""
    y = credit_frame(ROWS)["y"].to_numpy()
    bob = pd.DataFrame({"e": (np.arange(ROWS) == target).astype(float) * 8})
    data = table(tmp_path, {"alice": pd.DataFrame({"y": y}), "bob": bob}, {"y": "label"})
    params = {"features": ["e"]} | CRAFTED_TRAINING
    logs: list[str] = []
    out = run_component(
        tmp_path, "ml.train/ss_lr", params, {"input_ds": data}, requested_by="bob", logs=logs
    )
    return y, out, logs


@pytest.mark.parametrize("target", [0, 1])
def test_bob_reads_no_loss_from_training_on_his_crafted_feature(tmp_path, target):
    """Before the fix, bob's report, his model's manifest and the log gave the loss: 0.1167
    when his target customer's label is 1, 0.1182 when it is 0 (rows 0 and 1 here)."""
    y, out, logs = crafted_training(tmp_path, target)
    bobs = out["report"].read_json("bob")
    assert "loss" not in bobs
    assert bobs["epochs_run"] == 1
    manifest = out["output_model"].read_json("bob")["manifest"]
    assert manifest["metrics"] == {"epochs_run": 1}
    assert logs[-1] == "trained 1 epoch (the loss is in alice's report)"
    alices = out["report"].read_json("alice")["loss"]
    expected = 0.1167 if y[target] == 1 else 0.1182  # the label holder still reads it
    assert alices == [pytest.approx(expected, abs=5e-4)]
    assert out["output_model"].read_json("alice")["manifest"]["metrics"]["loss"] == alices


def test_a_model_whose_parts_differ_only_in_metrics_still_predicts(tmp_path):
    """bob's manifest lacks the loss alice's has: prediction compares the parts without it."""
    y, out, _ = crafted_training(tmp_path, 0)
    bob = pd.DataFrame({"e": (np.arange(ROWS) == 0).astype(float) * 8})
    scored = table(tmp_path / "score", {"alice": pd.DataFrame({"y": y}), "bob": bob}, {})
    params = {"receiver": "alice"}
    inputs = {"input_model": out["output_model"], "input_ds": scored}
    predicted = run_component(tmp_path / "p", "ml.predict/ss_lr", params, inputs)
    assert len(read_table(predicted["output_ds"].files["alice"])) == ROWS


def training_graph(credit_id: int, probe_id: int) -> dict:
    """bob's PSI with alice's customers, then linear SS-LR of her label on his crafted column
    (8 on customer c005, 0 elsewhere)."""
    train = {"features": ["probe"]} | CRAFTED_TRAINING
    return {
        "nodes": [
            node("read_a", "read/dataset", dataset=credit_id),
            node("read_b", "read/dataset", dataset=probe_id),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
            node("train", "ml.train/ss_lr", **train),
        ],
        "edges": [
            edge("read_a", "output_ds", "psi", "input_ds1"),
            edge("read_b", "output_ds", "psi", "input_ds2"),
            edge("psi", "output_ds", "train", "input_ds"),
        ],
    }


@pytest.mark.django_db
def test_bobs_crafted_training_run_gives_him_no_loss_through_the_api(
    alices_credit, bobs_probe, project, api_bob, api_alice
):
    """Her policy allows models and aggregates, so bob's run needs nothing from alice. Before
    the fix his node results, report and model zip gave the loss, and with it her label of
    customer c005. Now they give the epochs run; alice's give the loss."""
    pipeline = create(api_bob, project, training_graph(alices_credit.pk, bobs_probe.pk))
    started = api_bob.post(f"/api/v1/pipelines/{pipeline['id']}/runs/", {}, format="json")
    assert started.status_code == 201, started.json()
    run_id = started.json()["id"]
    execute_run(run_id)
    assert Run.objects.get(pk=run_id).status == Status.SUCCEEDED
    node_body = api_bob.get(f"/api/v1/runs/{run_id}/nodes/train/").json()
    report = next(entry for entry in node_body["outputs"] if entry["port"] == "report")
    assert "Loss per epoch" not in {chart["title"] for chart in report["charts"]}
    assert "loss" not in json.dumps(node_body).replace("the loss is in alice's report", "")
    html = api_bob.get(f"/api/v1/runs/{run_id}/report/").content.decode()
    assert "Loss per epoch" not in html
    model = Artifact.objects.get(node_run__run_id=run_id, port="output_model", party="bob")
    response = api_bob.get(f"/api/v1/artifacts/{model.pk}/model.zip")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert json.loads(archive.read("manifest.json"))["metrics"] == {"epochs_run": 1}
        assert "loss" not in archive.read("parts/bob.json").decode()
    alices = api_alice.get(f"/api/v1/runs/{run_id}/nodes/train/").json()
    [loss] = next(e for e in alices["outputs"] if e["port"] == "report")["charts"][0]["data"]
    label = credit_frame(ROWS)["y"][TARGET]
    assert loss["y"] == [pytest.approx(0.1167 if label == 1 else 0.1182, abs=5e-4)]
