"""A shared process pool for big batches of Paillier encryptions and decryptions.

Encryption is a Python loop of gmpy2 products, which holds the GIL, so threads cannot put a
second core to work; processes can. The pool is created on first use and reused (starting the
workers and letting each build its per-key table costs about a second for 2048-bit keys, far
more than a small batch), and shut down at interpreter exit. It uses the *forkserver* start
method (spawn where that is missing): callers run inside the threaded SPMD runner and Django
servers, and forking a multi-threaded process can copy a lock another thread holds. Worker
functions are module-level callables so they pickle by reference; they receive everything they
need as arguments and keep only caches.

Small batches stay in-process: below a few hundred encryptions the pickling and scheduling cost
outweighs the second core.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
# Set when workers cannot start here (e.g. a script without an `if __name__ == "__main__"`
# guard, which spawned children re-import): later batches then stay in-process.
_broken_reason: str | None = None
REFERENCE_KEY_BITS = 2048


def worker_count() -> int:
    """Cores this process may use (the pool size)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def get_pool() -> Executor:
    """Return the shared process pool, creating it on first use (thread-safe)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=worker_count(), mp_context=_context())
        return _pool


def shutdown_pool() -> None:
    """Stop the shared pool's workers (a later batch starts a new pool)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_pool)


def should_parallelise(
    flag: bool | None, count: int, threshold: int, key_bits: int = REFERENCE_KEY_BITS
) -> bool:
    """The caller's explicit choice, or (flag None) whether the batch is worth the pool.

    `threshold` is the batch size from which the pool pays off with 2048-bit keys. Operations
    on smaller keys are cheaper (roughly as bits^2.5: half-size numbers and half-length
    exponents), so they need proportionally larger batches.
    """
    if flag is not None:
        return flag
    return count >= threshold * max(1.0, (REFERENCE_KEY_BITS / key_bits) ** 2.5)


def split(items: Sequence[Any], parts: int) -> list[Sequence[Any]]:
    """Split `items` into at most `parts` contiguous chunks of near-equal size."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    chunks, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        chunks.append(items[start:end])
        start = end
    return chunks


def map_chunks(
    func: Callable[..., list[Any]],
    shared: Any,
    items: Sequence[Any],
    parallel: bool,
    local: Callable[[Sequence[Any]], list[Any]] | None = None,
) -> list[Any]:
    """Return `func(shared, items)` computed chunk-wise, on the pool when `parallel`.

    `func` must be a module-level function mapping a chunk to a list of the same length.
    `local(items)`, when given, computes the same in this process from objects the caller
    already holds: without it the in-process path would go through `func`, whose worker-side
    caches would build a second copy of, say, a 60 MB key table in the calling process.
    """
    in_process = local or (lambda chunk: func(shared, chunk))
    if not parallel or _broken_reason or worker_count() < 2 or len(items) < 2:
        return in_process(items)
    try:
        return _map_on_pool(func, shared, items)
    except BrokenProcessPool as exc:
        _give_up_on_pool(exc)
        return in_process(items)


def _map_on_pool(func: Callable[..., list[Any]], shared: Any, items: Sequence[Any]) -> list[Any]:
    # Two chunks per worker evens out stragglers without much extra pickling.
    chunks = split(items, 2 * worker_count())
    futures = [get_pool().submit(func, shared, chunk) for chunk in chunks]
    out: list[Any] = []
    for future in futures:
        out.extend(future.result())
    return out


def _give_up_on_pool(exc: BaseException) -> None:
    global _broken_reason
    _broken_reason = f"{type(exc).__name__}: {exc}"
    shutdown_pool()
    warnings.warn(
        f"Paillier process pool failed ({_broken_reason}); continuing on one core",
        RuntimeWarning,
        stacklevel=3,
    )
