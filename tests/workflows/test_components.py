"""Each component against a plaintext pandas / numpy / scikit-learn computation (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.metrics import (
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from core.errors import PartyFailure
from tests.workflows.helpers import run_component, table

RNG_SEED = 11


@pytest.fixture
def vertical(tmp_path):
    rng = np.random.default_rng(RNG_SEED)
    rows = 40
    alice = pd.DataFrame(
        {
            "a1": rng.normal(0, 1, rows),
            "a2": rng.integers(0, 9, rows),
            "y": (rng.random(rows) < 0.5).astype(int),
        }
    )
    bob = pd.DataFrame({"b1": rng.normal(5, 2, rows), "b2": rng.choice(["u", "v"], rows)})
    frames = {"alice": alice, "bob": bob}
    return frames, table(tmp_path / "in", frames, {"y": "label"})


def test_it_splits_like_scikit_learn_and_consistently_at_every_party(tmp_path, vertical):
    frames, data = vertical
    params = {"train_size": 0.7, "test_size": 0.3, "random_state": 5}
    out = run_component(tmp_path, "data_prep/train_test_split", params, {"input_ds": data})
    for party, frame in frames.items():
        train, test = train_test_split(frame, train_size=0.7, test_size=0.3, random_state=5)
        got_train = out["train_ds"].read_table(party)
        got_test = out["test_ds"].read_table(party)
        np.testing.assert_allclose(got_train.select_dtypes("number"), train.select_dtypes("number"))
        np.testing.assert_allclose(got_test.select_dtypes("number"), test.select_dtypes("number"))
    # Rows stay aligned: the same original rows at both parties.
    joined = pd.concat([frames["alice"], frames["bob"]], axis=1)
    train, _ = train_test_split(joined, train_size=0.7, test_size=0.3, random_state=5)
    np.testing.assert_allclose(out["train_ds"].read_table("bob")["b1"], train["b1"])


def test_it_splits_without_shuffling_in_order(tmp_path, vertical):
    _, data = vertical
    params = {"train_size": 0.5, "test_size": 0.25, "shuffle": False}
    out = run_component(tmp_path, "data_prep/train_test_split", params, {"input_ds": data})
    assert len(out["train_ds"].read_table("alice")) == 20
    assert len(out["test_ds"].read_table("bob")) == 10


def test_it_refuses_a_split_that_leaves_a_set_empty(tmp_path, vertical):
    _, data = vertical
    params = {"train_size": 0.01, "test_size": 0.5}
    with pytest.raises(PartyFailure, match="0 train"):
        run_component(tmp_path, "data_prep/train_test_split", params, {"input_ds": data})


def test_it_refuses_misaligned_parties(tmp_path):
    frames = {"alice": pd.DataFrame({"a": [1, 2, 3]}), "bob": pd.DataFrame({"b": [1, 2]})}
    data = table(tmp_path / "in", frames, {})
    with pytest.raises(ValueError, match="not aligned"):
        run_component(tmp_path, "data_prep/train_test_split", {}, {"input_ds": data})


def test_it_drops_features_and_a_party_left_without_columns(tmp_path, vertical):
    _, data = vertical
    params = {"drop_features": ["b1", "b2", "a2"]}
    out = run_component(tmp_path, "data_filter/feature_filter", params, {"input_ds": data})
    assert out["output_ds"].info.parties == ("alice",)
    assert list(out["output_ds"].read_table("alice").columns) == ["a1", "y"]


@pytest.mark.parametrize(
    ("strategy", "sklearn_strategy"),
    [("mean", "mean"), ("median", "median"), ("most_frequent", "most_frequent")],
)
def test_it_fills_like_simple_imputer(tmp_path, strategy, sklearn_strategy):
    rng = np.random.default_rng(RNG_SEED)
    values = rng.integers(0, 5, 30).astype(float)
    values[[1, 4, 9]] = np.nan
    frame = pd.DataFrame({"f": values * 1.5, "g": rng.normal(0, 1, 30)})
    data = table(tmp_path / "in", {"alice": frame}, {})
    params = {"features": ["f"], "float_strategy": strategy}
    out = run_component(tmp_path, "preprocessing/fillna", params, {"input_ds": data})
    expected = SimpleImputer(strategy=sklearn_strategy).fit_transform(frame[["f"]])[:, 0]
    got = out["output_ds"].read_table("alice")
    np.testing.assert_allclose(got["f"], expected, err_msg=f"strategy {strategy}")
    np.testing.assert_allclose(got["g"], frame["g"])
    rule = out["output_rule"].read_json("alice")
    assert rule["kind"] == "fillna"
    assert rule["values"]["f"] == pytest.approx(expected[1])


def test_it_fills_text_with_a_constant_and_ints_keep_their_type(tmp_path):
    frame = pd.DataFrame({"t": ["a", None, "b", None], "n": [1, None, 1, 3]})
    frame["n"] = frame["n"].astype("Int64")
    data = table(tmp_path / "in", {"bob": frame}, {})
    params = {"features": ["t", "n"], "str_strategy": "constant", "fill_value_str": "?"}
    out = run_component(tmp_path, "preprocessing/fillna", params, {"input_ds": data})
    got = out["output_ds"].read_table("bob")
    assert got["t"].tolist() == ["a", "?", "b", "?"]
    assert got["n"].tolist() == [1, 1, 1, 3]
    assert str(got["n"].dtype) == "int64"


def test_it_fails_at_the_party_whose_column_has_no_value(tmp_path):
    frame = pd.DataFrame({"f": [np.nan, np.nan], "g": [1.0, 2.0]})
    data = table(tmp_path / "in", {"bob": frame}, {})
    with pytest.raises(PartyFailure) as failure:
        run_component(tmp_path, "preprocessing/fillna", {"features": ["f"]}, {"input_ds": data})
    assert failure.value.party == "bob"


@pytest.mark.parametrize(
    ("method", "reference"), [("standard", StandardScaler), ("minmax", MinMaxScaler)]
)
def test_it_scales_like_scikit_learn_at_each_party(tmp_path, vertical, method, reference):
    frames, data = vertical
    params = {"features": ["a1", "a2", "b1"], "method": method}
    out = run_component(tmp_path, "preprocessing/scaler", params, {"input_ds": data})
    alice = out["output_ds"].read_table("alice")
    expected = reference().fit_transform(frames["alice"][["a1", "a2"]].astype(float))
    np.testing.assert_allclose(alice[["a1", "a2"]], expected, atol=1e-12)
    bob = out["output_ds"].read_table("bob")
    np.testing.assert_allclose(bob["b1"], reference().fit_transform(frames["bob"][["b1"]])[:, 0])
    assert bob["b2"].tolist() == frames["bob"]["b2"].tolist()
    assert set(out["output_rule"].read_json("bob")["columns"]) == {"b1"}


def test_it_applies_a_fitted_rule_to_another_table(tmp_path, vertical):
    frames, data = vertical
    params = {"features": ["a1"], "method": "minmax"}
    fitted = run_component(tmp_path / "fit", "preprocessing/scaler", params, {"input_ds": data})
    other = frames["alice"].assign(a1=frames["alice"]["a1"] * 2)
    data2 = table(tmp_path / "in2", {"alice": other, "bob": frames["bob"]}, {"y": "label"})
    inputs = {"input_ds": data2, "input_rule": fitted["output_rule"]}
    out = run_component(tmp_path / "apply", "preprocessing/scaler", params, inputs)
    scaler = MinMaxScaler().fit(frames["alice"][["a1"]])
    expected = scaler.transform(other[["a1"]])[:, 0]
    np.testing.assert_allclose(out["output_ds"].read_table("alice")["a1"], expected)


def test_it_computes_table_statistics_like_pandas(tmp_path, vertical):
    frames, data = vertical
    out = run_component(tmp_path, "stats/table_statistics", {}, {"input_ds": data})
    report = out["report"].read_json("alice")
    # Each party reads its own columns in full (the other party's as k-row aggregates).
    rows = {row["column"]: row for row in report["columns"] if row["party"] == "alice"}
    rows |= {
        row["column"]: row
        for row in out["report"].read_json("bob")["columns"]
        if row["party"] == "bob"
    }
    a1 = frames["alice"]["a1"]
    expected = {
        "mean": a1.mean(),
        "std": a1.std(),
        "min": a1.min(),
        "q1": a1.quantile(0.25),
        "median": a1.median(),
        "q3": a1.quantile(0.75),
        "max": a1.max(),
        "skewness": a1.skew(),
        "kurtosis": a1.kurt(),
    }
    for key, value in expected.items():
        assert rows["a1"][key] == pytest.approx(value), key
    assert rows["a1"]["party"] == "alice"
    assert rows["b2"] | {"distinct": 2} == rows["b2"]
    assert rows["b2"]["count"] == 40


def test_it_counts_nulls_in_statistics(tmp_path):
    frame = pd.DataFrame({"f": [1.0, None, 3.0, None]})
    data = table(tmp_path / "in", {"alice": frame}, {})
    out = run_component(tmp_path, "stats/table_statistics", {"features": ["f"]}, {"input_ds": data})
    row = out["report"].read_json("alice")["columns"][0]
    assert (row["nulls"], row["count"], row["null_ratio"]) == (2, 2, 0.5)


def _scores(rows: int = 300):
    rng = np.random.default_rng(RNG_SEED)
    y = (rng.random(rows) < 0.35).astype(int)
    score = np.clip(0.25 * y + rng.random(rows) * 0.75, 0, 1).round(2)  # rounding makes ties
    return y, score


def test_it_evaluates_binary_classification_like_scikit_learn(tmp_path):
    y, score = _scores()
    frame = pd.DataFrame({"y": y, "p": score})
    data = table(tmp_path / "in", {"alice": frame}, {"y": "label"})
    params = {"label": "y", "prediction": "p", "bucket_size": 5}
    out = run_component(tmp_path, "ml.eval/binary_classification", params, {"input_ds": data})
    report = out["report"].read_json("alice")  # the label owner's full copy
    predicted = (score >= 0.5).astype(int)
    fpr, tpr, _ = roc_curve(y, score)
    summary, matrix = report["summary"], report["confusion"]
    assert summary["auc"] == pytest.approx(roc_auc_score(y, score))
    assert summary["ks"] == pytest.approx(np.max(tpr - fpr))
    assert matrix["f1"] == pytest.approx(f1_score(y, predicted))
    assert matrix["precision"] == pytest.approx(precision_score(y, predicted))
    assert matrix["recall"] == pytest.approx(recall_score(y, predicted))
    assert [[matrix["tn"], matrix["fp"]], [matrix["fn"], matrix["tp"]]] == confusion_matrix(
        y, predicted
    ).tolist()
    assert len(report["bins"]) == 5
    assert sum(b["count"] for b in report["bins"]) == 300
    assert report["bins"][-1]["cumulative_recall"] == pytest.approx(1.0)
    assert report["curves"][-1]["tpr"] == pytest.approx(1.0)


def test_it_refuses_a_label_that_is_not_binary(tmp_path):
    frame = pd.DataFrame({"y": [0, 1, 2, 1], "p": [0.1, 0.5, 0.7, 0.2]})
    data = table(tmp_path / "in", {"alice": frame}, {"y": "label"})
    params = {"label": "y", "prediction": "p"}
    with pytest.raises(PartyFailure, match="0 or 1"):
        run_component(tmp_path, "ml.eval/binary_classification", params, {"input_ds": data})


def test_it_evaluates_regression_like_scikit_learn(tmp_path):
    rng = np.random.default_rng(RNG_SEED)
    y = rng.normal(10, 3, 200)
    prediction = y + rng.normal(0, 1, 200)
    data = table(tmp_path / "in", {"bob": pd.DataFrame({"t": y, "p": prediction})}, {"t": "label"})
    params = {"label": "t", "prediction": "p", "bucket_size": 8}
    out = run_component(tmp_path, "ml.eval/regression", params, {"input_ds": data})
    summary = out["report"].read_json("bob")["summary"]  # the label owner's full copy
    assert summary["r2"] == pytest.approx(r2_score(y, prediction))
    assert summary["mae"] == pytest.approx(mean_absolute_error(y, prediction))
    assert summary["mse"] == pytest.approx(mean_squared_error(y, prediction))
    assert summary["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, prediction)))
    assert summary["mape"] == pytest.approx(mean_absolute_percentage_error(y, prediction))
    histogram = out["report"].read_json("bob")["residual_histogram"]
    assert len(histogram) == 8
    assert sum(b["count"] for b in histogram) == 200
