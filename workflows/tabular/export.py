"""Tables back to CSV for the user's own downloads (CSV only at the edges).

The CSV is written in the dialect's terms, so that uploading it again gives the same table:
comma-separated, UTF-8, quotes only where needed, missing values as empty cells, true/false as
`True`/`False`, floats with full precision. It is produced batch by batch, so a download of a
large table never holds it whole in memory.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

from workflows.tabular.files import is_arrow, iter_frames

BATCH_ROWS = 1 << 16


def csv_chunks(path: str | os.PathLike, batch_rows: int | None = None) -> Iterator[bytes]:
    """The table at `path` as CSV bytes, a piece per `batch_rows` rows (default BATCH_ROWS);
    legacy CSV artifacts: their bytes as stored."""
    if not is_arrow(path):
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 18):
                yield chunk
        return
    for index, frame in enumerate(iter_frames(path, batch_rows=batch_rows or BATCH_ROWS)):
        text = io.StringIO()
        frame.to_csv(text, index=False, header=index == 0, lineterminator="\n")
        yield text.getvalue().encode("utf-8")


def csv_name(name: str) -> str:
    """The download name of a table file: `output_ds.arrow` -> `output_ds.csv`."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.csv" if dot and suffix == "arrow" else name
