"""One party's own masked keys, kept on disk and sent in value order.

A party masks its keys in row order, but must not send them in row order: the party that
compares fully-masked sets would learn at which rows of the peer's file the intersection sits.
Sending in ascending order of the masked values themselves reveals nothing (the order is a
function of values the receiver sees anyway, which are pseudorandom to it).

Sorting millions of 32-byte values in memory would break the memory bound, so this is an
external bucket sort: records (masked value, row) are appended to `BUCKETS` files chosen by the
value's top bits, then each bucket (about n/64 records) is sorted on its own. The same sort
finds duplicate keys exactly (equal keys give equal masked values; distinct keys collide with
probability about n^2 / 2^252).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.psi.kernels import POINT_BYTES

BUCKETS = 64
_SHIFT = 8 - (BUCKETS.bit_length() - 1)
RECORD = np.dtype([("x", np.uint8, (POINT_BYTES,)), ("row", "<i8")])


@dataclass
class Duplicate:
    """The first duplicate found: two rows with the same key."""

    first_row: int
    second_row: int


class MaskedSetStore:
    """Bucketed on-disk store of (masked value, row) records for one party."""

    def __init__(self, directory: str):
        self._paths = [os.path.join(directory, f"own-{b:02d}.bin") for b in range(BUCKETS)]
        for path in self._paths:
            open(path, "wb").close()
        self.size = 0

    def append(self, points: np.ndarray, first_row: int) -> None:
        """Add masked points (shape (n, 32) uint8) for consecutive rows from `first_row`."""
        records = np.empty(len(points), RECORD)
        records["x"] = points
        records["row"] = np.arange(first_row, first_row + len(points))
        bucket = points[:, 0] >> _SHIFT
        order = np.argsort(bucket, kind="stable")
        bounds = np.searchsorted(bucket[order], np.arange(BUCKETS + 1))
        for b in np.flatnonzero(np.diff(bounds)):
            with open(self._paths[b], "ab") as f:
                records[order[bounds[b] : bounds[b + 1]]].tofile(f)

    def finalize(self, drop_duplicates: bool) -> tuple[int, Duplicate | None]:
        """Sort every bucket by value; drop or report duplicates.

        Returns (number of distinct keys, first duplicate found or None). With
        `drop_duplicates` the record with the smallest row of each key is kept and the
        duplicate is still returned so the caller can report how many rows were dropped.
        """
        distinct, duplicate = 0, None
        for path in self._paths:
            records = np.fromfile(path, RECORD)
            records, dup = _sort_bucket(records)
            if dup is not None:
                duplicate = duplicate or dup
                if not drop_duplicates:
                    return distinct, duplicate
                records = records[_first_of_each_value(records)]
            records.tofile(path)
            distinct += len(records)
        self.size = distinct
        return distinct, duplicate

    def sorted_chunks(self, chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (masked points (m, 32), rows (m,)) in ascending value order.

        Every chunk but the last holds exactly `chunk` records, whatever the buckets hold, so
        message sizes on the link depend only on the set size.
        """
        held: list[np.ndarray] = []
        count = 0
        for path in self._paths:
            records = np.fromfile(path, RECORD)
            while len(records):
                part, records = records[: chunk - count], records[chunk - count :]
                held.append(part)
                count += len(part)
                if count == chunk:
                    yield _split(held)
                    held, count = [], 0
        if count:
            yield _split(held)


def _split(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    records = np.concatenate(parts)
    return np.ascontiguousarray(records["x"]), records["row"].copy()


def _words(records: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(records["x"]).view(">u8")


def _sort_bucket(records: np.ndarray) -> tuple[np.ndarray, Duplicate | None]:
    words = _words(records)
    # lexsort's last key is the primary one: value words first, row breaks ties of equal values.
    order = np.lexsort((records["row"], words[:, 3], words[:, 2], words[:, 1], words[:, 0]))
    records = records[order]
    same = _same_as_previous(records)
    if not same.any():
        return records, None
    i = int(np.flatnonzero(same)[0]) + 1
    return records, Duplicate(int(records["row"][i - 1]), int(records["row"][i]))


def _same_as_previous(records: np.ndarray) -> np.ndarray:
    words = _words(records)
    return np.all(words[1:] == words[:-1], axis=1)


def _first_of_each_value(records: np.ndarray) -> np.ndarray:
    keep = np.ones(len(records), dtype=bool)
    keep[1:] = ~_same_as_previous(records)
    return keep
