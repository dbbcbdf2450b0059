"""Property: any typed table survives the Arrow file round trip exactly."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.tabular.files import TableColumn, count_rows, read_frame, read_numeric, write_table

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOATS = st.floats(allow_nan=False)
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
CELLS = {"int": INT64, "float": FLOATS, "str": TEXT, "bool": st.booleans()}


@st.composite
def tables(draw):
    rows = draw(st.integers(min_value=0, max_value=30))
    kinds = draw(st.lists(st.sampled_from(sorted(CELLS)), min_size=1, max_size=5))
    columns = {}
    for index, kind in enumerate(kinds):
        cells = st.one_of(st.none(), CELLS[kind])
        columns[f"c{index}"] = (kind, draw(st.lists(cells, min_size=rows, max_size=rows)))
    return columns


def frame_of(columns: dict) -> pd.DataFrame:
    dtypes = {"int": "Int64", "float": "Float64", "str": "string", "bool": "boolean"}
    return pd.DataFrame(
        {name: pd.array(values, dtype=dtypes[kind]) for name, (kind, values) in columns.items()}
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(columns=tables())
def test_a_table_reads_back_exactly_what_was_written(tmp_path, columns):
    path = tmp_path / "t.arrow"
    stored = [TableColumn(name, kind) for name, (kind, _) in columns.items()]
    write_table(path, frame_of(columns), stored)
    frame = read_frame(path, list(columns))
    assert count_rows(path) == len(frame)
    for name, (kind, values) in columns.items():
        got = frame[name].tolist()
        for index, (want, have) in enumerate(zip(values, got, strict=True)):
            if want is None:
                assert pd.isna(have), (name, kind, index, have)
            else:
                assert not pd.isna(have), (name, kind, index)
                assert have == want, (name, kind, index, want, have)
                if kind == "int":
                    assert int(have) == want  # exact: never through a float
        if kind in ("int", "float", "bool") and values:
            numeric = read_numeric(path, [name])[:, 0]
            expected = [math.nan if v is None else float(v) for v in values]
            assert numeric.tolist() == pytest.approx(expected, nan_ok=True)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60))
def test_quartiles_from_one_partition_equal_numpys(values):
    import numpy as np

    from workflows.components.library.table_statistics import _quartiles

    expected = [*np.quantile(values, [0.25, 0.5, 0.75]), min(values), max(values)]
    got = _quartiles(np.array(values))
    assert list(got) == pytest.approx(expected, rel=1e-12, abs=1e-9)
