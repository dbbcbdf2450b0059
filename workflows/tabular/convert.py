"""Convert a dataset's CSV, once, into a typed Arrow table file (`workflows.tabular.files`).

The conversion follows the dialect (`workflows.tabular.dialect`) with the column types the
upload profile found: it streams the CSV in chunks (bounded memory whatever the file's size),
parses every chunk with those types and appends it to the Arrow file. Text columns keep their
cells exactly (`007` stays `007`), integer columns stay int64 (with nulls, never floats).

Datasets uploaded before tables were converted at upload are converted on first use
(`ensure_table`, which also converts again a table older than its CSV) or by
`manage.py convert_datasets`; their delimiter is the one that splits the header into the
profiled column names.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from workflows.tabular.dialect import COMMA, DELIMITERS, pandas_options, records
from workflows.tabular.files import SUFFIX, TableColumn, arrow_schema, to_arrow, write_batches

# Cells per chunk: bounds memory whatever the width of the table.
CHUNK_CELLS = 2_000_000
# pandas dtypes to parse each table type with; bool columns are left to the parser's own
# true/false words (given by the dialect), which a fixed "boolean" dtype would not accept.
PARSE_DTYPES = {"int": "Int64", "float": "float64", "str": "string"}


class ConversionError(ValueError):
    """The CSV does not match its profile; the message names the column or the problem."""


def table_path(csv_path: str | os.PathLike) -> Path:
    """Where a dataset's converted table lives: next to its CSV, with the `.arrow` suffix."""
    return Path(csv_path).with_suffix(SUFFIX)


def convert_csv(
    source: str | os.PathLike,
    target: str | os.PathLike,
    columns: Sequence[TableColumn],
    *,
    encoding: str,
    delimiter: str = COMMA,
    extra: dict | None = None,
) -> int:
    """Write the CSV at `source` as an Arrow table of `columns` to `target`; return its size.

    Raises ConversionError naming the column whose cells do not fit its type.
    """
    schema = arrow_schema(columns, {"encoding": encoding, "delimiter": delimiter, **(extra or {})})
    chunks = _chunks(source, columns, encoding, delimiter, PARSE_DTYPES)
    try:
        return write_batches(target, schema, (to_arrow(chunk, schema) for chunk in chunks))
    except (ValueError, pd.errors.ParserError) as error:
        where = _misfit(source, columns, encoding, delimiter) or str(error)
        raise ConversionError(f"the file does not match its profile: {where}") from None


def _misfit(source, columns, encoding: str, delimiter: str) -> str | None:
    """Name the first cell that does not fit its column's type (a second, diagnostic pass:
    pandas' typed parser does not say which column it choked on)."""
    typed = [c for c in columns if c.type in ("int", "float")]
    as_text = dict.fromkeys(PARSE_DTYPES, "string")
    row = 0
    for chunk in _chunks(source, columns, encoding, delimiter, as_text):
        for column in typed:
            cells = chunk[column.name].dropna()
            numbers = pd.to_numeric(cells, errors="coerce")
            bad = numbers.isna() | (column.type == "int") & (numbers % 1 != 0)
            if bad.any():
                position = int(bad.to_numpy().argmax())
                return (
                    f"column {column.name!r} is {column.type} but data row "
                    f"{row + int(cells.index[position]) + 1 - chunk.index[0]} holds "
                    f"{cells.iloc[position]!r}"
                )
        row += len(chunk)
    return None


def _chunks(source, columns, encoding: str, delimiter: str, parse: dict) -> Iterator[pd.DataFrame]:
    names = [column.name for column in columns]
    dtypes = {c.name: parse[c.type] for c in columns if c.type in parse}
    reader = pd.read_csv(
        source,
        header=0,
        names=names,
        index_col=False,
        dtype=dtypes,
        dtype_backend="numpy_nullable",
        chunksize=max(1, CHUNK_CELLS // max(1, len(columns))),
        **pandas_options(encoding, delimiter),
    )
    with reader:
        yield from reader


def delimiter_for(path: str | os.PathLike, encoding: str, names: Sequence[str]) -> str:
    """The delimiter that splits the file's header into exactly `names` (for files profiled
    before the delimiter was recorded). Raises ConversionError when none does."""
    with open(path, encoding=encoding, newline="") as text:
        head = text.read(1 << 16)
    for delimiter in DELIMITERS:
        try:
            found = records(head[: head.find("\n") + 1] or head, delimiter)
        except csv.Error:
            continue
        if found and found[0] == list(names):
            return delimiter
    raise ConversionError(
        f"the file's header no longer matches the dataset's columns {list(names)}"
    )


def is_current(csv_path: str | os.PathLike) -> bool:
    """Whether a dataset's table exists and is not older than its CSV."""
    target = table_path(csv_path)
    return target.exists() and target.stat().st_mtime_ns >= Path(csv_path).stat().st_mtime_ns


def ensure_table(
    csv_path: str | os.PathLike, columns: Sequence[TableColumn], encoding: str
) -> Path:
    """The converted table of a dataset, converting its CSV now if that was never done or the
    CSV has changed since (a table older than its CSV is stale)."""
    target = table_path(csv_path)
    if not is_current(csv_path):
        delimiter = delimiter_for(csv_path, encoding, [c.name for c in columns])
        convert_csv(csv_path, target, columns, encoding=encoding, delimiter=delimiter)
    return target
