"""FM128 limb arithmetic against Python ints modulo 2^128 (the obviously-correct oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.comm.frames import decode, encode_bytes
from core.errors import ConfigError, EncodingError
from core.mpc.ring import RING64, RING128, ring_for, ring_of
from core.mpc.ring128 import (
    DTYPE128,
    U128Array,
    from_ints,
    mul_64x64,
    to_ints,
    wrap,
)

MOD = 1 << 128
EDGES = [0, 1, 2, 3, 2**32 - 1, 2**32, 2**63, 2**64 - 1, 2**64, 2**64 + 1]
EDGES += [2**127 - 1, 2**127, 2**127 + 1, 2**128 - 2, 2**128 - 1]
# values drawn from the edges and anywhere in the ring, plus negatives (taken mod 2^128)
element = st.one_of(
    st.sampled_from(EDGES),
    st.integers(0, MOD - 1),
    st.integers(-(2**127), -1),
)
elements = st.lists(element, min_size=1, max_size=24)
shifts = st.integers(0, 127)


def signed(v: int) -> int:
    v %= MOD
    return v - MOD if v >= 2**127 else v


def ints(arr) -> list[int]:
    return [int(v) for v in to_ints(arr).ravel()]


@settings(max_examples=200, deadline=None)
@given(elements, elements)
def test_add_sub_mul_match_python_ints(xs, ys):
    n = min(len(xs), len(ys))
    xs, ys = xs[:n], ys[:n]
    a, b = from_ints(xs), from_ints(ys)
    assert ints(a + b) == [(x + y) % MOD for x, y in zip(xs, ys, strict=True)]
    assert ints(a - b) == [(x - y) % MOD for x, y in zip(xs, ys, strict=True)]
    assert ints(a * b) == [(x * y) % MOD for x, y in zip(xs, ys, strict=True)]
    assert ints(-a) == [(-x) % MOD for x in xs]
    assert ints(a ^ b) == [(x % MOD) ^ (y % MOD) for x, y in zip(xs, ys, strict=True)]
    assert ints(a & b) == [(x % MOD) & (y % MOD) for x, y in zip(xs, ys, strict=True)]


@settings(max_examples=200, deadline=None)
@given(elements, elements)
def test_unsigned_comparisons_match_python_ints(xs, ys):
    n = min(len(xs), len(ys))
    xs, ys = [x % MOD for x in xs[:n]], [y % MOD for y in ys[:n]]
    a, b = from_ints(xs), from_ints(ys)
    pairs = list(zip(xs, ys, strict=True))
    assert (a < b).tolist() == [x < y for x, y in pairs]
    assert (a >= b).tolist() == [x >= y for x, y in pairs]
    assert (a == b).tolist() == [x == y for x, y in pairs]
    assert RING128.msb(a).tolist() == [x >> 127 for x in xs]


@settings(max_examples=200, deadline=None)
@given(elements, shifts)
def test_shifts_match_python_ints(xs, bits):
    a = from_ints(xs)
    assert ints(a << bits) == [(x << bits) % MOD for x in xs]
    assert ints(a >> bits) == [(x % MOD) >> bits for x in xs]
    assert ints(RING128.arshift(a, bits)) == [(signed(x) >> bits) % MOD for x in xs]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=16))
def test_the_64x64_product_keeps_every_carry(words):
    a = np.array(words, dtype=np.uint64)
    b = a[::-1].copy()
    lo, hi = mul_64x64(a, b)
    for x, y, low, high in zip(words, words[::-1], lo, hi, strict=True):
        assert int(low) | (int(high) << 64) == x * y


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 40), st.integers(1, 4), st.integers(0, 2**32))
def test_matmul_and_sum_are_exact_mod_2_128(m, k, n, seed):
    rng = np.random.default_rng(seed)
    draw = lambda *shape: [  # noqa: E731
        [int.from_bytes(rng.bytes(16), "little") for _ in range(shape[1])] for _ in range(shape[0])
    ]
    a, b = np.array(draw(m, k), dtype=object), np.array(draw(k, n), dtype=object)
    got = to_ints(RING128.matmul(from_ints(a), from_ints(b)))
    assert (got == (a @ b) % MOD).all()
    assert (to_ints(RING128.sum(from_ints(a), (1,))) == a.sum(axis=1) % MOD).all()


def test_edge_values_survive_every_operation_with_their_neighbours():
    a = from_ints(EDGES)
    assert ints(a + 1) == [(x + 1) % MOD for x in EDGES]
    assert ints(a - 1) == [(x - 1) % MOD for x in EDGES]
    assert ints(a * (2**64 + 3)) == [(x * (2**64 + 3)) % MOD for x in EDGES]
    assert ints(a * -1) == [(-x) % MOD for x in EDGES]


def test_integer_operands_are_lifted_by_their_signedness():
    a = from_ints([5, 2**100])
    assert ints(a + np.array([-1, -2], dtype=np.int64)) == [4, 2**100 - 2]
    assert ints(a + np.array([2**64 - 1, 1], dtype=np.uint64)) == [5 + 2**64 - 1, 2**100 + 1]
    assert ints(a * np.array([True, False])) == [5, 0]
    assert ints(RING128.asarray(np.array([-3, 7]))) == [MOD - 3, 7]
    assert ints(RING128.const(-1)) == [MOD - 1]
    with pytest.raises(EncodingError, match="integers"):
        a + np.array([0.5, 1.5])
    with pytest.raises(EncodingError, match=r"\[0, 128\)"):
        a << 128


@pytest.mark.parametrize(
    "value", [0.0, 1.0, -1.0, 3.5, -(2.0**-26), 2.0**63, -(2.0**100), 1e30, -(2.0**126)]
)
def test_floats_convert_exactly_and_back(value):
    ring = RING128.from_float(np.array([value]))
    assert ints(ring) == [int(value) % MOD]
    assert RING128.to_float(ring)[0] == int(value)


def test_small_negatives_decode_without_cancellation():
    """hi 2^64 + lo with hi = -1 would cancel to 0 in float64; the magnitude is converted."""
    ring = RING128.asarray(np.array([-3, -(2**40) - 1], dtype=np.int64))
    assert RING128.to_float(ring).tolist() == [-3.0, -(2.0**40) - 1]


def test_structural_numpy_functions_keep_the_ring():
    a = from_ints([[1, 2], [3, 2**127]])
    assert isinstance(np.stack([a, a]), U128Array)
    assert isinstance(np.concatenate([a, a], axis=1), U128Array)
    assert isinstance(np.where(np.array([True, False]), a, -a), U128Array)
    assert isinstance(np.broadcast_to(a[0], (3, 2)), U128Array)
    assert isinstance(a[1, 1], U128Array)
    assert a[1, 1].shape == ()
    plain = np.zeros(3, DTYPE128)
    assert isinstance(wrap(plain), U128Array)
    assert ring_of(plain) is RING128
    assert ring_of(np.zeros(3, np.uint64)) is RING64


def test_frames_carry_fm128_elements_as_typed_buffers():
    a = from_ints([[0, 2**64 - 1], [2**127, 2**128 - 1]])
    got = decode(encode_bytes({"share": a, "column": a[:, 1]}))
    assert got["share"].dtype == DTYPE128
    assert ints(wrap(got["share"])) == ints(a)
    assert ints(wrap(got["column"])) == [2**64 - 1, 2**128 - 1]


def test_unknown_fields_are_refused():
    assert ring_for("FM128") is RING128
    with pytest.raises(ConfigError, match="FM32"):
        ring_for("FM32")


def test_frames_refuse_other_record_dtypes_and_mis_sized_fm128_buffers():
    from core.errors import LinkError

    with pytest.raises(LinkError, match="dtype"):
        encode_bytes(np.zeros(2, np.dtype([("a", "<u4"), ("b", "<u4")])))
    frame = bytearray(encode_bytes(from_ints([1, 2])))
    with pytest.raises(LinkError, match="declares 72 bytes but holds 64"):
        decode(bytes(frame[:-8]))  # one limb short
