"""Typed frames: round trips, and every malformed frame is a LinkError (nothing unpickled)."""

from __future__ import annotations

import contextlib
import os
import pickle
import struct

import msgpack
import numpy as np
import pytest
from hand_frames import frame_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from core.comm.frames import MAGIC, decode, encode_bytes
from core.errors import LinkError

DTYPES = ["bool", "uint8", "int8", "int32", "uint64", "int64", "float32", "float64"]
arrays = hnp.arrays(
    st.sampled_from(DTYPES).map(np.dtype),
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 200), max_value=1 << 200)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=5000)
    | arrays
)
trees = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5) | st.integers(-5, 5), inner, max_size=3)
    ),
    max_leaves=12,
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_same(out, expected):
    if isinstance(expected, np.ndarray):
        assert isinstance(out, np.ndarray)
        assert (out.dtype, out.shape) == (expected.dtype, expected.shape)
        np.testing.assert_array_equal(out, expected)
        assert not out.flags.writeable
    elif isinstance(expected, list | tuple):
        assert type(out) is type(expected)
        assert len(out) == len(expected)
        for o, e in zip(out, expected, strict=True):
            assert_same(o, e)
    elif isinstance(expected, dict):
        assert out.keys() == expected.keys()
        for key, value in expected.items():
            assert_same(out[key], value)
    else:
        assert type(out) is type(expected)
        assert out == expected


@FAST
@given(trees)
def test_it_round_trips_typed_values(tree):
    assert_same(decode(encode_bytes(tree)), tree)


def test_it_keeps_numpy_scalars_and_big_arrays():
    big = np.arange(3_000_000, dtype=np.uint64).reshape(1000, 3000)
    out = decode(encode_bytes(("ok", np.uint64(7), big, np.float64(0.5))))
    assert out[1] == np.uint64(7)
    assert isinstance(out[1], np.uint64)
    assert isinstance(out[3], np.float64)
    np.testing.assert_array_equal(out[2], big)


@FAST
@given(st.binary(max_size=300))
def test_garbage_is_a_link_error(data):
    with pytest.raises(LinkError):
        decode(data)


@FAST
@given(st.binary(max_size=200))
def test_garbage_after_a_valid_preamble_is_a_link_error(tree):
    frame = struct.pack(">4sII", MAGIC, 0, len(tree)) + tree
    try:
        out = decode(frame)
    except LinkError:
        return
    # Some byte strings are valid msgpack: they must then decode to plain typed values.
    assert out is None or isinstance(out, bool | int | float | str | bytes | list | dict | tuple)


@FAST
@given(trees, st.data())
def test_every_truncation_is_a_link_error(tree, data):
    frame = encode_bytes([tree, np.arange(10, dtype=np.uint64)])
    cut = data.draw(st.integers(0, len(frame) - 1))
    with pytest.raises(LinkError):
        decode(frame[:cut])


@FAST
@given(st.data())
def test_flipped_bytes_give_a_value_or_a_link_error(data):
    frame = bytearray(encode_bytes({"x": np.arange(20, dtype=np.int64), "t": (1, "a")}))
    for _ in range(data.draw(st.integers(1, 4))):
        frame[data.draw(st.integers(0, len(frame) - 1))] ^= data.draw(st.integers(1, 255))
    with contextlib.suppress(LinkError):
        decode(bytes(frame))


def test_an_oversized_frame_is_a_link_error():
    frame = encode_bytes(np.zeros(1000))
    with pytest.raises(LinkError, match="exceeds the limit of 4096"):
        decode(frame, max_bytes=4096)


def test_trailing_bytes_are_a_link_error():
    with pytest.raises(LinkError, match="declares"):
        decode(encode_bytes([1, 2]) + b"\0")


def _array_ext(dtype: str, shape: list, index: int) -> msgpack.ExtType:
    return msgpack.ExtType(1, msgpack.packb([dtype, shape, index]))


@pytest.mark.parametrize(
    ("tree", "buffers", "message"),
    [
        (_array_ext("|O", [1], 0), [bytes(8)], "refused dtype '|O'"),
        (_array_ext("<u8", [3], 0), [bytes(16)], "in a buffer of 16 bytes"),
        (_array_ext("<u8", [-1], 0), [bytes(8)], "invalid shape"),
        ([_array_ext("<u8", [1], 0), _array_ext("<u8", [1], 0)], [bytes(8)], "twice"),
        (_array_ext("<u8", [1], 3), [bytes(8)], "buffer 3 of 1"),
        (msgpack.ExtType(99, b""), [], "unknown extension type 99"),
        ([1], [bytes(8)], "no value uses"),
    ],
)
def test_wrongly_typed_frames_are_link_errors(tree, buffers, message):
    with pytest.raises(LinkError, match=message):
        decode(frame_bytes(msgpack.packb(tree), buffers))


class _Boom:
    def __reduce__(self):
        return (exec, ("import os; os.environ['PRIVPAD_FRAME_TEST_UNPICKLED'] = 'yes'",))


def test_a_pickle_is_never_executed():
    payload = pickle.dumps(_Boom())
    for frame in (payload, frame_bytes(msgpack.packb(payload), []), MAGIC + payload):
        try:
            out = decode(frame)
        except LinkError:
            continue
        assert out == payload  # bytes stay bytes
    assert "PRIVPAD_FRAME_TEST_UNPICKLED" not in os.environ


@pytest.mark.parametrize(
    "value", [object(), np.array([object()]), {"f": lambda: 0}, np.dtype("float64"), {1, 2}]
)
def test_sending_an_untyped_value_is_a_link_error(value):
    with pytest.raises(LinkError, match="cannot send"):
        encode_bytes(value)
