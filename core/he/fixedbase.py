"""Fixed-base exponentiation with a byte-windowed precomputed table.

Paillier encryption in the DJN form (see `core.he.paillier`) needs `hs^x mod n^2` for a fresh
random exponent `x` of `exponent_bits` bits, always with the same base `hs`. Writing `x` in base
256, `x = sum_i x_i 256^i`, gives `hs^x = prod_i T[i][x_i]` with `T[i][j] = hs^(j * 256^i)`. With
the table built once per key, one exponentiation costs one modular multiplication per non-zero
byte of `x` (about `exponent_bits / 8`) instead of the ~1.2 * exponent_bits multiplications of
square-and-multiply: 128 instead of ~1,250 for the 1024-bit exponents of a 2048-bit key.

A window of one byte is the sweet spot in Python: the random exponent comes straight out of
`secrets.token_bytes` with no bit slicing, and the table stays at `exponent_bits / 8 * 255`
entries (16.7 MB for a 2048-bit key). Wider windows cut few multiplications for 2^w-fold memory.
"""

from __future__ import annotations

import secrets

import gmpy2
from gmpy2 import mpz

from core.errors import ConfigError

WINDOW_BITS = 8


class FixedBaseTable:
    """Precomputed powers `base^(j * 256^i) mod modulus` for exponents of `exponent_bits` bits."""

    def __init__(self, base: int, modulus: int, exponent_bits: int):
        if exponent_bits <= 0 or exponent_bits % WINDOW_BITS:
            raise ConfigError(f"exponent_bits must be a positive multiple of 8: {exponent_bits}")
        self.modulus = mpz(modulus)
        self.exponent_bits = exponent_bits
        self.exponent_bytes = exponent_bits // WINDOW_BITS
        self.rows = self._build_rows(mpz(base) % self.modulus)

    def _build_rows(self, base: mpz) -> list[list[mpz]]:
        rows = []
        row_base = base
        for _ in range(self.exponent_bytes):
            # Index 0 holds 1 so that a row is indexable by any byte; zero bytes are skipped anyway.
            row = [mpz(1), row_base]
            for _ in range(2, 1 << WINDOW_BITS):
                row.append(row[-1] * row_base % self.modulus)
            rows.append(row)
            # base^(256^(i+1)) = (last entry) * base^(256^i).
            row_base = row[-1] * row_base % self.modulus
        return rows

    def power(self, exponent: bytes) -> mpz:
        """Return `base^int.from_bytes(exponent, 'little') mod modulus` using the table."""
        if len(exponent) != self.exponent_bytes:
            raise ConfigError(f"exponent must be {self.exponent_bytes} bytes, got {len(exponent)}")
        modulus = self.modulus
        acc = None
        for row, digit in zip(self.rows, exponent, strict=True):
            if digit:
                acc = row[digit] if acc is None else acc * row[digit] % modulus
        return mpz(1) if acc is None else acc

    def random_powers(self, count: int) -> list[mpz]:
        """Return `count` values `base^x` for independent uniform `x` in [0, 2^exponent_bits)."""
        step = self.exponent_bytes
        pool = secrets.token_bytes(step * count)
        return [self.power(pool[i * step : (i + 1) * step]) for i in range(count)]


def exponent_from_bytes(exponent: bytes) -> mpz:
    """The integer `FixedBaseTable.power` interprets `exponent` as (little-endian)."""
    return mpz(int.from_bytes(exponent, "little"))


def power_reference(base: int, exponent: bytes, modulus: int) -> mpz:
    """Square-and-multiply reference for `FixedBaseTable.power` (used by tests)."""
    return gmpy2.powmod(mpz(base), exponent_from_bytes(exponent), mpz(modulus))
