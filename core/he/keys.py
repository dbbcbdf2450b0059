"""Paillier keys: generation, DJN fixed-base encryption, CRT decryption, key serialisation.

Scheme: Paillier (Eurocrypt 1999) with the encryption of Damgard, Jurik and Nielsen ("A
generalization of Paillier's public-key system with applications to electronic voting", IJIS
9(6), 2010; M. Jurik's PhD thesis, 2003). SecretFlow HEU's default "ZPaillier" implements the
same construction (its README cites DJN/Jurik, and it draws the exponent with k/2 bits as here).
Note that Ma, Han and Lei ("Optimized Paillier's cryptosystem with fast encryption and
decryption", ACSAC 2021) is a different, further optimised scheme (shorter exponents under a
stronger assumption, specially structured primes for faster decryption); we do not implement it.

- Key generation: primes p, q of k/2 bits with p = q = 3 (mod 4), gcd(p-1, q-1) = 2,
  gcd(n, (p-1)(q-1)) = 1, |p - q| large, n = pq of exactly k bits; g = n + 1. Pick y in Z*_n and
  h = -y^2 mod n: as -1 is a non-residue modulo p and q, h has Jacobi symbol +1 without being a
  square, and generates the (cyclic) group of Jacobi-symbol-1 elements with overwhelming
  probability. The public key is (n, hs = h^n mod n^2); the private key is (p, q).
- Encryption of m in Z_n: c = (1 + m n) hs^x mod n^2 with x uniform in [0, 2^l), l = k/2 by
  default (`exponent_bits`). hs^x is an n-th residue like the textbook r^n, but hs is a fixed
  base, so a precomputed windowed table (`core.he.fixedbase`) turns the 2048-bit-exponent
  exponentiation of textbook Paillier into ~103 modular multiplications. The key holder can
  compute the very same hs^x modulo p^2 and q^2 and join them by CRT (`PrivateKey.encrypt_array`),
  with products of half the width.
- Decryption with CRT: m_p = L_p(c^(p-1) mod p^2) h_p mod p, with L_p(u) = (u - 1)/p and h_p the
  precomputed inverse of L_p(g^(p-1) mod p^2); the same mod q; m by CRT. Two exponentiations
  modulo 2048-bit p^2, q^2 with 1024-bit exponents instead of one modulo n^2 with a 2048-bit one.
- Homomorphic operations (`core.he.ciphertext`): E(a) E(b) = E(a + b), E(a)^k = E(k a),
  E(a)^-1 = E(-a); re-randomisation multiplies by a fresh hs^x.

Security: IND-CPA under the decisional composite residuosity (DCR) assumption plus the assumption
that hs^x with an l-bit x is indistinguishable from a uniformly random n-th residue. For l = k/2
this is supported by Hastad, Schrift and Shamir (JCSS 1993): modulo a composite, an exponent of
half the modulus length is as good as a full-length one unless factoring is easy. Shorter
exponents (e.g. 2 x 112 bits for 2048-bit keys, 4x faster encryption) rest on a stronger
short-exponent assumption and are available only on request. Keys below 2048 bits fall short of
112-bit security; 512 bits is the floor outside tests (`allow_insecure=True` lets unit tests go
down to 128). Threat model: semi-honest parties. Ciphertexts are not authenticated, and results
of homomorphic operations are not re-randomised until `rerandomize()` is called.
"""

from __future__ import annotations

import hashlib
import struct
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import gmpy2
import numpy as np
from gmpy2 import mpz

from core.errors import EncodingError, EngineError
from core.he.encoding import (
    DEFAULT_FRACTION_BITS,
    check_safe_range,
    decode_residues,
    encode_signed,
    object_array,
    to_residues,
)
from core.he.fixedbase import FixedBaseTable, RadixSquareTable
from core.he.parallel import map_chunks, should_parallelise

if TYPE_CHECKING:
    from core.he.ciphertext import CiphertextArray

# Below these batch sizes (2048-bit keys; scaled up for smaller keys, see parallel.py) the
# process pool costs more than it saves.
ENCRYPT_PARALLEL_MIN = 256
DECRYPT_PARALLEL_MIN = 48
_PK_MAGIC = b"PPHEPK1\0"


class KeyMismatchError(EngineError):
    """Ciphertexts under different keys were combined, or decrypted with a foreign key."""


class PublicKey:
    """Paillier public key (n, hs); encrypts numpy arrays into `CiphertextArray`s."""

    def __init__(self, n: int, hs: int, exponent_bits: int):
        self.n = mpz(n)
        self.n2 = self.n * self.n
        self.hs = mpz(hs)
        self.exponent_bits = exponent_bits
        self.bits = self.n.bit_length()
        # |m| <= n/3 decodes unambiguously (see core.he.encoding).
        self.max_int = int(self.n // 3)
        digest = hashlib.sha256(self.to_bytes()).digest()
        self.key_id = digest[:16]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and self.key_id == other.key_id

    def __hash__(self) -> int:
        return hash(self.key_id)

    def __repr__(self) -> str:
        return f"PublicKey(bits={self.bits}, id={self.key_id.hex()[:12]})"

    @cached_property
    def table(self) -> FixedBaseTable:
        """Fixed-base table of hs, built on first encryption (~1 s and ~75 MB for 2048 bits)."""
        return RadixSquareTable(self.hs, self.n, self.exponent_bits)

    def state(self) -> tuple[int, int, int]:
        """Picklable state from which a worker process rebuilds this key."""
        return int(self.n), int(self.hs), self.exponent_bits

    def __reduce__(self) -> tuple[object, tuple[int, int, int]]:
        # Pickle the key, never its (large, rebuildable) table.
        return PublicKey, self.state()

    def encrypt_residues(self, residues: Sequence[int], parallel_flag: bool = False) -> list[mpz]:
        """Encrypt plaintexts already in Z_n; on the process pool when `parallel_flag`."""
        return map_chunks(
            _encrypt_chunk, self.state(), residues, parallel_flag, local=self._encrypt_local
        )

    def _encrypt_local(self, residues: Sequence[int]) -> list[mpz]:
        return _apply_messages(self, residues, self.table.random_powers(len(residues)))

    def encrypt_array(
        self,
        values: object,
        *,
        fraction_bits: int = DEFAULT_FRACTION_BITS,
        parallel: bool | None = None,
    ) -> CiphertextArray:
        """Encrypt an int or float array elementwise, keeping its shape.

        Ints are encoded exactly; floats in fixed point with `fraction_bits`. `parallel=None`
        uses the process pool for batches of at least ENCRYPT_PARALLEL_MIN values.
        Raises EncodingError for non-numeric dtypes, NaN/inf and values beyond the safe range.
        """
        return self.encrypt_with(self.encrypt_residues, values, fraction_bits, parallel)

    def encrypt_with(
        self,
        encrypt: Callable[[Sequence[int], bool], list[mpz]],
        values: object,
        fraction_bits: int,
        parallel: bool | None,
    ) -> CiphertextArray:
        """Encode `values` and encrypt them with `encrypt(residues, use_pool)`."""
        from core.he.ciphertext import CiphertextArray

        shape = np.shape(values)
        ints, used_bits = encode_signed(values, fraction_bits)
        check_safe_range(ints, self.max_int)
        use_pool = should_parallelise(parallel, len(ints), ENCRYPT_PARALLEL_MIN, self.bits)
        cts = encrypt(to_residues(ints, int(self.n)), use_pool)
        return CiphertextArray(self, object_array(cts, shape), used_bits)

    def random_masks(self, count: int, parallel_flag: bool = False) -> list[mpz]:
        """`count` fresh encryptions of zero (hs^x), used for re-randomisation."""
        return self.encrypt_residues([0] * count, parallel_flag)

    def to_bytes(self) -> bytes:
        """Serialise (n, hs, exponent length) for sending to other parties."""
        n_bytes = int(self.n).to_bytes((self.bits + 7) // 8, "big")
        hs_bytes = int(self.hs).to_bytes(2 * len(n_bytes), "big")
        return _PK_MAGIC + struct.pack(">II", len(n_bytes), self.exponent_bits) + n_bytes + hs_bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> PublicKey:
        """Inverse of `to_bytes`; EncodingError on malformed input."""
        head = len(_PK_MAGIC) + 8
        if len(data) < head or data[: len(_PK_MAGIC)] != _PK_MAGIC:
            raise EncodingError(f"not a serialised Paillier public key ({len(data)} bytes)")
        n_len, exponent_bits = struct.unpack(">II", data[len(_PK_MAGIC) : head])
        if len(data) != head + 3 * n_len:
            raise EncodingError(f"public key of {len(data)} bytes, expected {head + 3 * n_len}")
        n = int.from_bytes(data[head : head + n_len], "big")
        hs = int.from_bytes(data[head + n_len :], "big")
        if n < 3 or not 0 < hs < n * n or exponent_bits % 8 or exponent_bits <= 0:
            raise EncodingError("serialised public key holds out-of-range values")
        return cls(n, hs, exponent_bits)


class PrivateKey:
    """Paillier private key (p, q) with CRT constants; decrypts `CiphertextArray`s."""

    def __init__(self, public_key: PublicKey, p: int, q: int):
        p, q = mpz(p), mpz(q)
        if p * q != public_key.n:
            raise KeyMismatchError("p * q does not equal the public modulus n")
        self.public_key = public_key
        self.p, self.q = p, q
        self.p2, self.q2 = p * p, q * q
        g = public_key.n + 1
        self.hp = gmpy2.invert((gmpy2.powmod(g, p - 1, self.p2) - 1) // p, p)
        self.hq = gmpy2.invert((gmpy2.powmod(g, q - 1, self.q2) - 1) // q, q)
        self.p_inv_q = gmpy2.invert(p, q)
        self.p2_inv_q2 = gmpy2.invert(self.p2, self.q2)

    def __repr__(self) -> str:
        return f"PrivateKey(bits={self.public_key.bits}, id={self.public_key.key_id.hex()[:12]})"

    def state(self) -> tuple[tuple[int, int, int], int, int]:
        """Picklable state for worker processes (the pool runs inside this party's trust domain)."""
        return self.public_key.state(), int(self.p), int(self.q)

    def __reduce__(self) -> tuple[object, tuple[PublicKey, mpz, mpz]]:
        return PrivateKey, (self.public_key, self.p, self.q)

    def decrypt_residue(self, c: int) -> mpz:
        """Decrypt one raw ciphertext to its plaintext in Z_n (CRT)."""
        p, q = self.p, self.q
        mp = (gmpy2.powmod(c % self.p2, p - 1, self.p2) - 1) // p * self.hp % p
        mq = (gmpy2.powmod(c % self.q2, q - 1, self.q2) - 1) // q * self.hq % q
        return mp + (mq - mp) * self.p_inv_q % q * p

    def decrypt_residues(self, cts: Sequence[int], parallel_flag: bool = False) -> list[mpz]:
        """Decrypt raw ciphertexts; on the process pool when `parallel_flag`."""
        return map_chunks(
            _decrypt_chunk, self.state(), cts, parallel_flag, local=self._decrypt_local
        )

    def _decrypt_local(self, cts: Sequence[int]) -> list[mpz]:
        return [self.decrypt_residue(c) for c in cts]

    @cached_property
    def crt_tables(self) -> tuple[FixedBaseTable, FixedBaseTable]:
        """Fixed-base tables of hs mod p^2 and mod q^2 for the key holder's faster encryption."""
        pk = self.public_key
        return (
            FixedBaseTable(pk.hs % self.p2, self.p2, pk.exponent_bits),
            FixedBaseTable(pk.hs % self.q2, self.q2, pk.exponent_bits),
        )

    def crt_power(self, digits: list[int]) -> mpz:
        """hs^x mod n^2 for x given by its table digits, computed modulo p^2 and q^2
        (half-width products) and joined by CRT."""
        table_p, table_q = self.crt_tables
        at_p, at_q = table_p.power_digits(digits), table_q.power_digits(digits)
        return at_p + self.p2 * ((at_q - at_p) * self.p2_inv_q2 % self.q2)

    def encrypt_residues(self, residues: Sequence[int], parallel_flag: bool = False) -> list[mpz]:
        """Encrypt plaintexts in Z_n like the public key does, but faster, through CRT."""
        return map_chunks(
            _encrypt_crt_chunk, self.state(), residues, parallel_flag, local=self._encrypt_local
        )

    def _encrypt_local(self, residues: Sequence[int]) -> list[mpz]:
        digit_rows = self.crt_tables[0].random_digits(len(residues))
        masks = [self.crt_power(digits) for digits in digit_rows]
        return _apply_messages(self.public_key, residues, masks)

    def encrypt_array(
        self,
        values: object,
        *,
        fraction_bits: int = DEFAULT_FRACTION_BITS,
        parallel: bool | None = None,
    ) -> CiphertextArray:
        """`PublicKey.encrypt_array` for the key holder: the same ciphertext distribution, but
        each hs^x is computed modulo p^2 and q^2, whose products are ~3x cheaper than mod n^2.
        """
        pk = self.public_key
        return pk.encrypt_with(self.encrypt_residues, values, fraction_bits, parallel)

    def check_owner(self, ct: CiphertextArray) -> None:
        """Raise KeyMismatchError unless `ct` was encrypted under this key's public key."""
        if ct.public_key.key_id != self.public_key.key_id:
            raise KeyMismatchError(
                f"ciphertext is under key {ct.public_key.key_id.hex()[:12]}, "
                f"this private key is {self.public_key.key_id.hex()[:12]}"
            )

    def decrypt_array(self, ct: CiphertextArray, *, parallel: bool | None = None) -> np.ndarray:
        """Decrypt and decode to a numpy array of `ct.shape`.

        Returns int64 (Python-int objects beyond int64) for exact ciphertexts and float64 for
        fixed-point ones. Raises KeyMismatchError for a foreign ciphertext and EncodingError
        when a value decodes outside the safe range (overflow).
        """
        self.check_owner(ct)
        pk = self.public_key
        flat = ct.data.ravel().tolist()
        use_pool = should_parallelise(parallel, len(flat), DECRYPT_PARALLEL_MIN, pk.bits)
        residues = self.decrypt_residues(flat, use_pool)
        return decode_residues(residues, int(pk.n), pk.max_int, ct.fraction_bits, ct.shape)


def _apply_messages(key: PublicKey, residues: Sequence[int], masks: list[mpz]) -> list[mpz]:
    """(1 + m n) hs^x for each message m and mask hs^x."""
    n, n2 = key.n, key.n2
    # (1 + m n) mask = mask + n (m mask mod n)  (mod n^2): cheaper than an n^2-wide product.
    return [
        mask if not m else (mask + n * (m * mask % n)) % n2
        for m, mask in zip(residues, masks, strict=True)
    ]


# --- worker-side entry points (module level so they pickle by reference) --------------------

# Workers keep the tables of the last few keys only: each costs ~75 MB for a 2048-bit key, and a
# long-running server sees a new key per run.
_WORKER_CACHE_SIZE = 2
_worker_public: OrderedDict[tuple[int, int, int], PublicKey] = OrderedDict()
_worker_private: OrderedDict[tuple[int, int], PrivateKey] = OrderedDict()


def _cached(cache: OrderedDict, key: object, build: Callable[[], object]) -> Any:
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = cache[key] = build()
    while len(cache) > _WORKER_CACHE_SIZE:
        cache.popitem(last=False)
    return value


def _encrypt_chunk(state: tuple[int, int, int], residues: Sequence[int]) -> list[mpz]:
    return _cached(_worker_public, state, lambda: PublicKey(*state))._encrypt_local(residues)


def _worker_private_key(state: tuple[tuple[int, int, int], int, int]) -> PrivateKey:
    public_state, p, q = state
    return _cached(_worker_private, (p, q), lambda: PrivateKey(PublicKey(*public_state), p, q))


def _encrypt_crt_chunk(
    state: tuple[tuple[int, int, int], int, int], residues: Sequence[int]
) -> list[mpz]:
    return _worker_private_key(state)._encrypt_local(residues)


def _decrypt_chunk(state: tuple[tuple[int, int, int], int, int], cts: Sequence[int]) -> list[mpz]:
    return _worker_private_key(state)._decrypt_local(cts)
