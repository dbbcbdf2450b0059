"""CiphertextArray: encoding round trips, homomorphic arithmetic vs numpy, errors, serialisation."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from core.errors import EncodingError, ShapeError, UnsupportedOperation
from core.he import CiphertextArray, KeyMismatchError, PublicKey, generate_keypair

# Fixed-point error per encoded real is at most 2^-41; a few products/sums stay far below this.
ATOL = 1e-9


@pytest.fixture(scope="module")
def keys():
    return generate_keypair(512, rng=random.Random(1))


@pytest.fixture(scope="module")
def other_keys():
    return generate_keypair(512, rng=random.Random(2))


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


def roundtrip(keys, values, **kwargs):
    pk, sk = keys
    return sk.decrypt_array(pk.encrypt_array(values, **kwargs))


@pytest.mark.parametrize(
    "values",
    [
        np.array([0, 1, -1, 2**62, -(2**63)], dtype=np.int64),
        np.array([[3, 4], [5, 6]], dtype=np.uint8),
        np.array([True, False]),
        np.array([2**70, -(2**80)], dtype=object),
        np.array(7),
        np.zeros((0, 3), dtype=np.int32),
    ],
    ids=["int64", "uint8-2d", "bool", "bigint", "0-d", "empty"],
)
def test_integers_round_trip_exactly(keys, values):
    out = roundtrip(keys, values)
    assert out.shape == values.shape
    assert [int(v) for v in out.ravel()] == [int(v) for v in values.ravel()], values


def test_floats_round_trip_within_the_fixed_point_step(keys, rng):
    values = rng.normal(scale=1000, size=(4, 5))
    values[0, :3] = [0.0, -0.0, 1e-12]
    out = roundtrip(keys, values)
    assert out.dtype == np.float64
    assert out.shape == values.shape
    np.testing.assert_allclose(out, values, rtol=0, atol=2.0**-40, err_msg=str(values))


def test_fraction_bits_are_configurable(keys):
    out = roundtrip(keys, np.array([0.3, -1.7]), fraction_bits=4)
    np.testing.assert_array_equal(out, [0.3125, -1.6875])


# (operation, numpy reference) over ct = E(a); b is a plaintext; ct2 = E(b).
BINARY_CASES = [
    ("ct + ct2", lambda a, b: a + b),
    ("ct - ct2", lambda a, b: a - b),
    ("ct2 - ct", lambda a, b: b - a),
    ("ct + b", lambda a, b: a + b),
    ("b + ct", lambda a, b: b + a),
    ("ct - b", lambda a, b: a - b),
    ("b - ct", lambda a, b: b - a),
    ("ct * b", lambda a, b: a * b),
    ("b * ct", lambda a, b: b * a),
    ("-ct", lambda a, b: -a),
    ("ct + 2.5", lambda a, b: a + 2.5),
    ("ct * -3", lambda a, b: a * -3),
    ("ct * 0.25", lambda a, b: a * 0.25),
    ("ct + ct2 * 2 - b", lambda a, b: a + b * 2 - b),
]


@pytest.mark.parametrize(("expr", "reference"), BINARY_CASES, ids=[c[0] for c in BINARY_CASES])
@pytest.mark.parametrize("kind", ["float", "int"])
def test_homomorphic_arithmetic_matches_numpy(keys, rng, expr, reference, kind):
    pk, sk = keys
    if kind == "int":
        a, b = rng.integers(-1000, 1000, size=(3, 4)), rng.integers(-50, 50, size=(3, 4))
    else:
        a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    ct, ct2 = pk.encrypt_array(a), pk.encrypt_array(b)
    out = sk.decrypt_array(eval(expr, {}, {"ct": ct, "ct2": ct2, "b": b}))
    np.testing.assert_allclose(out, reference(a, b), atol=ATOL, err_msg=f"{expr} a={a} b={b}")


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((3, 4), (4,)), ((3, 1), (1, 4)), ((4,), ()), ((2, 3, 4), (3, 1))],
)
def test_operations_broadcast_like_numpy(keys, rng, shape_a, shape_b):
    pk, sk = keys
    a = rng.integers(-9, 9, size=shape_a)
    b = rng.integers(-9, 9, size=shape_b)
    ct_a = pk.encrypt_array(a)
    assert sk.decrypt_array(ct_a + pk.encrypt_array(b)).tolist() == (a + b).tolist()
    assert sk.decrypt_array(ct_a * b).tolist() == (a * b).tolist()
    assert sk.decrypt_array(b - ct_a).tolist() == (b - a).tolist()


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
def test_sum_matches_numpy(keys, rng, axis):
    pk, sk = keys
    a = rng.normal(size=(4, 3))
    out = sk.decrypt_array(pk.encrypt_array(a).sum(axis=axis))
    np.testing.assert_allclose(out, a.sum(axis=axis), atol=ATOL, err_msg=f"axis={axis} a={a}")


@pytest.mark.parametrize(
    ("shape_ct", "shape_w"),
    [((5,), (5, 3)), ((5,), (5,)), ((2, 5), (5, 3)), ((2, 5), (5,))],
)
@pytest.mark.parametrize("weights", ["float", "int", "indicator"])
def test_dot_matches_numpy(keys, rng, shape_ct, shape_w, weights):
    pk, sk = keys
    x = rng.normal(size=shape_ct)
    if weights == "float":
        w = rng.normal(size=shape_w)
    elif weights == "int":
        w = rng.integers(-3, 4, size=shape_w)
    else:
        w = rng.integers(0, 2, size=shape_w)
    out = sk.decrypt_array(pk.encrypt_array(x).dot(w))
    np.testing.assert_allclose(out, x @ w, atol=ATOL, err_msg=f"x={x} w={w}")
    np.testing.assert_allclose(sk.decrypt_array(pk.encrypt_array(x) @ w), x @ w, atol=ATOL)


def test_dot_on_the_process_pool_matches_in_process(keys, rng):
    pk, sk = keys
    x, w = rng.integers(-5, 5, size=6), rng.integers(-3, 3, size=(6, 4))
    ct = pk.encrypt_array(x)
    from core.he.linear import encrypted_dot

    pooled = encrypted_dot(ct, w, 0, parallel_flag=True)
    assert sk.decrypt_array(pooled).tolist() == (x @ w).tolist()


def test_encryption_and_decryption_on_the_process_pool(keys, rng):
    pk, sk = keys
    values = rng.normal(size=40)
    ct = pk.encrypt_array(values, parallel=True)
    np.testing.assert_allclose(sk.decrypt_array(ct, parallel=True), values, atol=ATOL)
    assert sk.decrypt_array(ct.rerandomize(parallel=True), parallel=False).tolist() == (
        sk.decrypt_array(ct).tolist()
    )


def test_the_key_holder_encrypts_arrays_too(keys, rng):
    pk, sk = keys
    values = rng.normal(size=(3, 2))
    ct = sk.encrypt_array(values)
    assert ct.public_key == pk
    doubled = sk.decrypt_array(ct + pk.encrypt_array(values))
    np.testing.assert_allclose(doubled, 2 * values, atol=ATOL)
    pooled = sk.encrypt_array(np.arange(6), parallel=True)
    assert sk.decrypt_array(pooled).tolist() == list(range(6))


def test_rerandomisation_changes_ciphertexts_but_not_plaintexts(keys, rng):
    pk, sk = keys
    values = rng.integers(-100, 100, size=8)
    ct = pk.encrypt_array(values)
    fresh = ct.rerandomize()
    assert all(a != b for a, b in zip(ct.data, fresh.data, strict=True))
    assert sk.decrypt_array(fresh).tolist() == values.tolist()


def test_encrypting_twice_gives_different_ciphertexts(keys):
    pk, _ = keys
    first, second = pk.encrypt_array(np.array([5, 5])).data, pk.encrypt_array([5, 5]).data
    assert first[0] != first[1]
    assert first[0] != second[0]


def test_indexing_and_reshaping_keep_values(keys):
    pk, sk = keys
    values = np.arange(12).reshape(3, 4)
    ct = pk.encrypt_array(values)
    assert sk.decrypt_array(ct[1]).tolist() == values[1].tolist()
    assert sk.decrypt_array(ct[2, 3]).tolist() == 11
    assert sk.decrypt_array(ct.reshape(4, 3)).tolist() == values.reshape(4, 3).tolist()
    assert sk.decrypt_array(ct.ravel()).tolist() == values.ravel().tolist()
    assert len(ct) == 3
    assert ct.size == 12
    assert ct.ndim == 2


def test_concatenate_joins_like_numpy(keys, other_keys):
    pk, sk = keys
    a, b = np.arange(6).reshape(2, 3), np.array([[0.5, 1.5, -2.5]])
    joined = CiphertextArray.concatenate([pk.encrypt_array(a), pk.encrypt_array(b)])
    np.testing.assert_allclose(sk.decrypt_array(joined), np.concatenate([a, b]), atol=ATOL)
    with pytest.raises(ShapeError, match="cannot concatenate shapes"):
        CiphertextArray.concatenate([pk.encrypt_array(a), pk.encrypt_array(b)], axis=1)
    with pytest.raises(ShapeError, match="at least one"):
        CiphertextArray.concatenate([])
    with pytest.raises(KeyMismatchError, match="cannot combine"):
        CiphertextArray.concatenate([pk.encrypt_array(a), other_keys[0].encrypt_array(a)])


def test_serialisation_round_trips(keys, rng):
    pk, sk = keys
    values = rng.normal(size=(2, 3))
    ct = pk.encrypt_array(values) * 1.5
    pk_copy = PublicKey.from_bytes(pk.to_bytes())
    copy = CiphertextArray.from_bytes(ct.to_bytes(), pk_copy)
    assert copy.shape == ct.shape
    assert copy.fraction_bits == ct.fraction_bits
    np.testing.assert_allclose(sk.decrypt_array(copy), values * 1.5, atol=ATOL)
    unpickled = pickle.loads(pickle.dumps(ct))
    np.testing.assert_allclose(sk.decrypt_array(unpickled), values * 1.5, atol=ATOL)


def test_deserialisation_rejects_foreign_and_malformed_bytes(keys, other_keys):
    pk, _ = keys
    data = pk.encrypt_array([1, 2]).to_bytes()
    with pytest.raises(KeyMismatchError, match="ciphertexts are under key"):
        CiphertextArray.from_bytes(data, other_keys[0])
    with pytest.raises(EncodingError, match="ciphertext body of"):
        CiphertextArray.from_bytes(data[:-1], pk)
    with pytest.raises(EncodingError, match="not a serialised CiphertextArray"):
        CiphertextArray.from_bytes(b"junk", pk)
    width = (pk.n2.bit_length() + 7) // 8
    zeroed = data[:-width] + bytes(width)
    with pytest.raises(EncodingError, match="not in \\(0, n\\^2\\)"):
        CiphertextArray.from_bytes(zeroed, pk)


def test_mixing_keys_is_refused(keys, other_keys):
    (pk, _sk), (pk2, sk2) = keys, other_keys
    ct, ct2 = pk.encrypt_array([1, 2]), pk2.encrypt_array([1, 2])
    with pytest.raises(KeyMismatchError, match="cannot combine ciphertexts under keys"):
        ct + ct2
    with pytest.raises(KeyMismatchError, match="ciphertext is under key"):
        sk2.decrypt_array(ct)


def test_shape_mismatches_are_refused(keys):
    pk, _ = keys
    ct = pk.encrypt_array(np.zeros((2, 3), dtype=int))
    with pytest.raises(ShapeError, match="cannot broadcast ciphertext shape \\(2, 3\\)"):
        ct + np.zeros(4)
    with pytest.raises(ShapeError, match="cannot broadcast"):
        ct + pk.encrypt_array(np.zeros((3, 2), dtype=int))
    with pytest.raises(ShapeError, match="dot plaintext \\(4, 2\\)"):
        ct.dot(np.ones((4, 2)))
    with pytest.raises(ShapeError, match="axis 2 is out of bounds"):
        ct.sum(axis=2)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.array(["a", "b"]), "cannot encode dtype <U1"),
        (np.array([1 + 2j]), "cannot encode dtype complex128"),
        (np.array([1, "x"], dtype=object), "cannot encode dtype object"),
        (np.array([1.0, np.nan]), "non-finite value nan at index \\(1,\\)"),
        (np.array([np.inf]), "non-finite value inf"),
        (np.array([2**600], dtype=object), "exceeds the safe range"),
        (np.array([1e300]), "value too large to encode with 40 fraction bits: 1e\\+300"),
    ],
)
def test_bad_plaintexts_are_refused(keys, values, message):
    pk, _ = keys
    with pytest.raises(EncodingError, match=message):
        pk.encrypt_array(values)
    with pytest.raises(EncodingError, match=message):
        pk.encrypt_array(np.zeros(values.shape, dtype=int)) + values


def test_overflow_is_reported_at_decryption(keys):
    pk, sk = keys
    big = pk.max_int // 2 + 1
    ct = pk.encrypt_array(np.array([big], dtype=object))
    with pytest.raises(EncodingError, match="outside the safe range"):
        sk.decrypt_array(ct + ct + ct)


def test_multiplying_two_ciphertexts_is_refused(keys):
    pk, _ = keys
    ct = pk.encrypt_array([1])
    with pytest.raises(UnsupportedOperation, match="cannot multiply two ciphertexts"):
        ct * ct


def test_scales_are_aligned_when_adding(keys):
    pk, sk = keys
    exact = pk.encrypt_array(np.array([3, -4]))
    scaled = pk.encrypt_array(np.array([0.5, 0.25])) * 0.5  # 80 fraction bits
    out = sk.decrypt_array(exact + scaled)
    np.testing.assert_allclose(out, [3.25, -3.875], atol=ATOL)
    with pytest.raises(EncodingError, match="cannot lower fraction bits"):
        scaled.rescale(10)
