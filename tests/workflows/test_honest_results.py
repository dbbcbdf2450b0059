"""No silent wrong numbers: SS-LR on unscaled or huge features fails or warns, never succeeds
with nonsense; the precision comes from the parties' data; predictions are checked (no DB)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.errors import PartyFailure
from tests.workflows.helpers import read_table, run_component, table
from workflows import redaction
from workflows.components.checks import (
    SCALED_LIMIT,
    CheckFailed,
    check_losses,
    check_predictions,
    not_scaled,
    progress_warning,
    scaling_advice,
    scaling_pointer,
)
from workflows.components.secure import power_of_two_bound

PARTIES = ("alice", "bob")
ROWS = 600


def frames(income_mean: float, seed: int = 1) -> tuple[dict, np.ndarray, np.ndarray]:
    """alice: income (mean `income_mean`), age (20..69) and the label; bob: a standard column.
    The label depends on all three (standardised), so a working model has an AUC near z's."""
    rng = np.random.default_rng(seed)
    income = rng.normal(income_mean, income_mean / 3, ROWS).clip(1)
    age = rng.integers(20, 70, ROWS).astype(float)
    b0 = rng.normal(size=ROWS)
    z = 1.2 * (income - income.mean()) / income.std() - 0.8 * (age - 45) / 15 + 0.5 * b0
    y = (rng.random(ROWS) < 1 / (1 + np.exp(-z))).astype(float)
    data = {
        "alice": pd.DataFrame({"income": income, "age": age, "y": y}),
        "bob": pd.DataFrame({"b0": b0}),
    }
    return data, y, z


def views(error: BaseException) -> tuple[str, str, str]:
    """(failing party or "", the text its users read, the text every other party reads), as
    the executor records a node's failure (`workflows.redaction.describe`)."""
    party = error.party if isinstance(error, PartyFailure) else ""
    inner = error.error if isinstance(error, PartyFailure) else error
    described = redaction.describe(inner, "train", party)
    return described.party, str(described.full), str(described.public)


def train(tmp_path, data: dict, logs=None, warnings=None, **params):
    inputs = {"input_ds": table(tmp_path / "in", data, {"y": "label"})}
    features = [name for frame in data.values() for name in frame.columns if name != "y"]
    params = {"features": features, "label": "y", **params}
    out = run_component(
        tmp_path, "ml.train/ss_lr", params, inputs, PARTIES, "alice", logs, warnings
    )
    return inputs["input_ds"], out


# --- the reported bug: unscaled income trained "successfully" into nonsense -----------------


@pytest.mark.parametrize("income_mean", [300_000.0, 50_000.0, 100.0])
def test_unscaled_income_and_age_fail_the_training_naming_the_columns_and_the_fix(
    tmp_path, income_mean
):
    """Without the checks these trained "successfully": weights in the tens of thousands and
    predictions like 1.9e8 from a logistic model (issue 10)."""
    data, _, _ = frames(income_mean)
    warnings: list[str] = []
    with pytest.raises((CheckFailed, PartyFailure)) as failure:
        train(tmp_path, data, warnings=warnings)
    party, full, public = views(failure.value)
    # alice's users read the fix; a failure at alice names her columns to her users only,
    # one about no party's data points at alice's warning (which alone names them).
    assert "Fix: add a scaler" in full, full
    assert "alice's" in full, full
    assert party in ("", "alice")
    assert "income" not in public, public
    assert "alice" in public, public
    assert f"{income_mean:g}" not in full + public  # never values
    assert warnings, "no warning about the unscaled columns"
    assert "features not scaled at alice: income, age" in warnings[0], warnings


def test_a_range_no_precision_can_hold_fails_at_the_party_naming_its_columns_to_it(tmp_path):
    """Incomes near 1e16: even FM128 (products below 2^116 with SEMI2K's headroom) cannot.
    The failure is alice's own: her users read the operation, the bound and the columns; bob
    reads that a value of alice's data is out of range, nothing of her columns or bounds."""
    data, _, _ = frames(1e16)
    with pytest.raises(PartyFailure) as failure:
        train(tmp_path, data)
    party, full, public = views(failure.value)
    assert party == "alice"
    assert full.startswith("the values of alice's income, age are out of the range SS-LR"), full
    assert "plan_precision" in full, full
    assert "safe bound 2^" in full, full
    assert "Fix: add a scaler (Scaler, before this node) for alice's income, age" in full, full
    assert public == str(redaction.range_public("alice", "SS-LR training"))
    for detail in ("income", "age", "2^", "e+", "plan_precision"):
        assert detail not in public, detail


def test_fewer_fraction_bits_than_the_loss_needs_fail_before_training(tmp_path):
    """Income around 50,000 leaves 8 fraction bits: the loss's 2^-10 clip would round to 0 and
    the revealed losses went negative; refused before training instead, at alice."""
    data, _, _ = frames(50_000.0)
    logs: list[str] = []
    with pytest.raises(PartyFailure) as failure:
        train(tmp_path, data, logs)
    party, full, public = views(failure.value)
    assert party == "alice"
    assert "only 8 fraction bits, fewer than the 10 it needs" in full, full
    assert "alice's income, age" in full, full
    assert public == str(redaction.range_public("alice", "SS-LR training"))
    assert any("precision for SS-LR training: FM64 with 8 fraction bits" in m for m in logs)


def test_the_party_with_the_largest_inputs_is_the_one_that_fails(tmp_path):
    """bob's column in the trillions beside alice's moderately large income: the plan fails
    at bob, and alice (whose warning names her own columns) reads nothing of bob's."""
    data, _, _ = frames(100.0)
    data["bob"]["b0"] = data["bob"]["b0"] * 1e15
    warnings: list[str] = []
    with pytest.raises(PartyFailure) as failure:
        train(tmp_path, data, warnings=warnings)
    party, full, public = views(failure.value)
    assert party == "bob"
    assert "bob's b0" in full, full
    assert "alice" not in full, full  # bob's users read only about bob's data
    assert public == str(redaction.range_public("bob", "SS-LR training"))
    assert "b0" not in public


def test_scaled_features_train_without_warnings_at_full_precision(tmp_path):
    data, y, z = frames(50_000.0)
    alice = data["alice"]
    for name in ("income", "age"):
        alice[name] = (alice[name] - alice[name].mean()) / alice[name].std()
    logs, warnings = [], []
    table_in, out = train(tmp_path, data, logs, warnings)
    assert warnings == []
    assert any("precision for SS-LR training: FM64 with 18 fraction bits" in line for line in logs)
    assert out["output_model"].read_json("bob")["manifest"]["precision"] == {
        "field": "FM64",
        "fxp_fraction_bits": 18,
    }
    predicted = run_component(
        tmp_path / "p",
        "ml.predict/ss_lr",
        {"receiver": "alice"},
        {"input_model": out["output_model"], "input_ds": table_in},
        PARTIES,
    )
    scores = read_table(predicted["output_ds"].files["alice"])["pred"].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    assert abs(roc_auc_score(y, scores) - roc_auc_score(y, z)) < 0.02


def test_moderately_large_features_warn_and_train_at_the_planned_precision(tmp_path):
    """Values up to ~120 (not scaled): a warning naming the column; the plan keeps fewer
    fraction bits (stated in the log and the model), and prediction uses the same."""
    rng = np.random.default_rng(3)
    x0, x1 = rng.normal(size=ROWS), rng.normal(size=ROWS)
    z = 1.2 * x0 - 0.8 * x1
    y = (rng.random(ROWS) < 1 / (1 + np.exp(-z))).astype(float)
    data = {
        "alice": pd.DataFrame({"big": 20 * x0 + 60, "y": y}),
        "bob": pd.DataFrame({"b0": x1}),
    }
    logs, warnings = [], []
    table_in, out = train(tmp_path, data, logs, warnings, learning_rate=1e-4)
    assert len(warnings) == 1, warnings
    assert "features not scaled at alice: big" in warnings[0]
    assert "add a scaler (Scaler, before this node) for alice's big" in warnings[0]
    precision = out["output_model"].read_json("alice")["manifest"]["precision"]
    assert precision["fxp_fraction_bits"] < 18
    planned = f"FM64 with {precision['fxp_fraction_bits']} fraction bits"
    assert any(planned in line for line in logs), logs
    predicted = run_component(
        tmp_path / "p",
        "ml.predict/ss_lr",
        {"receiver": "alice"},
        {"input_model": out["output_model"], "input_ds": table_in},
        PARTIES,
    )
    scores = read_table(predicted["output_ds"].files["alice"])["pred"].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    assert roc_auc_score(y, scores) > 0.7


def test_prediction_refuses_a_table_larger_than_the_models_precision(tmp_path):
    """A model trained on scaled data, applied to the raw (unscaled) table: refused at alice
    with her columns named to her users, instead of overflowing into predictions outside
    [0, 1]."""
    raw, _, _ = frames(300_000.0)
    scaled = {party: frame.copy() for party, frame in raw.items()}
    for name in ("income", "age"):
        column = scaled["alice"][name]
        scaled["alice"][name] = (column - column.mean()) / column.std()
    _, out = train(tmp_path, scaled)
    raw_table = table(tmp_path / "raw", raw, {"y": "label"})
    inputs = {"input_model": out["output_model"], "input_ds": raw_table}
    with pytest.raises(PartyFailure) as failure:
        run_component(tmp_path / "p", "ml.predict/ss_lr", {"receiver": "alice"}, inputs, PARTIES)
    party, full, public = views(failure.value)
    assert party == "alice"
    assert "alice's income, age" in full, full
    assert "Fix: " in full, full
    assert public == str(redaction.range_public("alice", "the table to score"))
    assert not (tmp_path / "p" / "out" / "alice" / "output_ds.csv").exists()


def test_prediction_refuses_values_the_models_precision_cannot_hold_at_their_party(tmp_path):
    """A model at 18 fraction bits; bob's column to score in the thousands fits FM64 only with
    fewer bits: refused at bob, whose users read the column and the fix; alice reads that a
    value of bob's data is out of range."""
    data, _, _ = frames(50_000.0)
    for name in ("income", "age"):
        column = data["alice"][name]
        data["alice"][name] = (column - column.mean()) / column.std()
    _, out = train(tmp_path, data)
    larger = {party: frame.copy() for party, frame in data.items()}
    larger["bob"]["b0"] = larger["bob"]["b0"] * 3_000
    inputs = {"input_model": out["output_model"], "input_ds": table(tmp_path / "t", larger, {})}
    with pytest.raises(PartyFailure) as failure:
        run_component(tmp_path / "p", "ml.predict/ss_lr", {"receiver": "alice"}, inputs, PARTIES)
    party, full, public = views(failure.value)
    assert party == "bob"
    assert full.startswith(
        "the values of bob's b0 are larger than the model's precision (18 fraction bits) can "
        "hold. Fix: transform this table as the training table was"
    ), full
    assert public == str(redaction.range_public("bob", "SS-LR prediction"))
    assert "b0" not in public


def test_an_mm1_warning_about_the_receivers_predictions_is_the_receivers(tmp_path):
    """mm1 scores outside [0, 1] (a separable label, large weights): a warning about alice's
    predictions, attributed to alice (its text stays at her worker; the others learn only
    that she has a warning)."""
    rng = np.random.default_rng(4)
    x0, x1 = rng.normal(size=ROWS), rng.normal(size=ROWS)
    y = (3 * x0 + x1 > 0).astype(float)
    data = {"alice": pd.DataFrame({"a": x0, "y": y}), "bob": pd.DataFrame({"b": x1})}
    table_in, out = train(tmp_path, data, sig_type="mm1", learning_rate=2.0, epochs=30)
    warned: list[tuple[str, str | None]] = []
    inputs = {"input_model": out["output_model"], "input_ds": table_in}
    run_component(tmp_path / "p", "ml.predict/ss_lr", {"receiver": "alice"}, inputs, warned=warned)
    assert [(text.split(":")[0], party) for text, party in warned] == [
        ("some predictions at alice lie outside [0, 1]", "alice")
    ]


def test_a_diverging_regression_stops_at_the_engines_weight_check_naming_the_parties(tmp_path):
    """Scaled features, linear regression, learning rate 3: the weights grow without end; the
    engine refuses the step that could overflow. The weights come from every party's data and
    which values are to blame is secret, so the failure is nobody's: one text naming the
    parties, the operation and the fix, and no column."""
    data, _, _ = frames(50_000.0)
    alice = data["alice"]
    for name in ("income", "age"):
        alice[name] = (alice[name] - alice[name].mean()) / alice[name].std()
    with pytest.raises(CheckFailed) as failure:
        train(tmp_path, data, reg_type="linear", learning_rate=3.0)
    party, full, public = views(failure.value)
    assert party == ""
    assert full == public
    assert full.startswith(
        "SS-LR training stopped at a range check (operation SS-LR weights) on values computed "
        "from the data of alice and bob"
    ), full
    assert "lower learning_rate" in full, full
    for detail in ("income", "age", "b0", "2^"):
        assert detail not in full, detail


def test_a_missing_value_still_fails_at_its_party(tmp_path):
    data, _, _ = frames(1.0)
    data["alice"].loc[3, "age"] = np.nan
    with pytest.raises(PartyFailure, match="missing values") as failure:
        train(tmp_path, data)
    assert failure.value.party == "alice"


# --- the rules themselves ----------------------------------------------------------------


LN2 = math.log(2)


@pytest.mark.parametrize(
    ("losses", "reg_type", "match"),
    [
        ([0.6, float("nan")], "logistic", "not a number"),
        ([0.6, float("inf")], "linear", "not a number"),
        ([0.6, -0.5], "logistic", "impossible values"),
        ([0.6, 9.0], "logistic", "impossible values"),
        ([1.0, -3.0], "linear", "impossible values"),
        ([0.7, 2.1 * LN2], "logistic", "training diverged"),
        ([10.0, 25.0], "linear", "training diverged"),
    ],
)
def test_impossible_or_exploding_losses_fail(losses, reg_type, match):
    with pytest.raises(CheckFailed, match=match) as failure:
        check_losses(losses, reg_type, "add a scaler for alice's income")
    assert str(failure.value).endswith("Fix: add a scaler for alice's income.")


@pytest.mark.parametrize(
    ("losses", "reg_type"),
    [([0.69, 0.5, 0.4], "logistic"), ([0.6, 1.9 * LN2], "logistic"), ([10.0, 19.0], "linear")],
)
def test_losses_within_the_rules_pass(losses, reg_type):
    check_losses(losses, reg_type, "")


def test_a_loss_still_at_ln2_is_a_warning_only_for_logistic_regression():
    assert "made no progress" in str(progress_warning([LN2, LN2], "logistic", ""))
    assert progress_warning([LN2, 0.5], "logistic", "") is None
    assert progress_warning([LN2, LN2], "linear", "") is None


def test_predictions_outside_0_1_or_not_finite_fail():
    with pytest.raises(CheckFailed, match=r"2 of 4 predictions at alice lie outside \[0, 1\]"):
        check_predictions(
            np.array([0.2, 191149220.67, -45981397.07, 0.9]), "logistic", "real", "alice", ""
        )
    with pytest.raises(CheckFailed, match="1 of 2 predictions at bob are not numbers"):
        check_predictions(np.array([0.2, np.nan]), "linear", "real", "bob", "")
    with pytest.raises(CheckFailed, match="outside"):
        check_predictions(np.array([0.5, 1.01]), "logistic", "seg3", "alice", "")


def test_sigmoid_error_and_linear_predictions_pass():
    assert check_predictions(np.array([-5e-5, 1 + 5e-5]), "logistic", "real", "alice", "") is None
    assert check_predictions(np.array([-1e9, 1e9]), "linear", "real", "alice", "") is None


def test_mm1_scores_outside_0_1_warn_and_overflow_fails():
    warning = str(check_predictions(np.array([-0.3, 0.5, 1.4]), "logistic", "mm1", "alice", ""))
    assert "outside [0, 1]" in warning
    assert "sig_type real" in warning
    assert "0.3" not in warning.replace("0.5 + x/8", "")  # no value, no count
    with pytest.raises(CheckFailed, match="overflowed"):
        check_predictions(np.array([0.5, 4.0e6]), "logistic", "mm1", "alice", "")


def test_columns_beyond_the_scaled_limit_are_named():
    values = np.array([[0.5, 300.0, -SCALED_LIMIT], [1.0, 2.0, 3.0]])
    assert not_scaled(values, ["a", "income", "edge"]) == ["income"]
    assert not_scaled(np.zeros((0, 2)), ["a", "b"]) == []
    advice = scaling_advice({"alice": ["income", "age"], "bob": ["spend"]})
    assert str(advice) == (
        "add a scaler (Scaler, before this node) for alice's income, age and bob's spend"
    )
    # The fix every party reads names the parties, never their columns.
    assert str(scaling_pointer(["alice", "bob"])) == (
        "add a scaler (Scaler, before this node) for the features that the warnings of alice "
        "and bob name"
    )
    assert str(scaling_pointer(["alice"])).endswith("that alice's warning names")
    assert scaling_pointer([]) == ""


@pytest.mark.parametrize(
    ("values", "bound"), [([0.0], 0.0), ([0.3, -0.1], 0.5), ([-3.0], 4.0), ([1024.0], 1024.0)]
)
def test_only_a_power_of_two_bound_of_the_largest_value_is_shared(values, bound):
    assert power_of_two_bound(np.array(values)) == bound


@pytest.mark.parametrize("key", ["ml.eval/binary_classification", "ml.eval/regression"])
def test_an_evaluation_refuses_infinite_predictions(tmp_path, key):
    frame = pd.DataFrame({"y": [0.0, 1.0, 1.0, 0.0], "pred": [0.1, np.inf, 0.8, 0.3]})
    data = table(tmp_path / "in", {"alice": frame}, {"y": "label"})
    params = {"label": "y", "prediction": "pred"}
    # Read and converted at alice (the values are hers), so her failure carries the check.
    with pytest.raises(PartyFailure, match=r"column pred at alice holds infinite values"):
        run_component(tmp_path, key, params, {"input_ds": data})
