"""Write a party's intersecting rows, in the aligned order, with bounded memory.

The aligned order is a pseudorandom permutation of the party's row order, so rows cannot simply
be copied while reading the input. One streaming pass over the input distributes each selected
row, tagged with its output position, into temporary CSV buckets covering consecutive output
positions (`BUCKET_ROWS` each); each bucket is then sorted in memory and appended to the output.
Memory is bounded by one input chunk plus one bucket; disk use by about twice the output size.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from core.psi.source import PsiSource

BUCKET_ROWS = 100_000
_READ_BACK = {"header": None, "dtype": str, "keep_default_na": False, "na_filter": False}


def write_aligned(
    source: PsiSource, rows: np.ndarray, path: str, tmp: str, chunk_rows: int
) -> None:
    """Write the rows `rows` of `source` (all columns, in that order) as CSV to `path`."""
    if source.frame is not None:
        source.frame.iloc[rows].to_csv(path, index=False, encoding="utf-8")
        return
    buckets = _distribute(source, rows, tmp, chunk_rows)
    with open(path, "w", encoding="utf-8", newline="") as out:
        pd.DataFrame(columns=source.columns).to_csv(out, index=False)
        for bucket in buckets:
            if not os.path.exists(bucket):
                continue
            part = pd.read_csv(bucket, encoding="utf-8", **_READ_BACK)
            part = part.iloc[np.argsort(part[0].astype(np.int64).to_numpy(), kind="stable")]
            part.drop(columns=0).to_csv(out, header=False, index=False)
            os.remove(bucket)


def _distribute(source: PsiSource, rows: np.ndarray, tmp: str, chunk_rows: int) -> list[str]:
    """Stream the input once, appending selected rows to their output-position bucket."""
    count = max(1, -(-len(rows) // BUCKET_ROWS))
    buckets = [os.path.join(tmp, f"out-{b:05d}.csv") for b in range(count)]
    order = np.argsort(rows, kind="stable")  # order[i]: output position of the i-th smallest row
    sorted_rows = rows[order]
    for start, frame in source.iter_frames(chunk_rows):
        lo, hi = np.searchsorted(sorted_rows, [start, start + len(frame)])
        if lo == hi:
            continue
        part = frame.iloc[sorted_rows[lo:hi] - start].copy()
        positions = order[lo:hi]
        part.insert(0, "__position__", positions, allow_duplicates=True)
        bucket_of = positions // BUCKET_ROWS
        for bucket in np.unique(bucket_of):
            with open(buckets[bucket], "a", encoding="utf-8", newline="") as f:
                part[bucket_of == bucket].to_csv(f, header=False, index=False)
    return buckets
