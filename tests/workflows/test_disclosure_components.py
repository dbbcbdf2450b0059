"""What a component gives a party other than the data's owner, tried as bob would (no database).

alice holds the label and the scores (or the columns); bob receives his copy of the report and
tries to rebuild alice's rows from it. k is the run's `min_group_rows` (20 by default).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.workflows.helpers import run_component, table
from workflows.components.aggregates import between, grouped_cuts, grouped_histogram

K = 20


def alice_scores(rows: int = 240, seed: int = 5) -> pd.DataFrame:
    """alice's label and an integer feature bob uses as the "prediction" (ties and integers:
    rounding a threshold would land on an exact value)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.4).astype(int)
    age = (30 + 10 * y + rng.integers(0, 35, rows)).astype(int)
    return pd.DataFrame({"y": y, "age": age})


def evaluate_as_bob(tmp_path, frame: pd.DataFrame) -> tuple[dict, dict]:
    data = table(tmp_path / "in", {"alice": frame}, {"y": "label"})
    params = {"label": "y", "prediction": "age", "bucket_size": 10, "threshold": 50.0}
    out = run_component(
        tmp_path, "ml.eval/binary_classification", params, {"input_ds": data}, requested_by="bob"
    )
    return out["report"].read_json("alice"), out["report"].read_json("bob")


def test_bob_cannot_rebuild_alices_scores_and_labels_from_the_curves(tmp_path):
    frame = alice_scores()
    full, shared = evaluate_as_bob(tmp_path, frame)
    n, scores = len(frame), set(frame["age"].astype(float))
    points = [p for p in shared["curves"] if p["tpr"] > 0 or p["fpr"] > 0]
    assert 0 < len(points) <= n // K
    thresholds = [p["threshold"] for p in shared["curves"] if p["threshold"] is not None]
    assert thresholds
    assert not scores & set(thresholds)
    # Every step of bob's curve covers at least k of alice's rows.
    depths = [0.0] + [p["depth"] for p in points]
    assert min(np.diff(depths)) * n >= K - 1e-9
    # alice's own copy has one point per distinct score, with the score as threshold.
    assert len(full["curves"]) == frame["age"].nunique() + 1
    assert {p["threshold"] for p in full["curves"][1:]} == scores


def test_bob_gets_the_headline_metrics_unchanged(tmp_path):
    full, shared = evaluate_as_bob(tmp_path, alice_scores())
    assert shared["summary"] == full["summary"]
    assert shared["disclosure"] == {"view": "aggregated", "min_rows": K}
    assert shared["confusion"] == full["confusion"]  # both sides of 0.5 hold >= k rows


def test_bob_gets_bins_of_k_rows_without_their_min_and_max_score(tmp_path):
    _, shared = evaluate_as_bob(tmp_path, alice_scores(rows=100))
    assert len(shared["bins"]) == 5  # 10 asked, 100 rows // k
    assert all(b["count"] >= K for b in shared["bins"])
    assert all("min_score" not in b and "max_score" not in b for b in shared["bins"])


def test_a_small_evaluation_gives_bob_only_its_size(tmp_path):
    _, shared = evaluate_as_bob(tmp_path, alice_scores(rows=K - 1))
    assert shared["summary"] == {"samples": K - 1}
    assert shared["curves"] == []
    assert shared["bins"] == []


def test_a_threshold_with_few_rows_on_one_side_hides_the_confusion_matrix(tmp_path):
    frame = alice_scores()
    data = table(tmp_path / "in", {"alice": frame}, {"y": "label"})
    params = {"label": "y", "prediction": "age", "threshold": float(frame["age"].max())}
    out = run_component(tmp_path, "ml.eval/binary_classification", params, {"input_ds": data})
    confusion = out["report"].read_json("bob")["confusion"]
    assert "tp" not in confusion
    assert "withheld" in confusion
    assert out["report"].read_json("alice")["confusion"]["tp"] >= 1


def test_bob_gets_a_regression_histogram_of_k_rows_with_open_ends(tmp_path):
    rng = np.random.default_rng(2)
    y = rng.normal(10, 3, 300)
    frame = pd.DataFrame({"t": y, "p": y + rng.normal(0, 1, 300)})
    data = table(tmp_path / "in", {"alice": frame}, {"t": "label"})
    params = {"label": "t", "prediction": "p", "bucket_size": 10}
    out = run_component(tmp_path, "ml.eval/regression", params, {"input_ds": data})
    full, shared = out["report"].read_json("alice"), out["report"].read_json("bob")
    residuals = frame["t"] - frame["p"]
    histogram = shared["residual_histogram"]
    assert histogram[0]["low"] is None
    assert histogram[-1]["high"] is None
    assert all(b["count"] >= K for b in histogram)
    assert sum(b["count"] for b in histogram) == 300
    edges = {b[key] for b in histogram for key in ("low", "high")} - {None}
    assert not edges & {residuals.min(), residuals.max()}
    assert shared["summary"] == full["summary"]
    assert full["residual_histogram"][0]["low"] == pytest.approx(residuals.min())


def statistics(tmp_path, alice: pd.DataFrame, bob: pd.DataFrame, **params) -> dict[str, dict]:
    data = table(tmp_path / "in", {"alice": alice, "bob": bob}, {"y": "label"})
    out = run_component(tmp_path, "stats/table_statistics", params, {"input_ds": data})
    return {party: out["report"].read_json(party) for party in ("alice", "bob")}


def rows_of(report: dict, party: str) -> dict[str, dict]:
    return {row["column"]: row for row in report["columns"] if row["party"] == party}


def test_bob_never_sees_a_single_row_value_of_alices_columns(tmp_path):
    rng = np.random.default_rng(4)
    alice = pd.DataFrame({"income": rng.normal(50, 9, 60).round(2), "y": [0] * 45 + [1] * 15})
    bob = pd.DataFrame({"spend": rng.normal(5, 1, 60)})
    reports = statistics(tmp_path, alice, bob)
    seen_by_bob = rows_of(reports["bob"], "alice")
    income = seen_by_bob["income"]
    for key in ("min", "q1", "median", "q3", "max"):
        assert income[key] is None
        assert key in income["withheld"]
    assert income["mean"] == pytest.approx(alice["income"].mean())
    # 15 positives < k: the label's mean (the class counts) is withheld too.
    assert seen_by_bob["y"]["mean"] is None
    assert seen_by_bob["y"]["sum"] is None
    values = set(alice["income"])
    shown = {v for row in seen_by_bob.values() for v in row.values() if isinstance(v, float)}
    assert not values & shown
    # alice reads her own columns in full; bob his own.
    assert rows_of(reports["alice"], "alice")["income"]["min"] == alice["income"].min()
    assert rows_of(reports["bob"], "bob")["spend"]["max"] == pytest.approx(bob["spend"].max())


def test_single_row_values_reach_bob_only_when_the_pipeline_asks_for_them(tmp_path):
    """Asked for, they are in the plan at row level: they leave with alice's consent only."""
    rng = np.random.default_rng(6)
    alice = pd.DataFrame({"income": rng.normal(50, 9, 60).round(2), "y": [0] * 30 + [1] * 30})
    bob = pd.DataFrame({"spend": rng.normal(5, 1, 60)})
    income = rows_of(statistics(tmp_path, alice, bob, single_row_values=True)["bob"], "alice")
    income = income["income"]
    assert (income["min"], income["max"]) == (alice["income"].min(), alice["income"].max())
    assert income["median"] == pytest.approx(alice["income"].median())
    assert income["withheld"] == []


def test_label_counts_reach_others_only_when_every_class_has_k_rows(tmp_path):
    alice = pd.DataFrame({"y": [0] * 30 + [1] * 25})
    bob = pd.DataFrame({"spend": np.arange(55.0)})
    seen_by_bob = rows_of(statistics(tmp_path, alice, bob)["bob"], "alice")
    assert seen_by_bob["y"]["mean"] == pytest.approx(25 / 55)


def test_a_column_of_fewer_than_k_values_shows_others_only_its_counts(tmp_path):
    # (a table of k rows or more: of a smaller one others read only the row count)
    alice = pd.DataFrame({"x": [1.0, None, None, 4.0] * 6})
    bob = pd.DataFrame({"b": np.arange(24.0)})
    row = rows_of(statistics(tmp_path, alice, bob)["bob"], "alice")["x"]
    assert (row["count"], row["nulls"]) == (12, 12)
    assert all(row[key] is None for key in ("mean", "std", "sum", "min", "max"))


def test_between_lies_strictly_between_its_bounds():
    rng = np.random.default_rng(13)
    lows = rng.uniform(-1e6, 1e6, 2000) * rng.choice([1, 1e-6], 2000)
    gaps = 10.0 ** rng.uniform(-9, 4, 2000)
    for low, gap in zip(lows, gaps, strict=True):
        high = low + gap
        if low < high:  # a gap below the float resolution leaves no interval
            assert low < between(low, high) < high, (low, high)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(36.0, 37.0, 36.5), (0.4213, 0.4297, 0.426), (9.0, 12.0, 10.0), (-3.0, -2.0, -2.5)],
)
def test_between_picks_the_shortest_decimal(low, high, expected):
    assert between(low, high) == expected


def test_grouped_cuts_keep_k_rows_between_points_and_after_the_last():
    rows = np.array([5, 12, 20, 21, 40, 41, 59, 60])
    kept = grouped_cuts(rows, 60, 20)
    assert [int(rows[i]) for i in kept] == [20, 40, 60]


def test_grouped_histogram_merges_small_bins_and_opens_the_ends():
    values = np.random.default_rng(1).normal(0, 1, 500)
    bins = grouped_histogram(values, 10, 50)
    assert bins[0]["low"] is None
    assert bins[-1]["high"] is None
    assert all(b["count"] >= 50 for b in bins)
    assert sum(b["count"] for b in bins) == 500
    assert grouped_histogram(values[:10], 10, 50) == []


def test_correlations_over_fewer_than_k_rows_stay_with_each_partys_own_columns(tmp_path):
    rng = np.random.default_rng(6)
    given = {
        "alice": pd.DataFrame({"a": rng.normal(size=12), "b": rng.normal(size=12)}),
        "bob": pd.DataFrame({"c": rng.normal(size=12)}),
    }
    data = table(tmp_path / "in", given, {})
    params = {"features": ["a", "b", "c"]}
    out = run_component(tmp_path, "stats/pearson", params, {"input_ds": data})
    alice, bob = (out["report"].read_json(party)["matrix"] for party in ("alice", "bob"))
    assert alice[0][1] == pytest.approx(
        np.corrcoef(given["alice"]["a"], given["alice"]["b"])[0, 1], abs=1e-3
    )
    assert alice[0][2] is None
    assert bob[0][1] is None
    assert bob[2][2] == pytest.approx(1.0, abs=1e-3)


def test_a_class_of_fewer_than_k_rows_gives_bob_only_the_size(tmp_path):
    frame = alice_scores(rows=200)
    frame["y"] = 0
    frame.loc[:9, "y"] = 1  # ten positives: AUC would say where those ten rank
    _, shared = evaluate_as_bob(tmp_path, frame)
    assert shared["summary"] == {"samples": 200}
    assert shared["curves"] == []
    assert shared["bins"] == []


def test_a_continuous_labels_mean_is_an_ordinary_aggregate(tmp_path):
    rng = np.random.default_rng(8)
    alice = pd.DataFrame({"y": rng.normal(size=60)})
    bob = pd.DataFrame({"spend": np.arange(60.0)})
    seen_by_bob = rows_of(statistics(tmp_path, alice, bob)["bob"], "alice")
    assert seen_by_bob["y"]["mean"] == pytest.approx(alice["y"].mean())
