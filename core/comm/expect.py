"""What a protocol message must look like where it is received: `Link.recv_like`.

Protocol code combines a peer's message with its own values by numpy arithmetic, which
broadcasts: a peer that sends an opening of shape (1,) where (3,) is due, or (3, 1), gets a
wrong result computed without a word (a product of another shape, a green run), and a message of
another dtype fails deep inside numpy, naming nobody. So every share-carrying message is
checked once, where it arrives, against what the receiver itself holds: an array of exactly the
same dtype and shape (or a list of such arrays, item by item). A mismatch is a LinkError
`unexpected_message` naming the peer, what arrived, what was due, the message's role and the
program step (`core.comm.steps`); it names shapes and dtypes only, which the program fixes and
every party knows, never a value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.comm.causes import LinkCause
from core.comm.frames import U128
from core.comm.steps import describe
from core.errors import LinkError


def check_like(link, frm: int, message: Any, like: Any, what: str) -> Any:
    """`message` from rank `frm` of `link` if it has `like`'s form; LinkError otherwise."""
    problem = _mismatch(message, like)
    if problem is not None:
        got, expected = problem
        raise LinkError(
            LinkCause(
                "unexpected_message",
                peer=link.parties[frm],
                party=link.party,
                got=got,
                expected=expected,
                what=what,
                step=describe(link.step_with(frm)),
                channel=getattr(link, "channel", "in-memory"),
            )
        )
    return message


def _mismatch(message: Any, like: Any) -> tuple[str, str] | None:
    """(what arrived, what was due) at the first difference, or None if `message` fits."""
    if isinstance(like, list | tuple):
        if not isinstance(message, list | tuple) or len(message) != len(like):
            return kind_of(message), f"a list of {len(like)} arrays"
        for got, due in zip(message, like, strict=True):
            problem = _mismatch(got, due)
            if problem is not None:
                return problem
        return None
    if (
        isinstance(message, np.ndarray | np.generic)  # (0-d results of numpy are scalars)
        and message.dtype == like.dtype
        and message.shape == like.shape
    ):
        return None
    return kind_of(message), kind_of(like)


def kind_of(value: Any) -> str:
    """A message's form in words: "a uint64 array of shape (3,)", "a list of 2 items"."""
    if isinstance(value, np.ndarray | np.generic):
        dtype = "uint128" if value.dtype == U128 else str(value.dtype)
        return f"a {dtype} array of shape {tuple(value.shape)}"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} items"
    return f"a value of type {type(value).__name__}"
