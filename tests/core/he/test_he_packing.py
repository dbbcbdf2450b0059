"""Packing several values per Paillier ciphertext: layout, round trips, slot-wise addition."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from core.errors import EncodingError, ShapeError
from core.he import (
    KeyMismatchError,
    PackedCiphertext,
    SlotLayout,
    generate_keypair,
    pack_encrypt,
    unpack_decrypt,
)


@pytest.fixture(scope="module")
def keys():
    return generate_keypair(1024, rng=random.Random(5))


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_default_layout_for_a_2048_bit_key_holds_27_slots():
    class FakeKey:  # only the modulus size matters for the layout
        bits = 2048

    layout = SlotLayout.for_key(FakeKey())
    assert (layout.slots, layout.slot_bits, layout.max_terms) == (27, 75, 1024)


@pytest.mark.parametrize("length", [1, 13, 26, 27, 100])
def test_float_vectors_round_trip(keys, rng, length):
    pk, sk = keys
    values = rng.normal(scale=100, size=length)
    packed = pack_encrypt(pk, values)
    assert packed.ciphertexts.size == -(-length // packed.layout.slots)
    out = unpack_decrypt(sk, packed)
    np.testing.assert_allclose(out, values, rtol=0, atol=2.0**-40, err_msg=str(values))


def test_integer_layout_round_trips_extremes(keys):
    pk, sk = keys
    layout = SlotLayout.for_key(pk, value_bits=32, headroom_bits=4, fraction_bits=0)
    limit = 2**32 - 1
    values = np.array([limit, -limit, 0, -1, 1, limit, -limit] * 5, dtype=np.int64)
    out = unpack_decrypt(sk, pack_encrypt(pk, values, layout))
    assert out.dtype == np.int64
    assert out.tolist() == values.tolist()


def test_packed_addition_is_slot_wise(keys, rng):
    pk, sk = keys
    vectors = [rng.normal(scale=1000, size=40) for _ in range(6)]
    total = pack_encrypt(pk, vectors[0])
    for vector in vectors[1:]:
        total = total + pack_encrypt(pk, vector)
    assert total.terms == 6
    np.testing.assert_allclose(unpack_decrypt(sk, total), np.sum(vectors, axis=0), atol=1e-9)


def test_packed_addition_at_the_headroom_limit_with_extreme_values(keys):
    pk, sk = keys
    layout = SlotLayout.for_key(pk, value_bits=16, headroom_bits=3, fraction_bits=0)
    top = 2**16 - 1
    values = np.array([top, -top, top, -top, 5] * 4, dtype=np.int64)
    packed = pack_encrypt(pk, values, layout)
    total = packed
    for _ in range(layout.max_terms - 1):
        total = total + packed
    assert total.terms == 8
    assert unpack_decrypt(sk, total).tolist() == (values * 8).tolist()
    with pytest.raises(EncodingError, match="sum of 9 packed vectors exceeds"):
        total + packed


def test_adding_a_plaintext_vector_to_a_packed_ciphertext(keys, rng):
    pk, sk = keys
    a, b = rng.normal(size=30), rng.normal(size=30)
    packed = pack_encrypt(pk, a)
    out = unpack_decrypt(sk, packed + b)
    np.testing.assert_allclose(out, a + b, atol=1e-9)
    np.testing.assert_allclose(unpack_decrypt(sk, b + packed), a + b, atol=1e-9)
    ints = np.arange(30)
    np.testing.assert_allclose(unpack_decrypt(sk, packed + ints), a + ints, atol=1e-9)


def test_bad_packing_inputs_are_refused(keys):
    pk, sk = keys
    layout = SlotLayout.for_key(pk, value_bits=8, headroom_bits=2, fraction_bits=0)
    with pytest.raises(EncodingError, match="value 256 at index 1 does not fit"):
        pack_encrypt(pk, np.array([1, 256]), layout)
    with pytest.raises(ShapeError, match="packing needs a 1-D vector, got shape \\(2, 2\\)"):
        pack_encrypt(pk, np.ones((2, 2)), layout)
    packed = pack_encrypt(pk, np.arange(5), layout)
    with pytest.raises(ShapeError, match="packing needs a vector of length 5"):
        packed + np.arange(6)
    with pytest.raises(ShapeError, match="cannot add packed vectors of length 5 / 6"):
        packed + pack_encrypt(pk, np.arange(6), layout)
    with pytest.raises(EncodingError, match="cannot hold one slot"):
        SlotLayout.for_key(pk, value_bits=2000)
    with pytest.raises(EncodingError, match="invalid slot layout"):
        SlotLayout.for_key(pk, value_bits=0)


def test_unpacking_with_a_foreign_key_is_refused(keys):
    pk, _ = keys
    _, other_sk = generate_keypair(512, rng=random.Random(6))
    with pytest.raises(KeyMismatchError, match="ciphertext is under key"):
        unpack_decrypt(other_sk, pack_encrypt(pk, np.arange(3)))


def test_a_slot_overflow_is_detected_when_unpacking(keys):
    pk, sk = keys
    layout = SlotLayout.for_key(pk, value_bits=8, headroom_bits=0, fraction_bits=0)
    packed = pack_encrypt(pk, np.array([200, 0, 0]), layout)
    # Doubling bypasses the term budget: 400 does not fit a 9-bit slot and carries out of it.
    forged = PackedCiphertext(packed.ciphertexts * 2, SlotLayout(1, 8, 0, 0), 1)
    with pytest.raises(EncodingError, match="bits beyond its last slot"):
        unpack_decrypt(sk, forged)


def test_packed_ciphertexts_survive_pickling(keys, rng):
    pk, sk = keys
    values = rng.normal(size=30)
    packed = pickle.loads(pickle.dumps(pack_encrypt(pk, values)))
    np.testing.assert_allclose(unpack_decrypt(sk, packed), values, atol=1e-9)
