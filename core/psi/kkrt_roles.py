"""The two roles of KKRT-PSI after setup: the OPRF receiver (rank 0) and sender (rank 1).

See `core.psi.kkrt` for the scheme. Messages, in order:
R -> S  {"abort": None, "A": point} (or {"abort": reason} if cuckoo hashing failed)
S -> R  512 base-OT points
R -> S  one u matrix (512, bins/8) per chunk of CHUNK_BINS bins, then END; S acknowledges
        each chunk, so at most `stream.WINDOW` chunks wait on the link
S -> R  OPRF values (keys, 3 * value bytes) in S's random key order, then END; R acknowledges
R -> S  S's positions of the common keys, ascending (int64)
"""

from __future__ import annotations

import os

import numpy as np

from core.errors import LinkError
from core.psi import cuckoo
from core.psi.base_ot import OtReceiver, OtSender, check_points
from core.psi.errors import CuckooHashingError
from core.psi.kkrt import OwnKeys, Party, value_bytes
from core.psi.kkrt_hashing import CODE_BITS, CODE_BYTES, candidate_bins, oprf_outputs
from core.psi.match import as_words, find_in
from core.psi.oprf import OprfReceiver, OprfSender
from core.psi.stream import ACK, END, FIRST_ROWS, PacedSender, Rows

CHUNK_BINS = 1 << 15  # 2 MiB u matrices; a multiple of cuckoo.BIN_ALIGN
COMPARE_WIDTH = 16


def run_receiver(party: Party, own: OwnKeys, sizes: list[int]) -> np.ndarray:
    """Rank 0: cuckoo-hash, run the OPRF as receiver, match, tell S; return our rows."""
    width, bins = value_bytes(sizes[0], sizes[1]), cuckoo.bin_count(sizes[0])
    table, used = _cuckoo_or_abort(party, own, bins)
    oprf = OprfReceiver(_base_ots_as_ot_sender(party))
    mine = _extend_as_receiver(party, oprf, own, table, used, width)
    own.codes = None  # free our codewords before holding S's values
    theirs = _receive_values(party, sizes[1], width)
    found = find_in(as_words(mine), as_words(theirs))
    del theirs, mine
    hit = np.flatnonzero(found >= 0)
    positions = found[hit].astype(np.int64) // cuckoo.HASHES
    order = np.argsort(positions, kind="stable")
    party.link.send(party.peer, positions[order])
    return own.rows[hit[order]]


def _cuckoo_or_abort(party: Party, own: OwnKeys, bins: int):
    """Place our keys in the cuckoo table; on failure tell S before raising."""
    rng = np.random.default_rng(int.from_bytes(os.urandom(16), "little"))
    try:
        table, used = cuckoo.insert(candidate_bins(own.words, bins), bins, rng)
    except CuckooHashingError as error:
        party.link.send(party.peer, {"abort": str(error)})
        raise
    own.words = None  # not needed any more: free memory before the extension
    return table, used


def _base_ots_as_ot_sender(party: Party) -> list[tuple[bytes, bytes]]:
    link, peer = party.link, party.peer
    ot = OtSender(CODE_BITS)
    link.send(peer, {"abort": None, "A": ot.first_message()})
    return ot.seeds(check_points(link.recv(peer), CODE_BITS, repr(link.parties[peer])))


def _extend_as_receiver(party, oprf, own, table, used, width) -> np.ndarray:
    """Send u chunk by chunk; return our OPRF values as (keys, 16) comparison words."""
    mine = np.zeros((len(own), COMPARE_WIDTH), dtype=np.uint8)
    mine[:, width] = used  # the hash index: values only match under the same function
    sender = PacedSender(party.link, party.peer)
    for index, lo in enumerate(range(0, len(table), CHUNK_BINS)):
        party.check_cancel()
        items = table[lo : lo + CHUNK_BINS]
        filled = np.flatnonzero(items >= 0)
        keys = items[filled]
        codes = np.zeros((len(items), CODE_BYTES), dtype=np.uint8)  # empty bins: any input
        codes[filled] = own.codes[keys]
        u, t0 = oprf.chunk(index, codes)
        sender.send(u)
        args = (t0[filled], lo + filled, used[keys], width, party.salt)
        party.submit(oprf_outputs, args, _store_into(mine, keys, width, party))
    party.drain()
    sender.finish()
    return mine


def _store_into(mine: np.ndarray, keys: np.ndarray, width: int, party: Party):
    def store(values: np.ndarray) -> None:
        mine[keys, :width] = values
        party.progress.add(len(keys))

    return store


def _receive_values(party: Party, count: int, width: int) -> np.ndarray:
    """S's 3 values per key as (3 count, 16) comparison words: value, hash index, zeros."""
    link, peer = party.link, party.peer
    # Room grows with what arrives: `count` is S's word, and a huge one must not allocate.
    table = Rows(min(cuckoo.HASHES * count, FIRST_ROWS), COMPARE_WIDTH, np.uint8)
    while True:
        message = link.recv(peer)
        if isinstance(message, str) and message == END:
            break
        values = _expect(party, message, (None, cuckoo.HASHES * width), "OPRF values")
        link.send(peer, ACK)
        if table.filled + cuckoo.HASHES * len(values) > cuckoo.HASHES * count:
            raise LinkError(f"{link.party!r} received more OPRF values than {count} keys")
        rows = np.zeros((cuckoo.HASHES * len(values), COMPARE_WIDTH), dtype=np.uint8)
        rows[:, :width] = values.reshape(-1, width)
        rows[:, width] = np.tile(np.arange(cuckoo.HASHES, dtype=np.uint8), len(values))
        table.append(rows)
        party.progress.add(len(values))
    if table.filled != cuckoo.HASHES * count:
        raise LinkError(
            f"{link.party!r} received {table.filled // 3} keys' OPRF values, not {count}"
        )
    return table.array


def run_sender(party: Party, own: OwnKeys, sizes: list[int]) -> np.ndarray:
    """Rank 1: run the OPRF as sender, send our values in a random order; return our rows."""
    width, bins = value_bytes(sizes[0], sizes[1]), cuckoo.bin_count(sizes[0])
    oprf = _base_ots_as_ot_receiver(party)
    # A uniformly random order of our keys (sorting fresh random words); only S knows it.
    order = np.argsort(np.frombuffer(os.urandom(8 * len(own)), dtype=np.uint64))
    position = np.empty(len(own), dtype=np.int64)
    position[order] = np.arange(len(own))
    values = _extend_as_sender(party, oprf, own, bins, width, position)
    own.codes = None
    _send_values(party, values.reshape(len(own), -1))  # already in our random order
    return own.rows[order[_receive_positions(party, len(own))]]


def _base_ots_as_ot_receiver(party: Party) -> OprfSender:
    choices = np.unpackbits(np.frombuffer(os.urandom(CODE_BYTES), dtype=np.uint8)).astype(bool)
    ot = OtReceiver(choices)
    party.link.send(party.peer, ot.reply(_receive_first(party)))
    return OprfSender(choices, ot.seeds)


def _entries_by_bin(own: OwnKeys, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Simple hashing: entries e = 3 * key + i ("key in its bin under hash function i") sorted
    by bin, and their bins."""
    entry_bins = candidate_bins(own.words, bins).ravel()
    own.words = None
    by_bin = np.argsort(entry_bins, kind="stable")
    by_bin = by_bin.astype(np.int64 if len(own) > 2**29 else np.int32)
    return by_bin, entry_bins[by_bin]


def _extend_as_sender(party, oprf, own, bins, width, position) -> np.ndarray:
    """Take u chunk by chunk; return our values (keys, 3, width), keys in `position` order."""
    link, peer = party.link, party.peer
    by_bin, sorted_bins = _entries_by_bin(own, bins)
    values = np.empty((len(own), cuckoo.HASHES, width), dtype=np.uint8)
    for index, lo in enumerate(range(0, bins, CHUNK_BINS)):
        party.check_cancel()
        hi = min(bins, lo + CHUNK_BINS)
        u = _expect(party, link.recv(peer), (CODE_BITS, (hi - lo) // 8), "an OT extension matrix")
        link.send(peer, ACK)
        q = oprf.chunk(index, u)
        start, stop = np.searchsorted(sorted_bins, [lo, hi])
        entries, entry_bin = by_bin[start:stop], sorted_bins[start:stop]
        keys, which = entries // cuckoo.HASHES, entries % cuckoo.HASHES
        masked = oprf.masked(q[entry_bin - lo], own.codes[keys])
        args = (masked, entry_bin, which, width, party.salt)
        party.submit(oprf_outputs, args, _place_into(values, position[keys], which, party))
    party.drain()
    if not (isinstance(end := link.recv(peer), str) and end == END):
        raise LinkError(f"{link.party!r} expected the end of the OT extension, got {end!r:.40}")
    return values


def _place_into(values: np.ndarray, positions: np.ndarray, which: np.ndarray, party: Party):
    def place(computed: np.ndarray) -> None:
        values[positions, which] = computed
        party.progress.add(len(positions) // cuckoo.HASHES)

    return place


def _receive_first(party: Party) -> bytes:
    link, peer = party.link, party.peer
    header = link.recv(peer)
    if not isinstance(header, dict) or "abort" not in header:
        raise LinkError(f"{link.party!r} got a malformed KKRT header from {link.parties[peer]!r}")
    if header["abort"]:
        raise LinkError(f"party {link.parties[peer]!r} aborted the PSI: {header['abort']}")
    return check_points(header.get("A"), 1, repr(link.parties[peer]))[0]


def _send_values(party: Party, values: np.ndarray) -> None:
    sender = PacedSender(party.link, party.peer)
    for start in range(0, len(values), party.chunk):
        party.check_cancel()
        sender.send(values[start : start + party.chunk])
        party.progress.add(min(party.chunk, len(values) - start))
    sender.finish()


def _receive_positions(party: Party, count: int) -> np.ndarray:
    link = party.link
    positions = link.recv(party.peer)
    ok = isinstance(positions, np.ndarray) and positions.dtype == np.int64 and positions.ndim == 1
    if not ok or (len(positions) and not 0 <= positions.min() <= positions.max() < count):
        raise LinkError(f"{link.party!r} got malformed PSI positions from the receiver")
    return positions


def _expect(party: Party, message: object, shape: tuple, what: str) -> np.ndarray:
    ok = (
        isinstance(message, np.ndarray)
        and message.dtype == np.uint8
        and message.ndim == len(shape)
        and all(want is None or want == got for want, got in zip(shape, message.shape, strict=True))
    )
    if not ok:
        raise LinkError(
            f"{party.link.party!r} expected {what} of shape {shape} from "
            f"{party.link.parties[party.peer]!r}, got {type(message).__name__} "
            f"{getattr(message, 'shape', '')}"
        )
    return message
