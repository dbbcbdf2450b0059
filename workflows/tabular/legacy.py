"""Pipeline artifacts written as CSV before tables became Arrow files: still readable.

They were written by `pandas.DataFrame.to_csv` (comma, minimal quoting, missing values as empty
cells) and read back with pandas' default missing-value words; text columns are read as text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd


def read_frame(path: str | os.PathLike, columns: Sequence[str], types: dict[str, str]):
    dtypes = {name: "string" for name in columns if types.get(name) == "str"}
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=True)
    return frame[list(columns)]


def count_rows(path: str | os.PathLike) -> int:
    # pandas, not a line count: quoted values may span lines.
    return len(pd.read_csv(path, usecols=[0]))


def preview(path: str | os.PathLike, limit: int) -> tuple[list[str], list[list]]:
    head = pd.read_csv(path, nrows=limit, dtype=str, keep_default_na=False)
    return list(head.columns), head.values.tolist()
