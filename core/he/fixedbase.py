"""Fixed-base exponentiation with a windowed precomputed table.

Paillier encryption in the DJN form (see `core.he.keys`) needs `hs^x mod n^2` for a fresh random
exponent `x` of `exponent_bits` bits, always with the same base `hs`. Writing `x` in base 2^w,
`x = sum_i x_i 2^(w i)`, gives `hs^x = prod_i T[i][x_i]` with `T[i][j] = hs^(j 2^(w i))`. With the
table built once per key, one exponentiation costs one modular multiplication per non-zero digit
(about exponent_bits / w) instead of the ~1.2 * exponent_bits multiplications of square-and-
multiply: 103 instead of ~1,250 for the 1024-bit exponents of a 2048-bit key with w = 10.

The table has ceil(exponent_bits / w) * (2^w - 1) entries. Measured in CPU time on this project's
2-core benchmark machine (2048-bit key): w = 8 gives ~860 powers/s, w = 10 ~1,000/s and w = 11
~1,070/s, but w = 11 nearly doubles the table (75 MB -> 134 MB of RSS) and its build time
(0.9 s -> 1.8 s) per key and process, which pays off only beyond ~30,000 encryptions per key;
so 10 bits is the default for long exponents and 8 bits for short ones (HEU's choice too).
`RadixSquareTable` (used for the public key's n^2) keeps entries as digit pairs in base n, which
makes each product another ~10-20% cheaper.
"""

from __future__ import annotations

import secrets

import gmpy2
import numpy as np
from gmpy2 import mpz

from core.errors import ConfigError

# 8 bits keeps tables small for short exponents (tests, small keys); 10 bits saves a fifth of
# the multiplications for 1024-bit exponents at the price of a table of 54 MB of numbers (75 MB
# of RSS) built in ~0.9 s.
SMALL_WINDOW_BITS = 8
LARGE_WINDOW_BITS = 10
LARGE_WINDOW_FROM_BITS = 768


def default_window_bits(exponent_bits: int) -> int:
    """The window width used for exponents of `exponent_bits` bits."""
    return LARGE_WINDOW_BITS if exponent_bits >= LARGE_WINDOW_FROM_BITS else SMALL_WINDOW_BITS


class FixedBaseTable:
    """Precomputed powers `base^(j * 2^(w i)) mod modulus` for exponents of `exponent_bits` bits."""

    def __init__(self, base: int, modulus: int, exponent_bits: int, window_bits: int | None = None):
        if exponent_bits <= 0 or exponent_bits % 8:
            raise ConfigError(f"exponent_bits must be a positive multiple of 8: {exponent_bits}")
        self.window_bits = window_bits or default_window_bits(exponent_bits)
        if not 1 <= self.window_bits <= 16:
            raise ConfigError(f"window_bits must be in [1, 16], got {self.window_bits}")
        self.modulus = mpz(modulus)
        self.exponent_bits = exponent_bits
        self.exponent_bytes = exponent_bits // 8
        self.digits = -(-exponent_bits // self.window_bits)
        self.rows = self._build_rows(mpz(base) % self.modulus)

    def _build_rows(self, base: mpz) -> list[list[mpz]]:
        rows = []
        row_base = base
        for _ in range(self.digits):
            # Index 0 holds 1 so that a row is indexable by any digit; zero digits are skipped.
            row = [mpz(1), row_base]
            for _ in range(2, 1 << self.window_bits):
                row.append(row[-1] * row_base % self.modulus)
            rows.append(row)
            # base^(2^(w(i+1))) = (last entry) * base^(2^(w i)).
            row_base = row[-1] * row_base % self.modulus
        return rows

    def digits_of(self, exponent: int) -> list[int]:
        """The base-2^w digits of `exponent` (least significant first), one per table row."""
        if not 0 <= exponent < 1 << self.exponent_bits:
            raise ConfigError(f"exponent must be in [0, 2^{self.exponent_bits})")
        mask = (1 << self.window_bits) - 1
        return [(exponent >> (self.window_bits * i)) & mask for i in range(self.digits)]

    def power_digits(self, digits: list[int]) -> mpz:
        """Return `base^(sum_i digits[i] 2^(w i)) mod modulus`: one product per non-zero digit."""
        modulus = self.modulus
        acc = None
        for row, digit in zip(self.rows, digits, strict=True):
            if digit:
                acc = row[digit] if acc is None else acc * row[digit] % modulus
        return mpz(1) if acc is None else acc

    def power_int(self, exponent: int) -> mpz:
        """Return `base^exponent mod modulus` for 0 <= exponent < 2^exponent_bits."""
        return self.power_digits(self.digits_of(exponent))

    def power(self, exponent: bytes) -> mpz:
        """Return `base^int.from_bytes(exponent, 'little') mod modulus` using the table."""
        if len(exponent) != self.exponent_bytes:
            raise ConfigError(f"exponent must be {self.exponent_bytes} bytes, got {len(exponent)}")
        return self.power_int(int.from_bytes(exponent, "little"))

    def random_digits(self, count: int) -> list[list[int]]:
        """Digits of `count` independent uniform exponents in [0, 2^exponent_bits)."""
        raw = np.frombuffer(secrets.token_bytes(self.exponent_bytes * count), dtype=np.uint8)
        bits = np.unpackbits(raw.reshape(count, self.exponent_bytes), axis=1, bitorder="little")
        # Pad the top digit with zero bits, then read each w-bit group as a little-endian number.
        padded = np.zeros((count, self.digits * self.window_bits), dtype=np.int64)
        padded[:, : self.exponent_bits] = bits
        weights = 1 << np.arange(self.window_bits, dtype=np.int64)
        return (padded.reshape(count, self.digits, self.window_bits) @ weights).tolist()

    def random_powers(self, count: int) -> list[mpz]:
        """Return `count` values `base^x` for independent uniform `x` in [0, 2^exponent_bits)."""
        return [self.power_digits(digits) for digits in self.random_digits(count)]


def exponent_from_digits(digits: list[int], window_bits: int) -> int:
    """The exponent whose base-2^window_bits digits are `digits` (least significant first)."""
    return sum(d << (window_bits * i) for i, d in enumerate(digits))


class RadixSquareTable(FixedBaseTable):
    """A `FixedBaseTable` modulo r^2 that keeps its entries as base-r digit pairs.

    Paillier computes modulo n^2 (and the key holder modulo p^2, q^2). Writing a = a0 + a1 r with
    a0, a1 < r, a product modulo r^2 is a0 b0 + (a0 b1 + a1 b0) r, since the r^2 term vanishes:
    three half-width products, one division of a0 b0 by r (low digit and carry) and one reduction
    of the high digit by r. In GMP that is about 20% cheaper than one full-width product followed
    by a full-width reduction modulo r^2, and the chain of products never leaves digit form.
    """

    def __init__(self, base: int, radix: int, exponent_bits: int, window_bits: int | None = None):
        self.radix = mpz(radix)
        super().__init__(base, self.radix * self.radix, exponent_bits, window_bits)

    def _build_rows(self, base: mpz) -> list[list[mpz]]:
        rows = super()._build_rows(base)
        for index, row in enumerate(rows):
            rows[index] = [tuple(reversed(gmpy2.f_divmod(entry, self.radix))) for entry in row]
        return rows

    def power_digits(self, digits: list[int]) -> mpz:
        """Return `base^(sum_i digits[i] 2^(w i)) mod r^2` with base-r digit arithmetic."""
        radix, divmod_ = self.radix, gmpy2.f_divmod
        low = high = None
        for row, digit in zip(self.rows, digits, strict=True):
            if digit:
                entry_low, entry_high = row[digit]
                if low is None:
                    low, high = entry_low, entry_high
                    continue
                carry, new_low = divmod_(low * entry_low, radix)
                high = (carry + low * entry_high + high * entry_low) % radix
                low = new_low
        return mpz(1) if low is None else low + high * radix
