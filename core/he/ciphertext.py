"""Arrays of Paillier ciphertexts with numpy-like homomorphic arithmetic.

A `CiphertextArray` holds raw ciphertexts (gmpy2 integers mod n^2) in a numpy object array,
the public key they belong to and the number of fixed-point fraction bits `f` of the plaintexts
(0 = exact integers). Operations follow numpy broadcasting on shapes:

- ct + ct:  c1 c2 mod n^2; operands with different `f` are first aligned by raising the
  smaller scale (c^(2^d) encrypts m 2^d).
- ct + pt:  c (1 + m n) mod n^2, the plaintext encoded at the ciphertext's scale.
- ct * pt:  c^k mod n^2 for the encoded plaintext k (negative k through c^-1); a float
  plaintext adds its fraction bits to the result's `f`.
- -ct, ct - x, x - ct, sum(axis), dot(matrix) build on these.

Results are not re-randomised: a product with a known scalar reveals
its structure to whoever sees both. Call `rerandomize()` before sending a result to a party
that must not link it to its inputs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import gmpy2
import numpy as np
from gmpy2 import mpz

from core.errors import EncodingError, ShapeError, UnsupportedOperation
from core.he.encoding import (
    DEFAULT_FRACTION_BITS,
    as_numeric,
    check_safe_range,
    encode_signed,
    is_integer_array,
)
from core.he.keys import ENCRYPT_PARALLEL_MIN, KeyMismatchError, PublicKey
from core.he.linear import encrypted_dot
from core.he.parallel import should_parallelise

_CT_MAGIC = b"PPHECT1\0"
_ONE = mpz(1)


def _binary(func: Callable[[mpz, mpz], mpz]) -> np.ufunc:
    return np.frompyfunc(func, 2, 1)


class CiphertextArray:
    """Paillier ciphertexts shaped like a numpy array, under one public key."""

    __array_ufunc__ = None  # make `ndarray + CiphertextArray` defer to our __radd__

    def __init__(self, public_key: PublicKey, data: np.ndarray, fraction_bits: int):
        assert data.dtype == object, "ciphertexts live in object arrays"
        self.public_key = public_key
        self.data = data
        self.fraction_bits = fraction_bits

    # --- array protocol ---------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"CiphertextArray(shape={self.shape}, fraction_bits={self.fraction_bits})"

    def __getitem__(self, index: object) -> CiphertextArray:
        picked = self.data[index]
        if not isinstance(picked, np.ndarray):
            picked = _scalar_array(picked)
        return self._like(picked)

    def reshape(self, *shape: int | tuple[int, ...]) -> CiphertextArray:
        return self._like(self.data.reshape(*shape))

    def ravel(self) -> CiphertextArray:
        return self._like(self.data.ravel())

    @classmethod
    def concatenate(cls, arrays: list[CiphertextArray], axis: int = 0) -> CiphertextArray:
        """Join ciphertext arrays under one key along `axis`, like `np.concatenate`.

        Scales are aligned to the largest fraction bits. Raises ShapeError for an empty list or
        shapes numpy cannot join, KeyMismatchError for arrays under different keys.
        """
        if not arrays:
            raise ShapeError("need at least one CiphertextArray to concatenate")
        first = arrays[0]
        for other in arrays[1:]:
            first._check_key(other)
        bits = max(a.fraction_bits for a in arrays)
        try:
            data = np.concatenate([a.rescale(bits).data for a in arrays], axis=axis)
        except ValueError as exc:
            shapes = [a.shape for a in arrays]
            raise ShapeError(f"cannot concatenate shapes {shapes} along axis {axis}") from exc
        return first._like(data, bits)

    def _like(self, data: np.ndarray, fraction_bits: int | None = None) -> CiphertextArray:
        bits = self.fraction_bits if fraction_bits is None else fraction_bits
        return CiphertextArray(self.public_key, data, bits)

    # --- scale handling ---------------------------------------------------------------------

    def rescale(self, fraction_bits: int) -> CiphertextArray:
        """The same values with `fraction_bits` >= the current ones (m -> m 2^d)."""
        shift = fraction_bits - self.fraction_bits
        if shift < 0:
            raise EncodingError(
                f"cannot lower fraction bits homomorphically ({self.fraction_bits} -> "
                f"{fraction_bits}): division needs the private key"
            )
        if shift == 0:
            return self
        factor, n2 = mpz(1) << shift, self.public_key.n2
        data = _apply(_binary(lambda c, _k: gmpy2.powmod(c, factor, n2)), self.data, None)
        return self._like(data, fraction_bits)

    def _encode_plain(
        self, values: object, fraction_bits: int, exact_scale: bool = False
    ) -> tuple[np.ndarray, int]:
        """Signed ints of `values` (object array, its shape) and the fraction bits used.

        Integer input is encoded with 0 fraction bits, or scaled to exactly `fraction_bits`
        when `exact_scale` (for addition, where both sides must share one scale).
        """
        arr = as_numeric(values)
        ints, used = encode_signed(arr, fraction_bits)
        if exact_scale and used != fraction_bits:
            ints, used = [v << fraction_bits for v in ints], fraction_bits
        check_safe_range(ints, self.public_key.max_int)
        out = np.empty(len(ints), dtype=object)
        out[:] = ints
        return out.reshape(arr.shape), used

    # --- homomorphic arithmetic ---------------------------------------------------------------

    def _check_key(self, other: CiphertextArray) -> None:
        if other.public_key.key_id != self.public_key.key_id:
            raise KeyMismatchError(
                f"cannot combine ciphertexts under keys {self.public_key.key_id.hex()[:12]} "
                f"and {other.public_key.key_id.hex()[:12]}"
            )

    def __add__(self, other: object) -> CiphertextArray:
        if isinstance(other, CiphertextArray):
            self._check_key(other)
            bits = max(self.fraction_bits, other.fraction_bits)
            left, right = self.rescale(bits), other.rescale(bits)
            n2 = self.public_key.n2
            return self._like(_broadcast(_binary(lambda a, b: a * b % n2), left, right.data), bits)
        return self._add_plain(other)

    __radd__ = __add__

    def _add_plain(self, values: object, negate: bool = False) -> CiphertextArray:
        arr = as_numeric(values)
        # A float plaintext needs fraction bits; an exact ciphertext is scaled up to receive it.
        target = self if is_integer_array(arr) else self.rescale(self._float_bits())
        encoded = target._encode_plain(arr, target.fraction_bits, exact_scale=True)[0]
        if negate:
            encoded = -encoded
        n, n2 = target.public_key.n, target.public_key.n2
        # c (1 + m n) = c + n (m c mod n)  (mod n^2), valid for negative m too.
        add = _binary(lambda c, m: (c + n * (m * c % n)) % n2 if m else c)
        return target._like(_broadcast(add, target, encoded))

    def _float_bits(self) -> int:
        return self.fraction_bits if self.fraction_bits else DEFAULT_FRACTION_BITS

    def __neg__(self) -> CiphertextArray:
        n2 = self.public_key.n2
        return self._like(_apply(_binary(lambda c, _k: gmpy2.invert(c, n2)), self.data, None))

    def __sub__(self, other: object) -> CiphertextArray:
        if isinstance(other, CiphertextArray):
            return self + (-other)
        return self._add_plain(other, negate=True)

    def __rsub__(self, other: object) -> CiphertextArray:
        return (-self)._add_plain(other)

    def __mul__(self, other: object) -> CiphertextArray:
        return self.mul(other)

    __rmul__ = __mul__

    def mul(self, values: object, fraction_bits: int = DEFAULT_FRACTION_BITS) -> CiphertextArray:
        """Multiply by plaintext scalars/arrays (floats encoded with `fraction_bits`)."""
        if isinstance(values, CiphertextArray):
            raise UnsupportedOperation(
                "Paillier cannot multiply two ciphertexts; one operand must be plaintext"
            )
        encoded, used = self._encode_plain(values, fraction_bits)
        n2 = self.public_key.n2
        data = _broadcast(_binary(_power_op(n2)), self, encoded)
        return self._like(data, self.fraction_bits + used)

    def sum(self, axis: int | tuple[int, ...] | None = None) -> CiphertextArray:
        """Encrypted sum over `axis` (all elements when None), like `ndarray.sum`."""
        n2 = self.public_key.n2
        mulmod = _binary(lambda a, b: a * b % n2)
        data = self.data
        if data.ndim == 0:
            return self._like(data.copy())
        axes = range(data.ndim) if axis is None else np.atleast_1d(axis).tolist()
        bad = [a for a in axes if not -data.ndim <= int(a) < data.ndim]
        if bad:
            raise ShapeError(f"axis {bad[0]} is out of bounds for shape {self.shape}")
        for ax in sorted({int(a) % data.ndim for a in axes}, reverse=True):
            # Later axes first, so the remaining axis numbers stay valid.
            data = _as_array(mulmod.reduce(data, axis=ax, initial=_ONE))
        return self._like(data)

    def dot(self, matrix: object, fraction_bits: int = DEFAULT_FRACTION_BITS) -> CiphertextArray:
        """Encrypted `self @ matrix` for a plaintext vector or matrix, like `np.dot`.

        `self` has shape (k,) or (r, k); `matrix` (k,) or (k, m). Raises ShapeError otherwise.
        """
        return encrypted_dot(self, matrix, fraction_bits)

    __matmul__ = dot

    def rerandomize(self, *, parallel: bool | None = None) -> CiphertextArray:
        """Fresh-looking ciphertexts of the same plaintexts (each times a new hs^x)."""
        pk = self.public_key
        use_pool = should_parallelise(parallel, self.size, ENCRYPT_PARALLEL_MIN, pk.bits)
        masks = np.empty(self.size, dtype=object)
        masks[:] = pk.random_masks(self.size, use_pool)
        n2 = pk.n2
        mulmod = _binary(lambda a, b: a * b % n2)
        return self._like(_apply(mulmod, self.data, masks.reshape(self.shape)))

    # --- serialisation ----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Serialise shape, scale, key fingerprint and ciphertexts (fixed width, big-endian)."""
        width = (self.public_key.n2.bit_length() + 7) // 8
        head = struct.pack(">HB", self.fraction_bits, self.ndim)
        dims = struct.pack(f">{self.ndim}Q", *self.shape)
        body = b"".join(c.to_bytes(width, "big") for c in self.data.ravel().tolist())
        return _CT_MAGIC + self.public_key.key_id + head + dims + body

    @classmethod
    def from_bytes(cls, data: bytes, public_key: PublicKey) -> CiphertextArray:
        """Inverse of `to_bytes`; needs the public key the ciphertexts were made under.

        Raises KeyMismatchError for another key's ciphertexts, EncodingError for malformed data.
        """
        start = len(_CT_MAGIC) + 16
        if len(data) < start + 3 or data[: len(_CT_MAGIC)] != _CT_MAGIC:
            raise EncodingError(f"not a serialised CiphertextArray ({len(data)} bytes)")
        if data[len(_CT_MAGIC) : start] != public_key.key_id:
            raise KeyMismatchError(
                f"ciphertexts are under key {data[len(_CT_MAGIC) : start].hex()[:12]}, "
                f"not {public_key.key_id.hex()[:12]}"
            )
        fraction_bits, ndim = struct.unpack(">HB", data[start : start + 3])
        shape = struct.unpack(f">{ndim}Q", data[start + 3 : start + 3 + 8 * ndim])
        body = _parse_body(data[start + 3 + 8 * ndim :], public_key, shape)
        return cls(public_key, body, fraction_bits)

    def __reduce__(self) -> tuple[object, tuple[bytes, bytes]]:
        # Pickling (e.g. through a link) carries the public key along with the ciphertexts.
        return _restore, (self.public_key.to_bytes(), self.to_bytes())


def _restore(public_key_bytes: bytes, data: bytes) -> CiphertextArray:
    return CiphertextArray.from_bytes(data, PublicKey.from_bytes(public_key_bytes))


def _parse_body(body: bytes, public_key: PublicKey, shape: tuple[int, ...]) -> np.ndarray:
    width = (public_key.n2.bit_length() + 7) // 8
    count = int(np.prod(shape, dtype=np.int64))
    if len(body) != width * count:
        raise EncodingError(f"ciphertext body of {len(body)} bytes, expected {width * count}")
    n2 = public_key.n2
    values = [mpz.from_bytes(body[i * width : (i + 1) * width], "big") for i in range(count)]
    for position, c in enumerate(values):
        if not 0 < c < n2:
            raise EncodingError(f"ciphertext at flat index {position} is not in (0, n^2)")
    out = np.empty(count, dtype=object)
    out[:] = values
    return out.reshape(shape)


def _as_array(value: object) -> np.ndarray:
    return value if isinstance(value, np.ndarray) else _scalar_array(value)


def _apply(op: np.ufunc, first: np.ndarray, second: object) -> np.ndarray:
    return _as_array(op(first, second))


def _scalar_array(value: object) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def _power_op(n2: mpz) -> Callable[[mpz, int], mpz]:
    def power(c: mpz, k: int) -> mpz:
        if k == 1:
            return c
        if k >= 0:
            return gmpy2.powmod(c, k, n2)
        return gmpy2.powmod(gmpy2.invert(c, n2), -k, n2)

    return power


def _broadcast(op: np.ufunc, ct: CiphertextArray, other: np.ndarray) -> np.ndarray:
    """Apply `op(ct.data, other)` with numpy broadcasting; ShapeError when shapes clash."""
    try:
        shape = np.broadcast_shapes(ct.shape, np.shape(other))
    except ValueError as exc:
        raise ShapeError(
            f"cannot broadcast ciphertext shape {ct.shape} with plaintext {np.shape(other)}"
        ) from exc
    out = _apply(op, ct.data, other)
    assert out.shape == shape, "broadcast result has the broadcast shape"
    return out
