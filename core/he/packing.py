"""Packing several fixed-point values into one Paillier plaintext.

A 2048-bit plaintext holds far more than one 64-bit value. With slots of `w` bits, a vector
`v_0, ..., v_{s-1}` of encoded signed integers is packed as the integer `P = sum_i v_i 2^(w i)`
(a balanced, signed-digit representation), which is then encrypted once. Adding packed
plaintexts adds the integers, hence every slot, with carries and borrows cancelling exactly as
long as each slot's sum stays inside (-2^(w-1), 2^(w-1)); unpacking peels slots off from the low
end, taking each remainder mod 2^w in the centred range. No per-slot offsets are needed, so sums
of any number of packed vectors unpack without knowing how many were added.

Layout: each encoded value must satisfy |v| < 2^value_bits; `headroom_bits` h allows sums of up
to 2^h packed vectors (each addition of a packed ciphertext or plaintext counts one term, which
`PackedCiphertext` tracks and refuses beyond the budget), so w = value_bits + h + 1 (sign). The
packed integer must stay in the key's safe range |P| <= n/3 (`core.he.encoding`), giving
s = floor((bits(n) - 3) / w) slots. Defaults: value_bits 64, h = 10 (1,024 terms), w = 75:
27 values per 2048-bit ciphertext, so encrypting, adding, sending and decrypting a vector all get
about 27x cheaper. Multiplying packed ciphertexts by a scalar is left out on purpose: it
would consume headroom by the scalar's size, which is easy to get wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import EncodingError, ShapeError
from core.he.ciphertext import CiphertextArray
from core.he.encoding import (
    DEFAULT_FRACTION_BITS,
    encode_signed,
    object_array,
    signed_to_array,
    to_residues,
    to_signed,
)
from core.he.keys import DECRYPT_PARALLEL_MIN, ENCRYPT_PARALLEL_MIN, PrivateKey, PublicKey
from core.he.parallel import should_parallelise


@dataclass(frozen=True)
class SlotLayout:
    """How values are laid out in a packed plaintext (see the module docstring)."""

    slots: int
    value_bits: int = 64
    headroom_bits: int = 10
    fraction_bits: int = DEFAULT_FRACTION_BITS

    @property
    def slot_bits(self) -> int:
        return self.value_bits + self.headroom_bits + 1

    @property
    def max_terms(self) -> int:
        return 1 << self.headroom_bits

    @classmethod
    def for_key(
        cls,
        public_key: PublicKey,
        *,
        value_bits: int = 64,
        headroom_bits: int = 10,
        fraction_bits: int = DEFAULT_FRACTION_BITS,
    ) -> SlotLayout:
        """The layout with as many slots as `public_key`'s safe range allows."""
        if value_bits < 1 or headroom_bits < 0 or fraction_bits < 0:
            raise EncodingError(
                f"invalid slot layout: value_bits={value_bits}, headroom_bits={headroom_bits}, "
                f"fraction_bits={fraction_bits}"
            )
        slots = (public_key.bits - 3) // (value_bits + headroom_bits + 1)
        if slots < 1:
            raise EncodingError(
                f"a {public_key.bits}-bit key cannot hold one slot of "
                f"{value_bits + headroom_bits + 1} bits"
            )
        return cls(slots, value_bits, headroom_bits, fraction_bits)

    def pack(self, ints: list[int]) -> list[int]:
        """Signed packed integers, one per group of `slots` values (EncodingError if too big)."""
        limit = 1 << self.value_bits
        for position, value in enumerate(ints):
            if abs(value) >= limit:
                raise EncodingError(
                    f"encoded value {value} at index {position} does not fit a slot "
                    f"of {self.value_bits} value bits"
                )
        width = self.slot_bits
        return [
            sum(v << (width * i) for i, v in enumerate(ints[start : start + self.slots]))
            for start in range(0, len(ints), self.slots)
        ]

    def unpack(self, packed: int, count: int) -> list[int]:
        """The `count` signed slot values of one packed integer (inverse of `pack` for sums)."""
        width = self.slot_bits
        mask, half = (1 << width) - 1, 1 << (width - 1)
        values = []
        for _ in range(count):
            low = packed & mask  # two's-complement view: packed mod 2^width, also for packed < 0
            if low >= half:
                low -= 1 << width
            values.append(low)
            packed = (packed - low) >> width
        if packed:
            raise EncodingError("packed plaintext has bits beyond its last slot: a slot overflowed")
        return values


@dataclass(frozen=True)
class PackedCiphertext:
    """A vector of `length` values packed `layout.slots` per ciphertext."""

    __array_ufunc__ = None  # `ndarray + PackedCiphertext` must reach __radd__

    ciphertexts: CiphertextArray
    layout: SlotLayout
    length: int
    terms: int = 1

    def __add__(self, other: object) -> PackedCiphertext:
        """Slot-wise sum with another packed ciphertext or a plaintext vector of `length`."""
        if isinstance(other, PackedCiphertext):
            if other.layout != self.layout or other.length != self.length:
                raise ShapeError(
                    f"cannot add packed vectors of length {self.length} / {other.length} "
                    f"with layouts {self.layout} / {other.layout}"
                )
            return self._with(self.ciphertexts + other.ciphertexts, other.terms)
        packed = self.layout.pack(_encode_vector(other, self.layout, self.length))
        return self._with(self.ciphertexts + object_array(packed, (len(packed),)), 1)

    __radd__ = __add__

    def _with(self, ciphertexts: CiphertextArray, extra_terms: int) -> PackedCiphertext:
        terms = self.terms + extra_terms
        if terms > self.layout.max_terms:
            raise EncodingError(
                f"sum of {terms} packed vectors exceeds the layout's headroom of "
                f"{self.layout.max_terms} terms (headroom_bits={self.layout.headroom_bits})"
            )
        return PackedCiphertext(ciphertexts, self.layout, self.length, terms)


def _encode_vector(values: object, layout: SlotLayout, length: int | None = None) -> list[int]:
    arr = np.asarray(values)
    if arr.ndim != 1 or (length is not None and arr.shape[0] != length):
        expected = "a 1-D vector" if length is None else f"a vector of length {length}"
        raise ShapeError(f"packing needs {expected}, got shape {arr.shape}")
    ints, used = encode_signed(arr, layout.fraction_bits)
    # Ints and floats share the layout's scale so that packed sums stay aligned.
    return [v << (layout.fraction_bits - used) for v in ints]


def pack_encrypt(
    public_key: PublicKey,
    values: object,
    layout: SlotLayout | None = None,
    *,
    parallel: bool | None = None,
) -> PackedCiphertext:
    """Encrypt a 1-D vector with `layout.slots` values per ciphertext.

    Raises ShapeError for non-vectors and EncodingError for values that do not fit a slot.
    """
    layout = layout or SlotLayout.for_key(public_key)
    ints = _encode_vector(values, layout)
    packed = layout.pack(ints)
    use_pool = should_parallelise(parallel, len(packed), ENCRYPT_PARALLEL_MIN, public_key.bits)
    cts = public_key.encrypt_residues(to_residues(packed, int(public_key.n)), use_pool)
    array = CiphertextArray(public_key, object_array(cts, (len(cts),)), 0)
    return PackedCiphertext(array, layout, len(ints))


def unpack_decrypt(
    private_key: PrivateKey, packed: PackedCiphertext, *, parallel: bool | None = None
) -> np.ndarray:
    """Decrypt a packed vector to float64 (int64 when the layout has no fraction bits).

    Raises KeyMismatchError for a foreign key, EncodingError when a slot overflowed.
    """
    private_key.check_owner(packed.ciphertexts)
    layout, pk = packed.layout, private_key.public_key
    flat = packed.ciphertexts.data.tolist()
    use_pool = should_parallelise(parallel, len(flat), DECRYPT_PARALLEL_MIN, pk.bits)
    residues = private_key.decrypt_residues(flat, use_pool)
    values: list[int] = []
    for index, residue in enumerate(residues):
        count = min(layout.slots, packed.length - index * layout.slots)
        values.extend(layout.unpack(to_signed(int(residue), int(pk.n), pk.max_int), count))
    return signed_to_array(values, layout.fraction_bits, (len(values),))
