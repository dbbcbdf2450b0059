"""Tables read and written a slice of rows at a time give exactly the whole-table results.

The input is an Arrow file of several record batches (7 rows each) with gaps in every column
type; the slices (`BATCH_ROWS`, 5 rows) straddle those batches, and the table (23 rows) is
larger than a slice but not a multiple of it. Each plaintext component's output and rule must
equal, bit for bit, what it writes when one slice holds the whole table.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tests.workflows.helpers import read_table, run_component
from workflows.components.context import ArtifactData
from workflows.components.schema import ArtifactInfo, Column
from workflows.tabular import files

ROWS = 23
FILE_BATCH = 7
SLICE = 5


def party_frame(seed: int, prefix: str = "") -> pd.DataFrame:
    """Columns id, x, n, t, b, z (named with `prefix` but the id: names are unique across
    the parties of a vertical table)."""
    rng = np.random.default_rng(seed)
    floats = rng.normal(10, 3, ROWS)
    floats[[0, 6, 7, 15]] = np.nan  # a gap on each side of a file batch boundary
    ints = pd.array(rng.integers(0, 4, ROWS), dtype="Int64")
    ints[[3, 14, 22]] = pd.NA  # the last row too
    text = pd.array([f"t{v}" for v in rng.integers(0, 3, ROWS)], dtype="string")
    text[[5, 10]] = pd.NA
    flags = pd.array(rng.random(ROWS) > 0.5, dtype="boolean")
    flags[[2]] = pd.NA
    columns = {"x": floats, "n": ints, "t": text, "b": flags, "z": rng.normal(0, 50, ROWS)}
    ids = {"id": np.arange(ROWS, dtype=np.int64) * 10**15}  # large ids stay exact
    return pd.DataFrame(ids | {prefix + name: values for name, values in columns.items()})


TYPES = {"id": "int", "x": "float", "n": "int", "t": "str", "b": "bool", "z": "float"}  # by suffix
ROLES = {"id": "id"}


def arrow_input(tmp_path, frames: dict[str, pd.DataFrame]) -> ArtifactData:
    """A (vertical) table of Arrow files written in record batches of FILE_BATCH rows."""
    columns, paths = [], {}
    for party, frame in frames.items():
        kinds = [TYPES[name.split("_")[-1]] for name in frame.columns]
        held = [
            Column(n, kind, party, ROLES.get(n, "feature"))
            for n, kind in zip(frame.columns, kinds, strict=True)
        ]
        stored = [files.TableColumn(c.name, c.type, c.party, c.role) for c in held]
        parts = [frame.iloc[i : i + FILE_BATCH] for i in range(0, len(frame), FILE_BATCH)]
        (tmp_path / party).mkdir(parents=True, exist_ok=True)
        paths[party] = tmp_path / party / "input.arrow"
        files.write_parts(paths[party], parts, stored)
        columns += held
    return ArtifactData(ArtifactInfo.table(columns), paths)


@pytest.fixture
def data(tmp_path):
    frames = {"alice": party_frame(1, "a_"), "bob": party_frame(2, "b_").drop(columns="id")}
    return arrow_input(tmp_path / "in", frames)


def outputs_of(out: dict[str, ArtifactData]) -> dict:
    """Every output as comparable values: tables as pandas, JSON as parsed."""
    found = {}
    for port, artifact in out.items():
        for party, path in artifact.files.items():
            if files.is_arrow(path):
                found[(port, party)] = read_table(path)
            else:
                found[(port, party)] = json.loads(path.read_text(encoding="utf-8"))
    return found


def assert_same_outputs(sliced: dict, whole: dict) -> None:
    assert sliced.keys() == whole.keys()
    for key, value in whole.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(sliced[key], value, check_exact=True, obj=str(key))
        else:
            assert sliced[key] == value, key


def run_both_ways(tmp_path, monkeypatch, key: str, params: dict, inputs: dict) -> dict:
    """The component's outputs with one slice for the table, then with 5-row slices."""
    whole = outputs_of(run_component(tmp_path / "whole", key, params, inputs))
    monkeypatch.setattr(files, "BATCH_ROWS", SLICE)
    sliced = outputs_of(run_component(tmp_path / "sliced", key, params, inputs))
    assert_same_outputs(sliced, whole)
    return sliced


def test_the_input_straddles_several_record_batches(data):
    with pa.memory_map(str(data.files["alice"]), "r") as source:
        assert pa.ipc.open_file(source).num_record_batches == 4


@pytest.mark.parametrize(
    "strategies",
    [
        {"float_strategy": "mean", "int_strategy": "median"},
        {"float_strategy": "median", "int_strategy": "most_frequent", "str_strategy": "constant"},
    ],
)
def test_fillna_by_slices_equals_the_whole_table(tmp_path, monkeypatch, data, strategies):
    chosen = ["a_x", "a_n", "a_t", "a_b", "b_x", "b_n"]
    params = {"features": chosen, "fill_value_str": "?"} | strategies
    out = run_both_ways(tmp_path, monkeypatch, "preprocessing/fillna", params, {"input_ds": data})
    assert not out[("output_ds", "alice")].isna().any().any()
    assert out[("output_ds", "bob")]["b_t"].isna().sum() == 2  # not chosen: gaps stay


def test_scaler_fit_and_rule_by_slices_equal_the_whole_table(tmp_path, monkeypatch, data):
    params = {"features": ["a_x", "a_z", "b_x", "b_n"]}
    fitted = run_both_ways(
        tmp_path / "fit", monkeypatch, "preprocessing/scaler", params, {"input_ds": data}
    )
    assert fitted[("output_ds", "bob")]["b_x"][[0, 6, 7, 15]].isna().all()  # gaps stay gaps
    monkeypatch.setattr(files, "BATCH_ROWS", files.BATCH_ROWS)
    rule = run_component(tmp_path / "rule", "preprocessing/scaler", params, {"input_ds": data})
    inputs = {"input_ds": data, "input_rule": rule["output_rule"]}
    run_both_ways(tmp_path / "apply", monkeypatch, "preprocessing/scaler", params, inputs)


@pytest.mark.parametrize("method", ["eq_range", "quantile"])
def test_binning_fit_rule_and_report_by_slices_equal_the_whole_table(
    tmp_path, monkeypatch, data, method
):
    params = {"features": ["a_x", "a_n", "b_x", "b_z"], "binning_method": method, "bin_num": 4}
    fitted = run_both_ways(
        tmp_path / "fit", monkeypatch, "preprocessing/vert_binning", params, {"input_ds": data}
    )
    assert fitted[("output_ds", "alice")]["a_n"][[3, 14, 22]].tolist() == [-1, -1, -1]
    assert sum(b["count"] for b in fitted[("report", "bob")]["columns"][0]["rule"]) == ROWS - 4
    monkeypatch.setattr(files, "BATCH_ROWS", files.BATCH_ROWS)
    rule = run_component(
        tmp_path / "rule", "preprocessing/vert_binning", params, {"input_ds": data}
    )
    inputs = {"input_ds": data, "input_rule": rule["output_rule"]}
    run_both_ways(tmp_path / "apply", monkeypatch, "preprocessing/vert_binning", params, inputs)


def test_split_by_slices_equals_the_whole_table(tmp_path, monkeypatch, data):
    params = {"train_size": 0.6, "test_size": 0.4, "random_state": 3}
    out = run_both_ways(
        tmp_path, monkeypatch, "data_prep/train_test_split", params, {"input_ds": data}
    )
    frame = party_frame(1, "a_")
    train = out[("train_ds", "alice")]
    assert len(train) == 13
    assert len(out[("test_ds", "alice")]) == 10
    rows = (train["id"] // 10**15).to_numpy()  # the ids say which input row each came from
    expected = frame.iloc[rows].reset_index(drop=True)
    # Dtypes aside (a column without a gap in these rows reads back non-nullable).
    pd.testing.assert_frame_equal(train, expected, check_dtype=False, obj="rows")


def test_feature_filter_and_statistics_by_slices_equal_the_whole_table(tmp_path, monkeypatch, data):
    params = {"drop_features": ["a_z", "b_t"]}
    run_both_ways(
        tmp_path / "filter", monkeypatch, "data_filter/feature_filter", params, {"input_ds": data}
    )
    monkeypatch.setattr(files, "BATCH_ROWS", files.BATCH_ROWS)
    run_both_ways(tmp_path / "stats", monkeypatch, "stats/table_statistics", {}, {"input_ds": data})


def test_take_rows_gathers_across_batches_in_the_order_asked(data, monkeypatch):
    path = data.files["alice"]
    whole = files.open_table(path)
    wanted = np.array([22, 0, 7, 6, 13, 13, 21, 1, 14, 8, 20])  # repeats, batch edges
    parts = list(files.take_rows(path, wanted, batch_rows=4))
    assert whole.column(0).num_chunks == 4
    assert [part.num_rows for part in parts] == [4, 4, 3]
    # As pandas: NaN (a gap in a float column) equals NaN there, not in Arrow's `equals`.
    pd.testing.assert_frame_equal(
        pa.concat_tables(parts).to_pandas(), whole.take(wanted).to_pandas(), check_exact=True
    )
    empty = list(files.take_rows(path, np.array([], dtype=np.int64), ["a_x", "a_t"]))
    assert [(part.num_rows, part.column_names) for part in empty] == [(0, ["a_x", "a_t"])]
    with pytest.raises(IndexError, match="23 rows"):
        list(files.take_rows(path, np.array([3, 23])))


def test_iterating_slices_gives_the_whole_table(data):
    path = data.files["bob"]
    parts = list(files.iter_batches(path, ["b_n", "b_t"], batch_rows=SLICE))
    assert [part.num_rows for part in parts] == [5, 5, 5, 5, 3]
    assert pa.concat_tables(parts).equals(files.open_table(path, ["b_n", "b_t"]))
    numeric = ["b_x", "b_n", "b_b"]
    matrices = list(files.iter_numeric(path, numeric, batch_rows=SLICE))
    np.testing.assert_array_equal(np.concatenate(matrices), files.read_numeric(path, numeric))


def test_a_part_that_does_not_fit_its_type_leaves_no_file(tmp_path):
    stored = [files.TableColumn("a", "int")]
    target = tmp_path / "out.arrow"
    parts = [pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [1.5, 2.0]})]
    with pytest.raises(ValueError, match="'a'"):
        files.write_parts(target, parts, stored)
    assert list(tmp_path.iterdir()) == []
