"""Typed frames: how one message crosses a network link. Nothing is ever unpickled.

A message is a tree of None, bool, int, float, str, bytes, list, tuple, dict (str or int keys)
and numpy arrays or scalars of plain numeric dtypes. It is encoded as

    b"PPF1" | u32 buffer count n | u32 tree length t | n x u64 buffer lengths
    | tree (msgpack, t bytes) | per buffer: zero padding to 8 bytes, then the raw buffer

(all integers big-endian). In the tree, arrays are msgpack extension values [dtype, shape,
buffer index] whose contents are raw little-endian buffers after the tree, so a 1e8-word array
is never copied into msgpack; large bytes (Paillier ciphertexts) travel as buffers too; tuples,
integers beyond 64 bits and numpy scalars have their own extension codes. FM128 ring elements
(records of two little-endian uint64 limbs, lo then hi; `core.mpc.ring128`) travel as raw
buffers under the dtype name "<u128" and arrive as arrays of that record dtype.

Decoding trusts nothing: the declared lengths must add up to the frame exactly, every buffer is
used exactly once by an array of exactly its size, dtypes come from an allowlist (no object
arrays), msgpack runs with length limits, extension values nest at most `MAX_NESTING` deep
(each level is a nested msgpack call on the C stack, about 40 KB: a few KB of tuples nested a
few hundred deep would overflow a thread's stack and crash the process), and anything else is
a `LinkError` naming the problem. Decoded arrays are read-only views on the received buffer
(as the in-memory hub's).
"""

from __future__ import annotations

import struct
from typing import Any

import msgpack
import numpy as np

from core.errors import LinkError

MAGIC = b"PPF1"
_PREAMBLE = struct.Struct(">4sII")
ALIGN = 8
MAX_TREE_BYTES = 16 << 20
MAX_BUFFERS = 1 << 16
DEFAULT_MAX_FRAME_BYTES = 4 << 30  # a 1e8-word array is 0.8 GB
INLINE_BYTES = 4096  # smaller bytes stay inside the msgpack tree
MAX_NESTING = 32  # extension values (tuples, arrays, scalars, bytes) inside one another

EXT_ARRAY, EXT_TUPLE, EXT_BIGINT, EXT_SCALAR, EXT_BYTES = 1, 2, 3, 4, 5
DTYPES = frozenset(
    ["|b1", "|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8", "<f4", "<f8", "<c16"]
)
# Record dtypes allowed by name (no generic structured dtypes): FM128's two-limb elements.
U128 = np.dtype([("lo", "<u8"), ("hi", "<u8")])
NAMED_DTYPES = {"<u128": U128}


class _Encoder:
    def __init__(self):
        self.buffers: list[memoryview] = []
        self.depth = 0

    def pack(self, obj: Any) -> bytes:
        if self.depth > MAX_NESTING:
            raise LinkError(f"cannot send a message nesting tuples more than {MAX_NESTING} deep")
        self.depth += 1
        try:
            return msgpack.packb(obj, default=self._default, strict_types=True, use_bin_type=True)
        except (TypeError, ValueError, OverflowError) as exc:
            raise LinkError(f"cannot send this message: {exc}") from None
        finally:
            self.depth -= 1

    def _buffer(self, data) -> int:
        if isinstance(data, np.ndarray):
            view = memoryview(data.reshape(-1).view(np.uint8))
        else:
            view = memoryview(data)
            view = view if view.format == "B" and view.ndim == 1 else view.cast("B")
        self.buffers.append(view)
        return len(self.buffers) - 1

    def _default(self, obj: Any) -> msgpack.ExtType:
        if isinstance(obj, np.ndarray):
            arr = _wire_array(obj)
            meta = [_dtype_name(arr.dtype), list(arr.shape), self._buffer(arr)]
            return msgpack.ExtType(EXT_ARRAY, self.pack(meta))
        if isinstance(obj, np.generic):
            arr = _wire_array(np.asarray(obj))
            return msgpack.ExtType(EXT_SCALAR, self.pack([_dtype_name(arr.dtype), arr.tobytes()]))
        if isinstance(obj, tuple):
            return msgpack.ExtType(EXT_TUPLE, self.pack(list(obj)))
        if isinstance(obj, int):
            size = (obj.bit_length() + 8) // 8
            return msgpack.ExtType(EXT_BIGINT, int(obj).to_bytes(size, "big", signed=True))
        if isinstance(obj, bytes | bytearray | memoryview):
            if len(obj) <= INLINE_BYTES:
                return bytes(obj)
            return msgpack.ExtType(EXT_BYTES, self.pack(self._buffer(obj)))
        for plain in (str, float, list, dict):  # subclasses travel as their base type
            if isinstance(obj, plain):
                return plain(obj)
        raise LinkError(f"cannot send a {type(obj).__name__} over a link (not a typed value)")


def _wire_array(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")  # (np.ascontiguousarray would turn 0-d into 1-d)
    if arr.dtype.str not in DTYPES and arr.dtype != U128:
        raise LinkError(f"cannot send an array of dtype {arr.dtype} over a link")
    return arr


def _dtype_name(dtype: np.dtype) -> str:
    return "<u128" if dtype == U128 else dtype.str


def encode(obj: Any) -> list[bytes | memoryview]:
    """The frame of `obj` as parts to write one after the other (buffers are not copied)."""
    encoder = _Encoder()
    tree = encoder.pack(obj)
    if len(tree) > MAX_TREE_BYTES:
        raise LinkError(f"message metadata of {len(tree)} bytes exceeds {MAX_TREE_BYTES}")
    lengths = [len(b) for b in encoder.buffers]
    head = _PREAMBLE.pack(MAGIC, len(lengths), len(tree)) + struct.pack(
        f">{len(lengths)}Q", *lengths
    )
    parts: list[bytes | memoryview] = [head, tree]
    offset = len(head) + len(tree)
    for buffer in encoder.buffers:
        pad = -offset % ALIGN
        if pad:
            parts.append(bytes(pad))
        parts.append(buffer)
        offset += pad + len(buffer)
    return parts


def encode_bytes(obj: Any) -> bytes:
    """The frame of `obj` in one bytes object (tests and small control messages)."""
    return b"".join(encode(obj))


def frame_length(parts: list[bytes | memoryview]) -> int:
    return sum(len(p) for p in parts)


class _Decoder:
    def __init__(self, view: memoryview, spans: list[tuple[int, int]]):
        self.view, self.spans = view, spans
        self.used = [False] * len(spans)
        self.depth = 0

    def unpack(self, data) -> Any:
        if self.depth > MAX_NESTING:
            raise LinkError(f"frame nests values more than {MAX_NESTING} deep")
        self.depth += 1
        try:
            return self._unpack(data)
        finally:
            self.depth -= 1

    def _unpack(self, data) -> Any:
        return msgpack.unpackb(
            data,
            ext_hook=self._ext,
            raw=False,
            strict_map_key=False,
            max_str_len=MAX_TREE_BYTES,
            max_bin_len=MAX_TREE_BYTES,
            max_array_len=MAX_TREE_BYTES,
            max_map_len=MAX_TREE_BYTES,
            max_ext_len=MAX_TREE_BYTES,
        )

    def _take(self, index: Any) -> memoryview:
        if not isinstance(index, int) or not 0 <= index < len(self.spans):
            raise LinkError(f"frame refers to buffer {index!r} of {len(self.spans)}")
        if self.used[index]:
            raise LinkError(f"frame uses buffer {index} twice")
        self.used[index] = True
        start, length = self.spans[index]
        return self.view[start : start + length]

    def _ext(self, code: int, data: bytes) -> Any:
        if code == EXT_TUPLE:
            items = self.unpack(data)
            if not isinstance(items, list):
                raise LinkError("frame has a malformed tuple")
            return tuple(items)
        if code == EXT_ARRAY:
            return self._array(self.unpack(data))
        if code == EXT_SCALAR:
            meta = self.unpack(data)
            if not (isinstance(meta, list) and len(meta) == 2 and isinstance(meta[1], bytes)):
                raise LinkError("frame has a malformed numpy scalar")
            dtype = _dtype(meta[0])
            if len(meta[1]) != dtype.itemsize:
                raise LinkError(f"frame has a {dtype} scalar of {len(meta[1])} bytes")
            return np.frombuffer(meta[1], dtype=dtype)[0]
        if code == EXT_BIGINT:
            return int.from_bytes(data, "big", signed=True)
        if code == EXT_BYTES:
            return bytes(self._take(self.unpack(data)))
        raise LinkError(f"frame has an unknown extension type {code}")

    def _array(self, meta: Any) -> np.ndarray:
        if not (isinstance(meta, list) and len(meta) == 3 and isinstance(meta[1], list)):
            raise LinkError("frame has a malformed array header")
        dtype, shape = _dtype(meta[0]), meta[1]
        if not all(isinstance(d, int) and 0 <= d < 1 << 62 for d in shape) or len(shape) > 32:
            raise LinkError(f"frame has an array of invalid shape {shape!r}")
        buffer = self._take(meta[2])
        count = int(np.prod(shape, dtype=object))
        if count * dtype.itemsize != len(buffer):
            raise LinkError(
                f"frame has a {dtype} array of shape {shape} in a buffer of {len(buffer)} bytes"
            )
        arr = np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)
        arr.flags.writeable = False
        return arr


def _dtype(name: Any) -> np.dtype:
    if isinstance(name, str) and name in NAMED_DTYPES:
        return NAMED_DTYPES[name]
    if not isinstance(name, str) or name not in DTYPES:
        raise LinkError(f"frame has an array of refused dtype {name!r}")
    return np.dtype(name)


def decode(frame: bytes | bytearray | memoryview, max_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> Any:
    """The message in `frame`; LinkError if it is malformed, truncated or over `max_bytes`."""
    view = memoryview(frame)
    view = view if view.format == "B" and view.ndim == 1 else view.cast("B")
    if len(view) > max_bytes:
        raise LinkError(f"frame of {len(view)} bytes exceeds the limit of {max_bytes}")
    if len(view) < _PREAMBLE.size:
        raise LinkError(f"truncated frame: {len(view)} bytes")
    magic, count, tree_len = _PREAMBLE.unpack_from(view)
    if magic != MAGIC:
        raise LinkError(f"not a PrivPad frame (starts with {bytes(magic)!r})")
    if count > MAX_BUFFERS or tree_len > MAX_TREE_BYTES:
        raise LinkError(f"frame declares {count} buffers and {tree_len} bytes of metadata")
    head = _PREAMBLE.size + 8 * count
    if head + tree_len > len(view):
        raise LinkError(f"truncated frame: header needs {head + tree_len} of {len(view)} bytes")
    lengths = struct.unpack_from(f">{count}Q", view, _PREAMBLE.size)
    spans, offset = [], head + tree_len
    for length in lengths:
        offset += -offset % ALIGN
        spans.append((offset, length))
        offset += length
    if offset != len(view):
        raise LinkError(f"frame declares {offset} bytes but holds {len(view)}")
    decoder = _Decoder(view, spans)
    try:
        obj = decoder.unpack(view[head : head + tree_len])
    except LinkError:
        raise
    except Exception as exc:  # noqa: BLE001 - msgpack raises many types on garbage
        raise LinkError(f"malformed frame metadata: {type(exc).__name__}: {exc}") from None
    if not all(decoder.used):
        raise LinkError("frame carries buffers that no value uses")
    return obj
