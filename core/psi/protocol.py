"""ECDH-PSI for two or more parties on X25519, written from one party's point of view (SPMD).

Scheme (Meadows 1986; Huberman, Franklin and Hogg 1999; multi-party shape after SecretFlow's
ECDH-PSI). Each party i draws a fresh secret scalar k_i per run. A key x is hashed to a point
H(x) (see `core.psi.kernels`); since X25519 scalar multiplication commutes, H(x) raised to
every party's scalar, in any order, is the same "fully-masked" value. Steps:

1. Mask: every party computes H(x)^k_i for its keys, in a process pool, and stores them on disk
   bucketed by value (`core.psi.store`); duplicates are found there. Headers (set sizes, or an
   abort) are broadcast.
2. Streams: each party's set travels, in ascending order of its masked values, along a path
   that visits every other party once and ends at the comparer (rank 0); each hop applies its
   scalar. The comparer's own set goes 0 -> 1 -> ... -> n-1 and comes back fully masked. For
   two parties: B's set goes B -> A, A's set goes A -> B -> A. Final values are truncated to 16
   bytes (`core.psi.match` states the collision bound).
3. Compare: rank 0 intersects the fully-masked sets and sends every party the positions of the
   common values in that party's own sending order, listed in ascending order of the common
   value. That order depends only on jointly masked values, so it reveals no party's row order;
   it is the same at every party, so outputs are aligned row by row.
4. Output: each party maps positions to its rows and writes them, in that order, by a second
   streaming pass over its input (`core.psi.output`).

Cost: every key is raised to every party's scalar once, i.e. world_size * sum(set sizes)
X25519 multiplications in total; traffic is 32 bytes per key per hop plus 16 per final value.

Threat model: semi-honest parties, no collusion. A party learns the intersection and every
party's set size. Under the DDH assumption on Curve25519 and its twist, the masked values a party
sees for keys outside the intersection are pseudorandom to it. The comparer additionally sees
the fully-masked sets of all parties (anonymous values in value order), so with three or more
parties it learns the sizes of intersections of any subset of the other parties' sets (as in
SecretFlow's multi-party ECDH-PSI); it never learns which of their rows those are. Malicious
parties are out of scope; a peer that sends malformed or low-order points is detected and the
run fails with a clear error.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from core.comm import Link
from core.errors import ConfigError, LinkError
from core.psi.errors import DuplicateKeyError, EmptyIntersectionError
from core.psi.kernels import POINT_BYTES, make_pool
from core.psi.match import COMPARE_BYTES, intersect
from core.psi.output import write_aligned
from core.psi.source import PsiSource
from core.psi.store import MaskedSetStore
from core.psi.stream import (
    END,
    FinalSink,
    PacedSender,
    PartyWork,
    Progress,
    mask_own,
    process_stream,
    send_stream,
)

COMPARER = 0
DEFAULT_CHUNK = 50_000
# A set is cut into about this many chunks (none under MIN_CHUNK keys): the hops of a
# stream then work on different chunks at once, so every core is busy even for small sets.
# With one chunk per set, each hop waited for the whole set of the previous one (one core busy).
CHUNKS_PER_SET = 8
MIN_CHUNK = 1_000


@dataclass
class PsiResult:
    """One party's outcome.

    `rows`: this party's row indices (0-based data rows of its input) of the intersection, in
    the aligned order shared by all parties. `report`: sizes and counts (JSON-friendly).
    """

    party: str
    rows: np.ndarray
    report: dict = field(default_factory=dict)
    output_path: str | None = None


@dataclass
class _Options:
    allow_duplicates: bool
    allow_empty: bool
    chunk_size: int
    output_path: str | None


def ecdh_psi(
    link: Link,
    data: object,
    keys: str | Sequence[str] | None = None,
    *,
    output_path: str | os.PathLike | None = None,
    allow_duplicates: bool = False,
    allow_empty: bool = True,
    pool: Executor | None = None,
    workers: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    tmp_dir: str | None = None,
    secret: bytes | None = None,
) -> PsiResult:
    """Run ECDH-PSI as the party `link.rank`; every party calls this with its own input.

    `data` is a CSV path, a pandas DataFrame or a 1-D sequence of keys; `keys` names the key
    columns (combined as one key). Duplicate keys raise DuplicateKeyError naming an example,
    unless `allow_duplicates`: then each key is used once, from its first row, and later rows
    with that key are left out of the output. An empty intersection raises
    EmptyIntersectionError if not `allow_empty`. With `output_path`, this party's intersecting
    rows are written there as CSV in the aligned order. `pool` (an executor shared with other
    work) or a new pool of `workers` processes does the scalar multiplications, in chunks of
    at most `chunk_size` keys (smaller for small sets: `chunk_for`). `progress`
    receives a monotone fraction reaching 1.0; `should_cancel` is checked between chunks and
    stops the run with PsiCancelled. `secret` fixes this party's 32-byte scalar (for tests
    only: reusing a scalar lets peers link runs). Raises ConfigError for bad arguments.
    """
    source = PsiSource.open(link.party, data, keys)
    options = _options(link, allow_duplicates, allow_empty, chunk_size, output_path, secret)
    own_pool = pool is None
    pool = pool if pool is not None else make_pool(workers)
    try:
        with tempfile.TemporaryDirectory(prefix="privpad-psi-", dir=tmp_dir) as tmp:
            scalar = secret if secret is not None else os.urandom(POINT_BYTES)
            expected = source.estimated_rows()
            work = PartyWork(link, pool, scalar, Progress(progress, expected), should_cancel)
            return _run(work, source, options, tmp, expected)
    finally:
        if own_pool:
            pool.shutdown(wait=True, cancel_futures=True)


def _options(link, allow_duplicates, allow_empty, chunk_size, output_path, secret) -> _Options:
    if link.world_size < 2:
        raise ConfigError(f"PSI needs at least two parties, got {link.parties}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ConfigError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if secret is not None and (not isinstance(secret, bytes) or len(secret) != POINT_BYTES):
        raise ConfigError("secret must be 32 bytes")
    path = os.fspath(output_path) if output_path is not None else None
    return _Options(bool(allow_duplicates), bool(allow_empty), chunk_size, path)


def _run(work: PartyWork, source: PsiSource, options: _Options, tmp: str, expected: int):
    link, clock = work.link, _Clock()
    store = MaskedSetStore(tmp)
    rows_read = mask_own(work, source, store, chunk_for(expected, options.chunk_size))
    distinct, sizes = _finalize_and_announce(link, source, store, options.allow_duplicates)
    clock.lap("mask")
    work.progress.set_total(rows_read + sum(sizes) - distinct)
    chunk = chunk_for(distinct, options.chunk_size)
    send_rows, full_sets = _run_streams(work, store, sizes, chunk)
    clock.lap("streams")
    rows = _aligned_rows(link, full_sets, send_rows)
    del full_sets, send_rows  # the largest arrays of the run; free them before the output pass
    clock.lap("compare")
    if len(rows) == 0 and not options.allow_empty:
        raise EmptyIntersectionError(f"party {link.party!r}: the intersection is empty")
    if options.output_path is not None:
        write_aligned(source, rows, options.output_path, tmp, options.chunk_size)
        clock.lap("output")
    work.progress.finish()
    report = {
        "party": link.party,
        "input_rows": rows_read,
        "duplicates_dropped": rows_read - distinct,
        "set_sizes": dict(zip(link.parties, sizes, strict=True)),
        "intersection_size": len(rows),
        "seconds": clock.laps,
    }
    return PsiResult(link.party, rows, report, options.output_path)


def chunk_for(rows: int, largest: int) -> int:
    """Keys per chunk for a set of `rows` keys: at most `largest`, else about a
    `CHUNKS_PER_SET`-th of the set, but not below `MIN_CHUNK` (each chunk is one task for the
    pool; smaller ones would spend more on hand-offs than on multiplications). It depends on
    the set size alone, which every party learns anyway."""
    return min(largest, max(MIN_CHUNK, -(-rows // CHUNKS_PER_SET)))


class _Clock:
    """Wall seconds per phase, for the report."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


def _finalize_and_announce(link, source, store, allow_duplicates) -> tuple[int, list[int]]:
    """Sort our masked set, exchange set sizes; raise DuplicateKeyError after telling peers."""
    distinct, duplicate = store.finalize(drop_duplicates=allow_duplicates)
    refuse = duplicate is not None and not allow_duplicates
    sizes = _exchange_headers(link, distinct, "duplicate keys" if refuse else None)
    if refuse:
        key = source.key_at(duplicate.second_row)
        raise DuplicateKeyError(
            f"party {link.party!r}: key {key if len(key) > 1 else key[0]!r} appears on rows "
            f"{duplicate.first_row} and {duplicate.second_row}; pass allow_duplicates=True "
            "to keep the first row of each key"
        )
    return distinct, sizes


def _aligned_rows(link, full_sets, send_rows: np.ndarray) -> np.ndarray:
    """Our rows of the intersection in the shared order (via the comparer's positions)."""
    positions = _share_result(link, full_sets)
    if len(positions) and not 0 <= positions.min() <= positions.max() < len(send_rows):
        raise LinkError(f"{link.party!r} got PSI positions outside its {len(send_rows)} keys")
    return send_rows[positions].astype(np.int64)


def _exchange_headers(link: Link, size: int, error: str | None) -> list[int]:
    """Broadcast our set size (or why we abort); return every party's set size by rank.

    A party that aborts still reads its peers' headers (the link stays in step), but a peer
    lost meanwhile must not replace its own reason: another party aborting *because of* ours
    would otherwise be reported instead of the cause."""
    link.send_all({"size": size, "error": error})
    sizes = [size] * link.world_size
    for peer in range(link.world_size):
        if peer == link.rank:
            continue
        try:
            header = link.recv(peer)
        except LinkError:
            if error is not None:
                return sizes  # the caller raises our own reason
            raise
        if not isinstance(header, dict) or not isinstance(header.get("size"), int):
            raise LinkError(
                f"{link.party!r} got a malformed PSI header from {link.parties[peer]!r}"
            )
        if header.get("error") and error is None:
            # A LinkError, so that the local runner reports the aborting party's own error.
            raise LinkError(f"party {link.parties[peer]!r} aborted the PSI: {header['error']}")
        sizes[peer] = header["size"]
    return sizes


def stream_path(owner: int, world_size: int) -> list[int]:
    """Ranks that a set travels through: its owner, every other party once, ending at rank 0."""
    if owner == COMPARER:
        return list(range(world_size)) + [COMPARER]
    ring = [(owner + step) % world_size for step in range(1, world_size)]
    return [owner] + [r for r in ring if r != COMPARER] + [COMPARER]


def _run_streams(work: PartyWork, store: MaskedSetStore, sizes: list[int], chunk: int):
    """Run every party's stream in rank order; return (our send order rows, full sets or None)."""
    link = work.link
    send_rows = np.empty(sizes[link.rank], dtype=np.int32 if sizes[link.rank] < 2**31 else np.int64)
    sinks = None
    if link.rank == COMPARER:
        sinks = [FinalSink(link, owner, sizes[owner], COMPARE_BYTES) for owner in range(len(sizes))]
    for owner in range(link.world_size):
        path = stream_path(owner, link.world_size)
        if owner == link.rank:
            _source_role(work, store, chunk, path, send_rows, sinks)
        elif link.rank in path:
            _hop_role(work, path, owner, sinks)
    return send_rows, None if sinks is None else [s.values for s in sinks]


def _source_role(work, store, chunk, path, send_rows, sinks) -> None:
    filled = 0

    def chunks():
        nonlocal filled
        for points, rows in store.sorted_chunks(chunk):
            send_rows[filled : filled + len(rows)] = rows
            filled += len(rows)
            yield points

    own_sink = sinks[COMPARER] if sinks is not None else None
    # With two parties the comparer's values come back on the link that carries its ACKs.
    on_other = own_sink.accept if own_sink is not None and path[-2] == path[1] else None
    send_stream(work, path[1], chunks(), on_other)
    if own_sink is not None:
        own_sink.drain(path[-2])


def _hop_role(work: PartyWork, path: list[int], owner: int, sinks) -> None:
    link = work.link
    position = path.index(link.rank, 1)
    frm, to = path[position - 1], path[position + 1] if position + 1 < len(path) else None
    if to is None:  # the comparer applies the last scalar to another party's set
        sink = sinks[owner]
        process_stream(work, frm, COMPARE_BYTES, sink.accept)
        sink.check_complete()
    elif owner == COMPARER and to == COMPARER:  # last hop of the comparer's own set
        process_stream(work, frm, COMPARE_BYTES, lambda values: link.send(to, values))
        link.send(to, END)
    else:
        sender = PacedSender(link, to)
        process_stream(work, frm, POINT_BYTES, sender.send)
        sender.finish()


def _share_result(link: Link, full_sets: list[np.ndarray] | None) -> np.ndarray:
    """Rank 0 intersects and tells each party its positions; return our own positions."""
    if link.rank != COMPARER:
        positions = link.recv(COMPARER)
        if not isinstance(positions, np.ndarray) or positions.dtype != np.int64:
            raise LinkError(f"{link.party!r} got malformed PSI positions from the comparer")
        return positions
    own, others = intersect(full_sets)  # drops the other sets as it goes
    for peer, positions in enumerate(others, start=1):
        link.send(peer, positions)
    return own
