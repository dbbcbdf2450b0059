"""The hash functions of KKRT-PSI: codewords, cuckoo candidates and OPRF outputs.

All three are BLAKE2b (RFC 7693) with distinct personalisations and the run's 16-byte session
salt, which both parties derive from fresh randomness of each (`kkrt.agree_salt`):
* codeword C(x): 512 bits, the pseudorandom code of KKRT. KKRT (section 5) needs, for every pair
  of distinct keys the receiver may meet, codewords at Hamming distance at least the
  computational security parameter 128; for two independent uniform 512-bit strings the
  distance is below 128 with probability 2^-102.3 (exact binomial tail), so even 2^50 pairs
  keep the failure below 2^-52. KKRT derive somewhat narrower codes (under 512 bits) from a
  finer bound; 512 is generous and keeps rows byte- and word-aligned.
* cuckoo candidates h_1..h_3: three 32-bit words w of a separate 16-byte digest, mapped to a bin
  by (w * bins) >> 32 (bins < 2^32; each bin's probability is off by less than 2^-32).
* OPRF output H(b, i, row): digest of a 64-byte OT row, the bin b and the hash index i, cut to
  the comparison width (`kkrt.value_bytes`). Including b and i keeps outputs of different bins
  and of the same key under different hash functions independent (KKRT's hash is indexed by
  the OPRF instance likewise).

Python calls one BLAKE2b per key (per value): `copy()` of a pre-keyed hasher avoids re-running
the parameter setup, which halves the cost per call.
"""

from __future__ import annotations

import hashlib

import numpy as np

CODE_BYTES = 64
CODE_BITS = 8 * CODE_BYTES
SALT_BYTES = 16
_CODE = b"privpad-kkrt-c"
_BINS = b"privpad-kkrt-b"
_OUT = b"privpad-kkrt-o"


def digest_keys(keys: list[bytes], salt: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Codewords (n, 64) uint8 and candidate words (n, 3) uint32 of encoded keys."""
    code = hashlib.blake2b(digest_size=CODE_BYTES, salt=salt, person=_CODE)
    bins = hashlib.blake2b(digest_size=16, salt=salt, person=_BINS)
    codes = np.frombuffer(b"".join(_digest(code, k) for k in keys), dtype=np.uint8)
    words = np.frombuffer(b"".join(_digest(bins, k) for k in keys), dtype="<u4")
    return codes.reshape(-1, CODE_BYTES), words.reshape(-1, 4)[:, :3].copy()


def _digest(base, data) -> bytes:
    h = base.copy()
    h.update(data)
    return h.digest()


def candidate_bins(words: np.ndarray, bins: int) -> np.ndarray:
    """Map (n, 3) uint32 words to (n, 3) uint32 bin numbers in [0, bins)."""
    if not 0 < bins < 2**32:
        raise ValueError(f"bin count out of range: {bins}")
    return ((words.astype(np.uint64) * np.uint64(bins)) >> np.uint64(32)).astype(np.uint32)


def oprf_outputs(
    rows: np.ndarray, bins: np.ndarray, hash_index: np.ndarray, width: int, salt: bytes
) -> np.ndarray:
    """H(b, i, row) for each (64-byte row, bin, hash index), `width` bytes each."""
    records = np.empty((len(rows), CODE_BYTES + 5), dtype=np.uint8)
    records[:, :CODE_BYTES] = rows
    records[:, CODE_BYTES : CODE_BYTES + 4] = (
        np.asarray(bins, dtype="<u4").reshape(-1, 1).view(np.uint8)
    )
    records[:, CODE_BYTES + 4] = hash_index
    base = hashlib.blake2b(digest_size=width, salt=salt, person=_OUT)
    data = memoryview(records.reshape(-1))  # slices of a memoryview copy nothing
    step = CODE_BYTES + 5
    out = b"".join(_digest(base, data[i : i + step]) for i in range(0, len(data), step))
    return np.frombuffer(out, dtype=np.uint8).reshape(len(rows), width)
