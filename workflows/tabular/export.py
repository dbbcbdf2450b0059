"""Tables back to CSV for the user's own downloads (CSV only at the edges).

The CSV is written in the dialect's terms, so that uploading it again gives the same table:
comma-separated, UTF-8, quotes only where needed, missing values as empty cells, true/false as
`True`/`False`, floats with full precision. It is produced batch by batch, so a download of a
large table never holds it whole in memory.

No cell runs as a spreadsheet formula (CSV injection): a text cell or a column name (a pipeline
parameter can name a column of another party's output) that starts with `=`, `+`, `-`, `@`, a
tab or a carriage return is written with a leading `'`, which spreadsheets show as text and do
not evaluate; a leading tab keeps its place after the quote. Plain numbers such as `-1.5` stay
numbers. The stored table keeps the true values: only what leaves for a spreadsheet changes,
through `neutralise_cell`, the one rule of every CSV export. (Uploading such an export again
keeps the quote: the console cannot tell it from a value that really starts with one.)
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator

import pandas as pd

from workflows.tabular.files import is_arrow, iter_frames

BATCH_ROWS = 1 << 16
LEGACY_CHUNK_BYTES = 1 << 18
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: str) -> str:
    """`value`, prefixed with `'` when a spreadsheet would evaluate it as a formula."""
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _neutralised_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.rename(columns=lambda name: neutralise_cell(str(name)))
    for column in frame.columns:
        if not (
            pd.api.types.is_numeric_dtype(frame[column])
            or pd.api.types.is_bool_dtype(frame[column])
        ):
            frame[column] = frame[column].map(
                lambda cell: neutralise_cell(cell) if isinstance(cell, str) else cell
            )
    return frame


def _neutralised_legacy_csv(path: str | os.PathLike) -> Iterator[bytes]:
    """A stored CSV (artifacts from before Arrow) rewritten cell by cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    with open(path, encoding="utf-8", newline="") as handle:
        for record in csv.reader(handle):
            writer.writerow([neutralise_cell(cell) for cell in record])
            if buffer.tell() >= LEGACY_CHUNK_BYTES:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def csv_chunks(path: str | os.PathLike, batch_rows: int | None = None) -> Iterator[bytes]:
    """The table at `path` as neutralised CSV bytes, a piece per `batch_rows` rows (default
    BATCH_ROWS); legacy CSV artifacts: rewritten cell by cell."""
    if not is_arrow(path):
        yield from _neutralised_legacy_csv(path)
        return
    for index, frame in enumerate(iter_frames(path, batch_rows=batch_rows or BATCH_ROWS)):
        text = io.StringIO()
        _neutralised_frame(frame).to_csv(text, index=False, header=index == 0, lineterminator="\n")
        yield text.getvalue().encode("utf-8")


def csv_name(name: str) -> str:
    """The download name of a table file: `output_ds.arrow` -> `output_ds.csv`."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.csv" if dot and suffix == "arrow" else name
