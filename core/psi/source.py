"""A party's PSI input: where its rows come from and how their keys become bytes.

An input is a CSV file (read in chunks, never whole) or, for small uses, an in-memory pandas
DataFrame or a 1-D sequence of keys. Every value is compared as text: CSV fields exactly as
written (read with `dtype=str` and no NA parsing, so "007" and "7" differ and an empty field is
the empty key), DataFrame values through `str()`. A row's key is the length-prefixed UTF-8 of
each key column in the order given (4-byte big-endian length, then the bytes), so multi-column
keys never collide by concatenation ("ab","c" differs from "a","bc") and any Unicode text works.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ConfigError

DEFAULT_KEY_COLUMN = "key"
_CSV_OPTIONS = {"dtype": str, "keep_default_na": False, "na_filter": False, "encoding": "utf-8"}


def encode_keys(columns: Sequence[Sequence[str]]) -> list[bytes]:
    """Encode rows (given column-wise, as text) to unambiguous key bytes."""
    parts = [[_prefixed(value) for value in column] for column in columns]
    if len(parts) == 1:
        return parts[0]
    return [b"".join(row) for row in zip(*parts, strict=True)]


def _prefixed(value: str) -> bytes:
    raw = value.encode("utf-8")
    return len(raw).to_bytes(4, "big") + raw


@dataclass
class PsiSource:
    """One party's rows: a CSV path or an in-memory frame, plus the names of its key columns."""

    party: str
    keys: list[str]
    path: str | None = None
    frame: pd.DataFrame | None = None

    @classmethod
    def open(cls, party: str, data: object, keys: str | Sequence[str] | None) -> PsiSource:
        """Validate `data` and `keys`; raise ConfigError naming the bad column or value."""
        if isinstance(data, str | os.PathLike):
            source = cls(party, _key_list(party, keys), path=os.fspath(data))
            source._check_columns(_csv_header(party, source.path))
            return source
        if isinstance(data, pd.DataFrame):
            source = cls(party, _key_list(party, keys), frame=data)
        elif isinstance(data, np.ndarray | list | tuple | pd.Series):
            if keys not in (None, DEFAULT_KEY_COLUMN, [DEFAULT_KEY_COLUMN]):
                raise ConfigError(f"party {party!r}: a plain sequence of keys takes no key columns")
            frame = pd.DataFrame({DEFAULT_KEY_COLUMN: np.asarray(data, dtype=object).ravel()})
            source = cls(party, [DEFAULT_KEY_COLUMN], frame=frame)
        else:
            raise ConfigError(f"party {party!r}: unsupported PSI input type {type(data).__name__}")
        source._check_columns([str(c) for c in source.frame.columns])
        source._check_frame_values()
        return source

    @property
    def columns(self) -> list[str]:
        if self.frame is not None:
            return [str(c) for c in self.frame.columns]
        return _csv_header(self.party, self.path)

    def estimated_rows(self) -> int:
        """Row count for progress reporting: exact for frames, line count for CSV files."""
        if self.frame is not None:
            return len(self.frame)
        lines = 0
        with open(self.path, "rb") as f:
            while block := f.read(1 << 20):
                lines += block.count(b"\n")
        return max(lines - 1, 0)

    def _check_columns(self, header: list[str]) -> None:
        for column in self.keys:
            if column not in header:
                raise ConfigError(
                    f"party {self.party!r}: key column {column!r} not found; columns are {header}"
                )

    def _check_frame_values(self) -> None:
        for column in self.keys:
            missing = self.frame[column].isna().to_numpy()
            if missing.any():
                row = int(np.flatnonzero(missing)[0])
                raise ConfigError(
                    f"party {self.party!r}: key column {column!r} is missing a value at row {row}"
                )

    def iter_frames(self, chunk_rows: int, columns: list[str] | None = None) -> Iterator:
        """Yield (first_row, DataFrame of text) chunks of at most `chunk_rows` rows."""
        if self.frame is not None:
            frame = self.frame if columns is None else self.frame[columns]
            for start in range(0, len(frame), chunk_rows):
                yield start, frame.iloc[start : start + chunk_rows].astype(str)
            return
        reader = pd.read_csv(self.path, usecols=columns, chunksize=chunk_rows, **_CSV_OPTIONS)
        start = 0
        with reader:
            for chunk in reader:
                yield start, chunk if columns is None else chunk[columns]
                start += len(chunk)

    def iter_keys(self, chunk_rows: int) -> Iterator[tuple[int, list[bytes]]]:
        """Yield (first_row, encoded keys) chunks in row order."""
        for start, chunk in self.iter_frames(chunk_rows, self.keys):
            yield start, encode_keys([chunk[c].tolist() for c in self.keys])

    def key_at(self, row: int, chunk_rows: int = 100_000) -> tuple[str, ...]:
        """The key text of one row (used to name an offending key in error messages)."""
        for start, chunk in self.iter_frames(chunk_rows, self.keys):
            if start <= row < start + len(chunk):
                return tuple(str(v) for v in chunk.iloc[row - start])
        raise ConfigError(f"party {self.party!r}: row {row} is past the end of the input")


def _key_list(party: str, keys: str | Sequence[str] | None) -> list[str]:
    names = [keys] if isinstance(keys, str) else list(keys or [])
    if not names:
        raise ConfigError(f"party {party!r}: no key columns given")
    if len(set(names)) != len(names):
        raise ConfigError(f"party {party!r}: key columns repeat: {names}")
    return [str(n) for n in names]


def _csv_header(party: str, path: str) -> list[str]:
    if not os.path.isfile(path):
        raise ConfigError(f"party {party!r}: input file {path!r} does not exist")
    try:
        return [str(c) for c in pd.read_csv(path, nrows=0, **_CSV_OPTIONS).columns]
    except pd.errors.EmptyDataError:
        raise ConfigError(f"party {party!r}: input file {path!r} is empty (no header)") from None
