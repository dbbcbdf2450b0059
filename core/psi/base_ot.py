"""Base oblivious transfers for OT extension: Chou-Orlandi "simplest OT" on edwards25519.

Scheme (Chou and Orlandi, "The Simplest Protocol for Oblivious Transfer", LATINCRYPT 2015),
batched as random 1-out-of-2 OT. Parties: an OT *sender*, who ends with two random seeds
(k0_i, k1_i) per OT, and an OT *receiver* with choice bits c_i, who ends with k_{c_i, i}.

1. Sender: secret scalar a, sends A = aG.
2. Receiver: for each i a secret scalar b_i, sends B_i = b_i G + c_i A; its seed is
   H(i, A, B_i, b_i A).
3. Sender: k0_i = H(i, A, B_i, a B_i), k1_i = H(i, A, B_i, a B_i - a A).

Why it works: if c_i = 0 then a B_i = a b_i G = b_i A; if c_i = 1 then a B_i - a A = b_i A.
Threat model: semi-honest parties. B_i is uniform in the prime-order group whatever c_i is, so
the sender learns nothing about the choices; the receiver cannot compute a(B_i - A) for its
c_i = 0 (nor a B_i for c_i = 1) without solving computational Diffie-Hellman, and H (BLAKE2b,
modelled as a random oracle, hashing A and B_i as well, as Chou-Orlandi's corrected version
does) turns that group element into a uniform seed. The index i separates the OTs of a batch.

Group: the prime-order subgroup of edwards25519 through libsodium's `*_noclamp` functions
(PyNaCl bindings); peers' points are checked with `crypto_core_ed25519_is_valid_point`, which
rejects small-order and non-canonical encodings.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
from nacl.bindings import (
    crypto_core_ed25519_add,
    crypto_core_ed25519_is_valid_point,
    crypto_core_ed25519_scalar_reduce,
    crypto_core_ed25519_sub,
    crypto_scalarmult_ed25519_base_noclamp,
    crypto_scalarmult_ed25519_noclamp,
)

from core.errors import LinkError
from core.psi.bitmatrix import SEED_BYTES

POINT = 32
_PERSON = b"privpad-base-ot"


def random_scalar() -> bytes:
    """A uniform scalar modulo the group order (64 random bytes reduced: bias 2^-259)."""
    return crypto_core_ed25519_scalar_reduce(os.urandom(64))


def seed_of(index: int, a_point: bytes, b_point: bytes, shared: bytes) -> bytes:
    """Hash one OT's transcript and shared point to a SEED_BYTES seed."""
    h = hashlib.blake2b(digest_size=SEED_BYTES, person=_PERSON)
    h.update(index.to_bytes(4, "little") + a_point + b_point + shared)
    return h.digest()


def check_points(raw: object, count: int, who: str) -> list[bytes]:
    """Split a peer's (count, 32) uint8 array into points; refuse anything malformed."""
    ok = isinstance(raw, np.ndarray) and raw.dtype == np.uint8 and raw.shape == (count, POINT)
    points = [bytes(row) for row in raw] if ok else []
    if not ok or not all(crypto_core_ed25519_is_valid_point(p) for p in points):
        raise LinkError(f"{who} sent malformed base-OT points")
    return points


class OtSender:
    """The sender's side: `first_message()`, then `seeds(peer points)` -> [(k0_i, k1_i)]."""

    def __init__(self, count: int):
        self.count = count
        self._a = random_scalar()
        self.a_point = crypto_scalarmult_ed25519_base_noclamp(self._a)

    def first_message(self) -> np.ndarray:
        return np.frombuffer(self.a_point, dtype=np.uint8).reshape(1, POINT).copy()

    def seeds(self, b_points: list[bytes]) -> list[tuple[bytes, bytes]]:
        a_a = crypto_scalarmult_ed25519_noclamp(self._a, self.a_point)
        pairs = []
        for i, b_point in enumerate(b_points):
            a_b = crypto_scalarmult_ed25519_noclamp(self._a, b_point)
            pairs.append(
                (
                    seed_of(i, self.a_point, b_point, a_b),
                    seed_of(i, self.a_point, b_point, crypto_core_ed25519_sub(a_b, a_a)),
                )
            )
        return pairs


class OtReceiver:
    """The receiver's side: `reply(A)` -> points to send, then `seeds` -> [k_{c_i, i}]."""

    def __init__(self, choices: np.ndarray):
        self.choices = np.asarray(choices, dtype=bool)
        self.seeds: list[bytes] = []

    def reply(self, a_point: bytes) -> np.ndarray:
        out = np.empty((len(self.choices), POINT), dtype=np.uint8)
        for i, choice in enumerate(self.choices):
            b = random_scalar()
            b_point = crypto_scalarmult_ed25519_base_noclamp(b)
            if choice:
                b_point = crypto_core_ed25519_add(b_point, a_point)
            out[i] = np.frombuffer(b_point, dtype=np.uint8)
            shared = crypto_scalarmult_ed25519_noclamp(b, a_point)
            self.seeds.append(seed_of(i, a_point, b_point, shared))
        return out
