"""A real pipeline case FM64 cannot hold: house prices in dollars as an SS-LR label.

The features are standardised, but the label (prices around $300,000, up to ~2^20) is not:
the gradient's products reach 2^40, past what FM64 holds with 8 fraction bits under SEMI2K's
truncation headroom. The engine plans FM128 (stated in the node's log and stored with the
model), trains, and prediction runs in the same ring; weights and scores are compared with
numpy's least squares (no DB).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.workflows.helpers import read_table, run_component, table

PARTIES = ("alice", "bob")
ROWS = 400
TRUE_WEIGHTS = np.array([42_000.0, -18_500.0, 9_000.0])  # dollars per standard deviation
BASE_PRICE = 310_000.0


def prices(seed: int = 12) -> tuple[dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(ROWS, 3))
    x = (x - x.mean(axis=0)) / x.std(axis=0)  # standardised features, as a Scaler leaves them
    y = BASE_PRICE + x @ TRUE_WEIGHTS + rng.normal(0, 2_000.0, ROWS)
    data = {
        "alice": pd.DataFrame({"area": x[:, 0], "age": x[:, 1], "price": y}),
        "bob": pd.DataFrame({"rooms": x[:, 2]}),
    }
    return data, x, y


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fm128")
    data, x, y = prices()
    table_in = table(tmp / "in", data, {"price": "label"})
    params = {
        "features": ["area", "age", "rooms"],
        "label": "price",
        "reg_type": "linear",
        "learning_rate": 0.5,
        "epochs": 12,
        "batch_size": ROWS,
        "eps": 0,
        "report_weights": True,
    }
    logs: list[str] = []
    out = run_component(
        tmp, "ml.train/ss_lr", params, {"input_ds": table_in}, PARTIES, "alice", logs
    )
    return tmp, x, y, table_in, out, logs


def test_the_plan_picks_fm128_and_the_log_says_why(trained):
    _, _, _, _, out, logs = trained
    planned = [line for line in logs if line.startswith("precision for SS-LR training: ")]
    assert planned, logs
    assert planned[0].startswith("precision for SS-LR training: FM128 with 26 fraction bits: ")
    assert "FM64 cannot hold these products" in planned[0]
    manifest = out["output_model"].read_json("bob")["manifest"]
    assert manifest["precision"] == {"field": "FM128", "fxp_fraction_bits": 26}
    shares = out["output_model"].read_json("bob")["weights"]["share"]
    assert max(v for component in shares for v in component) >= 2**64  # 128-bit shares


def test_the_weights_match_numpy_least_squares(trained):
    _, x, y, _, out, _ = trained
    report = out["report"].read_json("alice")
    weights = np.array(list(report["weights"]["features"].values()))
    design = np.column_stack([x, np.ones(ROWS)])
    reference = np.linalg.lstsq(design, y, rcond=None)[0]
    # full-batch gradient descent with rate 0.5 on standardised columns: the error in every
    # weight shrinks by 2x per epoch, 12 epochs leave < 1e-3 of the $310k start (~$100)
    np.testing.assert_allclose(weights, reference[:3], atol=150.0)
    assert abs(report["weights"]["bias"] - reference[3]) < 150.0
    assert report["loss"][-1] < 1e-3 * report["loss"][0]


def test_prediction_runs_in_the_models_ring_and_matches_numpy(trained):
    tmp, x, _, table_in, out, _ = trained
    logs: list[str] = []
    predicted = run_component(
        tmp / "p",
        "ml.predict/ss_lr",
        {"receiver": "alice"},
        {"input_model": out["output_model"], "input_ds": table_in},
        PARTIES,
        "alice",
        logs,
    )
    assert any("model's precision: FM128, 26 fraction bits" in line for line in logs), logs
    scores = read_table(predicted["output_ds"].files["alice"])["pred"].to_numpy()
    report = out["report"].read_json("alice")
    weights = np.array(list(report["weights"]["features"].values()))
    expected = x @ weights + report["weights"]["bias"]
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-3)
