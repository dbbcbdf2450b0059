"""Chart and table builders of the run report, one report kind at a time (no database)."""

from __future__ import annotations

import json

import numpy as np

from workflows.components.library.binary_classification import evaluate as evaluate_binary
from workflows.components.library.regression import evaluate as evaluate_regression
from workflows.reports.charts import text, views


def titles(view: dict) -> list[str]:
    return [chart["title"] for chart in view["charts"]]


def test_it_draws_the_regression_residual_histogram():
    rng = np.random.default_rng(3)
    y = rng.normal(size=80)
    report = evaluate_regression(y, y + rng.normal(0, 0.1, 80), 8)
    view = views(report)
    assert titles(view) == ["Residuals (label - prediction)"]
    assert sum(view["charts"][0]["data"][0]["y"]) == 80
    assert [t["title"] for t in view["tables"]] == ["Summary", "Residuals"]


def test_it_puts_actual_positives_on_the_top_row_of_the_confusion_matrix():
    y = np.array([1, 1, 0, 0, 1, 0])
    report = evaluate_binary(y, np.array([0.9, 0.4, 0.6, 0.1, 0.8, 0.3]), 0.5, 3)
    matrix = views(report)["charts"][-1]
    assert matrix["data"][0]["z"] == [[2, 1], [1, 2]]  # [[tp, fn], [fp, tn]]
    assert matrix["data"][0]["y"][0] == "actual 1"
    assert matrix["layout"]["yaxis"]["autorange"] == "reversed"


def test_it_shows_psi_sizes_per_party():
    report = {
        "kind": "psi",
        "protocol": "ECDH_25519",
        "parties": ["alice", "bob"],
        "input_rows": {"alice": 100, "bob": 80},
        "duplicates_dropped": {"alice": 2, "bob": 0},
        "intersection_size": 70,
    }
    view = views(report)
    bars = view["charts"][0]["data"]
    assert bars[0]["y"] == [100, 80]
    assert bars[1]["y"] == [70, 70]
    assert view["tables"][1]["rows"][0] == ["alice", "100", "2", "70"]


def test_it_leaves_out_the_weights_chart_when_weights_stay_secret():
    report = {"kind": "ss_lr_train", "loss": [0.7, 0.5], "features": [], "epochs_run": 2}
    report["label"] = {"name": "y", "party": "alice"}
    view = views(report)
    assert titles(view) == ["Loss per epoch"]
    assert ["label", "y (alice)"] in view["tables"][0]["rows"]


def test_an_unknown_kind_is_listed_as_values():
    view = views({"kind": "future", "score": 0.123456, "nested": {"a": [1, None]}})
    assert view["charts"] == []
    assert view["tables"][0]["rows"] == [
        ["kind", "future"],
        ["score", "0.1235"],
        ["nested", json.dumps({"a": [1, None]})],
    ]


def test_a_report_that_is_not_an_object_is_still_shown():
    assert views([1, 2])["tables"][0]["rows"] == [["report", "[1, 2]"]]


def test_cells_format_missing_values_booleans_and_floats():
    assert [text(None), text(True), text(2.0 / 3), text(7)] == ["", "yes", "0.6667", "7"]


def test_statistics_of_text_columns_draw_no_box():
    report = {
        "kind": "table_statistics",
        "columns": [{"column": "city", "party": "alice", "type": "str", "null_ratio": 0.1}],
    }
    view = views(report)
    assert titles(view) == ["Missing values per column"]
    assert view["charts"][0]["data"][0]["y"] == [0.1]
