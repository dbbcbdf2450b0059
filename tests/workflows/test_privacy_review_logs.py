"""Node log lines are read by every project member (API, websocket `node.log`, run page, HTML
report), so they may carry only what every member may know. Tried as bob would, against a
component run over alice's label and scores (no database)."""

from __future__ import annotations

from tests.workflows.helpers import run_component, table
from tests.workflows.test_disclosure_components import K, alice_scores


def test_the_evaluation_log_does_not_give_bob_the_auc_his_report_withholds(tmp_path):
    frame = alice_scores(rows=K - 1)  # too few rows: bob's copy withholds the AUC
    data = table(tmp_path / "in", {"alice": frame}, {"y": "label"})
    params = {"label": "y", "prediction": "age", "bucket_size": 10, "threshold": 50.0}
    logs: list[str] = []
    out = run_component(
        tmp_path,
        "ml.eval/binary_classification",
        params,
        {"input_ds": data},
        requested_by="bob",
        logs=logs,
    )
    full, shared = out["report"].read_json("alice"), out["report"].read_json("bob")
    assert "auc" in full["summary"]
    assert "auc" not in shared["summary"]
    auc = f"{full['summary']['auc']:.4f}"
    assert logs
    assert not any("AUC" in line or auc in line for line in logs)
    assert any(f"evaluated {K - 1} rows at alice" in line for line in logs)
