"""Tables on disk: Apache Arrow IPC files with their schema, read memory-mapped.

Every table that flows between pipeline nodes, and every uploaded dataset once converted, is
an Arrow IPC *file* (random access, uncompressed so that reads map the file instead of copying
it). The file's schema metadata (`privpad.table`, JSON) carries PrivPad's own description of
the columns: name, type (`int`, `float`, `str`, `bool`), and, for pipeline artifacts, the
party that holds the column and its role. Column types map one to one onto Arrow types
(`ARROW_TYPES`); a missing value is an Arrow null, except in float columns, where it may also
be stored as NaN (as pandas and numpy hold it, so that reads need no conversion pass); readers
treat both alike.

In pandas (`read_frame`) a column comes back as: `int` -> int64, or nullable Int64 when it has
missing values (never float: 19-digit ids stay exact); `float` -> float64 with NaN for missing;
`bool` -> bool, or nullable boolean with missing values; `str` -> pandas string (pyarrow-backed)
with missing values as NA. `write_table` accepts what components produce and casts it to the
declared types, refusing (naming the column) a value that does not fit, e.g. 1.5 in an int
column. Files are written to a temporary name and renamed, so a reader never sees half a table.

Pipeline artifacts written before this format are CSV files; `read_frame`, `count_rows` and the
other readers open them too (`workflows.tabular.legacy`), by the file's suffix.

Streaming (bounded memory whatever the table's size): `iter_batches` and `iter_numeric` give a
table in consecutive row slices of at most `BATCH_ROWS` rows (views of the memory-mapped file),
`take_rows` gathers rows by position slice by slice without concatenating the file's record
batches (Arrow's own `take` on a multi-batch table first copies every column whole), and
`write_parts` writes a table given in parts, each cast to the declared types.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from workflows.tabular import legacy

SUFFIX = ".arrow"
METADATA_KEY = b"privpad.table"
FORMAT_VERSION = 1
ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_()}
BATCH_ROWS = 1 << 18


@dataclass(frozen=True)
class TableColumn:
    """A column as stored: name and type; party and role for pipeline artifacts."""

    name: str
    type: str
    party: str = ""
    role: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "party": self.party, "role": self.role}


def is_arrow(path: str | os.PathLike) -> bool:
    return Path(path).suffix == SUFFIX


def arrow_schema(columns: Sequence[TableColumn], extra: dict | None = None) -> pa.Schema:
    """The Arrow schema of `columns`, with PrivPad's description in its metadata."""
    unknown = [c.name for c in columns if c.type not in ARROW_TYPES]
    if unknown:
        raise ValueError(f"columns {unknown} have no table type (one of {list(ARROW_TYPES)})")
    described = {
        "version": FORMAT_VERSION,
        "columns": [c.to_dict() for c in columns],
        **(extra or {}),
    }
    fields = [pa.field(c.name, ARROW_TYPES[c.type]) for c in columns]
    return pa.schema(fields, metadata={METADATA_KEY: json.dumps(described, ensure_ascii=False)})


# --- Writing ----------------------------------------------------------------------------------


def to_arrow(frame: pd.DataFrame | pa.Table, schema: pa.Schema) -> pa.Table:
    """`frame` as a table of `schema`, column by column; raise ValueError naming a column
    whose values do not fit its declared type."""
    names = list(frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    if names != schema.names:
        raise ValueError(f"the table has columns {names}, not {schema.names}")
    arrays = [_column_array(frame, field) for field in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _column_array(frame, field: pa.Field) -> pa.Array | pa.ChunkedArray:
    if isinstance(frame, pa.Table):
        values = frame.column(field.name)
    else:
        values = _pandas_array(frame[field.name])
    if values.type == field.type:
        return values
    try:
        return values.cast(field.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise ValueError(
            f"column {field.name!r} holds {values.type} values that are not {field.type}: {error}"
        ) from None


def _pandas_array(series: pd.Series) -> pa.Array:
    if _plain(series):
        # A float column keeps NaN as NaN (missing, by the dialect): reads map it back without
        # a conversion pass.
        return pa.array(series.to_numpy(), from_pandas=series.dtype.kind != "f")
    return pa.array(series, from_pandas=True)


def _plain(series: pd.Series) -> bool:
    return isinstance(series.dtype, np.dtype) and series.dtype.kind in "iufb"


def write_table(
    path: str | os.PathLike,
    frame: pd.DataFrame | pa.Table,
    columns: Sequence[TableColumn],
    extra: dict | None = None,
) -> int:
    """Write `frame` as an Arrow IPC file with the declared `columns`; return its size."""
    schema = arrow_schema(columns, extra)
    return write_batches(path, schema, [to_arrow(frame, schema)])


def write_parts(
    path: str | os.PathLike,
    parts: Iterable[pd.DataFrame | pa.Table],
    columns: Sequence[TableColumn],
    extra: dict | None = None,
) -> int:
    """Write a table given as consecutive `parts` (each cast to the declared `columns` as
    `write_table` does) into one Arrow IPC file; return its size. A part that does not fit
    raises ValueError naming the column, and nothing is left at `path`."""
    schema = arrow_schema(columns, extra)
    return write_batches(path, schema, (to_arrow(part, schema) for part in parts))


def write_batches(
    path: str | os.PathLike, schema: pa.Schema, parts: Iterable[pa.Table | pa.RecordBatch]
) -> int:
    """Stream `parts` (tables or batches of `schema`) into one IPC file; return its size."""
    target = Path(path)
    # A name of its own: two runs converting the same dataset must not share a partial file.
    descriptor, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    os.close(descriptor)
    partial = Path(name)
    try:
        with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
            for part in parts:
                if isinstance(part, pa.Table):
                    writer.write_table(part, max_chunksize=BATCH_ROWS)
                else:
                    writer.write_batch(part)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


# --- Reading ----------------------------------------------------------------------------------


def open_table(path: str | os.PathLike, columns: Sequence[str] | None = None) -> pa.Table:
    """The table at `path` (memory-mapped: pages are read as they are used), or its `columns`."""
    with pa.memory_map(str(path), "r") as source:
        table = pa.ipc.open_file(source).read_all()
    return table if columns is None else table.select(list(columns))


def stored_metadata(path: str | os.PathLike) -> dict:
    """PrivPad's description stored in an Arrow table file (columns, and what the writer
    added: a dataset's encoding and delimiter, an artifact's owner)."""
    with pa.memory_map(str(path), "r") as source:
        schema = pa.ipc.open_file(source).schema
    return json.loads((schema.metadata or {}).get(METADATA_KEY, b"{}"))


def stored_columns(path: str | os.PathLike) -> list[TableColumn]:
    """PrivPad's description of the columns of an Arrow table file."""
    return [TableColumn(**column) for column in stored_metadata(path).get("columns", [])]


def count_rows(path: str | os.PathLike) -> int:
    """Rows of a table file (Arrow: from the batch headers; legacy CSV: parsed)."""
    if not is_arrow(path):
        return legacy.count_rows(path)
    with pa.memory_map(str(path), "r") as source:
        reader = pa.ipc.open_file(source)
        return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))


def read_frame(
    path: str | os.PathLike, columns: Sequence[str], types: dict[str, str] | None = None
) -> pd.DataFrame:
    """`columns` of the table at `path` as pandas, with the dtypes the module docstring lists.

    `types` (name -> table type) is needed only for legacy CSV artifacts.
    """
    if not is_arrow(path):
        return legacy.read_frame(path, columns, types or {})
    return to_pandas(open_table(path, columns))


def to_pandas(table: pa.Table) -> pd.DataFrame:
    data = {name: _series(table.column(name)) for name in table.column_names}
    return pd.DataFrame(data, index=pd.RangeIndex(table.num_rows), copy=False)


def _series(values: pa.ChunkedArray):
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pd.Series(pd.arrays.ArrowStringArray(values.cast(pa.large_string())))
    if values.null_count == 0 and (pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
        return values.to_numpy()
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        # Masked arrays: an int column with a gap must not become float (ids would round).
        missing = values.is_null().to_numpy(zero_copy_only=False)
        filled = values.fill_null(False if pa.types.is_boolean(kind) else 0)
        array_type = pd.arrays.BooleanArray if pa.types.is_boolean(kind) else pd.arrays.IntegerArray
        return array_type(filled.to_numpy(zero_copy_only=False), missing)
    return values.to_numpy(zero_copy_only=False)


def read_arrow(
    path: str | os.PathLike, columns: Sequence[str], types: dict[str, str] | None = None
) -> pa.Table:
    """`columns` of the table at `path` as an Arrow table (memory-mapped: no copy until the
    data is used); legacy CSV artifacts are parsed and converted."""
    if not is_arrow(path):
        frame = legacy.read_frame(path, columns, types or {})
        return pa.Table.from_pandas(frame, preserve_index=False)
    return open_table(path, columns)


def with_columns(table: pa.Table, replaced: dict[str, np.ndarray | pd.Series]) -> pa.Table:
    """`table` with the named columns' values replaced (same names and positions)."""
    for name, values in replaced.items():
        series = pd.Series(values) if isinstance(values, np.ndarray) else values
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, _pandas_array(series))
    return table


def read_numeric(path: str | os.PathLike, columns: Sequence[str]) -> np.ndarray:
    """`columns` as one float64 matrix (rows x columns), missing values as NaN."""
    if not is_arrow(path):
        return legacy.read_frame(path, columns, {}).astype(float).to_numpy(dtype=np.float64)
    return numeric_matrix(open_table(path, columns), columns)


def numeric_matrix(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """`columns` of an Arrow table as one float64 matrix, missing values as NaN."""
    # Column-major: each column is one contiguous block, as it is in the file.
    out = np.empty((table.num_rows, len(columns)), dtype=np.float64, order="F")
    for index, name in enumerate(columns):
        column = table.column(name)
        if pa.types.is_boolean(column.type):
            column = column.cast(pa.float64())
        out[:, index] = column.to_numpy(zero_copy_only=False)
    return out


def iter_batches(
    path: str | os.PathLike,
    columns: Sequence[str] | None = None,
    types: dict[str, str] | None = None,
    batch_rows: int | None = None,
) -> Iterator[pa.Table]:
    """The table's `columns` (all by default) in consecutive slices of at most `batch_rows`
    rows (`BATCH_ROWS` by default), views of the memory-mapped file: one slice at a time is
    in memory once used. An empty table gives one empty slice (its columns and types)."""
    if is_arrow(path):
        table = open_table(path, columns)
    else:
        table = read_arrow(path, columns or _legacy_columns(path), types)
    step = batch_rows or BATCH_ROWS
    for start in range(0, max(table.num_rows, 1), step):
        yield table.slice(start, step)


def iter_numeric(
    path: str | os.PathLike, columns: Sequence[str], batch_rows: int | None = None
) -> Iterator[np.ndarray]:
    """`columns` as float64 matrices of at most `batch_rows` consecutive rows each, missing
    values as NaN (`read_numeric`, slice by slice)."""
    if not is_arrow(path):
        whole = read_numeric(path, columns)
        step = batch_rows or BATCH_ROWS
        for start in range(0, max(len(whole), 1), step):
            yield whole[start : start + step]
        return
    for part in iter_batches(path, columns, batch_rows=batch_rows):
        yield numeric_matrix(part, columns)


def take_rows(
    path: str | os.PathLike,
    indices: np.ndarray,
    columns: Sequence[str] | None = None,
    types: dict[str, str] | None = None,
    batch_rows: int | None = None,
) -> Iterator[pa.Table]:
    """The rows at `indices` (0-based, any order, repeats allowed), in that order, as
    consecutive tables of at most `batch_rows` rows.

    Each part is gathered record batch by record batch of the memory-mapped file, then put in
    the asked order: memory holds one part, never a whole column. An empty `indices` gives one
    empty table with the columns."""
    if is_arrow(path):
        with pa.memory_map(str(path), "r") as source:
            reader = pa.ipc.open_file(source)
            batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
            schema = reader.schema
    else:
        table = read_arrow(path, columns or _legacy_columns(path), types)
        batches, schema = table.to_batches(), table.schema
    if columns is not None:
        batches = [batch.select(list(columns)) for batch in batches]
        schema = pa.schema([schema.field(name) for name in columns], metadata=schema.metadata)
    starts = np.cumsum([0] + [batch.num_rows for batch in batches])
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) and (indices.min() < 0 or indices.max() >= starts[-1]):
        raise IndexError(f"row positions outside the table's {starts[-1]} rows")
    step = batch_rows or BATCH_ROWS
    for first in range(0, max(len(indices), 1), step):
        yield _gather(batches, starts, indices[first : first + step], schema)


def _gather(batches, starts: np.ndarray, wanted: np.ndarray, schema: pa.Schema) -> pa.Table:
    """The rows `wanted` of the batches (starting at `starts`), in the order asked."""
    if not len(wanted):
        return schema.empty_table()
    source = np.searchsorted(starts, wanted, side="right") - 1
    order = np.argsort(source, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(source[order])) + 1)
    pieces = [
        batches[source[chosen[0]]].take(pa.array(wanted[chosen] - starts[source[chosen[0]]]))
        for chosen in groups
    ]
    grouped = pa.Table.from_batches(pieces, schema=schema).combine_chunks()
    # `grouped` holds the rows grouped by source batch; put them back in the asked order.
    back = np.empty(len(order), dtype=np.int64)
    back[order] = np.arange(len(order))
    return grouped.take(pa.array(back))


def _legacy_columns(path: str | os.PathLike) -> list[str]:
    return list(pd.read_csv(path, nrows=0).columns)


def iter_frames(
    path: str | os.PathLike, columns: Sequence[str] | None = None, batch_rows: int = BATCH_ROWS
) -> Iterator[pd.DataFrame]:
    """The table in consecutive pandas chunks of at most `batch_rows` rows (bounded memory)."""
    table = open_table(path, columns)
    for start in range(0, max(table.num_rows, 1), batch_rows):
        yield to_pandas(table.slice(start, batch_rows))


def preview(path: str | os.PathLike, limit: int) -> tuple[list[str], list[list]]:
    """Column names and the first `limit` rows as JSON-friendly values (None when missing)."""
    if not is_arrow(path):
        return legacy.preview(path, limit)
    table = open_table(path).slice(0, limit)
    rows = [[_jsonable(value) for value in row.values()] for row in table.to_pylist()]
    return table.column_names, rows


def _jsonable(value):
    """NaN is a missing value (None); infinities have no JSON number: shown as the text the
    dialect reads back."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    return value
