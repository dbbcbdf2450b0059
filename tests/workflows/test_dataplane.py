"""One table dialect from upload to download: profile, convert, read/dataset, artifacts, CSV.

Each case goes the way a dataset goes in the product: the upload profile
(`console.datasets.schema.profile_csv`), the conversion at upload (`workflows.tabular.convert`),
`read/dataset`, an intermediate artifact read by the next node, and the CSV a user downloads,
profiled again. What the uploader saw at upload is what every later step reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from console.datasets.schema import CsvError, profile_csv
from core.errors import PartyFailure
from tests.workflows.helpers import run_component
from workflows.components.context import ArtifactData
from workflows.components.schema import ArtifactInfo, Column
from workflows.ports import SourceTable
from workflows.tabular.convert import ConversionError, convert_csv, ensure_table, table_path
from workflows.tabular.export import csv_chunks, csv_name
from workflows.tabular.files import TableColumn, count_rows, read_frame, stored_metadata

DATASET = 7


def upload(tmp_path: Path, content: str | bytes, encoding: str = "utf-8") -> SourceTable:
    """Profile and convert a CSV as the dataset service does at upload."""
    path = tmp_path / "upload.csv"
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    profile = profile_csv(path)
    columns = [TableColumn(column.name, column.type) for column in profile.columns]
    convert_csv(
        path, table_path(path), columns, encoding=profile.encoding, delimiter=profile.delimiter
    )
    return source_for(path, profile.columns, profile.encoding)


def source_for(path: Path, profiled, encoding: str = "utf-8") -> SourceTable:
    columns = tuple(Column(c.name, c.type, "alice", "feature") for c in profiled)
    return SourceTable(DATASET, "upload", "alice", path, "print", columns, encoding)


def read_dataset(tmp_path: Path, source: SourceTable) -> ArtifactData:
    outputs = run_component(
        tmp_path,
        "read/dataset",
        {"dataset": DATASET},
        {},
        parties=("alice",),
        sources={DATASET: source},
    )
    return outputs["output_ds"]


def next_node(tmp_path: Path, data: ArtifactData, drop: str) -> ArtifactData:
    """The table as the next-but-one node reads it: through feature_filter's artifact."""
    params = {"drop_features": [drop]}
    return run_component(
        tmp_path / "next", "data_filter/feature_filter", params, {"input_ds": data}
    )["output_ds"]


def download_profile(tmp_path: Path, data: ArtifactData):
    """The CSV a user downloads of the artifact, profiled as a new upload."""
    path = tmp_path / "download.csv"
    path.write_bytes(b"".join(csv_chunks(data.path("alice"))))
    return path, profile_csv(path)


def types(profile) -> dict[str, str]:
    return {column.name: column.type for column in profile.columns}


def test_a_space_after_a_comma_is_not_part_of_the_header_or_the_cells(tmp_path):
    source = upload(tmp_path, 'a, b, note\n1, 2, "x,y"\n3, 4, plain\n')
    assert [c.name for c in source.columns] == ["a", "b", "note"]
    frame = read_dataset(tmp_path, source).read_table("alice")
    assert frame.columns.tolist() == ["a", "b", "note"]
    assert frame["a"].tolist() == [1, 3]
    assert frame["note"].tolist() == ["x,y", "plain"]


def test_text_that_looks_missing_to_pandas_stays_text_through_every_step(tmp_path):
    source = upload(tmp_path, "id,note\n1,n/a\n2,-\n3,\n4,NULL\n")
    assert {c.name: c.type for c in source.columns} == {"id": "int", "note": "str"}
    first = read_dataset(tmp_path, source)
    expected = ["n/a", "-", None, None]
    assert (
        first.read_table("alice")["note"].astype(object).where(lambda s: s.notna(), None).tolist()
        == expected
    )
    second = next_node(tmp_path, first, "id")
    note = second.read_table("alice")["note"]
    assert note.isna().tolist() == [False, False, True, True]
    assert note.iloc[:2].tolist() == ["n/a", "-"]
    _path, again = download_profile(tmp_path, second)
    assert types(again) == {"note": "str"}
    assert [c.nulls for c in again.columns] == [2]


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_semicolon_and_tab_separated_files_are_detected(tmp_path, delimiter, name):
    text = delimiter.join(["id", "amount", "city"]) + "\n"
    text += delimiter.join(["1", "2.5", "Paris, France"]) + "\n"
    text += delimiter.join(["2", "3", "Rome"]) + "\n"
    source = upload(tmp_path, text)
    assert [(c.name, c.type) for c in source.columns] == [
        ("id", "int"),
        ("amount", "float"),
        ("city", "str"),
    ]
    assert stored_metadata(source.path.with_suffix(".arrow"))["delimiter"] == delimiter
    frame = read_dataset(tmp_path, source).read_table("alice")
    assert frame["city"].tolist() == ["Paris, France", "Rome"]
    assert frame["amount"].tolist() == [2.5, 3.0]


def test_a_file_with_semicolons_in_its_header_but_not_below_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("id;amount;city\n1;2\n3;4;5;6\n", encoding="utf-8")
    with pytest.raises(CsvError) as refused:
        profile_csv(path)
    message = str(refused.value)
    assert "3 columns separated by semicolons" in message
    assert "record 2 has 2 fields" in message


def test_a_comma_file_with_semicolons_in_a_text_column_stays_comma_separated(tmp_path):
    source = upload(tmp_path, "id,notes\n1,a;b;c\n2,d\n")
    assert [c.name for c in source.columns] == ["id", "notes"]
    frame = read_dataset(tmp_path, source).read_table("alice")
    assert frame["notes"].tolist() == ["a;b;c", "d"]


def test_unicode_names_and_values_survive_every_step(tmp_path):
    source = upload(tmp_path, "客户,城市,emoji\n1,北京,🙂\n2,Zürich,é\n")
    first = read_dataset(tmp_path, source)
    second = next_node(tmp_path, first, "emoji")
    assert second.read_table("alice").to_dict("list") == {
        "客户": [1, 2],
        "城市": ["北京", "Zürich"],
    }
    path, again = download_profile(tmp_path, second)
    assert again.encoding == "utf-8"
    assert path.read_text(encoding="utf-8").splitlines() == ["客户,城市", "1,北京", "2,Zürich"]


def test_gbk_text_is_read_as_its_characters_and_downloads_as_utf8(tmp_path):
    source = upload(tmp_path, "姓名,城市\n张三,北京\n李四,上海\n", encoding="gbk")
    assert source.encoding == "gbk"
    first = read_dataset(tmp_path, source)
    assert first.read_table("alice")["城市"].tolist() == ["北京", "上海"]
    path, again = download_profile(tmp_path, first)
    assert again.encoding == "utf-8"
    assert "张三,北京" in path.read_text(encoding="utf-8")


def test_missing_values_keep_their_column_types_and_positions(tmp_path):
    source = upload(tmp_path, "n,x,ok,s\n1,1.5,true,a\n,,,\n3,inf,no,c\n")
    frame = read_dataset(tmp_path, source).read_table("alice")
    assert str(frame["n"].dtype) == "Int64"
    assert frame["n"].isna().tolist() == [False, True, False]
    assert frame["x"].dtype == np.float64
    assert np.isinf(frame["x"].iloc[2])
    assert str(frame["ok"].dtype) == "boolean"
    assert frame["ok"].tolist()[::2] == [True, False]
    _path, again = download_profile(tmp_path, read_dataset(tmp_path / "2", source))
    assert types(again) == {"n": "int", "x": "float", "ok": "bool", "s": "str"}
    assert [c.nulls for c in again.columns] == [1, 1, 1, 1]


def test_nineteen_digit_ids_stay_exact_integers_even_with_gaps(tmp_path):
    ids = ["9007199254740993123", "", "1234567890123456789", "9223372036854775807"]
    source = upload(tmp_path, "id,v\n" + "".join(f"{i},{n}\n" for n, i in enumerate(ids)))
    assert source.columns[0].type == "int"
    first = read_dataset(tmp_path, source)
    column = first.read_table("alice")["id"]
    assert str(column.dtype) == "Int64"
    assert [None if pd.isna(v) else int(v) for v in column] == [
        9007199254740993123,
        None,
        1234567890123456789,
        9223372036854775807,
    ]
    path, again = download_profile(tmp_path, next_node(tmp_path, first, "v"))
    # A lone empty cell is written quoted: an empty line would be a blank line, skipped.
    assert path.read_text().splitlines() == ["id", ids[0], '""', *ids[2:]]
    assert (types(again), again.columns[0].nulls) == ({"id": "int"}, 1)


def test_ids_beyond_int64_stay_text_exactly(tmp_path):
    source = upload(tmp_path, "id\n18446744073709551616\n00042\n")
    assert source.columns[0].type == "str"
    frame = read_dataset(tmp_path, source).read_table("alice")
    assert frame["id"].tolist() == ["18446744073709551616", "00042"]


def test_datasets_uploaded_before_conversion_are_converted_on_first_use(tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("a;b,c\n1,x\n", encoding="utf-8")  # profiled as two columns, 'a;b' and 'c'
    profiled = [TableColumn("a;b", "int"), TableColumn("c", "str")]
    source = source_for(path, profiled)
    assert not table_path(path).exists()
    frame = read_dataset(tmp_path, source).read_table("alice")
    assert table_path(path).exists()
    assert frame.to_dict("list") == {"a;b": [1], "c": ["x"]}


def test_a_dataset_that_no_longer_matches_its_profile_fails_naming_the_column(tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("a,b\n1,x\n2,y\n", encoding="utf-8")
    with pytest.raises(ConversionError, match="column 'b' is int but data row 1 holds 'x'"):
        ensure_table(path, [TableColumn("a", "int"), TableColumn("b", "int")], "utf-8")
    assert not table_path(path).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["old.csv"]  # no partial file left


def test_artifacts_are_arrow_files_carrying_their_schema(tmp_path):
    source = upload(tmp_path, "id,x\n1,0.5\n")
    data = read_dataset(tmp_path, source)
    path = data.path("alice")
    assert path.suffix == ".arrow"
    described = stored_metadata(path)
    assert described["party"] == "alice"
    assert described["columns"] == [
        {"name": "id", "type": "int", "party": "alice", "role": "feature"},
        {"name": "x", "type": "float", "party": "alice", "role": "feature"},
    ]
    assert count_rows(path) == 1
    assert csv_name(path.name) == "output_ds.csv"


def test_old_csv_artifacts_still_open_count_and_download(tmp_path):
    legacy = tmp_path / "alice" / "output_ds.csv"
    legacy.parent.mkdir()
    pd.DataFrame({"id": [1, 2], "note": ["n/a", "x"]}).to_csv(legacy, index=False)
    columns = (Column("id", "int", "alice", "id"), Column("note", "str", "alice", "feature"))
    data = ArtifactData(ArtifactInfo.table(columns), {"alice": legacy})
    frame = data.read_table("alice")
    assert frame["id"].tolist() == [1, 2]
    assert data.rows("alice") == 2
    assert b"".join(csv_chunks(legacy)) == legacy.read_bytes()
    output = next_node(tmp_path, data, "id")
    assert output.path("alice").suffix == ".arrow"


def test_a_value_that_does_not_fit_its_declared_type_is_refused_naming_the_column(tmp_path):
    source = upload(tmp_path, "id,x\n1,0.5\n")
    data = read_dataset(tmp_path, source)
    bad = data.read_table("alice").assign(id=[1.5])
    from workflows.components.context import RunContext

    ctx = RunContext(
        params={},
        parties=("alice",),
        inputs={},
        infos={"out": data.info},
        output_dir=lambda party: tmp_path / "bad" / party,
    )
    with pytest.raises(PartyFailure, match="column 'id'"):
        ctx.write_table("out", "alice", bad)
    assert not list((tmp_path / "bad" / "alice").glob("*.arrow"))


def test_reads_of_a_column_subset_open_only_those_columns(tmp_path):
    source = upload(tmp_path, "a,b,c\n1,2,3\n")
    data = read_dataset(tmp_path, source)
    assert read_frame(data.path("alice"), ["c", "a"]).columns.tolist() == ["c", "a"]
    assert data.read_numeric("alice", ["b", "c"]).tolist() == [[2.0, 3.0]]


@pytest.mark.parametrize("rows", [1, 2, 3, 5, 1000])
def test_vectorised_statistics_match_pandas_estimators(rows):
    from workflows.components.library.table_statistics import numeric_statistics

    rng = np.random.default_rng(rows)
    values = rng.lognormal(size=(rows, 3))
    values[rng.random((rows, 3)) < 0.2] = np.nan
    values[:, 2] = 4.0  # a constant column: zero variance
    columns = [Column(f"c{i}", "float", "alice", "feature") for i in range(3)]
    for row, column in zip(numeric_statistics(values, columns), columns, strict=True):
        series = pd.Series(values[:, int(column.name[1])])
        expected = {
            "mean": series.mean(),
            "std": series.std(),
            "min": series.min(),
            "median": series.median(),
            "q3": series.quantile(0.75),
            "max": series.max(),
            "sum": series.sum(),
            "skewness": series.skew(),
            "kurtosis": series.kurt(),
        }
        for name, value in expected.items():
            if pd.isna(value):
                assert row[name] is None, (column.name, name, row[name])
            else:
                assert row[name] == pytest.approx(value, rel=1e-9, abs=1e-12), (column.name, name)
        assert row["nulls"] == int(series.isna().sum())


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_the_scaler_fits_like_scikit_learn_ignoring_missing_values(method):
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    from workflows.components.library.scaler import apply, fit

    rng = np.random.default_rng(4)
    values = np.asfortranarray(rng.normal(50, 10, (500, 3)))
    values[rng.random(values.shape) < 0.1] = np.nan
    values[:, 2] = 7.0  # constant: scale 1, as the module docstring says
    names = ["a", "b", "c"]
    fitted = fit(values.copy(order="F"), names, method)
    reference = (StandardScaler() if method == "standard" else MinMaxScaler()).fit(values)
    expected = reference.transform(values)
    np.testing.assert_allclose(apply(values, names, fitted), expected, rtol=1e-12, atol=1e-12)
    assert fitted["c"]["scale"] == 1.0
