"""Role suggestions on their own (pure): which names look like an ID or a target, and which
values make a column an ID (all present, all different) or a label (all present, all 0/1)."""

from __future__ import annotations

import pandas as pd
import pytest

from console.datasets.role_suggestions import (
    candidates,
    looks_like_id,
    looks_like_target,
    role_warnings,
    scan_facts,
    suggest_roles,
)
from console.datasets.schema import pandas_read_options, profile_csv


@pytest.mark.parametrize(
    ("name", "expected"),
    [("id", True), ("ID", True), ("customer_id", True), ("Customer_ID", True)]
    + [("idea", False), ("paid", False), ("id_card", False), ("guid", False)],
)
def test_id_names(name, expected):
    assert looks_like_id(name) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("label", True), ("default_flag", True), ("is_churn", True), ("y", True), ("Target", True)]
    + [("yield", False), ("flagship", False), ("defaults_count", False), ("age", False)],
)
def test_target_names(name, expected):
    assert looks_like_target(name) is expected


def suggested(tmp_path, frame: pd.DataFrame) -> dict[str, str]:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    columns = [column.as_dict() for column in profile_csv(path).columns]
    facts = scan_facts(path, candidates(columns), pandas_read_options("utf-8"))
    return {name: s.role for name, s in suggest_roles(columns, facts).items()}


def test_float_and_bool_zero_one_columns_are_labels_but_only_the_first(tmp_path):
    frame = pd.DataFrame({"target": [0.0, 1.0, 1.0], "flag": [True, False, True], "x": [1, 2, 3]})
    assert suggested(tmp_path, frame) == {"target": "label", "flag": "feature", "x": "feature"}


def test_gaps_stop_a_suggestion(tmp_path):
    frame = pd.DataFrame({"user_id": ["a", None, "c"], "label": [0, None, 1], "x": [1, 2, 3]})
    assert suggested(tmp_path, frame) == {"user_id": "feature", "label": "feature", "x": "feature"}


def test_every_id_column_with_unique_values_is_suggested(tmp_path):
    frame = pd.DataFrame({"id": [3, 2, 1], "order_id": ["o1", "o2", "o3"], "churn": [1, 1, 1]})
    assert suggested(tmp_path, frame) == {"id": "id", "order_id": "id", "churn": "label"}


def test_uniqueness_spans_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr("console.datasets.role_suggestions.CHUNK_ROWS", 2)
    frame = pd.DataFrame({"id": ["a", "b", "c", "a", "d"], "x": range(5)})
    assert suggested(tmp_path, frame)["id"] == "feature"


def test_warnings_name_what_is_missing():
    assert [w.code for w in role_warnings({"a": "feature"})] == ["no_id_column", "no_label"]
    assert [w.code for w in role_warnings({"a": "id", "b": "feature"})] == ["no_label"]
    assert role_warnings({"a": "id", "b": "label"}) == []
