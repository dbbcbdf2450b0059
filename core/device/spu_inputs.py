"""The header an SPU input's owner sends the other parties, checked where it arrives.

Sharing an input, its owner sends every other party a header (`SPU._encode_input`): ("ok",
shape, kind, public interval, label), or why it refused its own input ("error", text) or
("range", operation, bound, label, fix). The others then draw their shares of that shape from
their PRGs, so a header is a request to allocate: a dishonest owner declaring 10^7 x 10^7
values would have every other party die of a MemoryError naming nobody. Every field is
therefore checked before anything is allocated, and an input larger than a link can carry in
one frame (`core.comm.frames.DEFAULT_MAX_FRAME_BYTES` of ring elements: ABY3 sends it whole) is
refused: LinkError `malformed_message` naming the owner and the field.
"""

from __future__ import annotations

import math
from typing import Any

from core.comm import Link
from core.comm.causes import LinkCause
from core.comm.frames import DEFAULT_MAX_FRAME_BYTES
from core.errors import LinkError

KINDS = ("bool", "int", "fxp")
MAX_TEXT = 2000


def max_input_elements(itemsize: int) -> int:
    """The most values one SPU input may hold: one frame's worth of ring elements."""
    return DEFAULT_MAX_FRAME_BYTES // itemsize


def checked_header(link: Link, owner: int, header: Any, itemsize: int) -> tuple:
    """`header` from rank `owner` as a tuple if it is well formed; LinkError otherwise."""
    problem = _problem(header, itemsize)
    if problem is not None:
        peer = link.parties[owner]
        what = "SPU input header"
        raise LinkError(LinkCause("malformed_message", peer=peer, what=what, problem=problem))
    return tuple(header)


def _problem(header: Any, itemsize: int) -> str | None:
    if not isinstance(header, list | tuple) or not header:
        return "not a list"
    tag, fields = header[0], list(header[1:])
    if tag == "error":
        return None if len(fields) == 1 and _text(fields[0]) else "malformed error"
    if tag == "range":
        operation, bound, label, fix = fields if len(fields) == 4 else (None,) * 4
        ok = _text(operation) and _number(bound) and _text(label) and _text(fix)
        return None if ok else "malformed range refusal"
    if tag != "ok" or len(fields) != 4:
        return f"unknown header {str(tag)[:40]!r}"
    shape, kind, interval, label = fields
    return (
        _shape_problem(shape, itemsize)
        or (None if kind in KINDS else f"kind {str(kind)[:40]!r} is not one of {KINDS}")
        or _interval_problem(interval)
        or (None if label is None or _text(label) else "malformed label")
    )


def _shape_problem(shape: Any, itemsize: int) -> str | None:
    if not isinstance(shape, list | tuple) or len(shape) > 32:
        return "malformed shape"
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        return f"shape {list(shape)} is not a list of sizes"
    limit = max_input_elements(itemsize)
    if math.prod(shape) > limit:
        return f"shape {list(shape)} holds more than {limit} values (one frame's worth)"
    return None


def _interval_problem(interval: Any) -> str | None:
    if interval is None:
        return None
    if (
        isinstance(interval, list | tuple)
        and len(interval) == 2
        and all(_number(v) for v in interval)
        and interval[0] <= interval[1]
    ):
        return None
    return "malformed interval"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT
