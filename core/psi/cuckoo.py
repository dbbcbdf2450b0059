"""Cuckoo hashing of the KKRT receiver's keys: three hash functions, one item per bin, no stash.

Bins: each key has three candidate bins h_1..h_3 (from `core.psi.kkrt_hashing`); it is stored in
exactly one of them, each bin holding at most one key, so the receiver needs one OPRF instance
per bin. Insertion runs vectorised "rounds": every homeless key tries its current candidate,
one key wins each contested bin, and the keys evicted or refused move to one of their other two
candidates, chosen at random (random-walk cuckoo insertion).

Number of bins and failure probability (statistical security lambda = 40):
* Pinkas, Schneider, Weinert and Wieder ("Efficient Circuit-Based PSI via Cuckoo Hashing",
  EUROCRYPT 2018) measured, for three hash functions and no stash, a failure probability
  2^-lambda with lambda = 240 e - log2(n) - 256 for e = bins / n (the fit that cryptoTools and
  SecretFlow's `CuckooIndex::SelectParams` use), i.e. e = (lambda + 256 + log2 n) / 240:
  1.317 for n = 2^20.
* Their fit comes from large tables; for small sets we also require that the two smallest
  failure patterns stay below 2^-45 by a union bound: two keys whose six candidates all fall
  in one bin (at most n^2/2 * m^-5) and three keys whose nine fall in two bins (at most
  n^3/6 * m^2/2 * (2/m)^9). Below about 16,000 keys this sets the table size (at least 448
  bins); the cost is one OT row (64 bytes) per bin.
A failure raises CuckooHashingError before anything depending on the receiver's keys is sent;
a rerun draws a fresh session salt and therefore fresh hash functions.
"""

from __future__ import annotations

import math

import numpy as np

from core.psi.errors import CuckooHashingError

HASHES = 3
STAT_SECURITY = 40
SMALL_SET_SECURITY = 45
BIN_ALIGN = 64  # OT extension transposes blocks of 8 rows; 64 keeps uint64 views easy too
MAX_ROUNDS = 5_000


def bin_count(n: int) -> int:
    """Number of cuckoo bins for n receiver keys (a multiple of BIN_ALIGN)."""
    n = max(n, 1)
    factor = (STAT_SECURITY + 256 + math.log2(n)) / 240
    pairs = (2 * math.log2(n) - 1 + SMALL_SET_SECURITY) / 5
    triples = (3 * math.log2(n) + 9 - math.log2(12) + SMALL_SET_SECURITY) / 7
    bins = max(math.ceil(factor * n), math.ceil(2 ** max(pairs, triples)))
    return -(-bins // BIN_ALIGN) * BIN_ALIGN


def insert(candidates: np.ndarray, bins: int, rng: np.random.Generator):
    """Place every key (row of `candidates`, shape (n, 3)) in one of its candidate bins.

    Returns (table, used): table[b] is the key stored in bin b or -1; used[key] is the index
    (0..2) of the hash function whose bin holds it. Raises CuckooHashingError on failure.
    """
    n = len(candidates)
    table = np.full(bins, -1, dtype=np.int64)
    choice = np.zeros(n, dtype=np.int64)
    homeless = np.arange(n, dtype=np.int64)
    for _ in range(MAX_ROUNDS):
        if len(homeless) == 0:
            return table, choice.astype(np.uint8)
        target = candidates[homeless, choice[homeless]]
        taken, first = np.unique(target, return_index=True)
        winners = homeless[first]
        evicted = table[taken]
        table[taken] = winners
        refused = np.ones(len(homeless), dtype=bool)
        refused[first] = False
        homeless = np.concatenate([homeless[refused], evicted[evicted >= 0]])
        # Move to one of the two other candidates at random (never retry the same one).
        choice[homeless] = (choice[homeless] + rng.integers(1, HASHES, len(homeless))) % HASHES
    raise CuckooHashingError(
        f"cuckoo hashing of {n} keys into {bins} bins left {len(homeless)} keys without a bin "
        f"after {MAX_ROUNDS} rounds (expected with probability below 2^-{STAT_SECURITY}); "
        "run the PSI again"
    )
