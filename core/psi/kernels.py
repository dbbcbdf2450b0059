"""The CPU-heavy part of ECDH-PSI: hash keys to X25519 points and raise points to a scalar.

These functions run inside pool worker processes, one per core; the party threads only feed
them packed chunks. They take and return plain `bytes` so that a task pickles cheaply, and they
import nothing heavier than libsodium (through PyNaCl's cffi module), so workers start fast.

Hash to point: BLAKE2b-256 personalised with `PSI_PERSONALIZATION` (domain separation from any
other use of BLAKE2b) maps an encoded key to 32 bytes, read as an X25519 u-coordinate. About
half of all u-coordinates lie on Curve25519 and half on its quadratic twist; X25519 is
twist-secure and the clamped scalar is a multiple of the cofactor 8, so every masked value lies
in a subgroup of large prime order on one curve or the other. This is the hash-to-point that
SecretFlow's ECDH-PSI uses for its 25519 curve.

Commutativity: X25519(k, u) is the u-coordinate of [clamp(k)]P for either lift P of u, so
X25519(a, X25519(b, u)) = u([clamp(a)·clamp(b)]P) = X25519(b, X25519(a, u)).
"""

from __future__ import annotations

import atexit
import hashlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from nacl._sodium import ffi, lib

from core.psi.errors import LowOrderPointError

POINT_BYTES = 32
PSI_PERSONALIZATION = b"privpad-psi-v1"
_OWNER_POLL_S = 1.0


def hash_to_points(keys: list[bytes]) -> bytes:
    """Hash each encoded key to a 32-byte X25519 u-coordinate; return them concatenated."""
    return b"".join(
        hashlib.blake2b(key, digest_size=POINT_BYTES, person=PSI_PERSONALIZATION).digest()
        for key in keys
    )


def mask_points(scalar: bytes, points: bytes, keep: int = POINT_BYTES) -> bytes:
    """Return X25519(scalar, p) for each 32-byte point p, each truncated to its first `keep` bytes.

    Calls libsodium's `crypto_scalarmult` (the function `nacl.bindings.crypto_scalarmult`
    wraps) directly on one output buffer: the wrapper's per-call checks and copies cost about
    15% at this call rate. Raises LowOrderPointError, naming the item, if libsodium refuses an
    input because the product is the all-zero point.
    """
    if len(scalar) != POINT_BYTES or len(points) % POINT_BYTES:
        raise ValueError(
            f"need a 32-byte scalar and whole 32-byte points, got {len(scalar)} and {len(points)}"
        )
    count = len(points) // POINT_BYTES
    out = ffi.new("unsigned char[]", max(1, len(points)))
    src = ffi.from_buffer(points)
    scalarmult = lib.crypto_scalarmult
    for offset in range(0, len(points), POINT_BYTES):
        if scalarmult(out + offset, scalar, src + offset) != 0:
            raise LowOrderPointError(
                f"item {offset // POINT_BYTES} of {count} is a low-order point "
                f"({points[offset : offset + POINT_BYTES].hex()}): a peer sent a value "
                "that is not a masked key"
            )
    if keep == POINT_BYTES:
        return ffi.buffer(out, len(points))[:]
    whole = ffi.buffer(out, len(points))
    return b"".join(whole[i : i + keep] for i in range(0, len(points), POINT_BYTES))


def hash_and_mask(scalar: bytes, keys: list[bytes]) -> bytes:
    """Hash encoded keys to points and raise them to `scalar` (a party's first masking)."""
    return mask_points(scalar, hash_to_points(keys))


def make_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Start a process pool of `workers` (default: one per core) safe to use from threads.

    The forkserver start method (spawn where unavailable) never forks the calling process,
    whose party threads may hold locks: forking a multi-threaded process can deadlock the child.
    """
    count = workers or os.cpu_count() or 1
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context(method),
        initializer=_exit_with_owner,
        initargs=(os.getpid(),),
    )


_shared_pool: ProcessPoolExecutor | None = None
_shared_lock = threading.Lock()
_warmed = False


def shared_pool() -> ProcessPoolExecutor:
    """One pool of workers for every PSI run of this process, started on first use.

    Starting workers costs a good part of a second (a process per core, each importing
    libsodium): runs of a few thousand keys would spend more on that than on masking. The
    workers hold no state between tasks (every task carries its scalar and points), so runs,
    even concurrent ones, share them safely. A pool broken by a killed worker is replaced.
    """
    global _shared_pool
    with _shared_lock:
        if _shared_pool is None or getattr(_shared_pool, "_broken", False):
            _shared_pool = make_pool()
            atexit.register(_shared_pool.shutdown, wait=False, cancel_futures=True)
        return _shared_pool


def warm_shared_pool() -> None:
    """Start the shared pool's workers now (from a background thread, e.g. while a user
    looks at a pipeline), so that the first run does not wait for them. Cheap once done."""
    global _warmed
    if _warmed:
        return
    pool = shared_pool()
    count = pool._max_workers
    for future in [pool.submit(hash_to_points, []) for _ in range(count)]:
        future.result()
    _warmed = True


def _exit_with_owner(owner_pid: int) -> None:
    """Stop this worker once the process that made the pool is gone.

    Workers are children of the forkserver, not of the owner, so nothing else ends them if the
    owner is killed (SIGKILL, or SIGTERM without cleanup): they would linger, idle but alive.
    """

    def watch() -> None:
        while True:
            time.sleep(_OWNER_POLL_S)
            try:
                os.kill(owner_pid, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, name="psi-owner-watch", daemon=True).start()
