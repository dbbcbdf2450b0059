"""Encrypted vector/matrix times plaintext matrix: `E(x) @ W` as prod_i E(x_i)^(W_ij).

This is the kernel of HE logistic regression (E(residual) @ X) and SecureBoost (E(g) summed
per histogram bin, a 0/1 matrix). Each output is a multi-exponentiation computed with
Pippenger's bucket method (`multi_power`), which shares the squarings of all terms: an
indicator matrix costs one multiplication per non-zero entry, a float matrix (40 fraction bits,
~45-bit exponents) about 8-10 per entry instead of ~70 for separate exponentiations. Negative
weights go into a second product that is inverted once per output. Large products are split by
output column over the process pool (`core.he.parallel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import gmpy2
import numpy as np
from gmpy2 import mpz

from core.errors import ShapeError
from core.he import parallel
from core.he.encoding import check_safe_range, encode_signed

if TYPE_CHECKING:
    from core.he.ciphertext import CiphertextArray

# Below this many non-zero weight applications the pool's pickling costs more than it saves.
DOT_PARALLEL_MIN = 4096


def encrypted_dot(
    ct: CiphertextArray, matrix: object, fraction_bits: int, parallel_flag: bool | None = None
) -> CiphertextArray:
    """`ct @ matrix` for ct of shape (k,) or (r, k) and a plaintext (k,) or (k, m)."""
    arr = np.asarray(matrix)
    if ct.ndim not in (1, 2) or arr.ndim not in (1, 2) or arr.shape[0] != ct.shape[-1]:
        raise ShapeError(
            f"cannot compute ciphertext {ct.shape} dot plaintext {arr.shape}: expected (k,) or "
            "(r, k) times (k,) or (k, m)"
        )
    weights, used = encode_signed(arr, fraction_bits)
    check_safe_range(weights, ct.public_key.max_int)
    k = ct.shape[-1]
    cols = arr.shape[1] if arr.ndim == 2 else 1
    columns = [weights[j::cols] for j in range(cols)]
    rows = [list(row) for row in ct.data.reshape(-1, k)]
    nonzero = sum(1 for w in weights if w) * len(rows)
    use_pool = parallel.should_parallelise(
        parallel_flag, nonzero, DOT_PARALLEL_MIN, ct.public_key.bits
    )
    per_column = parallel.map_chunks(_columns_chunk, (ct.public_key.n2, rows), columns, use_pool)
    out = np.empty((len(rows), cols), dtype=object)
    for j, column in enumerate(per_column):
        out[:, j] = column
    shape = ct.shape[:-1] + arr.shape[1:]
    return ct._like(out.reshape(shape), ct.fraction_bits + used)


def _columns_chunk(
    shared: tuple[mpz, list[list[mpz]]], columns: Sequence[list[int]]
) -> list[list[mpz]]:
    """For each weight column, the encrypted dot product with every ciphertext row."""
    n2, rows = shared
    return [[_row_dot(row, column, n2) for row in rows] for column in columns]


def _row_dot(row: list[mpz], column: list[int], n2: mpz) -> mpz:
    """prod_i row[i]^column[i] mod n^2, as P / N with P (N) over positive (negative) weights."""
    positive = [(c, w) for c, w in zip(row, column, strict=True) if w > 0]
    negative = [(c, -w) for c, w in zip(row, column, strict=True) if w < 0]
    result = multi_power(positive, n2)
    if negative:
        # One inversion per output instead of one per negatively weighted input.
        result = result * gmpy2.invert(multi_power(negative, n2), n2) % n2
    return result


def multi_power(pairs: list[tuple[mpz, int]], modulus: mpz) -> mpz:
    """prod base^exponent mod modulus over (base, exponent >= 1) pairs; 1 for no pairs.

    Pippenger's bucket method: for each w-bit window of the exponents (top first), multiply
    every base into the bucket of its digit, then combine the buckets as prod_d B_d^d with two
    running products, and square the accumulator w times between windows. That costs about
    (bits / w) (pairs + 2^(w+1)) multiplications instead of ~1.5 bits per pair for separate
    exponentiations: for 1,000 pairs with 48-bit exponents, ~9,000 instead of ~72,000.
    """
    if len(pairs) <= 2:
        result = mpz(1)
        for base, exponent in pairs:
            term = base if exponent == 1 else gmpy2.powmod(base, exponent, modulus)
            result = result * term % modulus
        return result
    bits = max(exponent.bit_length() for _, exponent in pairs)
    width = _best_window(len(pairs), bits)
    result = None
    for shift in range((bits - 1) // width * width, -1, -width):
        if result is not None:
            result = gmpy2.powmod(result, 1 << width, modulus)
        window = _combine_buckets(_fill_buckets(pairs, shift, width, modulus), modulus)
        if window is not None:
            result = window if result is None else result * window % modulus
    assert result is not None, "the top window holds a non-zero digit"
    return result


def _best_window(count: int, bits: int) -> int:
    def cost(width: int) -> int:
        return -(-bits // width) * (count + (2 << width))

    return min(range(1, min(bits, 16) + 1), key=cost)


def _fill_buckets(
    pairs: list[tuple[mpz, int]], shift: int, width: int, modulus: mpz
) -> dict[int, mpz]:
    mask = (1 << width) - 1
    buckets: dict[int, mpz] = {}
    for base, exponent in pairs:
        digit = (exponent >> shift) & mask
        if digit:
            held = buckets.get(digit)
            buckets[digit] = base if held is None else held * base % modulus
    return buckets


def _combine_buckets(buckets: dict[int, mpz], modulus: mpz) -> mpz | None:
    """prod_d buckets[d]^d: running = prod_{e >= d} B_e, multiplied in once per d."""
    running = total = None
    for digit in range(max(buckets, default=0), 0, -1):
        bucket = buckets.get(digit)
        if bucket is not None:
            running = bucket if running is None else running * bucket % modulus
        if running is not None:
            total = running if total is None else total * running % modulus
    return total
