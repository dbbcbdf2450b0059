"""Intersect fully-masked sets held as compact 16-byte values (run by the comparing party).

Each value is viewed as two native uint64 words (hi, lo). Two distinct keys collide in all 128
bits with probability at most n_a * n_b / 2^128 (below 2^-80 for 10^7 x 10^7 keys).

Matching sorts one set and binary-searches the other. To sort without an index array beside
the keys, each table value's `hi` word has its low `b` bits replaced by the value's own index
(b = bits needed for the table size): one uint64 array, sorted in place, then serves as both the
search keys and the permutation. Values agreeing on the remaining 64 - b bits are all checked
against both full words, so the shortened prefix costs a few extra comparisons, never a wrong
match.
"""

from __future__ import annotations

import numpy as np

COMPARE_BYTES = 16
_CHUNK = 1 << 18


def as_words(values: np.ndarray) -> np.ndarray:
    """View (n, 16) uint8 values as (n, 2) uint64 words."""
    return np.ascontiguousarray(values).view(np.uint64).reshape(-1, 2)


def find_in(queries: np.ndarray, table: np.ndarray) -> np.ndarray:
    """For each query value, the index of an equal value in `table`, or -1 (both (n, 2) words).

    Both sides are sorted first: binary searches for sorted queries walk the table in order,
    which is many times faster than random probes into an array larger than the caches.
    """
    index_type = np.int32 if len(table) < 2**31 else np.int64
    found = np.full(len(queries), -1, dtype=index_type)
    if len(table) == 0 or len(queries) == 0:
        return found
    low = np.uint64((1 << max(1, (max(len(table), len(queries)) - 1).bit_length())) - 1)
    table_keys = _tagged_keys(table, low)
    query_keys = _tagged_keys(queries, low)
    for start in range(0, len(query_keys), _CHUNK):
        _find_chunk(query_keys[start : start + _CHUNK], queries, table, table_keys, low, found)
    return found


def _tagged_keys(words: np.ndarray, low: np.uint64) -> np.ndarray:
    """Sorted uint64 keys: the hi word with its low bits replaced by the value's index."""
    keys = words[:, 0] & ~low
    for start in range(0, len(keys), _CHUNK):
        stop = min(len(keys), start + _CHUNK)
        keys[start:stop] |= np.arange(start, stop, dtype=np.uint64)
    keys.sort()
    return keys


def _find_chunk(chunk_keys, queries, table, table_keys, low, found) -> None:
    """Resolve one chunk of sorted query keys into `found`."""
    prefix = chunk_keys & ~low
    query_index = (chunk_keys & low).astype(np.int64)
    left = np.searchsorted(table_keys, prefix, side="left")
    right = np.searchsorted(table_keys, prefix | low, side="right")
    single = np.flatnonzero(right - left == 1)
    candidates = (table_keys[left[single]] & low).astype(np.int64)
    asked = query_index[single]
    # Two column comparisons: np.all(axis=1) over rows of two words is many times slower.
    confirmed = (table[candidates, 0] == queries[asked, 0]) & (
        table[candidates, 1] == queries[asked, 1]
    )
    found[query_index[single[confirmed]]] = candidates[confirmed]
    # Several table values sharing the prefix: about n^2 / 2^(65 - b) pairs, checked one by one.
    for i in np.flatnonzero(right - left > 1):
        for key in table_keys[left[i] : right[i]]:
            j = int(key & low)
            if (table[j] == queries[query_index[i]]).all():
                found[query_index[i]] = j
                break


def intersect(sets: list[np.ndarray | None]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Intersect the comparer's values `sets[0]` with every other party's `sets[1:]`.

    Returns (own indices, [indices into each other set]) of the common values, all aligned
    and listed in ascending order of the common value's hi word: an order that
    depends only on the jointly masked values, not on any party's row order. Each other set is
    dropped from `sets` (set to None) once matched, to free its memory early.
    """
    own_words = as_words(sets[0])
    keep: np.ndarray | None = None
    positions: list[np.ndarray] = []
    for i in range(1, len(sets)):
        found = find_in(own_words if keep is None else own_words[keep], as_words(sets[i]))
        sets[i] = None
        hit = np.flatnonzero(found >= 0)
        keep = hit if keep is None else keep[hit]
        positions = [p[hit] for p in positions] + [found[hit].astype(np.int64)]
        del found
    if keep is None:
        keep = np.arange(len(own_words), dtype=np.int64)
    # Ties of the hi word (about m^2 / 2^65) fall in an arbitrary order; only the comparer
    # computes it, so every party still receives the same one.
    order = np.argsort(own_words[keep, 0])
    return keep[order], [p[order] for p in positions]
