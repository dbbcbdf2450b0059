"""Frames built by hand, byte by byte, as a hostile or buggy peer could send them (the tests of
`core.comm.frames` and the fuzz tests of everything a peer sends share this one builder)."""

from __future__ import annotations

import struct

from core.comm.frames import MAGIC


def frame_bytes(tree: bytes, buffers: list[bytes]) -> bytes:
    """A frame of `core.comm.frames`' layout: magic, buffer count, tree length, the buffers'
    lengths, the msgpack `tree`, then each buffer 8-byte aligned."""
    head = struct.pack(">4sII", MAGIC, len(buffers), len(tree))
    head += struct.pack(f">{len(buffers)}Q", *(len(b) for b in buffers))
    out = head + tree
    for buffer in buffers:
        out += bytes(-len(out) % 8) + buffer
    return out
