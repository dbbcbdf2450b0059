"""KKRT-PSI for two parties: OT-extension-based PSI, written from one party's point of view.

Scheme (Kolesnikov, Kumaresan, Rosulek and Trieu, "Efficient Batched Oblivious PRF with
Applications to Private Set Intersection", CCS 2016, section 6; hashing after Pinkas, Schneider,
Segev and Zohner, USENIX Security 2015). Rank 0 is the *receiver* R, rank 1 the *sender* S.

1. Setup: both parties contribute 16 random bytes to a session salt, which keys every hash of
   the run (`core.psi.kkrt_hashing`). Each party hashes its keys to a 512-bit codeword and three
   cuckoo candidates, drops or reports duplicate keys (equal keys have equal codewords), and
   both announce their set sizes.
2. R cuckoo-hashes its n_R keys into m bins (`core.psi.cuckoo`: three hash functions, about
   1.32 n bins at n = 2^20, no stash, failure below 2^-40); key x sits in bin h_i(x).
3. One batched OPRF instance per bin (`core.psi.oprf`): 512 Chou-Orlandi base OTs
   (`core.psi.base_ot`), then the KKRT extension, chunk by chunk of bins. R learns
   F(b, i, x) for the key x in each bin b (placed there by hash function i); S can evaluate
   F(b, ., .) on anything.
4. S evaluates F(h_i(y), i, y) for each of its keys y and each i = 1..3, and sends the 3 n_S
   values, key by key in a uniformly random order that it alone knows, each cut to
   `value_bytes` (40 + log2 n_R + log2 n_S bits rounded up to bytes: 10 bytes at 1M x 1M).
   False positives: each of R's n_R values is compared with the n_S values of the same hash
   index, and two different inputs give independent pseudorandom values, so the chance of any
   false match is at most n_R n_S 2^-8w <= 2^-40. One order for all three values of a key
   (as libPSI's KKRT sender does), not one shuffle per hash function: then R can name a
   common key by its position alone, without telling S which hash function placed it, which
   would leak how R's cuckoo table is filled.
5. R matches its values against S's (`core.psi.match`), learning the intersection and, for
   each common key, S's random position p. It sends S the positions, listed in ascending
   order of p; both output their rows in that order, so outputs align row by row (as
   SecretFlow does for two-party PSI when both parties receive the result).

Cost for n x n keys: 2 n BLAKE2b codeword/candidate hashes, (m + 3 n) output hashes (in the
process pool when one is given), 512 base OTs, PRG expansion and bit transposes of m x 512
bits; traffic 64 bytes per bin (R to S, 84 MB at 1M) and 3 w bytes per key of S (30 MB at 1M),
plus 32 bytes per base OT and 8 bytes per common key.

Threat model: semi-honest parties, two parties only, no public-key operation per key (security
of the base OTs rests on CDH in edwards25519, of the extension on SHAKE128 and BLAKE2b modelled
as random oracles). Both learn the intersection and both set sizes. S's view (the OT extension
messages u and the positions) is pseudorandom whatever R's keys outside the intersection are;
R's view of S's keys outside the intersection is a set of pseudorandom values in a random
order. A duplicate key aborts the run before any OPRF message, like ECDH-PSI. If R's cuckoo
hashing fails (probability below 2^-40) the run aborts with CuckooHashingError, and S learns
that it failed, a fact that depends on R's set. Malicious parties are out of scope: a
malicious S could send chosen values and so change R's (and its own) output, a malicious R
could send S any positions.
Memory: about 100 bytes per key of each party stay in RAM (codewords, candidates, values), the
OT extension runs chunk by chunk, and the aligned output is written by `core.psi.output`.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future

import numpy as np

from core.comm import Link
from core.errors import ConfigError, LinkError
from core.psi.errors import DuplicateKeyError, EmptyIntersectionError, PsiCancelled
from core.psi.kkrt_hashing import CODE_BYTES, SALT_BYTES, digest_keys
from core.psi.output import write_aligned
from core.psi.protocol import PsiResult, _exchange_headers
from core.psi.source import PsiSource
from core.psi.stream import WINDOW, Progress, Rows

RECEIVER, SENDER = 0, 1
DEFAULT_CHUNK = 100_000
MAX_VALUE_BYTES = 15  # one byte of a 16-byte comparison word carries the hash index


class Party:
    """One party's run state shared by the KKRT roles: link, progress, cancel check, salt, and
    the hashing work it hands to a process pool (or runs inline when it has none)."""

    def __init__(self, link: Link, progress: Progress, should_cancel, chunk: int, pool=None):
        self.link, self.progress, self.chunk = link, progress, chunk
        self._should_cancel = should_cancel
        self._pool: Executor | None = pool
        self._pending: deque[tuple[Future, Callable]] = deque()
        self.salt = b""

    @property
    def peer(self) -> int:
        return 1 - self.link.rank

    def check_cancel(self) -> None:
        if self._should_cancel is not None and self._should_cancel():
            raise PsiCancelled(f"party {self.link.party!r}: PSI cancelled by the caller")

    def submit(self, fn: Callable, args: tuple, then: Callable) -> None:
        """Run fn(*args) in the pool and pass its result to `then`, in submission order.

        At most `stream.WINDOW` tasks wait at a time, so results never pile up in memory.
        """
        self.check_cancel()
        if self._pool is None:
            then(fn(*args))
            return
        self._pending.append((self._pool.submit(fn, *args), then))
        while len(self._pending) > WINDOW:
            self._take_one()

    def drain(self) -> None:
        """Wait for every submitted task and deliver its result."""
        while self._pending:
            self._take_one()

    def _take_one(self) -> None:
        future, then = self._pending.popleft()
        then(future.result())


class OwnKeys:
    """A party's distinct keys: their first rows, codewords and cuckoo candidate words.

    The roles drop `words` and `codes` (set them to None) as soon as they are done with them.
    """

    def __init__(self, rows: np.ndarray, codes: np.ndarray, words: np.ndarray):
        self.rows, self.codes, self.words = rows, codes, words

    def __len__(self) -> int:
        return len(self.rows)


def kkrt_psi(
    link: Link,
    data: object,
    keys: str | Sequence[str] | None = None,
    *,
    output_path: str | os.PathLike | None = None,
    allow_duplicates: bool = False,
    allow_empty: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    tmp_dir: str | None = None,
    pool: Executor | None = None,
) -> PsiResult:
    """Run two-party KKRT-PSI as the party `link.rank`; both parties call this.

    Inputs, options, errors and the result are those of `ecdh_psi` (same PsiResult, aligned
    rows at both parties, duplicates refused unless `allow_duplicates`, `progress` and
    `should_cancel` hooks); rank 0 acts as the OPRF receiver. The per-key hashing, the bulk of
    the CPU work, runs in `pool` (a process pool shared with the peer, see `run_local_psi`),
    or inline in this thread without one. Raises ConfigError unless there are exactly two
    parties.
    """
    if link.world_size != 2:
        raise ConfigError(f"KKRT-PSI runs between exactly two parties, got {link.parties}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ConfigError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    source = PsiSource.open(link.party, data, keys)
    expected = Progress(progress, source.estimated_rows())
    party = Party(link, expected, should_cancel, chunk_size, pool)
    path = os.fspath(output_path) if output_path is not None else None
    with tempfile.TemporaryDirectory(prefix="privpad-kkrt-", dir=tmp_dir) as tmp:
        return _run(party, source, bool(allow_duplicates), bool(allow_empty), path, tmp)


def _run(party: Party, source, allow_duplicates, allow_empty, path, tmp) -> PsiResult:
    from core.psi.kkrt_roles import run_receiver, run_sender  # roles import this module

    link, laps, clock = party.link, {}, time.perf_counter()
    party.salt = agree_salt(link)
    own, rows_read, duplicate = read_own_keys(party, source, allow_duplicates)
    refuse = duplicate is not None and not allow_duplicates
    sizes = _exchange_headers(link, len(own), "duplicate keys" if refuse else None)
    if refuse:
        _raise_duplicate(link, source, duplicate)
    laps["hash"], clock = round(time.perf_counter() - clock, 3), time.perf_counter()
    party.progress.set_total(rows_read + 2 * max(sizes))
    rows = np.empty(0, dtype=np.int64)
    if min(sizes) > 0:
        role = run_receiver if link.rank == RECEIVER else run_sender
        rows = role(party, own, sizes)
    laps["oprf_and_match"], clock = round(time.perf_counter() - clock, 3), time.perf_counter()
    del own
    if len(rows) == 0 and not allow_empty:
        raise EmptyIntersectionError(f"party {link.party!r}: the intersection is empty")
    if path is not None:
        write_aligned(source, rows, path, tmp, party.chunk)
        laps["output"] = round(time.perf_counter() - clock, 3)
    party.progress.finish()
    report = {
        "party": link.party,
        "protocol": "KKRT",
        "role": "receiver" if link.rank == RECEIVER else "sender",
        "input_rows": rows_read,
        "duplicates_dropped": rows_read - sizes[link.rank],
        "set_sizes": dict(zip(link.parties, sizes, strict=True)),
        "intersection_size": len(rows),
        "seconds": laps,
    }
    return PsiResult(link.party, rows, report, path)


def agree_salt(link: Link) -> bytes:
    """Both parties send fresh random bytes; the salt hashes both contributions in rank order."""
    mine = os.urandom(SALT_BYTES)
    theirs = link.exchange(1 - link.rank, mine)
    if not isinstance(theirs, bytes) or len(theirs) != SALT_BYTES:
        raise LinkError(f"{link.party!r} got a malformed session salt from its peer")
    parts = (mine, theirs) if link.rank == 0 else (theirs, mine)
    return hashlib.blake2b(b"".join(parts), digest_size=SALT_BYTES).digest()


def read_own_keys(party: Party, source: PsiSource, allow_duplicates: bool):
    """Hash every key; return (distinct keys, rows read, first duplicate (row, row) or None)."""
    codes = Rows(source.estimated_rows(), CODE_BYTES, np.uint8)
    words = Rows(source.estimated_rows(), 3, np.uint32)

    def collect(result) -> None:
        codes.append(result[0])
        words.append(result[1])
        party.progress.add(len(result[0]))

    for _, keys in source.iter_keys(party.chunk):
        party.submit(digest_keys, (keys, party.salt), collect)
    party.drain()
    rows_read = codes.filled
    keep, duplicate = distinct_rows(codes.array)
    if duplicate is None:
        return OwnKeys(keep, codes.array, words.array), rows_read, None
    if not allow_duplicates:
        return OwnKeys(keep, codes.array[:0], words.array[:0]), rows_read, duplicate
    return OwnKeys(keep, codes.array[keep], words.array[keep]), rows_read, duplicate


def distinct_rows(codes: np.ndarray) -> tuple[np.ndarray, tuple[int, int] | None]:
    """Rows keeping the first of each codeword (ascending), and the first duplicate pair.

    Codewords are compared on their first 16 bytes: distinct keys agree there with
    probability n^2 / 2^129. A stable sort on the first 8 bytes brings equal codewords next to
    each other with their rows ascending, unless two different codewords share those 8 bytes
    (probability n^2 / 2^65), in which case both words are sorted on.
    """
    words = np.ascontiguousarray(codes[:, :16]).view("<u8").reshape(-1, 2)
    order = np.argsort(words[:, 0], kind="stable")
    head = words[order, 0]
    tie = np.zeros(len(order), dtype=bool)
    tie[1:] = head[1:] == head[:-1]
    del head
    if not tie.any():
        return np.arange(len(codes), dtype=np.int64), None
    tail = words[order, 1]
    if np.any(tail[1:][tie[1:]] != tail[:-1][tie[1:]]):
        order = np.lexsort((words[:, 1], words[:, 0]))  # stable: rows ascend within a value
        tie[1:] = np.all(words[order[1:]] == words[order[:-1]], axis=1)
    if not tie.any():
        return np.arange(len(codes), dtype=np.int64), None
    i = int(np.flatnonzero(tie)[0])
    duplicate = (int(order[i - 1]), int(order[i]))
    return np.sort(order[~tie]), duplicate


def _raise_duplicate(link: Link, source: PsiSource, duplicate: tuple[int, int]) -> None:
    first, second = duplicate
    key = source.key_at(second)
    raise DuplicateKeyError(
        f"party {link.party!r}: key {key if len(key) > 1 else key[0]!r} appears on rows "
        f"{first} and {second}; pass allow_duplicates=True to keep the first row of each key"
    )


def value_bytes(receiver_size: int, sender_size: int) -> int:
    """Bytes of each OPRF value so that any false match has probability <= 2^-40."""
    bits = (
        40 + math.ceil(math.log2(max(receiver_size, 2))) + math.ceil(math.log2(max(sender_size, 2)))
    )
    width = -(-bits // 8)
    if width > MAX_VALUE_BYTES:
        raise ConfigError(f"set sizes {receiver_size} x {sender_size} are too large for KKRT-PSI")
    return width
