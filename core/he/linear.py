"""Encrypted vector/matrix times plaintext matrix: `E(x) @ W` as prod_i E(x_i)^(W_ij).

This is the kernel of HE logistic regression (E(residual) @ X) and SecureBoost (E(g) summed
per histogram bin, a 0/1 matrix). Weight 0 costs nothing and weight +-1 one multiplication, so
indicator matrices stay cheap; other weights cost one exponentiation with an exponent as long as
the encoded weight (a 40-fraction-bit float is ~40-50 bits, far below the 2048-bit exponents of
decryption). Negative weights use the inverse ciphertext, computed once per input element.
Large products are split by output column over the process pool (`core.he.parallel`).
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
    inverses: dict[tuple[int, int], mpz] = {}
    return [
        [_row_dot(r, row, column, n2, inverses) for r, row in enumerate(rows)] for column in columns
    ]


def _row_dot(
    r: int, row: list[mpz], column: list[int], n2: mpz, inverses: dict[tuple[int, int], mpz]
) -> mpz:
    acc = None
    for i, (c, w) in enumerate(zip(row, column, strict=True)):
        if not w:
            continue
        if w < 0:
            base = inverses.get((r, i))
            if base is None:
                base = inverses[(r, i)] = gmpy2.invert(c, n2)
            w = -w
        else:
            base = c
        term = base if w == 1 else gmpy2.powmod(base, w, n2)
        acc = term if acc is None else acc * term % n2
    # An empty product is the (deterministic) encryption of zero, 1.
    return mpz(1) if acc is None else acc
