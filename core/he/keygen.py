"""Paillier key generation (and the textbook encryption used as a test reference).

The key structure, its reasons and the security argument are documented in `core.he.keys`:
p = q = 3 (mod 4), gcd(p-1, q-1) = 2, gcd(n, (p-1)(q-1)) = 1, |p - q| large, n of exactly the
requested size, hs = (-y^2)^n mod n^2 for a random unit y.
"""

from __future__ import annotations

import random
import secrets

import gmpy2
from gmpy2 import mpz

from core.errors import ConfigError
from core.he.keys import PrivateKey, PublicKey

DEFAULT_KEY_BITS = 2048
MIN_KEY_BITS = 512
MIN_INSECURE_KEY_BITS = 128


def _random_prime(bits: int, rng: random.Random) -> mpz:
    """A random prime of exactly `bits` bits, = 3 (mod 4), with its two top bits set."""
    while True:
        start = mpz(rng.getrandbits(bits)) | (mpz(3) << (bits - 2)) | 1
        p = gmpy2.next_prime(start)
        if p.bit_length() == bits and p % 4 == 3:
            return p


def _choose_primes(bits: int, rng: random.Random) -> tuple[mpz, mpz]:
    p_bits = bits // 2
    while True:
        p = _random_prime(p_bits, rng)
        q = _random_prime(bits - p_bits, rng)
        n = p * q
        if (
            p != q
            and n.bit_length() == bits
            and gmpy2.gcd(p - 1, q - 1) == 2
            and gmpy2.gcd(n, (p - 1) * (q - 1)) == 1
            # Keep |p - q| large so that Fermat factoring around sqrt(n) is hopeless.
            and (p - q).bit_length() > p_bits - 8
        ):
            return p, q


def _check_sizes(bits: int, exponent_bits: int, allow_insecure: bool) -> None:
    floor = MIN_INSECURE_KEY_BITS if allow_insecure else MIN_KEY_BITS
    if bits < floor:
        raise ConfigError(
            f"Paillier key of {bits} bits is below the minimum of {floor} bits"
            + ("" if allow_insecure else " (tests may pass allow_insecure=True)")
        )
    if exponent_bits % 8 or not 64 <= exponent_bits <= bits:
        raise ConfigError(
            f"exponent_bits must be a multiple of 8 in [64, {bits}], got {exponent_bits}"
        )


def generate_keypair(
    bits: int = DEFAULT_KEY_BITS,
    *,
    exponent_bits: int | None = None,
    allow_insecure: bool = False,
    rng: random.Random | None = None,
) -> tuple[PublicKey, PrivateKey]:
    """Generate a Paillier key pair with an n of exactly `bits` bits.

    `exponent_bits` is the length of the encryption exponent x (default: bits/2 rounded up to a
    byte, the DJN choice). `rng` makes key generation reproducible in tests; by default the
    operating system's CSPRNG is used. Raises ConfigError for keys below 512 bits (128 with
    `allow_insecure=True`) or an exponent length that is not a multiple of 8 in [64, bits].
    """
    if exponent_bits is None:
        exponent_bits = max(64, (bits // 2 + 7) // 8 * 8)
    _check_sizes(bits, exponent_bits, allow_insecure)
    rng = rng if rng is not None else secrets.SystemRandom()
    p, q = _choose_primes(bits, rng)
    n = p * q
    while True:
        y = mpz(rng.getrandbits(bits)) % n
        if y > 1 and gmpy2.gcd(y, n) == 1:
            break
    h = (-y * y) % n
    public = PublicKey(n, gmpy2.powmod(h, n, n * n), exponent_bits)
    return public, PrivateKey(public, p, q)


def textbook_encrypt(public_key: PublicKey, m: int, r: int | None = None) -> mpz:
    """Textbook Paillier E(m) = g^m r^n mod n^2 with g = n + 1 (the reference for tests)."""
    n, n2 = public_key.n, public_key.n2
    if r is None:
        r = 0
        while gmpy2.gcd(r, n) != 1:
            r = secrets.randbelow(int(n))
    return gmpy2.powmod(n + 1, m % n, n2) * gmpy2.powmod(mpz(r), n, n2) % n2
