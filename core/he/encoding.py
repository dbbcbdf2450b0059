"""Fixed-point encoding of numpy arrays into the Paillier plaintext space Z_n.

A real `v` is encoded as the integer `round(v * 2^f)` (`f` = fraction bits, default 40); an
integer array is encoded exactly with `f = 0`. A signed integer `m` is stored as `m mod n`, so
negative numbers occupy the top of Z_n. Only `|m| <= n // 3` is accepted and decoded (the *safe
range*); a decrypted residue in the band (n/3, 2n/3) means a homomorphic computation overflowed
(or the ciphertext was decrypted under the wrong key) and is reported, never silently wrapped.
The gap between n/3 and n/2 lets the sum of two in-range values still decode unambiguously as
"out of range" instead of aliasing to a wrong in-range value.

Rounding: `v * 2^f` is exact in binary floating point (a power-of-two scale), so the only error
is the final rounding to an integer, at most `2^-(f+1)` per encoded real; products of two encoded
reals carry `2f` fraction bits and stay exact until decoding.
"""

from __future__ import annotations

import numpy as np

from core.errors import EncodingError

DEFAULT_FRACTION_BITS = 40
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def as_numeric(values: object) -> np.ndarray:
    """Return `values` as an array of bool, int, uint, float or Python-int object dtype.

    Raises EncodingError for any other dtype (strings, complex, mixed objects, ...).
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr
    if arr.dtype.kind == "O" and all(isinstance(v, int | np.integer) for v in arr.flat):
        return arr
    raise EncodingError(f"cannot encode dtype {arr.dtype} for Paillier: expected ints or floats")


def is_integer_array(arr: np.ndarray) -> bool:
    """True when `arr` (from `as_numeric`) is encoded exactly, with zero fraction bits."""
    return arr.dtype.kind in "biuO"


def encode_signed(values: object, fraction_bits: int) -> tuple[list[int], int]:
    """Encode `values` as signed Python ints; return them (flattened) and the fraction bits used.

    Integer input is encoded exactly and reports 0 fraction bits; floats use `fraction_bits`.
    Raises EncodingError for non-numeric dtypes and non-finite values.
    """
    arr = as_numeric(values)
    if is_integer_array(arr):
        return [int(v) for v in arr.ravel().tolist()], 0
    if fraction_bits < 0:
        raise EncodingError(f"fraction_bits must be >= 0, got {fraction_bits}")
    arr = arr.astype(np.float64)
    _check_finite(arr, "cannot encode non-finite value")
    with np.errstate(over="ignore"):
        scaled = np.rint(arr * 2.0**fraction_bits)
    _check_finite(scaled, f"value too large to encode with {fraction_bits} fraction bits:", arr)
    return [int(v) for v in scaled.ravel().tolist()], fraction_bits


def _check_finite(arr: np.ndarray, what: str, shown: np.ndarray | None = None) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), arr.shape))
        value = float((arr if shown is None else shown)[index])
        raise EncodingError(f"{what} {value!r} at index {index}")


def check_safe_range(ints: list[int], max_int: int) -> None:
    """Raise EncodingError naming the first value with |value| > max_int."""
    for position, value in enumerate(ints):
        if abs(value) > max_int:
            raise EncodingError(
                f"encoded value {value} at flat index {position} exceeds the safe range "
                f"+-{max_int} (about 2^{max_int.bit_length()}) of this key"
            )


def to_residues(ints: list[int], n: int) -> list[int]:
    """Map signed ints into Z_n (negatives to the top half)."""
    return [v % n for v in ints]


def to_signed(residue: int, n: int, max_int: int) -> int:
    """Inverse of `to_residues` for one value; EncodingError when outside the safe range."""
    if residue <= max_int:
        return residue
    if residue >= n - max_int:
        return residue - n
    raise EncodingError(
        f"decrypted residue lies outside the safe range +-{max_int} (about "
        f"2^{max_int.bit_length()}): the homomorphic computation overflowed, or the "
        "ciphertext was produced under another key"
    )


def object_array(items: list[object], shape: tuple[int, ...]) -> np.ndarray:
    """An object array of `shape` holding `items` (never letting numpy unpack them)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(shape)


def signed_to_array(signed: list[int], fraction_bits: int, shape: tuple[int, ...]) -> np.ndarray:
    """Decoded signed ints as int64 (objects beyond int64) or, with fraction bits, float64."""
    if fraction_bits == 0:
        fits = all(_INT64_MIN <= v <= _INT64_MAX for v in signed)
        return np.array(signed, dtype=np.int64 if fits else object).reshape(shape)
    scale = 1 << fraction_bits
    # Python int / int is correctly rounded, even beyond 2^53.
    return np.array([v / scale for v in signed], dtype=np.float64).reshape(shape)


def decode_residues(
    residues: list[int], n: int, max_int: int, fraction_bits: int, shape: tuple[int, ...]
) -> np.ndarray:
    """Decode residues of Z_n into an array of `shape`.

    Zero fraction bits give int64 (or Python-int objects when a value exceeds int64); otherwise
    float64, each value correctly rounded from the exact rational `m / 2^fraction_bits`.
    """
    return signed_to_array([to_signed(int(r), n, max_int) for r in residues], fraction_bits, shape)
