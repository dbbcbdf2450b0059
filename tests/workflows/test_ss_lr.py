"""ml.train/ss_lr and ml.predict/ss_lr against scikit-learn / numpy (no database)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score

from core.errors import ConfigError, PartyFailure
from tests.workflows.helpers import run_component, table
from workflows.components import registry
from workflows.components.context import ArtifactData, RunCancelled, RunContext
from workflows.components.params import ParamEnv, ParamError
from workflows.components.spec import InferContext

PARTIES = ("alice", "bob", "carol")
FEATURES = ["a0", "a1", "b0", "c0"]
ROWS = 600


def dataset(seed: int = 4, linear: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(ROWS, 4))
    z = x @ np.array([1.5, -1.0, 0.8, -0.5]) + 0.2
    y = z + rng.normal(0, 0.1, ROWS) if linear else (rng.random(ROWS) < 1 / (1 + np.exp(-z)))
    frames = {
        "alice": pd.DataFrame(
            {"id": np.arange(ROWS), "a0": x[:, 0], "a1": x[:, 1], "y": y.astype(float)}
        ),
        "bob": pd.DataFrame({"id": np.arange(ROWS), "b0": x[:, 2]}),
        "carol": pd.DataFrame({"c0": x[:, 3]}),
    }
    return x, y.astype(float), frames


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sslr")
    x, y, frames = dataset()
    data = table(tmp / "in", frames, {"y": "label", "id": "id"})
    params = {"features": FEATURES, "label": "y", "report_weights": True, "batch_size": 128}
    out = run_component(tmp, "ml.train/ss_lr", params, {"input_ds": data}, PARTIES)
    return tmp, x, y, data, out


def test_it_trains_logistic_regression_close_to_scikit_learn(trained):
    _, x, y, _, out = trained
    report = out["report"].read_json("carol")
    weights = np.array(list(report["weights"]["features"].values()))
    reference = LogisticRegression(C=1e6).fit(x, y)
    ours = roc_auc_score(y, x @ weights + report["weights"]["bias"])
    assert abs(ours - roc_auc_score(y, reference.decision_function(x))) < 0.01, report
    assert list(report["weights"]["features"]) == ["alice.a0", "alice.a1", "bob.b0", "carol.c0"]
    # The loss per epoch is in the label holder's copy alone.
    assert "loss" not in report
    loss = out["report"].read_json("alice")["loss"]
    assert len(loss) == 10
    assert loss[-1] < loss[0]


def test_each_party_holds_a_share_not_the_weights(trained):
    _, _, _, _, out = trained
    report = out["report"].read_json("alice")
    weights = [*report["weights"]["features"].values(), report["weights"]["bias"]]
    parts = {party: out["output_model"].read_json(party) for party in PARTIES}
    assert {p["manifest"]["kind"] for p in parts.values()} == {"ss_lr"}
    shares = [np.array(p["weights"]["share"], dtype=np.uint64)[0] for p in parts.values()]
    opened = sum(shares[1:], shares[0]).view(np.int64) / 2.0**18
    np.testing.assert_allclose(opened, weights, atol=1e-4)
    for share in shares:  # no single share is close to the weights
        assert not np.allclose(share.view(np.int64) / 2.0**18, weights, atol=1.0)


def test_the_report_leaves_weights_out_unless_revealed(tmp_path):
    _, _, frames = dataset()
    data = table(tmp_path / "in", frames, {"y": "label", "id": "id"})
    params = {"features": ["a0", "b0"], "label": "y", "epochs": 2}
    out = run_component(tmp_path, "ml.train/ss_lr", params, {"input_ds": data}, PARTIES)
    report = out["report"].read_json("bob")
    assert "weights" not in report
    assert (report["epochs_run"], "loss" in report) == (2, False)
    assert len(out["report"].read_json("alice")["loss"]) == 2
    assert out["output_model"].read_json("bob")["manifest"]["weights_revealed"] is False


@pytest.mark.parametrize("requested_by", ["bob", None])
def test_only_the_label_holder_may_reveal_the_weights(tmp_path, requested_by):
    _, _, frames = dataset()
    data = table(tmp_path / "in", frames, {"y": "label", "id": "id"})
    params = {"features": ["a0", "b0"], "label": "y", "epochs": 2, "report_weights": True}
    with pytest.raises(PermissionError, match="only a user of 'alice', the label holder"):
        run_component(tmp_path, "ml.train/ss_lr", params, {"input_ds": data}, PARTIES, requested_by)
    assert not (tmp_path / "out").exists()


def test_it_trains_linear_regression_close_to_least_squares(tmp_path):
    x, y, frames = dataset(seed=6, linear=True)
    data = table(tmp_path / "in", frames, {"y": "label", "id": "id"})
    params = {
        "features": FEATURES,
        "label": "y",
        "reg_type": "linear",
        "epochs": 30,
        "batch_size": 100,
        "eps": 0,
        "report_weights": True,
    }
    out = run_component(tmp_path, "ml.train/ss_lr", params, {"input_ds": data}, PARTIES)
    weights = out["report"].read_json("alice")["weights"]
    reference = LinearRegression().fit(x, y)
    np.testing.assert_allclose(list(weights["features"].values()), reference.coef_, atol=0.02)
    assert abs(weights["bias"] - reference.intercept_) < 0.02


def test_predictions_reach_only_the_receiver_and_match_the_weights(trained):
    tmp, x, y, data, out = trained
    params = {"receiver": "bob", "save_ids": True, "save_label": True}
    inputs = {"input_model": out["output_model"], "input_ds": data}
    predicted = run_component(tmp / "pred", "ml.predict/ss_lr", params, inputs, PARTIES)
    assert set(predicted["output_ds"].files) == {"bob"}
    frame = predicted["output_ds"].read_table("bob")
    # bob holds ids but not the label (alice does), so only id and pred are saved.
    assert list(frame.columns) == ["id", "pred"]
    weights = out["report"].read_json("bob")["weights"]
    z = x @ np.array(list(weights["features"].values())) + weights["bias"]
    np.testing.assert_allclose(frame["pred"], 1 / (1 + np.exp(-z)), atol=2e-3)
    for party in ("alice", "carol"):
        assert not (tmp / "pred" / "out" / party).exists(), party


def test_the_receiver_keeps_its_own_label(trained):
    tmp, _, y, data, out = trained
    params = {"receiver": "alice", "save_label": True, "pred_name": "score"}
    inputs = {"input_model": out["output_model"], "input_ds": data}
    predicted = run_component(tmp / "pred2", "ml.predict/ss_lr", params, inputs, PARTIES)
    frame = predicted["output_ds"].read_table("alice")
    assert list(frame.columns) == ["y", "score"]
    np.testing.assert_allclose(frame["y"], y)


def test_a_model_whose_parts_come_from_two_trainings_is_refused(trained, tmp_path):
    """bob's part of another training whose public manifest is the same (a retraining that
    converged alike, then a mixed-up file) would turn the weights into the sum of shares of two
    models: prediction refuses it, naming bob, before any score is computed."""
    _, _, _, data, out = trained
    params = {"features": FEATURES, "label": "y", "epochs": 1, "batch_size": 128}
    other = run_component(tmp_path / "other", "ml.train/ss_lr", params, {"input_ds": data}, PARTIES)
    model = out["output_model"]
    stale = other["output_model"].read_json("bob") | {
        "manifest": model.read_json("bob")["manifest"]
    }
    (tmp_path / "stale.json").write_text(json.dumps(stale), encoding="utf-8")
    mixed = ArtifactData(model.info, {**model.files, "bob": tmp_path / "stale.json"})
    inputs = {"input_model": mixed, "input_ds": data}
    with pytest.raises(ConfigError, match="share records are from different exports: bob's"):
        run_component(tmp_path / "pred", "ml.predict/ss_lr", {"receiver": "bob"}, inputs, PARTIES)
    assert not (tmp_path / "pred" / "out").exists()


def infer_context(key: str, inputs: dict, **params) -> InferContext:
    component = registry().get(key)
    infos = {port: data.info for port, data in inputs.items()}
    env = ParamEnv(parties=PARTIES, inputs=infos)
    cleaned = {p.name: p.default for p in component.params if not p.required}
    for name, value in params.items():
        cleaned[name] = component.param(name).clean(value, env)
    return InferContext(cleaned, infos, env)


def test_it_rejects_bad_parameters(trained):
    _, _, _, data, out = trained
    component = registry().get("ml.train/ss_lr")
    env = ParamEnv(parties=PARTIES, inputs={"input_ds": data.info})
    with pytest.raises(ParamError, match="role 'feature'"):
        component.param("label").clean("a0", env)
    with pytest.raises(ParamError, match="below the minimum"):
        component.param("epochs").clean(0, env)
    with pytest.raises(ParamError, match="not one of"):
        component.param("sig_type").clean("t9", env)
    predict = registry().get("ml.predict/ss_lr")
    with pytest.raises(ParamError, match="not a member of the project"):
        predict.param("receiver").clean("mallory", env)
    inputs = {"input_model": out["output_model"], "input_ds": data}
    missing = ArtifactData(data.info.__class__.table(data.info.columns_at("alice")), {})
    ctx = infer_context("ml.predict/ss_lr", inputs | {"input_ds": missing}, receiver="alice")
    assert any("'b0' of 'bob' is not in the input" in str(p) for p in predict.check(ctx))


def test_a_feature_with_missing_values_fails_at_its_party(tmp_path):
    _, _, frames = dataset()
    frames["bob"].loc[3, "b0"] = np.nan
    data = table(tmp_path / "in", frames, {"y": "label", "id": "id"})
    with pytest.raises(PartyFailure, match="missing values") as failure:
        run_component(
            tmp_path, "ml.train/ss_lr", {"features": ["b0"], "label": "y"}, {"input_ds": data}
        )
    assert failure.value.party == "bob"


def test_cancel_during_training_stops_at_the_next_epoch(tmp_path):
    _, _, frames = dataset()
    data = table(tmp_path / "in", frames, {"y": "label", "id": "id"})
    component = registry().get("ml.train/ss_lr")
    context_in = infer_context(
        "ml.train/ss_lr", {"input_ds": data}, features=FEATURES, label="y", epochs=50
    )
    seen: list[int] = []
    context = RunContext(
        params=context_in.params,
        parties=PARTIES,
        inputs={"input_ds": data},
        infos=component.infer(context_in),
        output_dir=lambda party: tmp_path / "out" / party,
        on_progress=seen.append,
        cancelled=lambda: len(seen) >= 3,  # cancel once two epochs have reported
    )
    with pytest.raises(RunCancelled):
        component.run(context)
    assert seen == [0, 6, 8], seen  # start, epoch 1, epoch 2; stopped at epoch 3's check
    assert "output_model" not in context.written


def test_training_and_prediction_stream_their_inputs_in_blocks(tmp_path, monkeypatch, trained):
    """Blocks of 128 rows (600 rows: five blocks, the last short) read slice by slice give
    the model and predictions of the whole-table run, within fixed-point noise."""
    from workflows.components import secure

    _, x, y, data, whole = trained
    shared_blocks = []
    original = secure.streamed_blocks

    def counted(*args, **kwargs):
        for block in original(*args, **kwargs):
            shared_blocks.append(block)
            yield block

    monkeypatch.setattr(secure, "BLOCK_ROWS", 128)
    monkeypatch.setattr(secure, "streamed_blocks", counted)
    params = {"features": FEATURES, "label": "y", "report_weights": True, "batch_size": 128}
    out = run_component(tmp_path, "ml.train/ss_lr", params, {"input_ds": data}, PARTIES)
    assert len(shared_blocks) == 5
    ours, theirs = (o["report"].read_json("alice") for o in (out, whole))
    np.testing.assert_allclose(
        list(ours["weights"]["features"].values()),
        list(theirs["weights"]["features"].values()),
        atol=0.02,
    )
    np.testing.assert_allclose(ours["loss"], theirs["loss"], atol=5e-3)
    params = {"receiver": "alice", "save_label": True}
    inputs = {"input_model": out["output_model"], "input_ds": data}
    predicted = run_component(tmp_path / "pred", "ml.predict/ss_lr", params, inputs, PARTIES)
    assert len(shared_blocks) == 10
    weights = ours["weights"]
    z = x @ np.array(list(weights["features"].values())) + weights["bias"]
    frame = predicted["output_ds"].read_table("alice")
    np.testing.assert_allclose(frame["pred"], 1 / (1 + np.exp(-z)), atol=2e-3)


def test_a_gap_in_a_later_block_is_refused_naming_the_columns(tmp_path, monkeypatch):
    from workflows.components import secure

    monkeypatch.setattr(secure, "BLOCK_ROWS", 128)
    _, _, frames = dataset()
    frames["bob"].loc[500, "b0"] = np.nan  # in the fourth block
    data = table(tmp_path / "in", frames, {"y": "label", "id": "id"})
    params = {"features": FEATURES, "label": "y", "batch_size": 128}
    with pytest.raises(PartyFailure) as failure:
        run_component(tmp_path, "ml.train/ss_lr", params, {"input_ds": data}, PARTIES)
    assert failure.value.party == "bob"
    assert "column b0 at bob has missing values" in str(failure.value.error)
